/*
 * plughost plugin ABI: the only contract between the plughost host and a plugin shared object.
 *
 * Plain C (C99 and later, and C++), no dependencies beyond <stddef.h> and <stdint.h>.
 *
 * Naming: `plughost_` types and `PLUGHOST_` constants. In `plughost_plugin` the function
 * pointers are hooks the plugin implements; in `plughost_host_api` they are callbacks the
 * host provides.
 *
 * Compatibility rules
 *  - The host accepts a plugin when the ABI majors are equal and the host's minor is >= the
 *    plugin's minor (semantic versioning of this header).
 *  - Every struct exchanged by value through a pointer starts with `struct_size`, set by whoever
 *    fills it. Fields are only ever appended; a reader uses a field only when `struct_size`
 *    covers it (see PLUGHOST_HAS_FIELD). Nothing is inserted in the middle, ever.
 *  - `plughost_str`, `plughost_header` and `plughost_metric` are frozen: they never grow, so
 *    arrays of them can be indexed directly.
 *  - A deprecated entry stays where it is, documented with its replacement and the release
 *    that removes it.
 *  - No exception, longjmp or signal may cross this boundary. Failures are reported as a
 *    `plughost_status` plus a message written into a host-owned `plughost_message`.
 *
 * A plugin is one shared object holding:
 *  1. an ELF note (section ".note.plughost", owner "plughost", type PLUGHOST_NOTE_TYPE_MANIFEST)
 *     whose descriptor is the manifest as JSON; the host reads it straight from the file,
 *     without running any code, and decides whether to load the plugin at all;
 *  2. an exported `const plughost_plugin plughost_entry` carrying the same manifest and the
 *     plugin's functions, resolved only after the plugin was admitted.
 * PLUGHOST_DECLARE_PLUGIN below produces both from one declaration; C++ authors use
 * <plughost/plugin.hpp> instead, which builds the JSON at compile time from typed fields.
 */
#ifndef PLUGHOST_PLUGIN_H
#define PLUGHOST_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

/* ---- Versions --------------------------------------------------------------------------- */

#define PLUGHOST_ABI_VERSION_MAJOR 1
#define PLUGHOST_ABI_VERSION_MINOR 0
#define PLUGHOST_ABI_VERSION_PATCH 0
#define PLUGHOST_ABI_VERSION_STRING "1.0.0"

/* ---- Where the manifest lives ----------------------------------------------------------- */

#define PLUGHOST_NOTE_SECTION ".note.plughost"
#define PLUGHOST_NOTE_OWNER "plughost"
/* Size of the owner name including its NUL, as stored in the note's namesz. */
#define PLUGHOST_NOTE_OWNER_SIZE 9
#define PLUGHOST_NOTE_TYPE_MANIFEST 1
/* Name of the exported entry object (a `const plughost_plugin`). */
#define PLUGHOST_ENTRY_SYMBOL "plughost_entry"

#if defined(__GNUC__) || defined(__clang__)
#define PLUGHOST_EXPORT __attribute__((visibility("default")))
#else
#define PLUGHOST_EXPORT
#endif

/* Linkage of the exported entry: a namespace-scope const object is internal in C++. */
#ifdef __cplusplus
#define PLUGHOST_EXTERN_C extern "C"
#else
#define PLUGHOST_EXTERN_C
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Basic types ------------------------------------------------------------------------ */

/* Result of every fallible hook. Anything other than PLUGHOST_OK carries a message. */
typedef int32_t plughost_status;
#define PLUGHOST_OK 0
/* The call failed; the message says why. */
#define PLUGHOST_ERROR 1
/* The arguments (usually the instance parameters) are invalid; the message says which. */
#define PLUGHOST_INVALID_ARGUMENT 2

/* A borrowed byte string: `data` may be NULL when `size` is 0; not NUL-terminated. Frozen. */
typedef struct plughost_str {
    const char *data;
    size_t size;
} plughost_str;

/* A host-owned buffer a plugin writes an error message into. The plugin writes at most
 * `capacity` bytes at `data` and sets `size`; the message is UTF-8 text, one line, not
 * NUL-terminated. The host sets `size` to 0 before each call. */
typedef struct plughost_message {
    char *data;
    size_t capacity;
    size_t size;
} plughost_message;

