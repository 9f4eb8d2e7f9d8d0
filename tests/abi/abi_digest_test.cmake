# The ABI freeze by digest (cmake/PlughostAbiDigest.cmake), on edited copies of plugin.h: a
# documentation edit keeps the digest, a declaration edit fails with what to do, a version bump
# asks for its line and passes once it is recorded.
#   cmake -DSOURCE_DIR=<repo> -DWORK_DIR=<scratch dir> -P abi_digest_test.cmake
include(${SOURCE_DIR}/cmake/PlughostAbiDigest.cmake)

set(header ${SOURCE_DIR}/sdk/include/plughost/plugin.h)
set(digests ${SOURCE_DIR}/sdk/abi-digests.txt)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
file(READ ${header} original)
set(failures 0)
# The version the header declares (V), and the next minor (N): the test edits around them.
string(REGEX MATCH "#define PLUGHOST_ABI_VERSION_MAJOR ([0-9]+)" _ "${original}")
set(major ${CMAKE_MATCH_1})
string(REGEX MATCH "#define PLUGHOST_ABI_VERSION_MINOR ([0-9]+)" _ "${original}")
set(abi_minor ${CMAKE_MATCH_1})
math(EXPR next_minor "${abi_minor} + 1")
set(V "${major}.${abi_minor}.0")
set(N "${major}.${next_minor}.0")
string(REPLACE "." "\\." V_re "${V}")
string(REPLACE "." "\\." N_re "${N}")

# check(<name> <header text> <digests file> <expected: "" for success, else a regex>)
function(check name text digests_file expected)
  file(WRITE ${WORK_DIR}/plugin.h "${text}")
  plughost_check_abi_digest(HEADER ${WORK_DIR}/plugin.h DIGESTS ${digests_file} RESULT_VARIABLE problem)
  if(expected STREQUAL "" AND NOT problem STREQUAL "")
    message(SEND_ERROR "${name}: expected no problem, got:\n${problem}")
  elseif(NOT expected STREQUAL "" AND NOT problem MATCHES "${expected}")
    message(SEND_ERROR "${name}: expected a problem matching '${expected}', got:\n'${problem}'")
  else()
    message(STATUS "ok: ${name}")
  endif()
  set(problem "${problem}" PARENT_SCOPE)
endfunction()

# Replaces `from` (which must occur) in `text`.
function(edit out_var text from to)
  string(FIND "${text}" "${from}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the test's edit expects \"${from}\" in plugin.h")
  endif()
  string(REPLACE "${from}" "${to}" text "${text}")
  set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

check("the header as committed matches its recorded digest" "${original}" ${digests} "")

# Documentation and layout only: comments reworded and added (with quotes, apostrophes and
# comment markers inside them), blank lines, indentation, a declaration split over two lines.
edit(docs "${original}" "#define PLUGHOST_PLUGIN_H" "#define PLUGHOST_PLUGIN_H\n\n/* A \"new\" paragraph, it's // here. */\n")
edit(docs "${docs}" "    uint32_t struct_size;" "        uint32_t   struct_size; // the plugin's \"size\" /* ok\n")
edit(docs "${docs}" "typedef int32_t plughost_status;" "typedef int32_t\n    plughost_status; /* split */")
check("comments and whitespace do not change the digest" "${docs}" ${digests} "")

# Declarations: a renamed field, a changed type, a changed constant.
edit(renamed "${original}" "uint32_t waiting_queue_size;" "uint32_t queue_size;")
check("a renamed field changes ABI ${V}" "${renamed}" ${digests}
  "changes the declarations of ABI ${V_re}, a released version.*bumps PLUGHOST_ABI_VERSION_MINOR.*PLUGHOST_ABI_VERSION_MAJOR")
edit(retyped "${original}" "uint32_t running_requests;" "uint64_t running_requests;")
check("a changed field type changes ABI ${V}" "${retyped}" ${digests} "changes the declarations of ABI ${V_re}")
edit(constant "${original}" "#define PLUGHOST_INVALID_ARGUMENT 2" "#define PLUGHOST_INVALID_ARGUMENT 3")
check("a changed constant changes ABI ${V}" "${constant}" ${digests} "changes the declarations of ABI ${V_re}")
edit(literal "${original}" "#define PLUGHOST_NOTE_OWNER \"plughost\"" "#define PLUGHOST_NOTE_OWNER \"plug  host\"")
check("whitespace inside a string literal counts" "${literal}" ${digests} "changes the declarations of ABI ${V_re}")

# A deliberate minor: a field appended and the version bumped. Refused until its line is recorded.
edit(minor "${original}" "} plughost_endpoint;" "    double added_next;\n} plughost_endpoint;")
edit(minor "${minor}" "#define PLUGHOST_ABI_VERSION_MINOR ${abi_minor}" "#define PLUGHOST_ABI_VERSION_MINOR ${next_minor}")
edit(minor "${minor}" "#define PLUGHOST_ABI_VERSION_STRING \"${V}\"" "#define PLUGHOST_ABI_VERSION_STRING \"${N}\"")
check("a new version without its line is refused, with the line to add" "${minor}" ${digests}
  "declares ABI ${N_re} .*does not record.*\n  ${N_re} [0-9a-f]+\n.*abi_${major}_${next_minor}_layout\\.c")
string(REGEX MATCH "\n  (${N_re} [0-9a-f]+)\n" line "${problem}")
file(READ ${digests} recorded)
file(WRITE ${WORK_DIR}/abi-digests.txt "${recorded}${CMAKE_MATCH_1}\n")
check("with its line recorded, the new version passes" "${minor}" ${WORK_DIR}/abi-digests.txt "")
check("and ${V} still matches next to it" "${original}" ${WORK_DIR}/abi-digests.txt "")

# Malformed inputs: disagreeing version macros, a bad digests line, a version recorded twice.
edit(disagree "${original}" "#define PLUGHOST_ABI_VERSION_STRING \"${V}\"" "#define PLUGHOST_ABI_VERSION_STRING \"${N}\"")
check("version macros that disagree are named" "${disagree}" ${digests}
  "PLUGHOST_ABI_VERSION_STRING is \"${N_re}\" but PLUGHOST_ABI_VERSION_MAJOR, _MINOR and _PATCH say \"${V_re}\"")
file(WRITE ${WORK_DIR}/bad-digests.txt "# comment\n\n1.0 abc\n")
check("a malformed digests line is named with its line number" "${original}" ${WORK_DIR}/bad-digests.txt
  "bad-digests\\.txt:3: expected \"<major\\.minor\\.patch> <sha256")
file(WRITE ${WORK_DIR}/twice.txt "${recorded}${recorded}")
check("a version recorded twice is refused" "${original}" ${WORK_DIR}/twice.txt "ABI ${V_re} is recorded twice")
# The frozen copies of released headers (tests/abi/plugin_<major>_<minor>/, which the fixtures of
# older plugins are built against) are those releases: each still hashes to its version's line.
foreach(copy 1_0 1_1)
  string(REPLACE "_" "." released "${copy}.0")
  file(READ ${SOURCE_DIR}/tests/abi/plugin_${copy}/plughost/plugin.h frozen)
  check("the frozen ${released} header is still ABI ${released}" "${frozen}" ${digests} "")
endforeach()
