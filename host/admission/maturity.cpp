#include "admission/maturity.hpp"

#include "common/json_document.hpp"
#include "embedded_data.hpp"

#include <stdexcept>

namespace plughost::host {

const MaturityPin *MaturityList::find(std::string_view type) const {
    const auto it = pins.find(type);
    return it == pins.end() ? nullptr : &it->second;
}

std::vector<Issue> read_maturity(const boost::json::value &document, const std::string &source, MaturityList &into) {
    std::vector<Issue> issues;
    if (!document.is_object()) {
        issues.push_back(wrong_type("", "an object {\"plugins\": {\"<type>\": \"<tier>\"}}", document));
        return issues;
    }
    check_keys(document.get_object(), "", {"plugins"}, issues);
    const auto *plugins = document.get_object().if_contains("plugins");
    if (!plugins) return issues;
    if (!plugins->is_object()) {
        issues.push_back(wrong_type("/plugins", "an object mapping plugin types to tiers", *plugins));
        return issues;
    }
    for (const auto &kv : plugins->get_object()) {
        const std::string at = child("/plugins", kv.key());
        if (!is_plugin_type_name(kv.key())) {
            issues.push_back({at, Code::invalid_value, "\"" + std::string(kv.key()) + "\" is not a plugin type",
                              "plugin types are 1-63 characters of [a-z0-9-]"});
            continue;
        }
        const auto tier = kv.value().is_string() ? parse_stability(kv.value().get_string()) : std::nullopt;
        if (!tier) {
            issues.push_back(wrong_type(at, "one of \"dev\", \"alpha\", \"beta\", \"stable\"", kv.value()));
            continue;
        }
        into.pins[std::string(kv.key())] = {*tier, source};
    }
    return issues;
}

const MaturityList &bundled_maturity() {
    static const MaturityList bundled =
        read_bundled<MaturityList>(embedded::maturity_json, "maturity.json", read_maturity);
    return bundled;
}

}  // namespace plughost::host
