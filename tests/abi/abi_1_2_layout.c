/*
 * The layout of plughost ABI 1.2, frozen: if this file stops compiling, a change to
 * sdk/include/plughost/plugin.h broke every plugin built against ABI 1.2.
 *
 * Never edit this file to make it compile again; abi_1_0_layout.c and abi_1_1_layout.c keep the
 * earlier fields, this one what 1.2 added (and the end of each growable struct's 1.2 fields,
 * after which a later minor appends). A later minor gets a file of its own.
 *
 * Built as C99 with the fixtures' flags (-Wall -Wextra -Wpedantic -Werror), like a C plugin.
 */
#include <plughost/plugin.h>

#include <stddef.h>
#include <stdint.h>

#if !(defined(__LP64__) || defined(_LP64))
#error "abi_1_2_layout.c: the numbers below are ABI 1.2 on LP64 (64-bit Linux); add a freeze for this data model"
#endif

#undef _Static_assert
#define FREEZE(condition, text) __extension__ _Static_assert(condition, "ABI 1.2 frozen: " text)
#define FIELD(type, field, offset, size)                                                                               \
    FREEZE(offsetof(type, field) == (offset), #type "." #field " moved");                                              \
    FREEZE(sizeof(((const type *)0)->field) == (size), #type "." #field " changed size")
#define ENDS_AT(type, field, end)                                                                                      \
    FREEZE(offsetof(type, field) + sizeof(((const type *)0)->field) == (end), #type " 1.2 fields end elsewhere")

FREEZE(PLUGHOST_ABI_VERSION_MAJOR == 1 && PLUGHOST_ABI_VERSION_MINOR >= 2, "ABI 1.2 or a later 1.x");

/* ---- Growable structs: the fields 1.2 appended, and where 1.2 ends ---- */
FIELD(plughost_host_api, put_numbers, 72, 8);
FIELD(plughost_host_api, get_numbers, 80, 8);
ENDS_AT(plughost_host_api, get_numbers, 88);
ENDS_AT(plughost_request, host_cycle, 120);
ENDS_AT(plughost_endpoint, host_entry, 160);
ENDS_AT(plughost_profile_run, picked_count, 48);
ENDS_AT(plughost_decision, extra_count, 56);
ENDS_AT(plughost_response, completion_tokens, 64);
ENDS_AT(plughost_plugin, response_complete, 128);

/* The callbacks' signatures: assigning them to pointers of the frozen types fails to compile
 * (incompatible pointer types, an error with -Werror) when one changes. */
typedef plughost_status (*frozen_put_numbers)(void *, const struct plughost_request *,
                                              const struct plughost_endpoint *const *, size_t, int32_t, const double *);
typedef size_t (*frozen_get_numbers)(void *, const struct plughost_request *, const struct plughost_endpoint *const *,
                                     size_t, int32_t, double *);
void abi_1_2_signatures(const plughost_host_api *api, frozen_put_numbers *put, frozen_get_numbers *get);
void abi_1_2_signatures(const plughost_host_api *api, frozen_put_numbers *put, frozen_get_numbers *get) {
    *put = api->put_numbers;
    *get = api->get_numbers;
}
