/*
 * A copy of sdk/include/plughost/plugin.h as released for ABI 1.0.0, kept unchanged: the
 * fixtures built against it prove that plugins of ABI 1.0 keep loading and running on a newer
 * host (tests/abi/abi_1_0_plugin.c). Never edit it.
 *
 *
 * plughost plugin ABI: the only contract between the plughost host and a plugin shared object.
 *
 * This header is the normative text of the ABI. docs/abi.md tells the story around it (why, how
 * the pieces fit, examples); where the two seem to differ, this header is right.
 *
 * Plain C (C99 and later, and C++), no dependencies beyond <stddef.h> and <stdint.h>.
 *
 * ---- Reading this header ------------------------------------------------------------------
 *
 * Names: `plughost_` types, `PLUGHOST_` constants and macros. In `plughost_plugin` the function
 * pointers are hooks the plugin implements; in `plughost_host_api` they are callbacks the host
 * provides.
 *
 * Every hook and callback is documented in one template:
 *
 *   Required:   whether it may be NULL, and for which role.
 *   Called:     when the host calls it (hooks), or when the plugin may call it (callbacks).
 *   @param      each argument.
 *   @return     the return value.
 *   OWNERSHIP:  who owns each pointer and how long it stays valid.
 *   THREADS:    which calls may run concurrently with it.
 *   ON FAILURE: what the host does when it fails (refusal, fault counting, disabling).
 *
 * Every struct says who fills it (FILLED BY), whether it is frozen or growable, and OWNERSHIP.
 *
 * ---- Compatibility rules ------------------------------------------------------------------
 *
 *  - Semantic versioning of this header (PLUGHOST_ABI_VERSION_*). The host admits a plugin when
 *    the ABI majors are equal and the host's minor is >= the plugin's; otherwise it refuses it
 *    with abi-major-mismatch or abi-minor-newer before loading it.
 *  - Growable structs start with `uint32_t struct_size`, set by whoever fills the struct to
 *    sizeof(the struct) as it was compiled. Fields are only ever appended; nothing is inserted,
 *    removed or reordered. A reader uses a field only when `struct_size` covers it
 *    (PLUGHOST_HAS_FIELD).
 *  - Frozen structs (plughost_str, plughost_message, plughost_header, plughost_metric) have no
 *    `struct_size` and never change, so arrays of them are indexed directly.
 *  - A deprecated entry stays where it is, documented with its replacement and the release that
 *    removes it.
 *  - The layout of each released version is frozen by tests/abi/abi_<major>_<minor>_layout.c, and
 *    the declarations of this header by their digest in sdk/abi-digests.txt: editing a
 *    declaration without a new version fails the build (docs/abi.md, "Evolving the ABI").
 *
 * ---- Rules for every call across the boundary ----------------------------------------------
 *
 *  - No exception, longjmp or signal may cross it. A hook that can fail returns a
 *    `plughost_status` and writes a message into the host-owned `plughost_message` it is given.
 *  - Pointers the host passes to a hook are host-owned and valid only until the hook returns,
 *    unless the hook says otherwise (`host` in `create`). Copy what you keep; key per-endpoint
 *    state by `plughost_endpoint.id`, never by pointer.
 *  - Strings are `plughost_str` {data, size}: not NUL-terminated, UTF-8 unless said otherwise.
 *
 * ---- Threading ----------------------------------------------------------------------------
 *
 * The host calls one instance from one thread at a time, unless its manifest declares
 * "threadSafe": true, in which case it may call the instance's `filter`, `score`, `pick` and
 * `picked` concurrently. `create` and `destroy` are never concurrent with any other call on the
 * same instance. Different instances may be called concurrently. (The host of this release calls
 * every instance from one thread.)
 *
 * ---- What the host does with a failure -----------------------------------------------------
 *
 *  - Refusal, at load (`plughost run`, `plughost check --instantiate`): an entry that breaks a
 *    rule of `plughost_plugin` below is refused with `missing-entry`, `bad-entry` or
 *    `manifest-mismatch`, naming the file. No instance of it is made: `plughost run` does not
 *    start when its config uses the plugin, `plughost check --instantiate` reports it, and both
 *    exit with code 1.
 *  - Start-up failure: a failed `create` is `create-failed`, quoting the plugin's message; the
 *    host does not start (exit code 1) and destroys the instances that were made.
 *  - Faults, at run time: a failed or invalid hook result is a fault of the instance, logged with
 *    the instance name, the request id and what went wrong (the plugin's message after a failure
 *    status), and counted by kind (`plugin-error`, `bad-score`, `bad-index`). Each hook says
 *    what the request gets instead.
 *    After runtime.maxConsecutiveFaults faults in a row (default 5; --max-consecutive-faults)
 *    the instance is disabled for the rest of the run, with an error log line; a valid result of
 *    its role hook resets the count.
 *
 * ---- A plugin is one shared object holding -------------------------------------------------
 *
 *  1. an ELF note (section PLUGHOST_NOTE_SECTION, owner PLUGHOST_NOTE_OWNER, type
 *     PLUGHOST_NOTE_TYPE_MANIFEST) whose descriptor is the manifest as JSON. The host reads it
 *     straight from the file, without running any code, and decides whether to load the plugin
 *     at all. Exactly one per file, in a PT_NOTE segment, at most 64 KiB; trailing NUL bytes of
 *     the descriptor are padding, not part of the document.
 *  2. an exported `const plughost_plugin plughost_entry` (PLUGHOST_ENTRY_SYMBOL) carrying the
 *     same manifest, byte for byte, and the plugin's hooks. It is resolved only after the plugin
 *     was admitted, from the very file descriptor that was inspected.
 *
 * PLUGHOST_DECLARE_PLUGIN below produces both from one declaration; C++ authors use
 * <plughost/plugin.hpp> instead, which builds the JSON at compile time from typed fields.
 */
