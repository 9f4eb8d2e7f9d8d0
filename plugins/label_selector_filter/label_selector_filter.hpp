// label-selector-filter (beta): keeps endpoints whose labels match a Kubernetes label selector:
// every matchLabels pair and every matchExpressions requirement (In, NotIn, Exists,
// DoesNotExist). The empty selector matches every endpoint.
#pragma once

#include <plughost/plugin.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace plughost::plugins {

class LabelSelectorFilter {
public:
    explicit LabelSelectorFilter(const Params &params) {
        for (const auto &kv : params.get<boost::json::object>("matchLabels")) {
            if (!kv.value().is_string())
                throw ParameterError("parameter 'matchLabels': the value of \"" + std::string(kv.key()) +
                                     "\" must be a string, found " + boost::json::serialize(kv.value()));
            require_key(kv.key(), "matchLabels");
            requirements_.push_back({std::string(kv.key()), Operator::in, {std::string(kv.value().get_string())}});
        }
        const auto expressions = params.get<boost::json::array>("matchExpressions");
        for (std::size_t i = 0; i < expressions.size(); ++i) requirements_.push_back(expression(expressions[i], i));
    }

    void filter(const Request &, Endpoints endpoints, Selection &passed) const {
        for (std::size_t i = 0; i < endpoints.size(); ++i)
            if (matches(endpoints[i])) passed.add(i);
    }

private:
    enum class Operator { in, not_in, exists, does_not_exist };
    struct Requirement {
        std::string key;
        Operator op;
        std::vector<std::string> values;
    };

    bool matches(const Endpoint &endpoint) const {
        for (const Requirement &r : requirements_) {
            const auto value = endpoint.label(r.key);
            const bool listed = value && std::find(r.values.begin(), r.values.end(), *value) != r.values.end();
            switch (r.op) {
            case Operator::in:
                if (!listed) return false;
                break;
            case Operator::not_in:  // an endpoint without the key matches NotIn, as in Kubernetes
                if (listed) return false;
                break;
            case Operator::exists:
                if (!value) return false;
                break;
            case Operator::does_not_exist:
                if (value) return false;
                break;
            }
        }
        return true;
    }

    static void require_key(std::string_view key, std::string_view where) {
        if (key.empty()) throw ParameterError("parameter '" + std::string(where) + "': a label key must not be empty");
    }

    // One {key, operator, values} of matchExpressions, checked as Kubernetes checks it: In and
    // NotIn need values, Exists and DoesNotExist take none.
    static Requirement expression(const boost::json::value &v, std::size_t index) {
        const std::string at = "parameter 'matchExpressions' [" + std::to_string(index) + "]";
        if (!v.is_object()) throw ParameterError(at + ": expected an object {key, operator, values}");
        const auto &o = v.get_object();
        for (const auto &kv : o)
            if (kv.key() != "key" && kv.key() != "operator" && kv.key() != "values")
                throw ParameterError(at + ": unknown field \"" + std::string(kv.key()) +
                                     "\"; known fields: key, operator, values");
        const auto *key = o.if_contains("key");
        if (!key || !key->is_string() || key->get_string().empty())
            throw ParameterError(at + ": \"key\" must be a non-empty string");
        const auto *op = o.if_contains("operator");
        if (!op || !op->is_string()) throw ParameterError(at + ": \"operator\" must be a string");
        Requirement r{std::string(key->get_string()), Operator::in, {}};
        const std::string_view name = op->get_string();
        if (name == "In") r.op = Operator::in;
        else if (name == "NotIn") r.op = Operator::not_in;
        else if (name == "Exists") r.op = Operator::exists;
        else if (name == "DoesNotExist") r.op = Operator::does_not_exist;
        else
            throw ParameterError(at + ": \"" + std::string(name) +
                                 "\" is not a valid label selector operator; use In, NotIn, Exists or DoesNotExist");
        if (const auto *values = o.if_contains("values")) {
            if (!values->is_array()) throw ParameterError(at + ": \"values\" must be an array of strings");
            for (const auto &value : values->get_array()) {
                if (!value.is_string()) throw ParameterError(at + ": \"values\" must be an array of strings");
                r.values.emplace_back(value.get_string());
            }
        }
        const bool takes_values = r.op == Operator::in || r.op == Operator::not_in;
        if (takes_values && r.values.empty())
            throw ParameterError(at + ": operator " + std::string(name) + " needs at least one value");
        if (!takes_values && !r.values.empty())
            throw ParameterError(at + ": operator " + std::string(name) + " takes no values");
        return r;
    }

    std::vector<Requirement> requirements_;
};

inline constexpr Param kLabelSelectorFilterParams[] = {
    {"matchLabels", ParamType::object, "{}", "Labels an endpoint must have, with these values (all of them)."},
    {"matchExpressions", ParamType::array, "[]",
     "Requirements {key, operator In/NotIn/Exists/DoesNotExist, values} an endpoint must all meet."},
};

inline constexpr Manifest kLabelSelectorFilterManifest{
    .type = "label-selector-filter",
    .role = Role::filter,
    .version = "1.0.0",
    .stability = Stability::beta,
    .feature_gate = "LabelSelectorFilter",
    .description = "Keeps endpoints whose labels match a Kubernetes label selector (matchLabels and "
                   "matchExpressions); the empty selector keeps every endpoint.",
    .parameters = kLabelSelectorFilterParams,
    .thread_safe = true,  // no state
};

}  // namespace plughost::plugins
