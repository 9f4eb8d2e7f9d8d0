// encode-filter (beta): keeps the endpoints that can serve the encode stage, by their `llm-d.ai/role` label.
#pragma once

#include "common/label_filter.hpp"

namespace plughost::plugins {

class EncodeFilter : public LabelValueFilter {
public:
    EncodeFilter()
        : LabelValueFilter(std::string(kRoleLabel), {"encode", "encode-prefill", "encode-prefill-decode"}, false) {}
};

inline constexpr Manifest kEncodeFilterManifest{
    .type = "encode-filter",
    .role = Role::filter,
    .version = "1.0.0",
    .stability = Stability::beta,
    .feature_gate = "EncodeFilter",
    .description = "Keeps endpoints whose llm-d.ai/role label is encode, encode-prefill or encode-prefill-decode; "
                   "endpoints without that label are dropped.",
    .thread_safe = true,  // no state
};

}  // namespace plughost::plugins
