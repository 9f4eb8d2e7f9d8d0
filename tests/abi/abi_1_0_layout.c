/*
 * The layout of plughost ABI 1.0, frozen: if this file stops compiling, a change to
 * sdk/include/plughost/plugin.h broke every plugin built against ABI 1.0.
 *
 * Never edit this file to make it compile again. A later minor appends fields to the growable
 * structs and gets its own freeze file next to this one (abi_1_1_layout.c, ...); this one must
 * keep compiling unchanged, which is why it checks each 1.0 field's offset and size, and for a
 * growable struct (one that starts with struct_size) the end of its last 1.0 field rather than
 * its sizeof. The frozen structs (no struct_size: plughost_str, plughost_message, plughost_header,
 * plughost_metric) never grow, so their sizeof is checked too: arrays of them are indexed.
 *
 * Built as C99 with the fixtures' flags (-Wall -Wextra -Wpedantic -Werror), like a C plugin.
 * _Static_assert is C11; __extension__ keeps -Wpedantic quiet about it in C99 mode.
 */
#include <plughost/plugin.h>

#include <stddef.h>
#include <stdint.h>

#if !(defined(__LP64__) || defined(_LP64))
#error "abi_1_0_layout.c: the numbers below are ABI 1.0 on LP64 (64-bit Linux); add a freeze for this data model"
#endif

/* In C99 mode glibc's <sys/cdefs.h> turns _Static_assert into a bit-field trick that loses the
 * message; the compiler's own keyword (GCC >= 4.6, clang) says which field moved. */
#undef _Static_assert
#define FREEZE(condition, text) __extension__ _Static_assert(condition, "ABI 1.0 frozen: " text)

