# Warnings for plughost's own targets (not imposed on plugin authors).
function(plughost_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
  if(PLUGHOST_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
