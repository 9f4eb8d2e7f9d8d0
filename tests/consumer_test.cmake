# The SDK as an outside author gets it: install plughost to a fresh prefix, then build and test
# plugins against that installation only:
#   - examples/c_ready_filter, a C-only project (`project(x C)`) with no C++ compiler, where
#     looking for Boost would fail, and no build type (plughost_add_plugin must still optimise);
#   - the same C plugin compiled by hand with the flags pkg-config gives (plughost.pc);
#   - examples/out_of_tree_plugin, a C++ plugin with doctest unit tests (testing.hpp), admission
#     under a policy among them (testing::admission runs the installed tool);
#   - examples/roles, C++ plugins of the other roles and hooks;
#   - projects written by `plughost new-plugin`, in C (every role) and C++.
# Every plugin built must export plughost_entry only, and be admitted by the installed host.
# Run by CTest: cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -P consumer_test.cmake
include(${CMAKE_CURRENT_LIST_DIR}/check_exports.cmake)
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()
set(launcher "")
if(COMPILER_LAUNCHER)
  set(launcher "-DCMAKE_C_COMPILER_LAUNCHER=${COMPILER_LAUNCHER}" "-DCMAKE_CXX_COMPILER_LAUNCHER=${COMPILER_LAUNCHER}")
endif()

