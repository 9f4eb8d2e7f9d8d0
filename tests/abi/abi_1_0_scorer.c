/* A plugin built against the released ABI 1.0 header (tests/abi/plugin_1_0/plughost/plugin.h),
 * not the current one: its entry is 80 bytes and knows nothing of 1.1. A 1.1 host must admit,
 * load and run it unchanged (tests/abi/test_abi_compat.cpp). It scores 1 / (1 + queue) and
 * counts the picks it is told about. */
#include <plughost/plugin.h>

#if PLUGHOST_ABI_VERSION_MINOR != 0
#error "abi_1_0_scorer.c must be built against the ABI 1.0 header"
#endif

typedef struct {
    const plughost_host_api *host;
} scorer;

static scorer the_scorer;

static plughost_status create(const plughost_host_api *host, plughost_str name, plughost_str parameters,
                              plughost_instance **out, plughost_message *error) {
    (void)name;
    (void)parameters;
    (void)error;
    the_scorer.host = host;
    *out = (plughost_instance *)&the_scorer;
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
    for (i = 0; i < count; ++i) scores[i] = 1.0 / (1.0 + (double)endpoints[i]->waiting_queue_size);
    return PLUGHOST_OK;
}

static plughost_status picked(plughost_instance *instance, const plughost_request *request,
                              const plughost_endpoint *const *endpoints, size_t count, plughost_message *error) {
    static const char name[] = "picks";
    plughost_str counter;
    (void)request;
    (void)endpoints;
    (void)error;
    counter.data = name;
    counter.size = sizeof name - 1;
    ((scorer *)instance)->host->count(((scorer *)instance)->host->context, counter, (double)count);
    return PLUGHOST_OK;
}

PLUGHOST_DECLARE_PLUGIN("{\"type\":\"abi-1-0-scorer\",\"role\":\"scorer\",\"version\":\"1.0.0\",\"abiVersion\":"
                        "\"" PLUGHOST_ABI_VERSION_STRING
                        "\",\"stability\":\"stable\",\"description\":\"Built against ABI 1.0.\"}",
                        create, destroy, NULL, score, NULL, picked);