#ifndef PLUGHOST_PLUGIN_H
#define PLUGHOST_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

/* ---- Versions --------------------------------------------------------------------------- */

/* The ABI this header declares. A plugin records it twice: in its manifest ("abiVersion", the
 * string) and in its entry (abi_major, abi_minor, abi_patch); the two must be equal. */
#define PLUGHOST_ABI_VERSION_MAJOR 1
#define PLUGHOST_ABI_VERSION_MINOR 0
#define PLUGHOST_ABI_VERSION_PATCH 0
#define PLUGHOST_ABI_VERSION_STRING "1.0.0"

/* ---- Where the manifest lives ----------------------------------------------------------- */

/* The note: section name, owner name, and the note type of the manifest. */
#define PLUGHOST_NOTE_SECTION ".note.plughost"
#define PLUGHOST_NOTE_OWNER "plughost"
/* Size of the owner name including its NUL, as stored in the note's namesz. */
#define PLUGHOST_NOTE_OWNER_SIZE 9
#define PLUGHOST_NOTE_TYPE_MANIFEST 1
/* Name of the exported entry object (a `const plughost_plugin`). */
#define PLUGHOST_ENTRY_SYMBOL "plughost_entry"

/* Exports the entry from a library built with hidden visibility (the SDK's default). */
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

/*
 * plughost_status: the result of every hook that can fail.
 *
 * PLUGHOST_OK means the hook did its job and its outputs are set. Any other value means it
 * failed and wrote a message into its `plughost_message`. The host treats every failure status
 * alike (see each hook's ON FAILURE); the two values below tell a reader of the plugin's code
 * which kind of failure was meant.
 */
typedef int32_t plughost_status;
#define PLUGHOST_OK 0
/* The call failed; the message says why. */
#define PLUGHOST_ERROR 1
/* The arguments (usually the instance parameters) are invalid; the message says which. */
#define PLUGHOST_INVALID_ARGUMENT 2

/*
 * plughost_str: a borrowed byte string.
 *
 * FROZEN (never grows). Not NUL-terminated. `data` may be NULL when `size` is 0. UTF-8 unless
 * the field that holds it says otherwise.
 *
 * OWNERSHIP: never transferred; each use says who owns the bytes and for how long.
 */
typedef struct plughost_str {
    const char *data;
    size_t size;
} plughost_str;

