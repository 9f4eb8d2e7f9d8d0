/*
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
 *  - Frozen structs (plughost_str, plughost_message, plughost_header, plughost_metric, and since
 *    1.1 plughost_value, plughost_chat_message, plughost_extra) have no `struct_size` and never
 *    change, so arrays of them are indexed directly.
 *  - Each field and hook added after 1.0 says "Since 1.1" or "Since 1.2". A plugin built
 *    against an older minor keeps loading and running unchanged on a newer host: the host fills
 *    every struct it passes with the fields of its own (newer) minor, and reads the plugin's
 *    entry only as far as the plugin's struct_size goes.
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
 * "threadSafe": true, in which case it may call any of the instance's hooks but `create` and
 * `destroy` concurrently. `create` and `destroy` are never concurrent with any other call on the
 * same instance. Different instances may be called concurrently. (`plughost run` calls every
 * instance from one thread.)
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
#define PLUGHOST_ABI_VERSION_MINOR 2
#define PLUGHOST_ABI_VERSION_PATCH 0
#define PLUGHOST_ABI_VERSION_STRING "1.2.0"

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

/*
 * plughost_value: the value of an attribute (Since 1.1).
 *
 * FILLED BY: whoever publishes or reads it (see plughost_host_api.put_attribute and
 * get_attribute). FROZEN (never grows).
 * OWNERSHIP: `string` is borrowed; see the callback it is passed to.
 */
typedef struct plughost_value {
    /* PLUGHOST_VALUE_NUMBER or PLUGHOST_VALUE_STRING (PLUGHOST_VALUE_NONE: absent); a parameter
       (`param`) may also be PLUGHOST_VALUE_BOOLEAN or PLUGHOST_VALUE_JSON. */
    int32_t type;
    /* The value of a number (finite). */
    double number;
    /* The value of a string (UTF-8). */
    plughost_str string;
} plughost_value;
#define PLUGHOST_VALUE_NONE 0
#define PLUGHOST_VALUE_NUMBER 1
#define PLUGHOST_VALUE_STRING 2
#define PLUGHOST_VALUE_BOOLEAN 3 /* `number` is 1 (true) or 0 (false) */
#define PLUGHOST_VALUE_JSON 4    /* `string` holds JSON text (an array or object parameter) */

