# plughost_add_plugin(<target> [C] [OUTPUT_NAME <name>] [OUTPUT_DIRECTORY <dir>] <sources>...)
#
# Builds a plughost plugin: a MODULE library without the "lib" prefix, hidden visibility (only
# the plughost_entry symbol is exported), and every symbol resolved at link time so a missing
# dependency fails the build instead of the host's dlopen. C++ plugins get the C++ SDK layer
# (plughost::sdk, which brings Boost.JSON); pass C for a plugin written against the C header
# only (plughost::abi).
function(plughost_add_plugin target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "C" "OUTPUT_NAME;OUTPUT_DIRECTORY" "")
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
    POSITION_INDEPENDENT_CODE ON)
  target_link_options(${target} PRIVATE "LINKER:-z,defs")
  if(ARG_OUTPUT_NAME)
    set_target_properties(${target} PROPERTIES OUTPUT_NAME "${ARG_OUTPUT_NAME}")
  endif()
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  endif()
endfunction()

# plughost_add_plugin_test(<target> [NAME <test name>])
#
# Adds a CTest test that runs the real host's `plughost inspect` on the built plugin: it passes
# only when plughost would admit the file (manifest present, valid, ABI-compatible).
function(plughost_add_plugin_test target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "NAME" "")
  if(NOT ARG_NAME)
    set(ARG_NAME "${target}.manifest")
  endif()
  add_test(NAME "${ARG_NAME}" COMMAND plughost::plughost inspect "$<TARGET_FILE:${target}>")
endfunction()
