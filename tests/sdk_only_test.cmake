# An SDK-only build (-DPLUGHOST_SDK_ONLY=ON) from a fresh build tree: it builds no plugins, tests
# or benchmarks, and installs the headers, the CMake package, plughost.pc and the plughost tool;
# a C plugin then builds and passes its tests against that installation.
# Run by CTest: cmake -DSOURCE_DIR=... -DWORK_DIR=... [-DBUILD_TYPE=...] -P sdk_only_test.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/installed")
set(tree "${WORK_DIR}")  # the build tree itself: the caller puts it at the depth of its own, for ccache
function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()
set(options "")
if(COMPILER_LAUNCHER)
  list(APPEND options "-DCMAKE_C_COMPILER_LAUNCHER=${COMPILER_LAUNCHER}" "-DCMAKE_CXX_COMPILER_LAUNCHER=${COMPILER_LAUNCHER}")
endif()
if(BUILD_TYPE)
  list(APPEND options "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
endif()
if(WERROR)
  list(APPEND options -DPLUGHOST_WERROR=ON)
endif()

step(${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${tree}" -G Ninja -DPLUGHOST_SDK_ONLY=ON ${options})
# Nothing but the tool (and the host library it links) is to be built.
execute_process(COMMAND ninja -C "${tree}" -t targets all OUTPUT_VARIABLE targets)
if(targets MATCHES "\\.so:|tests/|bench/|make_stream")
  string(REGEX MATCHALL "[^\n]*(\\.so|tests/|bench/|make_stream)[^\n]*" extra "${targets}")
  message(FATAL_ERROR "PLUGHOST_SDK_ONLY would build more than the tool:\n${extra}")
endif()
step(${CMAKE_COMMAND} --build "${tree}" -j2)
step(${CMAKE_COMMAND} --install "${tree}" --prefix "${prefix}")
foreach(file bin/plughost include/plughost/plugin.h include/plughost/plugin.hpp include/plughost/testing.hpp
        include/plughost/rules.hpp lib/cmake/plughost/plughostConfig.cmake lib/cmake/plughost/plughost-plugin.map
        lib/pkgconfig/plughost.pc)
  if(NOT EXISTS "${prefix}/${file}")
    message(FATAL_ERROR "the SDK-only installation lacks ${file}")
  endif()
endforeach()
file(GLOB installed_plugins "${prefix}/lib/plughost/plugins/*")
if(installed_plugins)
  message(FATAL_ERROR "the SDK-only installation installed plugins: ${installed_plugins}")
endif()

step(${CMAKE_COMMAND} -S "${SOURCE_DIR}/examples/c_ready_filter" -B "${WORK_DIR}/c_example" -G Ninja
     "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON)
step(${CMAKE_COMMAND} --build "${WORK_DIR}/c_example")
step(ctest --test-dir "${WORK_DIR}/c_example" --output-on-failure)
message(STATUS "SDK-only installation: no plugins built; a C plugin built and tested against it")
