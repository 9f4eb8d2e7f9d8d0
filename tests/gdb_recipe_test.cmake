# The gdb recipe of docs/plugin-authoring.md, run as written: start `plughost run` under gdb with a
# pending breakpoint on the C example's filter hook; gdb must stop in the hook (with its arguments
# and a backtrace through the scheduler) and list the plugin as loaded from /proc/<pid>/fd/N.
# Run by CTest: cmake -DGDB=... -DPLUGHOST=... -DPLUGIN=... -DPICKER=... -DWORK_DIR=... -P gdb_recipe_test.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/plugins")
file(COPY "${PLUGIN}" "${PICKER}" DESTINATION "${WORK_DIR}/plugins")
file(WRITE "${WORK_DIR}/config.json" [[
{"apiVersion": "plughost.io/v1", "kind": "EndpointPickerConfig",
 "plugins": [{"type": "example-ready-filter", "name": "ready"}, {"type": "max-score-picker", "name": "picker"}]}
]])
file(WRITE "${WORK_DIR}/stream.jsonl" [[
{"endpoint":{"name":"vllm-0","address":"10.0.0.10:8000","metrics":{"waitingQueueSize":1}}}
{"endpoint":{"name":"vllm-1","address":"10.0.0.11:8000","metrics":{"waitingQueueSize":100}}}
{"request":{"id":"req-1","model":"m","prompt":"hello"}}
]])
execute_process(
  COMMAND ${GDB} -q -batch -ex "set breakpoint pending on" -ex "break ready_filter_endpoints" -ex "run" -ex "bt 3"
          -ex "info args" -ex "info sharedlibrary" -ex "kill"
          --args ${PLUGHOST} run --plugin-dir plugins --config config.json --min-stability alpha
          --feature-gates ExampleReadyFilter=true --input stream.jsonl
  WORKING_DIRECTORY "${WORK_DIR}" TIMEOUT 300 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
foreach(expected "Breakpoint 1, ready_filter_endpoints" "count = 2" "Scheduler::run_filter" "/proc/[0-9]+/fd/[0-9]+")
  if(NOT out MATCHES "${expected}")
    message(FATAL_ERROR "the gdb recipe did not show \"${expected}\" (gdb exit ${rc}):\n${out}\n${err}")
  endif()
endforeach()
message(STATUS "gdb stopped in the plugin's hook under plughost run")