/* Forward declarations of the scheduling data, for the host callbacks below. */
struct plughost_request;
struct plughost_endpoint;

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

    /**
     * attribute: the id of an attribute this instance's manifest declares in "produces" or
     * "consumes" (Since 1.1).
     *
     * Required:   yes; the host always provides it.
     * Called:     by the plugin, best once, in `create`: ids are stable for the instance's life.
     *
     * @param context  this struct's `context`.
     * @param name     the attribute's name, as the manifest declares it.
     * @return         its id (>= 0), to pass to put_attribute and get_attribute; -1 when the
     *                 manifest does not declare it (an attribute a plugin did not declare is
     *                 neither published nor readable: the host ordered the plugins by what the
     *                 manifests say).
     *
     * OWNERSHIP:  `name` is borrowed for the call.
     * THREADS:    as `log`.
     * ON FAILURE: -1, as above.
     */
    int32_t (*attribute)(void *context, plughost_str name);

    /**
     * put_attribute: publishes the value of an attribute for the request being scheduled,
     * about one endpoint or about the request itself (Since 1.1).
     *
     * Required:   yes; the host always provides it.
     * Called:     by a plugin of role "producer", from inside its `produce` hook only.
     *
     * @param context    this struct's `context`.
     * @param request    the request `produce` was given.
     * @param endpoint   one of the endpoints `produce` was given, for an attribute of scope
     *                   "endpoint"; NULL for one of scope "request".
     * @param attribute  the attribute's id (from `attribute`); it must be in the manifest's
     *                   "produces", with this scope and the value's type.
     * @param value      the value; a later put of the same attribute and endpoint replaces it.
     * @return           PLUGHOST_OK, or PLUGHOST_INVALID_ARGUMENT when the call breaks a rule
     *                   above (the value is then not published).
     *
     * OWNERSHIP:  `value.string` is borrowed for the call: the host copies it. The value lives
     *             until the request's scheduling cycle ends: the scheduling hooks and
     *             `pre_request` of the request can read it, the response hooks cannot.
     * THREADS:    as `log`.
     * ON FAILURE: PLUGHOST_INVALID_ARGUMENT, as above; not a fault by itself.
     */
    plughost_status (*put_attribute)(void *context, const struct plughost_request *request,
                                     const struct plughost_endpoint *endpoint, int32_t attribute, plughost_value value);

    /**
     * get_attribute: reads the value of an attribute for the request being scheduled (Since 1.1).
     *
     * Required:   yes; the host always provides it.
     * Called:     by any plugin, from inside a hook the host called with this request (the
     *             scheduling hooks, `pre_request`).
     *
     * @param context    this struct's `context`.
     * @param request    the request the hook was given.
     * @param endpoint   the endpoint (one the hook was given), or NULL for scope "request".
     * @param attribute  the attribute's id (from `attribute`); it must be in the manifest's
     *                   "consumes" (or "produces").
     * @param out        where to write the value; its type is PLUGHOST_VALUE_NONE when absent.
     * @return           1 when the attribute has a value for this request (and endpoint), 0 when
     *                   not (its producer did not publish it, or failed, or is disabled).
     *
     * OWNERSHIP:  `out->string` points into host memory valid until the hook returns.
     * THREADS:    as `log`.
     * ON FAILURE: 0, as above. A consumer must handle an absent value: the host guarantees the
     *             order of the plugins, not that a producer succeeded.
     */
    int32_t (*get_attribute)(void *context, const struct plughost_request *request,
                             const struct plughost_endpoint *endpoint, int32_t attribute, plughost_value *out);

    /**
     * set_header: sets a header on the request sent to the chosen endpoint, or on the response
     * sent back to the client (Since 1.1), e.g. the prefill endpoint of a disaggregated request,
     * or a session token.
     *
     * Required:   yes; the host always provides it.
     * Called:     by any plugin: from `pre_request` with PLUGHOST_HEADER_UPSTREAM, from
     *             `response_started` with PLUGHOST_HEADER_CLIENT.
     *
     * @param context  this struct's `context`.
     * @param request  the request the hook was given.
     * @param where    PLUGHOST_HEADER_UPSTREAM or PLUGHOST_HEADER_CLIENT.
     * @param name     the header's name: 1-64 bytes of [A-Za-z0-9-]; a later call with the same
     *                 name (compared case-insensitively) replaces the value.
     * @param value    its value: at most 4096 bytes, no control characters.
     * @return         PLUGHOST_OK, or PLUGHOST_INVALID_ARGUMENT when the call breaks a rule above
     *                 (called from another hook, a bad name or value); the header is then not set.
     *
     * OWNERSHIP:  `name` and `value` are borrowed for the call: the host copies them.
     * THREADS:    as `log`.
     * ON FAILURE: PLUGHOST_INVALID_ARGUMENT, as above. `plughost run` reports upstream headers in
     *             the decision line ("headers") and ignores client headers; `plughost serve`
     *             sends them.
     */
    plughost_status (*set_header)(void *context, const struct plughost_request *request, int32_t where,
                                  plughost_str name, plughost_str value);

    /**
     * param: reads one of the instance's parameters, as the host validated them against the
     * manifest, with the manifest's default for one the operator left out (Since 1.1). A C
     * plugin reads its parameters with it instead of parsing `parameters_json`.
     *
     * Required:   yes; the host always provides it.
     * Called:     by the plugin, from `create`, or later from any hook of the instance.
     *
     * @param context  this struct's `context`.
     * @param name     a parameter the manifest declares.
     * @param out      where to write the value: PLUGHOST_VALUE_NUMBER for a "number" or "integer"
     *                 parameter; PLUGHOST_VALUE_BOOLEAN (`number` 1 or 0) for "boolean";
     *                 PLUGHOST_VALUE_STRING for "string"; PLUGHOST_VALUE_JSON (the value's JSON
     *                 text in `string`) for "array" and "object"; PLUGHOST_VALUE_NONE when absent.
     * @return         1 when the parameter has a value (the operator's, or the manifest's
     *                 default), 0 when not (not declared, or optional, without a default, and
     *                 not given).
     *
     * OWNERSHIP:  `name` is borrowed for the call; `out->string` is host memory valid until
     *             `destroy` returns.
     * THREADS:    as `log`.
     * ON FAILURE: 0, as above.
     */
    int32_t (*param)(void *context, plughost_str name, plughost_value *out);

    /**
     * put_numbers: publishes a number attribute of scope "endpoint" for many endpoints in one
     * call (Since 1.2): what `count` calls of put_attribute would do, checked once. A producer
     * publishing one number per endpoint uses it instead of a loop of put_attribute.
     *
     * Required:   yes; the host always provides it (a plugin built against 1.2 may call it
     *             without a PLUGHOST_HAS_FIELD test: the host is never older than the plugin).
     * Called:     by a plugin of role "producer", from inside its `produce` hook only.
     *
     * @param context    this struct's `context`.
     * @param request    the request `produce` was given.
     * @param endpoints  `count` endpoints, each one of those `produce` was given, in any order
     *                   (best: the very array `produce` was given, or a part of it in the same
     *                   order, which the host indexes without hashing). NULL only when count is 0.
     * @param count      how many endpoints and values; 0 publishes nothing and succeeds.
     * @param attribute  the attribute's id (from `attribute`); it must be in the manifest's
     *                   "produces", of scope "endpoint" and type "number".
     * @param values     `count` numbers, values[i] for endpoints[i], each finite. NULL only when
     *                   count is 0.
     * @return           PLUGHOST_OK when every value was published; PLUGHOST_INVALID_ARGUMENT
     *                   when the call breaks a rule above. A rule of the whole call (the hook,
     *                   the id, the scope or type, NULL arrays) publishes nothing. A bad element
     *                   (a value not finite, an endpoint not the cycle's) stops the call there:
     *                   the values before it are published, it and those after it are not,
     *                   exactly as a loop of put_attribute that stops at its first refusal.
     *
     * OWNERSHIP:  `endpoints` and `values` are borrowed for the call. The values live as
     *             put_attribute's do (until the request's scheduling cycle ends).
     * THREADS:    as `log`.
     * ON FAILURE: PLUGHOST_INVALID_ARGUMENT, as above; not a fault by itself.
     */
    plughost_status (*put_numbers)(void *context, const struct plughost_request *request,
                                   const struct plughost_endpoint *const *endpoints, size_t count, int32_t attribute,
                                   const double *values);

    /**
     * get_numbers: reads a number attribute of scope "endpoint" for many endpoints in one call
     * (Since 1.2): what `count` calls of get_attribute would read, checked once.
     *
     * Required:   yes; the host always provides it (as put_numbers).
     * Called:     by any plugin, from inside a hook the host called with this request (the
     *             scheduling hooks, `pre_request`).
     *
     * @param context    this struct's `context`.
     * @param request    the request the hook was given.
     * @param endpoints  `count` endpoints, each one the hook was given (best: the very array the
     *                   hook was given, or a part of it in the same order). NULL only when count
     *                   is 0.
     * @param count      how many endpoints and values.
     * @param attribute  the attribute's id (from `attribute`); it must be in the manifest's
     *                   "consumes" (or "produces"), of scope "endpoint" and type "number".
     * @param out        `count` doubles: out[i] is the value for endpoints[i], or NaN when it is
     *                   absent (published numbers are finite, so NaN always means absent). NULL
     *                   only when count is 0.
     * @return           how many of the `count` values are present (0 to count): 0 when the call
     *                   breaks a rule above (every out[i] is then NaN, `out` permitting), and an
     *                   endpoint that is not the cycle's reads as absent.
     *
     * OWNERSHIP:  `endpoints` is borrowed for the call; `out` is the plugin's, written only.
     * THREADS:    as `log`.
     * ON FAILURE: absent values, as above. A consumer must handle them, as with get_attribute.
     */
    size_t (*get_numbers)(void *context, const struct plughost_request *request,
                          const struct plughost_endpoint *const *endpoints, size_t count, int32_t attribute,
                          double *out);
} plughost_host_api;
#define PLUGHOST_HEADER_UPSTREAM 0
#define PLUGHOST_HEADER_CLIENT 1

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
 * plughost_chat_message: one message of a chat request (Since 1.1).
 *
 * FILLED BY: the host. FROZEN (never grows).
 * OWNERSHIP: host-owned, as the request that holds it.
 */