/* Log levels, numerically equal to spdlog's. */
#define PLUGHOST_LOG_TRACE 0
#define PLUGHOST_LOG_DEBUG 1
#define PLUGHOST_LOG_INFO 2
#define PLUGHOST_LOG_WARN 3
#define PLUGHOST_LOG_ERROR 4
#define PLUGHOST_LOG_CRITICAL 5

/* True when the struct at `ptr` (with a leading `struct_size`) is large enough to hold `field`. */
#define PLUGHOST_HAS_FIELD(ptr, type, field)                                                                           \
    ((ptr)->struct_size >= offsetof(type, field) + sizeof(((const type *)0)->field))

/* ---- Host services ---------------------------------------------------------------------- */

/*
 * Callbacks the host provides to one plugin instance; passed to `create`.
 * Ownership: host-owned, valid from `create` until `destroy` returns; the plugin may keep the
 * pointer. Thread-safety: callable from any thread the instance is called on.
 */
typedef struct plughost_host_api {
    uint32_t struct_size;
    /* Opaque host state for this instance; pass it back as the first argument. */
    void *context;
    /* Required. Writes one log line through the host's log sinks, tagged with the instance
     * name. `message` is borrowed for the duration of the call. */
    void (*log)(void *context, int32_t level, plughost_str message);
    /* Required. Adds `delta` to the instance's counter `name` (created at 0 on first use).
     * The host prints counters in its run summary; a plugin that publishes both `hits` and
     * `lookups` gets a hit-rate line. */
    void (*count)(void *context, plughost_str name, double delta);
} plughost_host_api;

/* ---- Scheduling data (views; valid only for the duration of the call they are passed to) */

/* One request header. Frozen. */
typedef struct plughost_header {
    plughost_str name;
    plughost_str value;
} plughost_header;

/* One named metric of an endpoint beyond the standard ones. Frozen. */
typedef struct plughost_metric {
    plughost_str name;
    double value;
} plughost_metric;

/* The request being scheduled. */
typedef struct plughost_request {
    uint32_t struct_size;
    plughost_str id;
    plughost_str model;
    /* Requested LoRA adapter; size 0 when none. */
    plughost_str lora;
    /* Prompt bytes (not necessarily valid UTF-8). */
    plughost_str prompt;
    const plughost_header *headers;
    size_t header_count;
} plughost_request;

/* One model-server endpoint and its latest metrics. */
typedef struct plughost_endpoint {
    uint32_t struct_size;
    /* Unique for the life of the host process, never reused: a cheap key for plugin state. */
    uint64_t id;
    plughost_str name;
    plughost_str address;
    uint32_t waiting_queue_size;
    uint32_t running_requests;
    /* KV-cache usage, 0 to 100. */
    double kv_cache_usage_percent;
    const plughost_str *active_loras;
    size_t active_lora_count;
    uint32_t max_active_loras;
    /* Other metrics, by name (extensible without an ABI change). */
    const plughost_metric *metrics;
    size_t metric_count;
} plughost_endpoint;

/* ---- The plugin --------------------------------------------------------------------------- */

/* Opaque plugin instance. */
typedef struct plughost_instance plughost_instance;

/*
 * Threading contract: the host calls one instance from one thread at a time, unless the
 * manifest declares "threadSafe": true. `create` and `destroy` are never concurrent with any
 * other call on the same instance. Different instances may be called concurrently.
 *
 * Endpoint arrays are arrays of pointers (so `plughost_endpoint` can grow); indexes in and out
 * of the role hooks refer to positions in the array passed to that call.
 */
