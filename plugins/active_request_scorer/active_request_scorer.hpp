// active-request-scorer (beta): prefers endpoints with fewer requests in flight, as the host
// counts them (decided, response not yet complete).
#pragma once

#include <plughost/plugin.hpp>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>

namespace plughost::plugins {

class ActiveRequestScorer {
public:
    ActiveRequestScorer(const Params &params, Host host)
        : idle_threshold_(idle_threshold_from(params)), max_busy_score_(max_busy_score_from(params, host)) {
        if (params.contains("requestTimeout"))
            host.warn("requestTimeout is deprecated upstream and ignored: the host counts requests in flight until "
                      "their response completes");
    }

    // n = requestsInFlight. n <= idleThreshold scores 1; otherwise (max - n) / max * maxBusyScore,
    // max being the largest n among the candidates (so the busiest scores 0).
    void score(const Request &, Endpoints endpoints, std::span<double> scores) const noexcept {
        std::uint32_t most = 0;
        for (const Endpoint e : endpoints) most = std::max(most, e.requests_in_flight());
        for (std::size_t i = 0; i < endpoints.size(); ++i) {
            const std::uint32_t n = endpoints[i].requests_in_flight();
            scores[i] = n <= idle_threshold_
                            ? 1.0
                            : static_cast<double>(most - n) / static_cast<double>(most) * max_busy_score_;
        }
    }

private:
    // Upstream's fallbacks: a negative idleThreshold counts as 0.
    static std::uint32_t idle_threshold_from(const Params &params) {
        const auto t = params.get<std::int64_t>("idleThreshold");
        return static_cast<std::uint32_t>(std::clamp<std::int64_t>(t, 0, UINT32_MAX));
    }
    // Upstream's fallback: a maxBusyScore outside [0, 1] is ignored (1.0), here with a log line.
    static double max_busy_score_from(const Params &params, const Host &host) {
        const double s = params.get<double>("maxBusyScore");
        if (s >= 0.0 && s <= 1.0) return s;
        host.warn("maxBusyScore " + std::to_string(s) + " is outside [0, 1]; using 1");
        return 1.0;
    }

    std::uint32_t idle_threshold_;
    double max_busy_score_;
};

inline constexpr Param kActiveRequestScorerParams[] = {
    {"idleThreshold", ParamType::integer, "0",
     "Requests in flight at or below which an endpoint is idle and scores 1 (a negative value counts as 0)."},
    {"maxBusyScore", ParamType::number, "1.0",
     "Score of the least busy endpoint above the threshold (0-1; a value outside is replaced by 1, logged)."},
    {"inFlightLoadProducerName", ParamType::string, "",
     "Accepted for upstream configs and ignored: the host itself counts requests in flight."},
    {"requestTimeout", ParamType::string, "",
     "Deprecated upstream; accepted and ignored (logged): a request counts until its response completes."},
};

inline constexpr Manifest kActiveRequestScorerManifest{
    .type = "active-request-scorer",
    .role = Role::scorer,
    .version = "1.0.0",
    .stability = Stability::beta,
    .feature_gate = "ActiveRequestScorer",
    .description = "Prefers endpoints with fewer requests in flight (sent by the host, response not complete): 1 up "
                   "to idleThreshold, then scaled to maxBusyScore, the busiest 0.",
    .parameters = kActiveRequestScorerParams,
    .thread_safe = true,  // no state: calls share nothing
};

}  // namespace plughost::plugins