typedef struct plughost_chat_message {
    /* "system", "user", "assistant", "tool", ... as the request gave it. */
    plughost_str role;
    /* The message's text (the text parts of a multi-part message, joined by "\n"). */
    plughost_str content;
} plughost_chat_message;

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
    /* Prompt bytes (not necessarily valid UTF-8); size 0 when none. For a chat request, the
     * messages rendered as one text (Since 1.1: each message as "<role>: <content>\n", in
     * order), so a plugin that only reads the prompt (a prefix cache) sees chat requests too. */
    plughost_str prompt;
    /* `header_count` headers, in the order given; may be NULL when header_count is 0. */
    const plughost_header *headers;
    size_t header_count;

    /* Since 1.1. The messages of a chat request, `message_count` of them, in order; NULL and 0
     * for a completion request (which has a prompt only). */
    const plughost_chat_message *messages;
    size_t message_count;
    /* Since 1.1. 1 when the client asked for a streamed response, else 0. */
    uint32_t streaming;
    /* Since 1.1. Host-private, reserved: plugins never read or change it (the host may leave it
     * NULL: it finds a request's cycle through the instance a callback is made for). */
    const void *host_cycle;
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

    /* Since 1.1. The endpoint's labels (key -> value, e.g. the prefill/decode role), as the
     * endpoint's source gave them, `label_count` of them; may be NULL when 0. `name` is the
     * key. */
    const plughost_header *labels;
    size_t label_count;
    /* Since 1.1. KV-cache usage as a fraction, 0 to 1 (kv_cache_usage_percent / 100). */
    double kv_cache_usage;
    /* Since 1.1. LoRA adapters waiting to be loaded, `waiting_lora_count` of them; may be NULL
     * when 0. (`active_loras` are the running ones.) */
    const plughost_str *waiting_loras;
    size_t waiting_lora_count;
    /* Since 1.1. Requests the host sent to this endpoint whose response has not completed or
     * failed yet, counted by the host itself (not reported by the endpoint). */
    uint32_t requests_in_flight;
    /* Since 1.1. Requests the host sent to this endpoint since its metrics were last updated:
     * what the reported queue cannot show yet. Reset to 0 by every metrics update. */
    uint32_t pending_picks;
    /* Since 1.1. Host-private: identifies the endpoint to the host's callbacks. Never read or
     * change it. */
    const void *host_entry;
} plughost_endpoint;