/*
 * plughost_message: a host-owned buffer into which a failing hook writes why it failed.
 *
 * FILLED BY: the host (data, capacity; size set to 0 before each call), then the plugin (the
 * text, and size). FROZEN (never grows).
 *
 * The plugin writes at most `capacity` bytes at `data` and sets `size` to their number: one
 * line of UTF-8 text, not NUL-terminated. Do not rely on a particular capacity (the host gives
 * 1024 bytes today); cut a longer text. The host reads the message only when the hook returned
 * a failure status, reads at most `capacity` bytes whatever `size` says, and escapes control
 * characters before it logs or reports the text.
 *
 * OWNERSHIP: host-owned, valid only until the hook it was passed to returns; never keep it.
 */
typedef struct plughost_message {
    /* Where to write: `capacity` writable bytes. */
    char *data;
    /* How many bytes may be written at `data`. */
    size_t capacity;
    /* How many bytes were written: 0 on entry, set by the plugin. */
    size_t size;
} plughost_message;

/* Log levels for plughost_host_api.log, numerically equal to spdlog's. */
#define PLUGHOST_LOG_TRACE 0
#define PLUGHOST_LOG_DEBUG 1
#define PLUGHOST_LOG_INFO 2
#define PLUGHOST_LOG_WARN 3
#define PLUGHOST_LOG_ERROR 4
#define PLUGHOST_LOG_CRITICAL 5

/*
 * PLUGHOST_HAS_FIELD(ptr, type, field): true when the growable struct at `ptr` is large enough,
 * by its `struct_size`, to hold `field`.
 *
 * Whoever reads a struct filled by a party that may be older must check it before reading a
 * field added after that party's version. The host does so for the plugin's entry (see
 * `plughost_plugin`). A plugin does not need it for what the host fills: the host is never
 * older than the plugin (the admission rule), so every field of the plugin's own minor is there.
 */
#define PLUGHOST_HAS_FIELD(ptr, type, field)                                                                           \
    ((ptr)->struct_size >= offsetof(type, field) + sizeof(((const type *)0)->field))

/* ---- Host services ---------------------------------------------------------------------- */

/*
 * plughost_host_api: the callbacks the host provides to one plugin instance; passed to `create`.
 *
 * FILLED BY: the host. GROWABLE (starts with struct_size).
 *
 * OWNERSHIP: host-owned; valid from the call to `create` until `destroy` returns. The plugin may
 * keep the pointer for that long (and should: `create` is the only time it is given).
 * THREADS: see each callback.
 */
typedef struct plughost_host_api {
    /* sizeof(plughost_host_api) as the host was compiled: never smaller than the plugin's. */
    uint32_t struct_size;
    /* Opaque host state for this instance; pass it back as the first argument of every
     * callback. Never dereference it. */
    void *context;

    /**
     * log: writes one line through the host's log sinks, tagged with the instance's name.
     *
     * Required:   yes; the host always provides it (never NULL).
     * Called:     by the plugin, from inside a call the host made into this instance (`create`,
     *             a hook, or `destroy`).
     *
     * @param context  this struct's `context`.
     * @param level    PLUGHOST_LOG_TRACE to PLUGHOST_LOG_CRITICAL; other values are clamped to
     *                 that range.
     * @param message  the line, UTF-8, without a trailing newline.
     * @return         nothing.
     *
     * OWNERSHIP:  `message` is borrowed for the call; the host copies what it keeps.
     * THREADS:    call it only on the thread that is running the host's call into this
     *             instance; the host does not synchronise calls from other threads.
     * ON FAILURE: cannot fail. The host drops lines below its log level, escapes control
     *             characters (as \xNN) and cuts the text at 2000 bytes.
     */
    void (*log)(void *context, int32_t level, plughost_str message);

    /**
     * count: adds `delta` to the instance's counter `name`, creating it at 0 on first use.
     *
     * Required:   yes; the host always provides it (never NULL).
     * Called:     by the plugin, from inside a call the host made into this instance.
     *
     * @param context  this struct's `context`.
     * @param name     the counter's name: at most 64 bytes of printable UTF-8.
     * @param delta    the amount to add; may be negative.
     * @return         nothing.
     *
     * OWNERSHIP:  `name` is borrowed for the call; the host copies it.
     * THREADS:    as `log`.
     * ON FAILURE: cannot fail. A delta that is NaN or infinite is ignored; an instance has at
     *             most 64 counters, and a name beyond that is ignored. The host prints the
     *             counters in the summary of `plughost run`; an instance with both `hits` and
     *             `lookups` (lookups > 0) also gets a hit-rate line.
     */
    void (*count)(void *context, plughost_str name, double delta);
} plughost_host_api;

