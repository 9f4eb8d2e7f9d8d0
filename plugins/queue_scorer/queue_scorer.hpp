// queue-scorer (stable): prefers endpoints with fewer waiting requests.
#pragma once

#include <plughost/plugin.hpp>

#include <algorithm>
#include <cstdint>
#include <span>

namespace plughost::plugins {

class QueueScorer {
public:
    explicit QueueScorer(const Params &params)
        : max_queue_(params.get_in_range<std::int64_t>("maxQueueSize", 0, 1'000'000'000)) {}

    void score(const Request &, Endpoints endpoints, std::span<double> scores) const {
        if (max_queue_ > 0) {
            const double cap = static_cast<double>(max_queue_);
            for (std::size_t i = 0; i < endpoints.size(); ++i)
                scores[i] = 1.0 - std::min<double>(endpoints[i].waiting_queue_size(), cap) / cap;
            return;
        }
        // Relative to the candidates: the shortest queue scores 1, the longest 0.
        std::uint32_t lo = UINT32_MAX, hi = 0;
        for (const Endpoint e : endpoints) {
            lo = std::min(lo, e.waiting_queue_size());
            hi = std::max(hi, e.waiting_queue_size());
        }
        const double range = static_cast<double>(hi) - static_cast<double>(lo);
        for (std::size_t i = 0; i < endpoints.size(); ++i)
            scores[i] = range > 0 ? (hi - endpoints[i].waiting_queue_size()) / range : 1.0;
    }

private:
    std::int64_t max_queue_;
};

inline constexpr Param kQueueScorerParams[] = {
    {"maxQueueSize", ParamType::integer, "0",
     "Queue length that scores 0; 0 scores relative to the candidates (shortest 1, longest 0)."},
};

inline constexpr Manifest kQueueScorerManifest{
    .type = "queue-scorer",
    .role = Role::scorer,
    .version = "1.0.0",
    .stability = Stability::stable,
    .description = "Prefers endpoints with fewer requests waiting in their queue.",
    .parameters = kQueueScorerParams,
    .thread_safe = true,  // no state: calls share nothing
};

}  // namespace plughost::plugins
