# The SDK as an outside author gets it: install plughost to a fresh prefix, then configure,
# build and test examples/out_of_tree_plugin against that installation with find_package.
# Run by CTest: cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -P consumer_test.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()

step(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
step(${CMAKE_COMMAND} -S "${SOURCE_DIR}/examples/out_of_tree_plugin" -B "${WORK_DIR}/build" -G Ninja
     "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_BUILD_TYPE=Release)
step(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
step(${CMAKE_COMMAND} -E env --unset=PLUGHOST_PLUGIN_DIR
     ctest --test-dir "${WORK_DIR}/build" --output-on-failure)
# The installed host finds its installed plugins by default, and admits the outside plugin.
file(COPY "${WORK_DIR}/build/session-affinity-scorer.so" DESTINATION "${prefix}/lib/plughost/plugins")
step("${prefix}/bin/plughost" inspect "${prefix}/lib/plughost/plugins/session-affinity-scorer.so")
step("${prefix}/bin/plughost" list --min-stability alpha --feature-gates SessionAffinityScorer=true,KvHeadroomFilter=true,UtilizationFilter=true,HeaderProfileHandler=true)
message(STATUS "out-of-tree plugin built, tested and admitted against the installed SDK")
