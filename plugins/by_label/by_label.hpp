// by-label (beta, deprecated as upstream): keeps endpoints whose label `label` has one of
// `validValues`, and, with `allowsNoLabel`, endpoints without that label.
#pragma once

#include "common/label_filter.hpp"

#include <string>
#include <vector>

namespace plughost::plugins {

class ByLabel : public LabelValueFilter {
public:
    explicit ByLabel(const Params &params)
        : LabelValueFilter(label_of(params), values_of(params), params.get<bool>("allowsNoLabel")) {
        if (!params.get<bool>("allowsNoLabel") && values_of(params).empty())
            throw ParameterError("either 'validValues' must be non-empty or 'allowsNoLabel' must be true");
    }

private:
    static std::string label_of(const Params &params) {
        if (!params.contains("label")) throw ParameterError("parameter 'label' is required");
        std::string label = params.get<std::string>("label");
        if (label.empty()) throw ParameterError("parameter 'label' must not be empty");
        return label;
    }
    static std::vector<std::string> values_of(const Params &params) {
        std::vector<std::string> values;
        for (const auto &v : params.get<boost::json::array>("validValues")) {
            if (!v.is_string())
                throw ParameterError("parameter 'validValues': expected an array of strings, found " +
                                     boost::json::serialize(v));
            values.emplace_back(v.get_string());
        }
        return values;
    }
};

inline constexpr Param kByLabelParams[] = {
    {"label", ParamType::string, "", "The label to read (required), e.g. llm-d.ai/role."},
    {"validValues", ParamType::array, "[]", "Label values that keep an endpoint (strings)."},
    {"allowsNoLabel", ParamType::boolean, "false", "Whether endpoints without the label are kept."},
};

inline constexpr std::string_view kByLabelReplacements[] = {"label-selector-filter", "decode-filter", "prefill-filter",
                                                            "encode-filter"};

inline constexpr Deprecation kByLabelDeprecation{
    .since = "1.0.0",
    .removed_in = "1.2.0",
    .message = "Use label-selector-filter for label matching in general, or decode-filter, prefill-filter or "
               "encode-filter for the llm-d.ai/role label (deprecated upstream in llm-d-router v0.9.0).",
    .replacements = kByLabelReplacements,
};

inline constexpr Manifest kByLabelManifest{
    .type = "by-label",
    .role = Role::filter,
    .version = "1.0.0",
    .stability = Stability::beta,
    .feature_gate = "ByLabel",
    .description = "Keeps endpoints whose label `label` has one of validValues, and with allowsNoLabel endpoints "
                   "without that label.",
    .parameters = kByLabelParams,
    .thread_safe = true,  // no state
    .deprecation = kByLabelDeprecation,
};

}  // namespace plughost::plugins