/* `field` of `type` sits at `offset` and is `size` bytes. */
#define FIELD(type, field, offset, size)                                                                               \
    FREEZE(offsetof(type, field) == (offset), #type "." #field " moved");                                              \
    FREEZE(sizeof(((const type *)0)->field) == (size), #type "." #field " changed size")

/* The last 1.0 field of a growable struct ends at `end`: later minors append after it. */
#define ENDS_AT(type, field, end)                                                                                      \
    FREEZE(offsetof(type, field) + sizeof(((const type *)0)->field) == (end), #type " 1.0 fields end elsewhere")

/* The data model the numbers assume. */
FREEZE(sizeof(void *) == 8 && sizeof(size_t) == 8 && sizeof(double) == 8, "LP64 data model");
FREEZE(sizeof(void (*)(void)) == 8, "8-byte function pointers");

/* ---- Versions and constants ---- */
FREEZE(PLUGHOST_ABI_VERSION_MAJOR == 1, "PLUGHOST_ABI_VERSION_MAJOR");
FREEZE(sizeof(plughost_status) == 4, "plughost_status is int32_t");
FREEZE(PLUGHOST_OK == 0 && PLUGHOST_ERROR == 1 && PLUGHOST_INVALID_ARGUMENT == 2, "status values");
FREEZE(PLUGHOST_LOG_TRACE == 0 && PLUGHOST_LOG_DEBUG == 1 && PLUGHOST_LOG_INFO == 2 && PLUGHOST_LOG_WARN == 3 &&
           PLUGHOST_LOG_ERROR == 4 && PLUGHOST_LOG_CRITICAL == 5,
       "log levels");
FREEZE(PLUGHOST_NOTE_OWNER_SIZE == 9 && sizeof(PLUGHOST_NOTE_OWNER) == 9, "note owner");
FREEZE(PLUGHOST_NOTE_TYPE_MANIFEST == 1, "note type");
FREEZE(sizeof(PLUGHOST_NOTE_SECTION) == sizeof(".note.plughost"), "note section");
FREEZE(sizeof(PLUGHOST_ENTRY_SYMBOL) == sizeof("plughost_entry"), "entry symbol");

/* ---- Frozen structs: offsets, sizes, and sizeof ---- */
FIELD(plughost_str, data, 0, 8);
FIELD(plughost_str, size, 8, 8);
FREEZE(sizeof(plughost_str) == 16, "sizeof(plughost_str)");

FIELD(plughost_message, data, 0, 8);
FIELD(plughost_message, capacity, 8, 8);
FIELD(plughost_message, size, 16, 8);
FREEZE(sizeof(plughost_message) == 24, "sizeof(plughost_message)");

FIELD(plughost_header, name, 0, 16);
FIELD(plughost_header, value, 16, 16);
FREEZE(sizeof(plughost_header) == 32, "sizeof(plughost_header)");

FIELD(plughost_metric, name, 0, 16);
FIELD(plughost_metric, value, 16, 8);
FREEZE(sizeof(plughost_metric) == 24, "sizeof(plughost_metric)");

/* ---- Growable structs: the 1.0 fields ---- */
FIELD(plughost_host_api, struct_size, 0, 4);
FIELD(plughost_host_api, context, 8, 8);
FIELD(plughost_host_api, log, 16, 8);
FIELD(plughost_host_api, count, 24, 8);
ENDS_AT(plughost_host_api, count, 32);

FIELD(plughost_request, struct_size, 0, 4);
FIELD(plughost_request, id, 8, 16);
FIELD(plughost_request, model, 24, 16);
FIELD(plughost_request, lora, 40, 16);
FIELD(plughost_request, prompt, 56, 16);
FIELD(plughost_request, headers, 72, 8);
FIELD(plughost_request, header_count, 80, 8);
ENDS_AT(plughost_request, header_count, 88);

FIELD(plughost_endpoint, struct_size, 0, 4);
FIELD(plughost_endpoint, id, 8, 8);
FIELD(plughost_endpoint, name, 16, 16);
FIELD(plughost_endpoint, address, 32, 16);
FIELD(plughost_endpoint, waiting_queue_size, 48, 4);
FIELD(plughost_endpoint, running_requests, 52, 4);
FIELD(plughost_endpoint, kv_cache_usage_percent, 56, 8);
FIELD(plughost_endpoint, active_loras, 64, 8);
FIELD(plughost_endpoint, active_lora_count, 72, 8);
FIELD(plughost_endpoint, max_active_loras, 80, 4);
FIELD(plughost_endpoint, metrics, 88, 8);
FIELD(plughost_endpoint, metric_count, 96, 8);
ENDS_AT(plughost_endpoint, metric_count, 104);

FIELD(plughost_plugin, struct_size, 0, 4);
FIELD(plughost_plugin, abi_major, 4, 4);
FIELD(plughost_plugin, abi_minor, 8, 4);
FIELD(plughost_plugin, abi_patch, 12, 4);
FIELD(plughost_plugin, manifest_json, 16, 16);
FIELD(plughost_plugin, create, 32, 8);
FIELD(plughost_plugin, destroy, 40, 8);
FIELD(plughost_plugin, filter, 48, 8);
FIELD(plughost_plugin, score, 56, 8);
FIELD(plughost_plugin, pick, 64, 8);
FIELD(plughost_plugin, picked, 72, 8);
ENDS_AT(plughost_plugin, picked, 80);

/* ---- Signatures: each hook and callback must keep its 1.0 type. Assigning functions of the
 * 1.0 types to the fields fails under -Werror (incompatible pointer types) if one changes. ---- */
static plughost_status frozen_create(const plughost_host_api *host, plughost_str name, plughost_str parameters_json,
                                     plughost_instance **out, plughost_message *error) {
    (void)host;
    (void)name;
    (void)parameters_json;
    (void)out;
    (void)error;
    return PLUGHOST_OK;
}
static void frozen_destroy(plughost_instance *instance) { (void)instance; }
static plughost_status frozen_filter(plughost_instance *instance, const plughost_request *request,
                                     const plughost_endpoint *const *endpoints, size_t count, size_t *passed,
                                     size_t *passed_count, plughost_message *error) {
    (void)instance;
    (void)request;
    (void)endpoints;
    (void)count;
    (void)passed;
    (void)passed_count;
    (void)error;
    return PLUGHOST_OK;
}
static plughost_status frozen_score(plughost_instance *instance, const plughost_request *request,
                                    const plughost_endpoint *const *endpoints, size_t count, double *scores,
                                    plughost_message *error) {
    (void)instance;
    (void)request;
    (void)endpoints;
    (void)count;
    (void)scores;
    (void)error;
    return PLUGHOST_OK;
}
static plughost_status frozen_pick(plughost_instance *instance, const plughost_request *request,
                                   const plughost_endpoint *const *endpoints, const double *scores, size_t count,
                                   size_t *picked, size_t *picked_count, plughost_message *error) {
    (void)instance;
    (void)request;
    (void)endpoints;
    (void)scores;
    (void)count;
    (void)picked;
    (void)picked_count;
    (void)error;
    return PLUGHOST_OK;
}
static plughost_status frozen_picked(plughost_instance *instance, const plughost_request *request,
                                     const plughost_endpoint *const *endpoints, size_t count, plughost_message *error) {
    (void)instance;
    (void)request;
    (void)endpoints;
    (void)count;
    (void)error;
    return PLUGHOST_OK;
}
static void frozen_log(void *context, int32_t level, plughost_str message) {
    (void)context;
    (void)level;
    (void)message;
}
static void frozen_count(void *context, plughost_str name, double delta) {
    (void)context;
    (void)name;
    (void)delta;
}

/* Designated initializers: fields a later minor appends stay zero without a warning. Extern,
 * so -Wunused does not object; nothing links this object. */
const plughost_plugin plughost_abi_1_0_frozen_entry = {.struct_size = 80,
                                                       .abi_major = 1,
                                                       .manifest_json = {NULL, 0},
                                                       .create = frozen_create,
                                                       .destroy = frozen_destroy,
                                                       .filter = frozen_filter,
                                                       .score = frozen_score,
                                                       .pick = frozen_pick,
                                                       .picked = frozen_picked};
const plughost_host_api plughost_abi_1_0_frozen_host_api = {
    .struct_size = 32, .context = NULL, .log = frozen_log, .count = frozen_count};
