/* ready-filter: a complete plugin in C99, against <plughost/plugin.h> alone.
 *
 * Keeps the endpoints that are ready for traffic: those whose "ready" label is not "false" and
 * whose waiting queue is not full (at most 64 waiting requests). When no endpoint passes, it
 * keeps them all (an empty result would leave the request undecided) and says so in the log.
 * It also counts, in its `picked` hook, how many requests went to an endpoint labelled
 * canary=true: a filter may observe decisions too.
 *
 * Rules the host enforces on a filter (plughost/rules.hpp states them, the tests check them):
 * the indexes written to `passed` refer to the endpoints offered, strictly increasing, each
 * below `count`. */
#include <plughost/plugin.h>

#include <stdlib.h>
#include <string.h>

#define MAX_WAITING 64u

struct ready_filter {
    const plughost_host_api *host;
};

static int str_equals(plughost_str s, const char *text) {
    size_t n = strlen(text);
    return s.size == n && (n == 0 || memcmp(s.data, text, n) == 0);
}

/* The value of label `name` on endpoint `e`, or an empty string. */
static plughost_str label(const plughost_endpoint *e, const char *name) {
    plughost_str none = {"", 0};
    size_t i;
    for (i = 0; i < e->label_count; ++i)
        if (str_equals(e->labels[i].name, name)) return e->labels[i].value;
    return none;
}

/* Writes `text` into the host's message buffer, cut to its capacity. */
static void set_message(plughost_message *m, const char *text) {
    size_t n = strlen(text);
    if (n > m->capacity) n = m->capacity;
    memcpy(m->data, text, n);
    m->size = n;
}

static void say(const struct ready_filter *self, int32_t level, const char *text) {
    plughost_str s;
    s.data = text;
    s.size = strlen(text);
    self->host->log(self->host->context, level, s);
}

static plughost_status ready_create(const plughost_host_api *host, plughost_str name, plughost_str parameters,
                                    plughost_instance **out, plughost_message *error) {
    struct ready_filter *self;
    (void)name;
    (void)parameters; /* the manifest declares none; the host refuses any the config gives */
    self = (struct ready_filter *)malloc(sizeof *self);
    if (!self) {
        set_message(error, "out of memory");
        return PLUGHOST_ERROR;
    }
    self->host = host;
    *out = (plughost_instance *)self;
    return PLUGHOST_OK;
}

static void ready_destroy(plughost_instance *instance) { free(instance); }

static plughost_status ready_filter_endpoints(plughost_instance *instance, const plughost_request *request,
                                              const plughost_endpoint *const *endpoints, size_t count, size_t *passed,
                                              size_t *passed_count, plughost_message *error) {
    const struct ready_filter *self = (const struct ready_filter *)instance;
    size_t i, n = 0;
    (void)request;
    (void)error;
    for (i = 0; i < count; ++i) {
        const plughost_endpoint *e = endpoints[i];
        if (!str_equals(label(e, "ready"), "false") && e->waiting_queue_size <= MAX_WAITING) passed[n++] = i;
    }
    if (n == 0) {
        say(self, PLUGHOST_LOG_WARN, "no endpoint is ready: keeping them all");
        for (i = 0; i < count; ++i) passed[i] = i;
        n = count;
    }
    *passed_count = n;
    return PLUGHOST_OK;
}

static plughost_status ready_picked(plughost_instance *instance, const plughost_request *request,
                                    const plughost_endpoint *const *chosen, size_t count, plughost_message *error) {
    const struct ready_filter *self = (const struct ready_filter *)instance;
    static const char counter[] = "canary_picks";
    (void)request;
    (void)error;
    if (count > 0 && str_equals(label(chosen[0], "canary"), "true")) {
        plughost_str name;
        name.data = counter;
        name.size = sizeof counter - 1;
        self->host->count(self->host->context, name, 1);
    }
    return PLUGHOST_OK;
}

PLUGHOST_DECLARE("{\"type\":\"example-ready-filter\",\"role\":\"filter\",\"version\":\"0.1.0\","
                 "\"abiVersion\":\"" PLUGHOST_ABI_VERSION_STRING "\",\"stability\":\"alpha\","
                 "\"featureGate\":\"ExampleReadyFilter\","
                 "\"description\":\"Keeps endpoints not labelled ready=false whose queue is not full.\"}",
                 .create = ready_create, .destroy = ready_destroy, .filter = ready_filter_endpoints,
                 .picked = ready_picked);