/* ---- Scheduling data (views; valid only for the duration of the call they are passed to) */

/*
 * plughost_header: one request header.
 *
 * FILLED BY: the host. FROZEN (never grows).
 * OWNERSHIP: host-owned, as the request that holds it.
 */
typedef struct plughost_header {
    /* The header's name, as the request gave it. */
    plughost_str name;
    /* The header's value. */
    plughost_str value;
} plughost_header;

/*
 * plughost_metric: one named metric of an endpoint beyond the standard ones.
 *
 * FILLED BY: the host. FROZEN (never grows).
 * OWNERSHIP: host-owned, as the endpoint that holds it.
 */
typedef struct plughost_metric {
    /* The metric's name, as the endpoint update gave it. */
    plughost_str name;
    /* Its latest value. */
    double value;
} plughost_metric;

/*
 * plughost_request: the request being scheduled.
 *
 * FILLED BY: the host. GROWABLE (starts with struct_size).
 *
 * OWNERSHIP: host-owned, with every string and array it points to; valid only until the hook
 * it was passed to returns. Copy what you keep.
 */
typedef struct plughost_request {
    /* sizeof(plughost_request) as the host was compiled: never smaller than the plugin's. */
    uint32_t struct_size;
    /* The request's id, as the event stream gave it. */
    plughost_str id;
    /* The model asked for; size 0 when none. */
    plughost_str model;
    /* Requested LoRA adapter; size 0 when none. */
    plughost_str lora;
    /* Prompt bytes (not necessarily valid UTF-8); size 0 when none. */
    plughost_str prompt;
    /* `header_count` headers, in the order given; may be NULL when header_count is 0. */
    const plughost_header *headers;
    size_t header_count;
} plughost_request;

/*
 * plughost_endpoint: one model-server endpoint and its latest metrics.
 *
 * FILLED BY: the host. GROWABLE (starts with struct_size); endpoints are always passed as arrays
 * of pointers, so the struct can grow.
 *
 * OWNERSHIP: host-owned, with every string and array it points to; valid only until the hook
 * it was passed to returns. The host updates endpoints between requests: keep the `id`, never
 * the pointer. A metric the event stream has not reported yet is 0.
 */
typedef struct plughost_endpoint {
    /* sizeof(plughost_endpoint) as the host was compiled: never smaller than the plugin's. */
    uint32_t struct_size;
    /* Unique for the life of the host process, never reused: a cheap key for plugin state. */
    uint64_t id;
    /* The endpoint's name, unique among the live endpoints (1 to 253 bytes). */
    plughost_str name;
    /* Its address; size 0 when not reported. */
    plughost_str address;
    /* Requests waiting in the model server's queue. */
    uint32_t waiting_queue_size;
    /* Requests the model server is running. */
    uint32_t running_requests;
    /* KV-cache usage, 0 to 100. */
    double kv_cache_usage_percent;
    /* Names of the LoRA adapters loaded, `active_lora_count` of them; may be NULL when 0. */
    const plughost_str *active_loras;
    size_t active_lora_count;
    /* How many LoRA adapters the server can hold at once. */
    uint32_t max_active_loras;
    /* Other metrics, by name (extensible without an ABI change), `metric_count` of them; may be
     * NULL when 0. */
    const plughost_metric *metrics;
    size_t metric_count;
} plughost_endpoint;

/* ---- The plugin --------------------------------------------------------------------------- */

/* Opaque plugin instance: whatever `create` made; the host only passes it back. */
typedef struct plughost_instance plughost_instance;

