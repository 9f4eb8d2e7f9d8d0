// queue-scorer (stable): prefers endpoints with fewer waiting requests, counting the host's own
// picks since each endpoint's last metrics update (plugins/common/load_signals.hpp).
#pragma once

#include "../common/load_signals.hpp"

#include <plughost/plugin.hpp>

#include <algorithm>
#include <cstdint>
#include <span>

namespace plughost::plugins {

class QueueScorer {
public:
    explicit QueueScorer(const Params &params)
        : max_queue_(params.get_in_range<std::int64_t>("maxQueueSize", 0, 1'000'000'000)),
          count_pending_(params.get<bool>("countPendingPicks")) {}

    // q = waitingQueueSize + pendingPicks (pendingPicks only with countPendingPicks).
    void score(const Request &, Endpoints endpoints, std::span<double> scores) const {
        const auto queue = [this](Endpoint e) { return load::with_pending(e.waiting_queue_size(), e, count_pending_); };
        if (max_queue_ > 0) {
            const auto cap = static_cast<std::uint64_t>(max_queue_);
            for (std::size_t i = 0; i < endpoints.size(); ++i)
                scores[i] = 1.0 - static_cast<double>(std::min(queue(endpoints[i]), cap)) / static_cast<double>(cap);
            return;
        }
        // As upstream: relative to the candidates, the shortest queue 1, the longest 0.
        load::score_relative(endpoints, scores, queue);
    }

private:
    std::int64_t max_queue_;
    bool count_pending_;
};

inline constexpr Param kQueueScorerParams[] = {
    {"maxQueueSize", ParamType::integer, "0",
     "plughost's own: queue length that scores 0; 0 (the default, as upstream) scores relative to the candidates "
     "(shortest 1, longest 0)."},
    load::kCountPendingPicks,
};

inline constexpr Manifest kQueueScorerManifest{
    .type = "queue-scorer",
    .role = Role::scorer,
    .version = "1.0.0",
    .stability = Stability::stable,
    .description = "Prefers endpoints with fewer requests waiting in their queue, counting the host's picks since "
                   "their last metrics update.",
    .parameters = kQueueScorerParams,
    .thread_safe = true,  // no state: calls share nothing
};

}  // namespace plughost::plugins