typedef struct plughost_plugin {
    /* sizeof(plughost_plugin) as the plugin was compiled. */
    uint32_t struct_size;
    /* PLUGHOST_ABI_VERSION_* the plugin was compiled against. */
    uint32_t abi_major;
    uint32_t abi_minor;
    uint32_t abi_patch;
    /* The manifest JSON, byte for byte the same document as the ELF note (the host compares
     * them and refuses the plugin when they differ). Static storage. */
    plughost_str manifest_json;

    /* Required. Creates an instance named `name` from `parameters_json` (a JSON object).
     * `host` is valid until `destroy` returns. On success stores the instance in `*out` and
     * returns PLUGHOST_OK; otherwise returns an error status and writes a message. */
    plughost_status (*create)(const plughost_host_api *host, plughost_str name, plughost_str parameters_json,
                              plughost_instance **out, plughost_message *error);
    /* Required. Destroys an instance made by `create`. Must not fail. */
    void (*destroy)(plughost_instance *instance);

    /* Required for role "filter". Writes the indexes of the endpoints that pass, in increasing
     * order, into `passed` (capacity `count`) and their number into `*passed_count`. */
    plughost_status (*filter)(plughost_instance *instance, const plughost_request *request,
                              const plughost_endpoint *const *endpoints, size_t count, size_t *passed,
                              size_t *passed_count, plughost_message *error);
    /* Required for role "scorer". Writes one score in [0, 1] per endpoint into `scores`
     * (capacity `count`); every entry must be written (the buffer is reused between calls). */
    plughost_status (*score)(plughost_instance *instance, const plughost_request *request,
                             const plughost_endpoint *const *endpoints, size_t count, double *scores,
                             plughost_message *error);
    /* Required for role "picker". `scores` holds each endpoint's weighted total score. Writes
     * the indexes of the chosen endpoints, best first, each at most once, into `picked`
     * (capacity `count`) and their number (at least 1) into `*picked_count`. */
    plughost_status (*pick)(plughost_instance *instance, const plughost_request *request,
                            const plughost_endpoint *const *endpoints, const double *scores, size_t count,
                            size_t *picked, size_t *picked_count, plughost_message *error);
    /* Optional (NULL when unused), any role. Told which endpoints a request was finally sent
     * to, after the picker ran; this is how stateful scorers learn from past decisions. An
     * error status is counted as a fault of the instance; it does not change the decision. */
    plughost_status (*picked)(plughost_instance *instance, const plughost_request *request,
                              const plughost_endpoint *const *endpoints, size_t count, plughost_message *error);
} plughost_plugin;

#ifdef __cplusplus
} /* extern "C" */
#endif

/* ---- Declaring a plugin in C ------------------------------------------------------------ */

/*
 * PLUGHOST_DECLARE_PLUGIN(manifest_json_literal, create, destroy, filter, score, pick, picked)
 * emits the ELF note and the exported `plughost_entry` from one string literal, so the two
 * forms cannot drift apart. Pass NULL for hooks the role does not use. Use it once per
 * shared object, at file scope. Example:
 *
 *   PLUGHOST_DECLARE_PLUGIN("{\"type\":\"my-scorer\",\"role\":\"scorer\",...}",
 *                           my_create, my_destroy, NULL, my_score, NULL, NULL)
 */
#define PLUGHOST_NOTE_STRUCT(desc_size)                                                                                \
    struct {                                                                                                           \
        uint32_t namesz;                                                                                               \
        uint32_t descsz;                                                                                               \
        uint32_t type;                                                                                                 \
        char name[12];                                                                                                 \
        char desc[desc_size];                                                                                          \
    }

#define PLUGHOST_DECLARE_PLUGIN(json, create_fn, destroy_fn, filter_fn, score_fn, pick_fn, picked_fn)                  \
    __attribute__((used, section(PLUGHOST_NOTE_SECTION), aligned(4))) static const PLUGHOST_NOTE_STRUCT(sizeof(json))  \
        plughost_manifest_note = {PLUGHOST_NOTE_OWNER_SIZE, sizeof(json), PLUGHOST_NOTE_TYPE_MANIFEST,                 \
                                  PLUGHOST_NOTE_OWNER, json};                                                          \
    PLUGHOST_EXTERN_C PLUGHOST_EXPORT const plughost_plugin plughost_entry = {                                         \
        sizeof(plughost_plugin),                                                                                       \
        PLUGHOST_ABI_VERSION_MAJOR,                                                                                    \
        PLUGHOST_ABI_VERSION_MINOR,                                                                                    \
        PLUGHOST_ABI_VERSION_PATCH,                                                                                    \
        {plughost_manifest_note.desc, sizeof(json) - 1},                                                               \
        create_fn,                                                                                                     \
        destroy_fn,                                                                                                    \
        filter_fn,                                                                                                     \
        score_fn,                                                                                                      \
        pick_fn,                                                                                                       \
        picked_fn}

#endif /* PLUGHOST_PLUGIN_H */