/*
 * plughost_plugin: the plugin's entry, exported as `const plughost_plugin plughost_entry`.
 *
 * FILLED BY: the plugin, statically (PLUGHOST_DECLARE_PLUGIN, or PLUGHOST_PLUGIN in C++).
 * GROWABLE (starts with struct_size).
 *
 * The host reads the entry once, when it loads an admitted plugin: it copies the
 * min(struct_size, sizeof(plughost_plugin)) first bytes into a zeroed plughost_plugin of its own
 * and from then on uses only that copy. A field beyond the plugin's `struct_size` is therefore
 * NULL or 0 to the host: an optional hook the plugin was built without is simply absent. The
 * host then checks the copy and refuses the plugin (the file is named in the message) when:
 *  - `struct_size` ends before the end of `pick` (the ABI 1.0 required fields): `bad-entry`,
 *    naming the size found and the size needed;
 *  - `struct_size` is larger than the exported object (its symbol's size): `bad-entry`;
 *  - `abi_major`.`abi_minor`.`abi_patch` differ from the manifest note's "abiVersion":
 *    `manifest-mismatch`, naming both;
 *  - `manifest_json.data` is NULL, or its size is over 64 KiB: `bad-entry`;
 *  - `manifest_json` is not byte for byte the note's document: `manifest-mismatch`, naming the
 *    top-level fields that differ, or saying it differs only in formatting;
 *  - `create` or `destroy` is NULL, or the hook of the manifest's role is: `bad-entry`.
 * The host calls only the hook of the manifest's "role" (and `picked`); leave the others NULL.
 *
 * OWNERSHIP: plugin-owned, static storage, with the manifest bytes it points to. The library
 * stays loaded while any instance of it exists; the host unloads it after the last `destroy`.
 * THREADS: the threading rules at the top of this header; each hook repeats what applies to it.
 *
 * Endpoint arrays are arrays of pointers (so `plughost_endpoint` can grow); indexes in and out
 * of the role hooks refer to positions in the array passed to that call.
 */
