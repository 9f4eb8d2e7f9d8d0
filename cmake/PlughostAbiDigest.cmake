# The ABI freeze by digest: the declarations of plugin.h (comments and whitespace normalised
# away) must hash to the digest recorded for the ABI version the header declares, so an edit of
# a released ABI fails the configure step, while an edit of its documentation does not.
#
#   plughost_abi_normalise(<text> <out_var>)
#       The header as the compiler sees its tokens: lines joined at backslash-newlines, every
#       comment replaced by one space, every run of whitespace outside string and character
#       literals made one space, leading and trailing space dropped; then, for reading, a line
#       break before each directive and after each semicolon. Changing this changes every
#       recorded digest: don't.
#   plughost_abi_digest(<header> <digest_var> [<normalised_var>])
#       SHA-256 of the normalised header.
#   plughost_check_abi_digest(HEADER <plugin.h> DIGESTS <abi-digests.txt> RESULT_VARIABLE <var>
#                             [NORMALISED_OUT <file>])
#       Sets <var> to an operator's message when the header's digest is not the one recorded for
#       its PLUGHOST_ABI_VERSION_STRING (or the file or the version macros are malformed), and
#       to "" when all is well. NORMALISED_OUT receives the normalised text that was hashed.
#
# abi-digests.txt holds one line per released ABI version, `<major.minor.patch> <sha256>`;
# blank lines and lines starting with # are ignored. See docs/abi.md, "Evolving the ABI".

function(plughost_abi_normalise text out_var)
  string(REPLACE "\\\r\n" "" text "${text}")
  string(REPLACE "\\\n" "" text "${text}")
  set(out "")
  set(pending "")  # code (and comments as spaces) since the last literal
  while(NOT text STREQUAL "")
    # The earliest of: a block comment, a line comment, a string literal, a character literal.
    set(first -1)
    set(kind "")
    foreach(token "/*" "//" "\"" "'")
      string(FIND "${text}" "${token}" at)
      if(at GREATER -1 AND (first EQUAL -1 OR at LESS first))
        set(first ${at})
        set(kind "${token}")
      endif()
    endforeach()
    if(first EQUAL -1)
      string(APPEND pending "${text}")
      break()
    endif()
    string(SUBSTRING "${text}" 0 ${first} code)
    string(APPEND pending "${code}")
    string(SUBSTRING "${text}" ${first} -1 text)
    if(kind STREQUAL "/*")
      string(FIND "${text}" "*/" end)
      if(end EQUAL -1)
        set(text "")
      else()
        math(EXPR end "${end} + 2")
        string(SUBSTRING "${text}" ${end} -1 text)
      endif()
      string(APPEND pending " ")
    elseif(kind STREQUAL "//")
      string(FIND "${text}" "\n" end)
      if(end EQUAL -1)
        set(text "")
      else()
        string(SUBSTRING "${text}" ${end} -1 text)
      endif()
      string(APPEND pending " ")
    else()
      # A literal is kept byte for byte: whitespace inside it is part of a declaration.
      if(kind STREQUAL "\"")
        string(REGEX MATCH "^\"([^\"\\\\\n]|\\\\.)*\"" literal "${text}")
      else()
        string(REGEX MATCH "^'([^'\\\\\n]|\\\\.)*'" literal "${text}")
      endif()
      if(literal STREQUAL "")
        set(literal "${kind}")  # unterminated: keep the quote, go on with the rest as code
      endif()
      string(REGEX REPLACE "[ \t\r\n]+" " " pending "${pending}")
      string(APPEND out "${pending}${literal}")
      set(pending "")
      string(LENGTH "${literal}" length)
      string(SUBSTRING "${text}" ${length} -1 text)
    endif()
  endwhile()
  string(REGEX REPLACE "[ \t\r\n]+" " " pending "${pending}")
  string(APPEND out "${pending}")
  string(STRIP "${out}" out)
  # One line per directive and per statement, so the text can be read and diffed.
  string(REPLACE " #" "\n#" out "${out}")
  string(REPLACE "; " ";\n" out "${out}")
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()

function(plughost_abi_digest header digest_var)
  file(READ "${header}" text)
  plughost_abi_normalise("${text}" normalised)
  string(SHA256 digest "${normalised}")
  set(${digest_var} "${digest}" PARENT_SCOPE)
  if(ARGC GREATER 2)
    set(${ARGV2} "${normalised}" PARENT_SCOPE)
  endif()
endfunction()

# Sets the caller's result to its arguments, concatenated, and returns from the caller.
# (Its arguments must hold no semicolon: CMake would split them there.)
macro(_plughost_abi_fail)
  string(CONCAT _plughost_abi_message ${ARGV})
  set(${ARG_RESULT_VARIABLE} "${_plughost_abi_message}" PARENT_SCOPE)
  return()
endmacro()