/*
 * plughost_profile_run: one scheduling profile as a profile handler sees it (Since 1.1).
 *
 * FILLED BY: the host. GROWABLE (starts with struct_size): passed as arrays of pointers.
 * OWNERSHIP: host-owned, with everything it points to; valid until the hook returns.
 */
typedef struct plughost_profile_run {
    /* sizeof(plughost_profile_run) as the host was compiled. */
    uint32_t struct_size;
    /* The profile's name, as the config gives it. */
    plughost_str name;
    /* PLUGHOST_PROFILE_NOT_RUN, PLUGHOST_PROFILE_PICKED or PLUGHOST_PROFILE_FAILED. */
    int32_t state;
    /* When PICKED: the endpoints its picker chose, best first, `picked_count` of them. */
    const struct plughost_endpoint *const *picked;
    size_t picked_count;
} plughost_profile_run;
#define PLUGHOST_PROFILE_NOT_RUN 0
#define PLUGHOST_PROFILE_PICKED 1
#define PLUGHOST_PROFILE_FAILED 2

/*
 * plughost_extra: an endpoint of the decision beyond the primary one, named by the profile
 * that chose it, e.g. {"prefill", the prefill endpoint} (Since 1.1).
 *
 * FILLED BY: the host. FROZEN (never grows).
 */
typedef struct plughost_extra {
    /* The name of the profile that chose it. */
    plughost_str name;
    /* The endpoint it chose first. */
    const struct plughost_endpoint *endpoint;
} plughost_extra;