step(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")

# The package's version is the ABI version plugin.h declares.
file(STRINGS "${SOURCE_DIR}/sdk/include/plughost/plugin.h" abi REGEX "#define PLUGHOST_ABI_VERSION_STRING")
string(REGEX MATCH "\"([0-9.]+)\"" found "${abi}")
set(abi_version "${CMAKE_MATCH_1}")
file(READ "${prefix}/lib/cmake/plughost/plughostConfigVersion.cmake" version_file)
if(NOT version_file MATCHES "set\\(PACKAGE_VERSION \"${abi_version}\"\\)")
  message(FATAL_ERROR "the CMake package's version is not the ABI version ${abi_version}:\n${version_file}")
endif()

# 1. A C-only project, with no C++ compiler. Boost is installed here and left findable on purpose:
# Boost's own package fails hard when a C-only project looks for it (even QUIET), so this fails if
# plughost's package looks for Boost in a project without CXX. (sdk_only_install and the C
# projects of new-plugin below make Boost unfindable: they need none.)
set(c_build "${WORK_DIR}/c_build")
step(${CMAKE_COMMAND} -S "${SOURCE_DIR}/examples/c_ready_filter" -B "${c_build}" -G Ninja
     "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_CXX_COMPILER=/nonexistent/c++ -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
     ${launcher})
file(READ "${c_build}/CMakeCache.txt" cache)
if(cache MATCHES "CMAKE_CXX_COMPILER_ID:|Boost_DIR:PATH=/")
  message(FATAL_ERROR "the C-only project looked for a C++ compiler or for Boost")
endif()
file(READ "${c_build}/compile_commands.json" commands)
if(NOT commands MATCHES " -O2 ")
  message(FATAL_ERROR "with no build type, plughost_add_plugin did not optimise:\n${commands}")
endif()
step(${CMAKE_COMMAND} --build "${c_build}")
step(ctest --test-dir "${c_build}" --output-on-failure)
# plughost_add_plugin_test with CONFIG (admitted under an operator's policy, then exercised) and
# with POLICY and EXPECT_REFUSED (refused below the minimum stability, with the host's code).
if(NOT step_output MATCHES "ready_filter.exercise[ .]+Passed" OR NOT step_output MATCHES "ready_filter.beta.refused[ .]+Passed")
  message(FATAL_ERROR "plughost_add_plugin_test did not exercise the plugin under the policy, or did not see it "
    "refused below it:\n${step_output}")
endif()

# 2. The same plugin with pkg-config and the C compiler alone.
find_program(PKG_CONFIG pkg-config REQUIRED)
set(ENV{PKG_CONFIG_PATH} "${prefix}/lib/pkgconfig")
step(${PKG_CONFIG} --modversion plughost)
string(STRIP "${step_output}" pc_version)
if(NOT pc_version STREQUAL abi_version)
  message(FATAL_ERROR "plughost.pc says version ${pc_version}, the ABI is ${abi_version}")
endif()
step(${PKG_CONFIG} --cflags plughost)
string(STRIP "${step_output}" cflags)
separate_arguments(cflags UNIX_COMMAND "${cflags}")
step(${PKG_CONFIG} --variable=version_script plughost)
string(STRIP "${step_output}" version_script)
set(pc_plugin "${WORK_DIR}/pc/example-ready-filter.so")
file(MAKE_DIRECTORY "${WORK_DIR}/pc")
step(cc -std=c99 -Wall -Wextra -Wpedantic -Werror -O2 -fPIC -shared -fvisibility=hidden ${cflags}
     -Wl,-z,defs "-Wl,--version-script=${version_script}" -o "${pc_plugin}"
     "${SOURCE_DIR}/examples/c_ready_filter/ready_filter.c")
step("${prefix}/bin/plughost" inspect "${pc_plugin}")
step("${prefix}/bin/plughost" test-plugin "${pc_plugin}")

# 3. A C++ plugin with its unit tests.
set(cxx_build "${WORK_DIR}/cxx_build")
step(${CMAKE_COMMAND} -S "${SOURCE_DIR}/examples/out_of_tree_plugin" -B "${cxx_build}" -G Ninja
     "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_BUILD_TYPE=Release ${launcher})
step(${CMAKE_COMMAND} --build "${cxx_build}")
step(${CMAKE_COMMAND} -E env --unset=PLUGHOST_PLUGIN_DIR ctest --test-dir "${cxx_build}" --output-on-failure)
# Its unit tests asked the installed tool for admission under a policy (plughost::testing): the
# test binary names it.
file(STRINGS "${cxx_build}/build.ninja" testing_flags REGEX "PLUGHOST_TOOL=")
if(NOT testing_flags MATCHES "PLUGHOST_TOOL=[^ ]*${prefix}/bin/plughost")
  message(FATAL_ERROR "plughost::testing does not name the installed tool ${prefix}/bin/plughost:\n${testing_flags}")
endif()

# 4. The examples of the other roles and hooks: picker, profile handler, producer and consumer,
# observer.
set(roles_build "${WORK_DIR}/roles_build")
step(${CMAKE_COMMAND} -S "${SOURCE_DIR}/examples/roles" -B "${roles_build}" -G Ninja "-DCMAKE_PREFIX_PATH=${prefix}"
     -DCMAKE_BUILD_TYPE=Release ${launcher})
step(${CMAKE_COMMAND} --build "${roles_build}")
step(ctest --test-dir "${roles_build}" --output-on-failure)
if(NOT step_output MATCHES "100% tests passed, 0 tests failed out of 11")
  message(FATAL_ERROR "examples/roles: expected 11 tests:\n${step_output}")
endif()
file(GLOB roles_plugins "${roles_build}/*.so")

# 5. `plughost new-plugin` projects build and pass their tests as generated: C in every role (a
# C-only project each, without Boost), C++ as a scorer.
set(generated "")
foreach(spec "acme-filter;filter;c" "acme-scorer;scorer;c" "acme-picker;picker;c"
        "acme-profile-handler;profile-handler;c" "acme-producer;producer;c" "acme-observer;observer;c"
        "acme-cxx-scorer;scorer;c++")
  list(GET spec 0 name)
  list(GET spec 1 role)
  list(GET spec 2 lang)
  set(project_dir "${WORK_DIR}/new/${name}")
  step("${prefix}/bin/plughost" new-plugin ${name} --role ${role} --lang ${lang} --dir "${project_dir}")
  set(extra "")
  if(lang STREQUAL "c")
    set(extra -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON)
  endif()
  step(${CMAKE_COMMAND} -S "${project_dir}" -B "${project_dir}/build" -G Ninja "-DCMAKE_PREFIX_PATH=${prefix}"
       ${extra} ${launcher})
  step(${CMAKE_COMMAND} --build "${project_dir}/build")
  step(ctest --test-dir "${project_dir}/build" --output-on-failure)
  if(NOT step_output MATCHES "100% tests passed, 0 tests failed out of 3")
    message(FATAL_ERROR "${name}: expected 3 tests (manifest, exercise, unit):\n${step_output}")
  endif()
  list(APPEND generated "${project_dir}/build/${name}.so")
endforeach()

# Every plugin built here and every installed one exports plughost_entry only.
file(GLOB installed "${prefix}/lib/plughost/plugins/*.so")
plughost_check_exports(problems "${c_build}/example-ready-filter.so" "${pc_plugin}"
                       "${cxx_build}/session-affinity-scorer.so" ${roles_plugins} ${generated} ${installed})
if(problems)
  message(FATAL_ERROR "${problems}")
endif()

# The installed host finds its installed plugins by default, and admits the outside plugins.
file(COPY "${cxx_build}/session-affinity-scorer.so" "${c_build}/example-ready-filter.so"
     DESTINATION "${prefix}/lib/plughost/plugins")
step("${prefix}/bin/plughost" inspect "${prefix}/lib/plughost/plugins/session-affinity-scorer.so")
step("${prefix}/bin/plughost" list --min-stability alpha
     --feature-gates SessionAffinityScorer=true,KvHeadroomFilter=true,UtilizationFilter=true,HeaderProfileHandler=true,ExampleReadyFilter=true)
foreach(type session-affinity-scorer example-ready-filter)
  if(NOT step_output MATCHES "${type}[^\n]*admitted")
    message(FATAL_ERROR "the installed host did not admit ${type}:\n${step_output}")
  endif()
endforeach()
message(STATUS "C, pkg-config and C++ plugins built, tested and admitted against the installed SDK")
