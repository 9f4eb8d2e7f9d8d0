// decode-filter (beta): keeps the endpoints that can serve the decode stage, by their `llm-d.ai/role` label.
#pragma once

#include "common/label_filter.hpp"

namespace plughost::plugins {

class DecodeFilter : public LabelValueFilter {
public:
    DecodeFilter()
        : LabelValueFilter(std::string(kRoleLabel), {"decode", "prefill-decode", "both", "encode-prefill-decode"},
                           true) {}
};

inline constexpr Manifest kDecodeFilterManifest{
    .type = "decode-filter",
    .role = Role::filter,
    .version = "1.0.0",
    .stability = Stability::beta,
    .feature_gate = "DecodeFilter",
    .description = "Keeps endpoints whose llm-d.ai/role label is decode, prefill-decode, both or "
                   "encode-prefill-decode, and endpoints without that label.",
    .thread_safe = true,  // no state
};

}  // namespace plughost::plugins
