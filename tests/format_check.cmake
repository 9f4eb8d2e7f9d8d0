# Fails when a C or C++ source differs from what clang-format makes of it (.clang-format at the
# root). Run by CTest; `./dev format` rewrites the files in place.
#   cmake -DSOURCE_DIR=<repo> -DCLANG_FORMAT=<clang-format> -P format_check.cmake
set(globs)
foreach(dir bench examples fuzz host plugins sdk tests tools)
  foreach(ext c h cpp hpp)
    list(APPEND globs "${SOURCE_DIR}/${dir}/*.${ext}")
  endforeach()
endforeach()
file(GLOB_RECURSE files ${globs})
execute_process(COMMAND ${CLANG_FORMAT} --dry-run --Werror ${files} RESULT_VARIABLE rc ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${out}\nThese files are not formatted as .clang-format says: run ./dev format")
endif()
list(LENGTH files n)
message(STATUS "${n} files formatted as .clang-format says")
