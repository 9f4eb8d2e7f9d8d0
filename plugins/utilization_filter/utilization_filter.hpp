// utilization-filter (alpha): keeps endpoints whose load signals are all at or under their caps,
// as upstream llm-d-router's filter of the same name.
#pragma once

#include <plughost/plugin.hpp>

#include <string>
#include <vector>

namespace plughost::plugins {

class UtilizationFilter {
public:
    explicit UtilizationFilter(const Params &params) : fallback_on_empty_(params.get<bool>("fallbackOnEmpty")) {
        const auto conditions = params.get<boost::json::array>("conditions");
        if (conditions.empty()) throw ParameterError("utilization filter requires at least one condition");
        for (std::size_t i = 0; i < conditions.size(); ++i) conditions_.push_back(condition(conditions[i], i));
    }

    // An endpoint is dropped as soon as one signal is above its cap (a NaN is not above
    // anything, as upstream). When nothing is left, fallbackOnEmpty passes every endpoint.
    void filter(const Request &, Endpoints endpoints, Selection &passed) const {
        for (std::size_t i = 0; i < endpoints.size(); ++i)
            if (within_caps(endpoints[i])) passed.add(i);
        if (passed.size() == 0 && fallback_on_empty_)
            for (std::size_t i = 0; i < endpoints.size(); ++i) passed.add(i);
    }

private:
    enum class Metric { active_requests, running_requests, waiting_queue, kv_cache_utilization };
    struct Condition {
        Metric metric;
        double max_value;
    };

    bool within_caps(const Endpoint &e) const {
        for (const Condition &c : conditions_)
            if (value(e, c.metric) > c.max_value) return false;
        return true;
    }

    static double value(const Endpoint &e, Metric m) {
        switch (m) {
        // Upstream reads an in-flight count kept by its EPP; the host counts the same thing itself.
        case Metric::active_requests: return e.requests_in_flight();
        case Metric::running_requests: return e.running_requests();
        case Metric::waiting_queue: return e.waiting_queue_size();
        case Metric::kv_cache_utilization: return e.kv_cache_usage();
        }
        return 0;
    }

    static Condition condition(const boost::json::value &v, std::size_t index) {
        const std::string at = "parameter 'conditions' [" + std::to_string(index) + "]";
        if (!v.is_object()) throw ParameterError(at + ": expected an object {metric, maxValue}");
        const auto &o = v.get_object();
        for (const auto &kv : o)
            if (kv.key() != "metric" && kv.key() != "maxValue")
                throw ParameterError(at + ": unknown field \"" + std::string(kv.key()) +
                                     "\"; known fields: metric, maxValue");
        const auto *metric = o.if_contains("metric");
        const std::string name = metric && metric->is_string() ? std::string(metric->get_string()) : std::string();
        Condition c{};
        if (name == "active-requests") c.metric = Metric::active_requests;
        else if (name == "running-requests") c.metric = Metric::running_requests;
        else if (name == "waiting-queue") c.metric = Metric::waiting_queue;
        else if (name == "kv-cache-utilization") c.metric = Metric::kv_cache_utilization;
        else
            throw ParameterError(at +
                                 ": metric must be one of \"active-requests\", \"running-requests\", "
                                 "\"waiting-queue\", \"kv-cache-utilization\", got " +
                                 (metric ? boost::json::serialize(*metric) : std::string("none")));
        const auto *max = o.if_contains("maxValue");
        if (!max) throw ParameterError(at + ": the condition for \"" + name + "\" requires maxValue");
        if (!max->is_number())
            throw ParameterError(at + ": maxValue must be a number, found " + boost::json::serialize(*max));
        c.max_value = max->to_number<double>();
        if (c.max_value < 0)
            throw ParameterError(at + ": the condition for \"" + name + "\" requires a non-negative maxValue, got " +
                                 boost::json::serialize(*max));
        if (c.metric == Metric::kv_cache_utilization && c.max_value > 1)
            throw ParameterError(at +
                                 ": maxValue for \"kv-cache-utilization\" is a fraction and must be at most 1, "
                                 "got " +
                                 boost::json::serialize(*max));
        return c;
    }

    std::vector<Condition> conditions_;
    bool fallback_on_empty_;
};

inline constexpr Param kUtilizationFilterParams[] = {
    {"conditions", ParamType::array, "[]",
     "Caps {metric, maxValue} an endpoint must all meet; metric is active-requests, running-requests, "
     "waiting-queue or kv-cache-utilization (a fraction, maxValue at most 1). At least one."},
    {"fallbackOnEmpty", ParamType::boolean, "false", "When no endpoint meets the caps, keep them all."},
    {"inFlightLoadProducerName", ParamType::string, "\"\"",
     "Accepted for upstream configs and ignored: the host counts requests in flight itself."},
};

inline constexpr Manifest kUtilizationFilterManifest{
    .type = "utilization-filter",
    .role = Role::filter,
    .version = "1.0.0",
    .stability = Stability::alpha,
    .feature_gate = "UtilizationFilter",
    .description = "Keeps endpoints whose requests in flight, running requests, waiting queue and KV-cache "
                   "usage are all at or under the configured caps.",
    .parameters = kUtilizationFilterParams,
    .thread_safe = true,  // no state
};

}  // namespace plughost::plugins
