// running-requests-size-scorer (beta): prefers endpoints running fewer requests, relative to the
// candidates, counting the host's picks since each endpoint's last metrics update.
#pragma once

#include "../common/load_signals.hpp"

#include <plughost/plugin.hpp>

#include <span>

namespace plughost::plugins {

class RunningRequestsSizeScorer {
public:
    explicit RunningRequestsSizeScorer(const Params &params) : count_pending_(params.get<bool>("countPendingPicks")) {}

    // r = runningRequests (+ pendingPicks); (max - r) / (max - min) over the candidates, every
    // endpoint 1 when all are equal: queue-scorer's formula on the running count, as upstream.
    void score(const Request &, Endpoints endpoints, std::span<double> scores) const {
        load::score_relative(endpoints, scores, [this](Endpoint e) {
            return load::with_pending(e.running_requests(), e, count_pending_);
        });
    }

private:
    bool count_pending_;
};

inline constexpr Param kRunningRequestsSizeScorerParams[] = {load::kCountPendingPicks};

inline constexpr Manifest kRunningRequestsSizeScorerManifest{
    .type = "running-requests-size-scorer",
    .role = Role::scorer,
    .version = "1.0.0",
    .stability = Stability::beta,
    .feature_gate = "RunningRequestsSizeScorer",
    .description = "Prefers endpoints running fewer requests, relative to the candidates (fewest 1, most 0), counting "
                   "the host's picks since their last metrics update.",
    .parameters = kRunningRequestsSizeScorerParams,
    .thread_safe = true,  // no state: calls share nothing
};

}  // namespace plughost::plugins