/*
 * plughost_decision: where a request goes (Since 1.1).
 *
 * FILLED BY: the host. GROWABLE (starts with struct_size).
 * OWNERSHIP: host-owned, with everything it points to; valid until the hook returns.
 */
typedef struct plughost_decision {
    /* sizeof(plughost_decision) as the host was compiled. */
    uint32_t struct_size;
    /* The primary profile's name: the one whose endpoints serve the request. */
    plughost_str profile;
    /* Its picks, best first: the request goes to picked[0]. */
    const struct plughost_endpoint *const *picked;
    size_t picked_count;
    /* The other profiles that picked, `extra_count` of them, in the order they ran. */
    const plughost_extra *extras;
    size_t extra_count;
} plughost_decision;

/*
 * plughost_response: what became of a request the host sent to an endpoint (Since 1.1).
 *
 * FILLED BY: the host. GROWABLE (starts with struct_size).
 * OWNERSHIP: host-owned; valid until the hook returns.
 */
typedef struct plughost_response {
    /* sizeof(plughost_response) as the host was compiled. */
    uint32_t struct_size;
    /* The endpoint that served it (decision.picked[0]); NULL when it is no longer known. */
    const struct plughost_endpoint *endpoint;
    /* The endpoint's id (valid even when `endpoint` is NULL). */
    uint64_t endpoint_id;
    /* PLUGHOST_RESPONSE_STARTED (the first byte came back), _COMPLETE (the whole response),
     * _FAILED (an error, or the connection broke), _CANCELLED (the client went away) or _LOST
     * (the host stopped tracking it without hearing its end). */
    int32_t outcome;
    /* The HTTP status of the response; 0 when unknown. */
    int32_t http_status;
    /* Seconds from the decision to the first byte of the response (time to first token);
     * negative when unknown. */
    double seconds_to_first_byte;
    /* Seconds from the decision to the end of the response; negative when not ended. */
    double seconds_total;
    /* Token counts the server reported (usage), 0 when unknown. */
    uint64_t prompt_tokens;
    uint64_t completion_tokens;
} plughost_response;
#define PLUGHOST_RESPONSE_STARTED 0
#define PLUGHOST_RESPONSE_COMPLETE 1
#define PLUGHOST_RESPONSE_FAILED 2
#define PLUGHOST_RESPONSE_CANCELLED 3
#define PLUGHOST_RESPONSE_LOST 4

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
 *  - `create` or `destroy` is NULL, or a hook of the manifest's role is: `bad-entry`. The role
 *    hooks: "filter" `filter`; "scorer" `score`; "picker" `pick`; "profile-handler"
 *    `pick_profiles` and `process_results`; "producer" `produce`; "observer" at least one of
 *    `pre_request`, `response_started`, `response_complete` (Since 1.1 for the last three roles).
 * The host calls only the hooks of the manifest's "role", and the optional hooks of every role
 * (`picked`, `pre_request`, `response_started`, `response_complete`); leave the others NULL.
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

    /**
     * pick_profiles: chooses which scheduling profiles to run next for the request (Since 1.1).
     *
     * Required:   for role "profile-handler", with `process_results`.
     * Called:     once per request, then again after the profiles it chose have run, until it
     *             chooses none or every profile has run (then "none" is the only valid answer,
     *             and the host does not ask): at most one round per profile. A config has at
     *             most one profile handler; without one, the host runs the request's profile (the
     *             event's "profile", else the config's first).
     *
     * @param instance     the instance `create` made.
     * @param request      the request.
     * @param profiles     every profile of the config, in config order, with the state and picks
     *                     of those that ran in earlier rounds; `count` pointers.
     * @param count        how many profiles; at least 1.
     * @param run          where to write the indexes (into `profiles`) of the profiles to run
     *                     now, each at most once, among those not run yet; room for `count`.
     * @param run_count    where to write how many (0: no more rounds); 0 on entry.
     * @param error        where to write why it failed.
     * @return             PLUGHOST_OK, or a failure status.
     *
     * OWNERSHIP:  every pointer is host-owned and valid until the call returns.
     * THREADS:    one call at a time on an instance, unless the manifest says "threadSafe".
     * ON FAILURE: a failure status is a `plugin-error` fault, an index out of range or of a
     *             profile that already ran is a `bad-index` fault; either way the rounds end and
     *             the host goes on to `process_results` with what ran. When nothing ran, the
     *             request is answered with a `profile-handler-failed` error line.
     */
    plughost_status (*pick_profiles)(plughost_instance *instance, const plughost_request *request,
                                     const plughost_profile_run *const *profiles, size_t count, size_t *run,
                                     size_t *run_count, plughost_message *error);

    /**
     * process_results: names the primary profile, whose picks serve the request (Since 1.1).
     *
     * Required:   for role "profile-handler", with `pick_profiles`.
     * Called:     once per request, after the last round of `pick_profiles`.
     *
     * @param instance  the instance `create` made.
     * @param request   the request.
     * @param profiles  every profile, with the state and picks of those that ran.
     * @param count     how many profiles.
     * @param primary   where to write the index of the primary profile; it must have run. One
     *                  that PICKED serves the request, and the other profiles that picked become
     *                  the decision's extras; one that FAILED fails the request with that
     *                  profile's own error (e.g. no decode endpoint), which is not a fault.
     * @param error     where to write why it failed.
     * @return          PLUGHOST_OK, or a failure status.
     *
     * OWNERSHIP:  every pointer is host-owned and valid until the call returns.
     * THREADS:    one call at a time on an instance, unless the manifest says "threadSafe".
     * ON FAILURE: a failure status is a `plugin-error` fault, a primary that did not run is a
     *             `bad-index` fault; either way the request is answered with a
     *             `profile-handler-failed` error line.
     */
    plughost_status (*process_results)(plughost_instance *instance, const plughost_request *request,
                                       const plughost_profile_run *const *profiles, size_t count, size_t *primary,
                                       plughost_message *error);

    /**
     * produce: computes the attributes the manifest's "produces" declares, for the request and
     * each endpoint, and publishes them with plughost_host_api.put_attribute (Since 1.1).
     *
     * Required:   for role "producer".
     * Called:     once per request, before the profile handler and the profiles, over every
     *             live endpoint; producers run in an order where each runs after the producers
     *             of what it consumes (the host refuses a config with a cycle).
     *
     * @param instance   the instance `create` made.
     * @param request    the request.
     * @param endpoints  every live endpoint, `count` pointers.
     * @param count      how many; at least 1.
     * @param error      where to write why it failed.
     * @return           PLUGHOST_OK, or a failure status.
     *
     * OWNERSHIP:  every pointer is host-owned and valid until the call returns.
     * THREADS:    one call at a time on an instance, unless the manifest says "threadSafe".
     * ON FAILURE: a failure status is a `plugin-error` fault; what it published before failing
     *             is kept. Consumers find the attributes it did not publish absent.
     */
    plughost_status (*produce)(plughost_instance *instance, const plughost_request *request,
                               const plughost_endpoint *const *endpoints, size_t count, plughost_message *error);

    /**
     * pre_request: told the decision, before the request is sent (Since 1.1).
     *
     * Required:   no, any role: NULL when unused.
     * Called:     once per decided request, for every configured instance that has it (not only
     *             those of the profiles that ran), in config order, after the `picked` hooks.
     *
     * @param instance  the instance `create` made.
     * @param request   the request.
     * @param decision  where it goes.
     * @param error     where to write why it failed.
     * @return          PLUGHOST_OK, or a failure status.
     *
     * OWNERSHIP:  every pointer is host-owned and valid until the call returns.
     * THREADS:    one call at a time on an instance, unless the manifest says "threadSafe".
     * ON FAILURE: a failure status is a `plugin-error` fault; the decision stands.
     */
    plughost_status (*pre_request)(plughost_instance *instance, const plughost_request *request,
                                   const plughost_decision *decision, plughost_message *error);

    /**
     * response_started: the first byte of the response came back (Since 1.1).
     *
     * Required:   no, any role: NULL when unused.
     * Called:     at most once per decided request, for every configured instance that has it;
     *             `plughost serve` calls it from real traffic, `plughost run` from "response"
     *             events of the stream. Never after `response_complete` of the same request.
     *
     * @param instance  the instance `create` made.
     * @param request   the request as it was scheduled (attributes are gone; client headers
     *                  can be set).
     * @param response  outcome STARTED, the endpoint and the time to first byte.
     * @param error     where to write why it failed.
     * @return          PLUGHOST_OK, or a failure status.
     *
     * OWNERSHIP:  every pointer is host-owned and valid until the call returns.
     * THREADS:    one call at a time on an instance, unless the manifest says "threadSafe"; it
     *             may run on another thread than the request's scheduling.
     * ON FAILURE: a failure status is a `plugin-error` fault.
     */
    plughost_status (*response_started)(plughost_instance *instance, const plughost_request *request,
                                        const plughost_response *response, plughost_message *error);

    /**
     * response_complete: the request ended: completed, failed, cancelled, or lost (Since 1.1).
     *
     * Required:   no, any role: NULL when unused.
     * Called:     exactly once per decided request, for every configured instance that has it;
     *             the host decrements the endpoint's requests_in_flight before it.
     *
     * @param instance  the instance `create` made.
     * @param request   the request as it was scheduled (no attributes, no headers).
     * @param response  the outcome, status, times and token counts.
     * @param error     where to write why it failed.
     * @return          PLUGHOST_OK, or a failure status.
     *
     * OWNERSHIP:  every pointer is host-owned and valid until the call returns.
     * THREADS:    as `response_started`.
     * ON FAILURE: a failure status is a `plugin-error` fault.
     */
    plughost_status (*response_complete)(plughost_instance *instance, const plughost_request *request,
                                         const plughost_response *response, plughost_message *error);
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

