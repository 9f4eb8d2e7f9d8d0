// prefill-filter (beta): keeps the endpoints that can serve the prefill stage, by their `llm-d.ai/role` label.
#pragma once

#include "common/label_filter.hpp"

namespace plughost::plugins {

class PrefillFilter : public LabelValueFilter {
public:
    PrefillFilter()
        : LabelValueFilter(std::string(kRoleLabel),
                           {"prefill", "encode-prefill", "prefill-decode", "both", "encode-prefill-decode"}, false) {}
};

inline constexpr Manifest kPrefillFilterManifest{
    .type = "prefill-filter",
    .role = Role::filter,
    .version = "1.0.0",
    .stability = Stability::beta,
    .feature_gate = "PrefillFilter",
    .description = "Keeps endpoints whose llm-d.ai/role label is prefill, encode-prefill, prefill-decode, both or "
                   "encode-prefill-decode; endpoints without that label are dropped.",
    .thread_safe = true,  // no state
};

}  // namespace plughost::plugins
