// The label test shared by by-label and the role filters (decode-filter, prefill-filter,
// encode-filter): keep an endpoint when its label has one of the accepted values, or when it
// has no such label and that is allowed.
#pragma once

#include <plughost/plugin.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plughost::plugins {

/// The label the prefill/decode role filters read, and its values (as upstream llm-d spells them).
inline constexpr std::string_view kRoleLabel = "llm-d.ai/role";

class LabelValueFilter {
public:
    LabelValueFilter(std::string label, std::vector<std::string> accepted, bool allows_no_label)
        : label_(std::move(label)), accepted_(std::move(accepted)), allows_no_label_(allows_no_label) {}

    bool keeps(const Endpoint &endpoint) const {
        const auto value = endpoint.label(label_);
        if (!value) return allows_no_label_ || accepts("");  // an absent label reads as "", as upstream
        return accepts(*value);
    }

    void filter(const Request &, Endpoints endpoints, Selection &passed) const {
        for (std::size_t i = 0; i < endpoints.size(); ++i)
            if (keeps(endpoints[i])) passed.add(i);
    }

private:
    bool accepts(std::string_view value) const {
        return std::find(accepted_.begin(), accepted_.end(), value) != accepted_.end();
    }

    std::string label_;
    std::vector<std::string> accepted_;
    bool allows_no_label_;
};

}  // namespace plughost::plugins