#ifdef __cplusplus
/* C++: positional, every field named (C++ warns about designated initializers left out). */
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
        picked_fn,                                                                                                     \
        NULL,                                                                                                          \
        NULL,                                                                                                          \
        NULL,                                                                                                          \
        NULL,                                                                                                          \
        NULL,                                                                                                          \
        NULL}
#else
/* C: the fields after `picked` (Since 1.1) are left zero by the designated initializers. */
#define PLUGHOST_DECLARE_PLUGIN(json, create_fn, destroy_fn, filter_fn, score_fn, pick_fn, picked_fn)                  \
    PLUGHOST_DECLARE(json, .create = create_fn, .destroy = destroy_fn, .filter = filter_fn, .score = score_fn,         \
                     .pick = pick_fn, .picked = picked_fn)
#endif

/*
 * PLUGHOST_DECLARE(manifest_json_literal, .hook = function, ...) (Since 1.1) does the same with
 * C99 designated initializers, naming only the hooks the plugin has; for C (C++ plugins use
 * PLUGHOST_PLUGIN of <plughost/plugin.hpp>). Example:
 *
 *   PLUGHOST_DECLARE("{\"type\":\"my-scorer\",\"role\":\"scorer\",...}",
 *                    .create = my_create, .destroy = my_destroy, .score = my_score,
 *                    .response_complete = my_done);
 */
#define PLUGHOST_DECLARE(json, ...)                                                                                    \
    __attribute__((used, section(PLUGHOST_NOTE_SECTION), aligned(4))) static const PLUGHOST_NOTE_STRUCT(sizeof(json))  \
        plughost_manifest_note = {PLUGHOST_NOTE_OWNER_SIZE, sizeof(json), PLUGHOST_NOTE_TYPE_MANIFEST,                 \
                                  PLUGHOST_NOTE_OWNER, json};                                                          \
    PLUGHOST_EXTERN_C PLUGHOST_EXPORT const plughost_plugin plughost_entry = {                                         \
        .struct_size = sizeof(plughost_plugin),                                                                        \
        .abi_major = PLUGHOST_ABI_VERSION_MAJOR,                                                                       \
        .abi_minor = PLUGHOST_ABI_VERSION_MINOR,                                                                       \
        .abi_patch = PLUGHOST_ABI_VERSION_PATCH,                                                                       \
        .manifest_json = {plughost_manifest_note.desc, sizeof(json) - 1},                                              \
        __VA_ARGS__}

#endif /* PLUGHOST_PLUGIN_H */