typedef struct plughost_plugin {
    /* sizeof(plughost_plugin) as the plugin was compiled; see above for what the host reads. */
    uint32_t struct_size;
    /* PLUGHOST_ABI_VERSION_* the plugin was compiled against; must equal the manifest's
     * "abiVersion" (the host refuses the plugin with manifest-mismatch otherwise). */
    uint32_t abi_major;
    uint32_t abi_minor;
    uint32_t abi_patch;
    /* The manifest JSON, byte for byte the same document as the ELF note's descriptor without
     * its trailing NUL bytes (the host compares the bytes and refuses the plugin with
     * manifest-mismatch when they differ, even in whitespace only). Static storage. */
    plughost_str manifest_json;

    /**
     * create: makes an instance named `name` from the operator's parameters.
     *
     * Required:   yes, every role.
     * Called:     once per instance the operator configured, at start-up (`plughost run`,
     *             `plughost check --instantiate`), before any request.
     *
     * @param host             the callbacks for this instance.
     * @param name             the instance's name from the config (its type when the config
     *                         gives none): 1 to 128 bytes, no control characters.
     * @param parameters_json  a JSON object: the operator's parameters, already checked against
     *                         the manifest's "parameters" (names and types), with the declared
     *                         defaults filled in for those not given.
     * @param out              where to store the new instance on success (*out is NULL on
     *                         entry).
     * @param error            where to write why it failed (see plughost_message).
     * @return                 PLUGHOST_OK with a non-NULL instance stored in *out;
     *                         PLUGHOST_INVALID_ARGUMENT when the parameters are unacceptable;
     *                         PLUGHOST_ERROR for any other failure.
     *
     * OWNERSHIP:  `host` is host-owned and valid until `destroy` returns: keep it. `name` and
     *             `parameters_json` are borrowed for the call: copy them. The instance belongs
     *             to the plugin; the host passes it to every later hook and finally to
     *             `destroy`. On failure store nothing in *out: the host never destroys what a
     *             failed `create` stored.
     * THREADS:    never concurrent with another call on the same instance.
     * ON FAILURE: a failure status, or PLUGHOST_OK with *out left NULL, is `create-failed`:
     *             `plugin "<name>" (<type>) failed to start: <message>`. The host does not start
     *             (exit code 1) and destroys the instances that were made. Not a fault.
     */
    plughost_status (*create)(const plughost_host_api *host, plughost_str name, plughost_str parameters_json,
                              plughost_instance **out, plughost_message *error);

    /**
     * destroy: destroys an instance made by `create`, releasing everything it holds.
     *
     * Required:   yes, every role.
     * Called:     exactly once for each instance whose `create` succeeded, when the host stops
     *             (also when it does not start because another instance failed to).
     *
     * @param instance  the instance `create` made.
     * @return          nothing.
     *
     * OWNERSHIP:  the instance is the plugin's to free. The host never uses it again, and the
     *             instance's plughost_host_api becomes invalid when `destroy` returns (the
     *             callbacks may still be called during it). The library may be unloaded after
     *             the last instance of it is destroyed.
     * THREADS:    never concurrent with another call on the same instance.
     * ON FAILURE: must not fail: it has no status, and no exception may escape it.
     */
    void (*destroy)(plughost_instance *instance);

    /**
     * filter: chooses which of the candidate endpoints may serve the request.
     *
     * Required:   for role "filter" (the host never calls it for another role: leave it NULL).
     * Called:     once per request whose scheduling profile lists this instance as a filter,
     *             in the profile's order, before the scorers; not when an earlier filter left no
     *             endpoint, and never once the instance is disabled.
     *
     * @param instance      the instance `create` made.
     * @param request       the request.
     * @param endpoints     the candidates: `count` pointers, those that passed earlier filters.
     * @param count         how many candidates; at least 1.
     * @param passed        where to write the indexes (into `endpoints`) of the endpoints that
     *                      pass, in strictly increasing order; room for `count` of them.
     * @param passed_count  where to write how many indexes were written (0 to `count`); 0 on
     *                      entry.
     * @param error         where to write why it failed.
     * @return              PLUGHOST_OK when `passed` and `*passed_count` hold the result; a
     *                      failure status otherwise.
     *
     * OWNERSHIP:  every pointer is host-owned and valid until the call returns.
     * THREADS:    one call at a time on an instance, unless the manifest says "threadSafe".
     * ON FAILURE: a failure status is a `plugin-error` fault; more indexes than `count`, an
     *             index >= `count`, or indexes not strictly increasing (so also one repeated)
     *             is a `bad-index` fault. Either way this filter passes every candidate through
     *             for this request. Passing none is no fault: the request is answered with a
     *             `no-candidates` error line. A disabled filter passes every candidate through.
     */
    plughost_status (*filter)(plughost_instance *instance, const plughost_request *request,
                              const plughost_endpoint *const *endpoints, size_t count, size_t *passed,
                              size_t *passed_count, plughost_message *error);

    /**
     * score: scores each candidate endpoint for the request, from 0 (worst) to 1 (best).
     *
     * Required:   for role "scorer" (the host never calls it for another role: leave it NULL).
     * Called:     once per request of a scheduling profile that lists it as a scorer, after
     *             the filters, over the endpoints that passed them; not when the filters left
     *             no endpoint, and never once the instance is disabled. The host adds
     *             weight * scores[i] to endpoint i's total.
     *
     * @param instance   the instance `create` made.
     * @param request    the request.
     * @param endpoints  the candidates: `count` pointers.
     * @param count      how many candidates; at least 1.
     * @param scores     where to write one score in [0, 1] per candidate, scores[i] for
     *                   endpoints[i]; room for `count`. Write every entry: the buffer is reused
     *                   between calls and shared by the scorers, so an entry left unwritten
     *                   holds a stale value the host cannot tell from a real one.
     * @param error      where to write why it failed.
     * @return           PLUGHOST_OK when `scores` holds the result; a failure status otherwise.
     *
     * OWNERSHIP:  every pointer is host-owned and valid until the call returns.
     * THREADS:    one call at a time on an instance, unless the manifest says "threadSafe".
     * ON FAILURE: a failure status is a `plugin-error` fault; a score below 0, above 1 or NaN
     *             is a `bad-score` fault (-0.0 counts as 0). Either way this scorer contributes
     *             nothing to this request: the totals are as if it were not in the profile. A
     *             disabled scorer is skipped the same way.
     */
    plughost_status (*score)(plughost_instance *instance, const plughost_request *request,
                             const plughost_endpoint *const *endpoints, size_t count, double *scores,
                             plughost_message *error);

    /**
     * pick: chooses the endpoints the request goes to, best first.
     *
     * Required:   for role "picker" (the host never calls it for another role: leave it NULL).
     *             It is the last field every ABI 1.0 entry must hold.
     * Called:     once per request of its scheduling profile, after the scorers; not when the
     *             filters left no endpoint, and never once the instance is disabled.
     *
     * @param instance      the instance `create` made.
     * @param request       the request.
     * @param endpoints     the candidates: `count` pointers.
     * @param scores        scores[i] is endpoint i's weighted total: the sum of weight * score
     *                      over the profile's scorers that neither faulted nor are disabled (all
     *                      0 when there are none); `count` of them.
     * @param count         how many candidates; at least 1.
     * @param picked        where to write the indexes of the chosen endpoints, best first, each
     *                      at most once; room for `count`.
     * @param picked_count  where to write how many were chosen (1 to `count`); 0 on entry.
     * @param error         where to write why it failed.
     * @return              PLUGHOST_OK when `picked` and `*picked_count` hold the choice; a
     *                      failure status otherwise.
     *
     * OWNERSHIP:  every pointer is host-owned and valid until the call returns.
     * THREADS:    one call at a time on an instance, unless the manifest says "threadSafe".
     * ON FAILURE: a failure status is a `plugin-error` fault; choosing none, more than `count`,
     *             an index >= `count` or one twice is a `bad-index` fault. Either way the request
     *             is answered with a `picker-failed` error line (quoting the plugin's message
     *             after a failure status). While the picker is disabled, every request of its
     *             profile that reaches it is answered `picker-disabled`.
     */
    plughost_status (*pick)(plughost_instance *instance, const plughost_request *request,
                            const plughost_endpoint *const *endpoints, const double *scores, size_t count,
                            size_t *picked, size_t *picked_count, plughost_message *error);

    /**
     * picked: told which endpoints a request was finally sent to; this is how stateful plugins
     * (a prefix cache, say) learn from past decisions.
     *
     * Required:   no, any role: NULL when unused. Absent to the host, too, when the entry's
     *             struct_size ends before it.
     * Called:     after every successful `pick` of a scheduling profile that uses this instance
     *             (as filter, scorer or picker; once per request even if it is used twice), in
     *             profile order (filters, scorers, picker), whether or not this instance's own
     *             hook faulted on the request; never once the instance is disabled.
     *
     * @param instance   the instance `create` made.
     * @param request    the request.
     * @param endpoints  the chosen endpoints, best first, as the picker chose them.
     * @param count      how many were chosen; at least 1.
     * @param error      where to write why it failed.
     * @return           PLUGHOST_OK, or a failure status.
     *
     * OWNERSHIP:  every pointer is host-owned and valid until the call returns.
     * THREADS:    one call at a time on an instance, unless the manifest says "threadSafe".
     * ON FAILURE: a failure status is a `plugin-error` fault of the instance and counts toward
     *             disabling it (a successful `picked` does not reset the count; a valid result
     *             of its role hook does). The decision stands.
     */
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
 * forms cannot drift apart: the entry's manifest_json points at the note's own bytes. Pass NULL
 * for hooks the role does not use. Use it once per shared object, at file scope. Example:
 *
 *   PLUGHOST_DECLARE_PLUGIN("{\"type\":\"my-scorer\",\"role\":\"scorer\",...}",
 *                           my_create, my_destroy, NULL, my_score, NULL, NULL);
 *
 * PLUGHOST_NOTE_STRUCT(desc_size) is the note record as the ELF gABI lays it out (namesz,
 * descsz, type, the owner name padded to 4 bytes, the descriptor), for plugins that emit the
 * note themselves.
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
