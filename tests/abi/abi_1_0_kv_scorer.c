/* A plugin built against the released ABI 1.0 header, as abi_1_0_scorer.c, that reads what 1.0
 * calls kv_cache_usage_percent (0 to 100) and scores 1 - percent / 100: a 1.1 host that takes
 * kvCacheUsage as a fraction must still fill the percent field in percent for it.
 *
 * Its exported entry object is larger than a 1.0 entry: after the 80 bytes of the 1.0 struct
 * (struct_size says 80) it holds, where 1.1 put pick_profiles ... response_complete, pointers to
 * a trap that marks $PLUGHOST_TEST_MARKER. A host that reads the entry beyond struct_size, or
 * calls a 1.1 hook of a 1.0 plugin, springs the trap. */
#include <plughost/plugin.h>

#include <stdio.h>
#include <stdlib.h>

#if PLUGHOST_ABI_VERSION_MINOR != 0
#error "abi_1_0_kv_scorer.c must be built against the ABI 1.0 header"
#endif

static int token;

static plughost_status create(const plughost_host_api *host, plughost_str name, plughost_str parameters,
                              plughost_instance **out, plughost_message *error) {
    (void)host;
    (void)name;
    (void)parameters;
    (void)error;
    *out = (plughost_instance *)&token;
    return PLUGHOST_OK;
}

static void destroy(plughost_instance *instance) { (void)instance; }

static plughost_status score(plughost_instance *instance, const plughost_request *request,
                             const plughost_endpoint *const *endpoints, size_t count, double *scores,
                             plughost_message *error) {
    size_t i;
    (void)instance;
    (void)request;
    (void)error;
    for (i = 0; i < count; ++i) scores[i] = 1.0 - endpoints[i]->kv_cache_usage_percent / 100.0;
    return PLUGHOST_OK;
}

/* Called only by a host that reads beyond struct_size; the arguments are whatever it passes. */
static plughost_status trap(void *a, const void *b, const void *c, void *d) {
    const char *path = getenv("PLUGHOST_TEST_MARKER");
    FILE *f = path ? fopen(path, "a") : NULL;
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    if (f) {
        fputs("a 1.1 hook of an ABI 1.0 plugin was called\n", f);
        fclose(f);
    }
    return PLUGHOST_ERROR;
}

#define KV_JSON                                                                                                        \
    "{\"type\":\"abi-1-0-kv-scorer\",\"role\":\"scorer\",\"version\":\"1.0.0\",\"abiVersion\":"                        \
    "\"" PLUGHOST_ABI_VERSION_STRING "\",\"stability\":\"stable\",\"description\":\"Built against ABI 1.0; "           \
    "reads kv_cache_usage_percent.\"}"

__attribute__((used, section(PLUGHOST_NOTE_SECTION),
               aligned(4))) static const PLUGHOST_NOTE_STRUCT(sizeof(KV_JSON)) note = {
    PLUGHOST_NOTE_OWNER_SIZE, sizeof(KV_JSON), PLUGHOST_NOTE_TYPE_MANIFEST, PLUGHOST_NOTE_OWNER, KV_JSON};

/* The 1.0 entry, then six hook-sized slots where ABI 1.1 appended its hooks. */
typedef struct {
    plughost_plugin entry;
    plughost_status (*after[6])(void *, const void *, const void *, void *);
} entry_with_trailing_hooks;

PLUGHOST_EXPORT const entry_with_trailing_hooks plughost_entry = {{sizeof(plughost_plugin),
                                                                   PLUGHOST_ABI_VERSION_MAJOR,
                                                                   PLUGHOST_ABI_VERSION_MINOR,
                                                                   PLUGHOST_ABI_VERSION_PATCH,
                                                                   {note.desc, sizeof(KV_JSON) - 1},
                                                                   create,
                                                                   destroy,
                                                                   NULL,
                                                                   score,
                                                                   NULL,
                                                                   NULL},
                                                                  {trap, trap, trap, trap, trap, trap}};
