# plughost_add_plugin(<target> [C] [OUTPUT_NAME <name>] [OUTPUT_DIRECTORY <dir>] <sources>...)
#
# Builds a plughost plugin: a MODULE library without the "lib" prefix that exports exactly one
# symbol, plughost_entry (a linker version script, plughost-plugin.map, makes everything else
# local, on top of hidden visibility), with every symbol resolved at link time so a missing
# dependency fails the build instead of the host's dlopen. When the project sets no build type,
# the plugin is still optimised (-O2). C++ plugins get the C++ SDK layer (plughost::sdk, which
# brings Boost.JSON); pass C for a plugin written against the C header only (plughost::abi),
# which is what a C-only project (`project(x C)`) can build.
set(_PLUGHOST_PLUGIN_MAP "${CMAKE_CURRENT_LIST_DIR}/plughost-plugin.map")

function(plughost_add_plugin target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "C" "OUTPUT_NAME;OUTPUT_DIRECTORY" "")
  if(NOT ARG_C AND NOT TARGET plughost::sdk)
    message(FATAL_ERROR "plughost_add_plugin(${target}): a C++ plugin needs the C++ SDK layer (plughost::sdk), "
      "which this project did not get: it needs a project that enables CXX and Boost.JSON 1.81 "
      "(find_package(plughost REQUIRED COMPONENTS sdk) says why it is missing). For a plugin written in C "
      "against <plughost/plugin.h> only, pass C: plughost_add_plugin(${target} C ...)")
  endif()
  add_library(${target} MODULE ${ARG_UNPARSED_ARGUMENTS})
  if(ARG_C)
    target_link_libraries(${target} PRIVATE plughost::abi)
  else()
    target_link_libraries(${target} PRIVATE plughost::sdk)
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON
    LINK_DEPENDS "${_PLUGHOST_PLUGIN_MAP}")
  target_link_options(${target} PRIVATE "LINKER:-z,defs" "LINKER:--version-script=${_PLUGHOST_PLUGIN_MAP}")
  # An empty configuration is a single-config build with no CMAKE_BUILD_TYPE: no -O flag at all.
  target_compile_options(${target} PRIVATE $<$<CONFIG:>:-O2>)
  if(ARG_OUTPUT_NAME)
    set_target_properties(${target} PROPERTIES OUTPUT_NAME "${ARG_OUTPUT_NAME}")
  endif()
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  endif()
endfunction()

# plughost_add_plugin_test(<target> [NAME <test name>] [PARAMETERS <json>]
#                          [CONFIG <operator config>] [POLICY <policy flags>...] [EXPECT_REFUSED <code>])
#
# Adds two CTest tests that run the real host on the built plugin:
#   <name>.manifest   `plughost inspect`: the manifest is present, valid and ABI-compatible;
#   <name>.exercise   `plughost test-plugin`: the host admits the plugin, loads it (its loader's
#                     entry checks: the hooks its role needs are there), creates an instance with
#                     PARAMETERS (default {}) and the manifest's defaults filled in, calls its
#                     role once on a sample request and checks the result as the scheduler does.
# Admission is under the operator's policy when CONFIG or POLICY gives one, built by the host as
# `plughost list` builds it: CONFIG is an operator config file (JSON or YAML; a relative path
# starts at this CMakeLists.txt's directory) whose policy and featureGates sections apply; POLICY
# holds the policy flags of `plughost check`, which override it (--min-stability alpha
# --feature-gates MyGate=true --reject-deprecated ...). A refusal fails <name>.exercise with the
# host's codes and messages. Without either, every tier and the plugin's own gate are allowed.
# With EXPECT_REFUSED <code>, the one test <name>.refused is added instead: it passes when the
# host refuses the plugin under that policy with that code (e.g. below-min-stability); no plugin
# code runs. <name> defaults to <target>.
function(plughost_add_plugin_test target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "NAME;PARAMETERS;CONFIG;EXPECT_REFUSED" "POLICY")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "plughost_add_plugin_test(${target}): unexpected arguments ${ARG_UNPARSED_ARGUMENTS}; "
      "policy flags go after POLICY (POLICY --min-stability alpha --feature-gates MyGate=true)")
  endif()
  if(NOT ARG_NAME)
    set(ARG_NAME "${target}")
  endif()
  if(NOT DEFINED ARG_PARAMETERS)
    set(ARG_PARAMETERS "{}")
  endif()
  set(policy ${ARG_POLICY})
  if(ARG_CONFIG)
    get_filename_component(config "${ARG_CONFIG}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(PREPEND policy --config "${config}")
  endif()
  if(ARG_EXPECT_REFUSED)
    add_test(NAME "${ARG_NAME}.refused" COMMAND plughost::plughost inspect "$<TARGET_FILE:${target}>" ${policy})
    # `inspect` lists each reason for a refusal as "  [code] message" (warnings as "  warning [...]").
    set_tests_properties("${ARG_NAME}.refused" PROPERTIES PASS_REGULAR_EXPRESSION "  \\[${ARG_EXPECT_REFUSED}\\] ")
    return()
  endif()
  add_test(NAME "${ARG_NAME}.manifest" COMMAND plughost::plughost inspect "$<TARGET_FILE:${target}>")
  add_test(NAME "${ARG_NAME}.exercise" COMMAND plughost::plughost test-plugin "$<TARGET_FILE:${target}>"
    --parameters "${ARG_PARAMETERS}" ${policy})
endfunction()