function(plughost_check_abi_digest)
  cmake_parse_arguments(PARSE_ARGV 0 ARG "" "HEADER;DIGESTS;RESULT_VARIABLE;NORMALISED_OUT" "")
  set(${ARG_RESULT_VARIABLE} "" PARENT_SCOPE)
  plughost_abi_digest("${ARG_HEADER}" digest normalised)
  if(ARG_NORMALISED_OUT)
    file(WRITE "${ARG_NORMALISED_OUT}" "${normalised}\n")
    set(where "\nThe normalised declarations that were hashed are in ${ARG_NORMALISED_OUT}.")
  endif()

  # The version the header declares, and the agreement of its four macros.
  foreach(part MAJOR MINOR PATCH)
    string(REGEX MATCH "#define PLUGHOST_ABI_VERSION_${part} ([0-9]+)" found "${normalised}")
    set(${part} "${CMAKE_MATCH_1}")
  endforeach()
  string(REGEX MATCH "#define PLUGHOST_ABI_VERSION_STRING \"([^\"]*)\"" found "${normalised}")
  set(version "${CMAKE_MATCH_1}")
  if(MAJOR STREQUAL "" OR MINOR STREQUAL "" OR PATCH STREQUAL "" OR NOT version STREQUAL "${MAJOR}.${MINOR}.${PATCH}")
    _plughost_abi_fail("${ARG_HEADER}: PLUGHOST_ABI_VERSION_STRING is \"${version}\" but "
      "PLUGHOST_ABI_VERSION_MAJOR, _MINOR and _PATCH say \"${MAJOR}.${MINOR}.${PATCH}\": define all four, "
      "as plain numbers and the string they make, and make them agree.")
  endif()

  # The digests recorded for released versions.
  if(NOT EXISTS "${ARG_DIGESTS}")
    _plughost_abi_fail("${ARG_DIGESTS} does not exist: it records one line \"<version> <sha256>\" per "
      "released ABI version. For the ABI this header declares, the line is:\n  ${version} ${digest}")
  endif()
  file(STRINGS "${ARG_DIGESTS}" lines)
  set(recorded "")
  set(number 0)
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    string(STRIP "${line}" line)
    if(line STREQUAL "" OR line MATCHES "^#")
      continue()
    endif()
    if(NOT line MATCHES "^([0-9]+\\.[0-9]+\\.[0-9]+)[ \t]+([0-9a-f]+)$")
      _plughost_abi_fail("${ARG_DIGESTS}:${number}: expected \"<major.minor.patch> <sha256 in lower-case "
        "hex>\", found \"${line}\"")
    endif()
    set(line_version "${CMAKE_MATCH_1}")
    set(line_digest "${CMAKE_MATCH_2}")
    string(LENGTH "${line_digest}" length)
    if(NOT length EQUAL 64)
      _plughost_abi_fail("${ARG_DIGESTS}:${number}: the digest of ${line_version} is ${length} hex "
        "digits long, a SHA-256 has 64")
    endif()
    if(line_version STREQUAL version)
      if(NOT recorded STREQUAL "")
        _plughost_abi_fail("${ARG_DIGESTS}:${number}: ABI ${version} is recorded twice: keep one line "
          "per released version")
      endif()
      set(recorded "${line_digest}")
    endif()
  endforeach()

  if(recorded STREQUAL "")
    _plughost_abi_fail("${ARG_HEADER} declares ABI ${version} (PLUGHOST_ABI_VERSION_STRING), which "
      "${ARG_DIGESTS} does not record.\nIf ${version} is a new release of the ABI, record its declarations by "
      "adding this line to ${ARG_DIGESTS}:\n  ${version} ${digest}\nand freeze its layout in a new "
      "tests/abi/abi_${MAJOR}_${MINOR}_layout.c next to the older ones (docs/abi.md, \"Evolving the ABI\"). If it "
      "is not, set the version macros back to the released version the header still is.${where}")
  elseif(NOT recorded STREQUAL digest)
    _plughost_abi_fail("${ARG_HEADER} changes the declarations of ABI ${version}, a released version: "
      "comments and whitespace aside, the header hashes to\n  ${digest}\nbut ${ARG_DIGESTS} records\n  "
      "${recorded}\nfor ${version}. Plugins built against ${version} would no longer be what the header says "
      "(documentation edits do not count: comments and whitespace are not hashed).\n"
      "`git diff -- ${ARG_HEADER}` shows what changed. If the change is not deliberate, undo it. If it is, give "
      "it a new ABI version: appending fields to the end of a growable struct, or adding constants, bumps "
      "PLUGHOST_ABI_VERSION_MINOR, anything else bumps PLUGHOST_ABI_VERSION_MAJOR. Update "
      "PLUGHOST_ABI_VERSION_STRING to match and add a line \"<version> <digest>\" for it to ${ARG_DIGESTS} "
      "(the next configure prints the line). See docs/abi.md, \"Evolving the ABI\".${where}")
  endif()
endfunction()
