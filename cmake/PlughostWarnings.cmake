# Warnings for plughost's own targets (not imposed on plugin authors).
function(plughost_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
  # GCC 12 reports -Wrestrict inside libstdc++'s own string concatenation at -O3 (GCC bug
  # 105329): a false positive that would fail -Werror builds.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)
  endif()
  if(PLUGHOST_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
