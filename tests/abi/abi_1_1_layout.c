/*
 * The layout of plughost ABI 1.1, frozen: if this file stops compiling, a change to
 * sdk/include/plughost/plugin.h broke every plugin built against ABI 1.1.
 *
 * Never edit this file to make it compile again; abi_1_0_layout.c keeps the 1.0 fields, this one
 * the fields and structs 1.1 added (and the end of each growable struct's 1.1 fields, after
 * which a later minor appends). A later minor gets a file of its own.
 *
 * Built as C99 with the fixtures' flags (-Wall -Wextra -Wpedantic -Werror), like a C plugin.
 */
#include <plughost/plugin.h>

#include <stddef.h>
#include <stdint.h>

#if !(defined(__LP64__) || defined(_LP64))
#error "abi_1_1_layout.c: the numbers below are ABI 1.1 on LP64 (64-bit Linux); add a freeze for this data model"
#endif

#undef _Static_assert
#define FREEZE(condition, text) __extension__ _Static_assert(condition, "ABI 1.1 frozen: " text)
#define FIELD(type, field, offset, size)                                                                               \
    FREEZE(offsetof(type, field) == (offset), #type "." #field " moved");                                              \
    FREEZE(sizeof(((const type *)0)->field) == (size), #type "." #field " changed size")
#define ENDS_AT(type, field, end)                                                                                      \
    FREEZE(offsetof(type, field) + sizeof(((const type *)0)->field) == (end), #type " 1.1 fields end elsewhere")

FREEZE(PLUGHOST_ABI_VERSION_MAJOR == 1 && PLUGHOST_ABI_VERSION_MINOR >= 1, "ABI 1.1 or a later 1.x");
FREEZE(PLUGHOST_VALUE_NONE == 0 && PLUGHOST_VALUE_NUMBER == 1 && PLUGHOST_VALUE_STRING == 2 &&
           PLUGHOST_VALUE_BOOLEAN == 3 && PLUGHOST_VALUE_JSON == 4,
       "value types");
FREEZE(PLUGHOST_PROFILE_NOT_RUN == 0 && PLUGHOST_PROFILE_PICKED == 1 && PLUGHOST_PROFILE_FAILED == 2, "profile states");
FREEZE(PLUGHOST_HEADER_UPSTREAM == 0 && PLUGHOST_HEADER_CLIENT == 1, "header targets");
FREEZE(PLUGHOST_RESPONSE_STARTED == 0 && PLUGHOST_RESPONSE_COMPLETE == 1 && PLUGHOST_RESPONSE_FAILED == 2 &&
           PLUGHOST_RESPONSE_CANCELLED == 3 && PLUGHOST_RESPONSE_LOST == 4,
       "response outcomes");

/* ---- Frozen structs new in 1.1: offsets, sizes, and sizeof ---- */
FIELD(plughost_value, type, 0, 4);
FIELD(plughost_value, number, 8, 8);
FIELD(plughost_value, string, 16, 16);
FREEZE(sizeof(plughost_value) == 32, "sizeof(plughost_value)");
FIELD(plughost_chat_message, role, 0, 16);
FIELD(plughost_chat_message, content, 16, 16);
FREEZE(sizeof(plughost_chat_message) == 32, "sizeof(plughost_chat_message)");
FIELD(plughost_extra, name, 0, 16);
FIELD(plughost_extra, endpoint, 16, 8);
FREEZE(sizeof(plughost_extra) == 24, "sizeof(plughost_extra)");

/* ---- Growable structs: the fields 1.1 appended, and where 1.1 ends ---- */
FIELD(plughost_host_api, attribute, 32, 8);
FIELD(plughost_host_api, put_attribute, 40, 8);
FIELD(plughost_host_api, get_attribute, 48, 8);
FIELD(plughost_request, messages, 88, 8);
FIELD(plughost_request, message_count, 96, 8);
FIELD(plughost_request, streaming, 104, 4);
FIELD(plughost_request, host_cycle, 112, 8);
FIELD(plughost_endpoint, labels, 104, 8);
FIELD(plughost_endpoint, label_count, 112, 8);
FIELD(plughost_endpoint, kv_cache_usage, 120, 8);
FIELD(plughost_endpoint, waiting_loras, 128, 8);
FIELD(plughost_endpoint, waiting_lora_count, 136, 8);
FIELD(plughost_endpoint, requests_in_flight, 144, 4);
FIELD(plughost_endpoint, pending_picks, 148, 4);
FIELD(plughost_endpoint, host_entry, 152, 8);
FIELD(plughost_profile_run, struct_size, 0, 4);
FIELD(plughost_profile_run, name, 8, 16);
FIELD(plughost_profile_run, state, 24, 4);
FIELD(plughost_profile_run, picked, 32, 8);
FIELD(plughost_profile_run, picked_count, 40, 8);
FIELD(plughost_decision, struct_size, 0, 4);
FIELD(plughost_decision, profile, 8, 16);
FIELD(plughost_decision, picked, 24, 8);
FIELD(plughost_decision, picked_count, 32, 8);
FIELD(plughost_decision, extras, 40, 8);
FIELD(plughost_decision, extra_count, 48, 8);
FIELD(plughost_response, struct_size, 0, 4);
FIELD(plughost_response, endpoint, 8, 8);
FIELD(plughost_response, endpoint_id, 16, 8);
FIELD(plughost_response, outcome, 24, 4);
FIELD(plughost_response, http_status, 28, 4);
FIELD(plughost_response, seconds_to_first_byte, 32, 8);
FIELD(plughost_response, seconds_total, 40, 8);
FIELD(plughost_response, prompt_tokens, 48, 8);
FIELD(plughost_response, completion_tokens, 56, 8);
FIELD(plughost_plugin, pick_profiles, 80, 8);
FIELD(plughost_plugin, process_results, 88, 8);
FIELD(plughost_plugin, produce, 96, 8);
FIELD(plughost_plugin, pre_request, 104, 8);
FIELD(plughost_plugin, response_started, 112, 8);
FIELD(plughost_plugin, response_complete, 120, 8);
FIELD(plughost_host_api, set_header, 56, 8);
FIELD(plughost_host_api, param, 64, 8);
ENDS_AT(plughost_host_api, param, 72);
ENDS_AT(plughost_request, host_cycle, 120);
ENDS_AT(plughost_endpoint, host_entry, 160);
ENDS_AT(plughost_profile_run, picked_count, 48);
ENDS_AT(plughost_decision, extra_count, 56);
ENDS_AT(plughost_response, completion_tokens, 64);
ENDS_AT(plughost_plugin, response_complete, 128);
