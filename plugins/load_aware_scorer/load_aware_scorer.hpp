// load-aware-scorer (beta): upstream's queue-depth scorer with an absolute threshold and a top
// score of 0.5.
#pragma once

#include "../common/load_signals.hpp"

#include <plughost/plugin.hpp>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>

namespace plughost::plugins {

class LoadAwareScorer {
public:
    explicit LoadAwareScorer(const Params &params, Host host)
        : threshold_(threshold_from(params, host)), count_pending_(params.get<bool>("countPendingPicks")) {}

    // q = waitingQueueSize (+ pendingPicks): 0.5 when q is 0, else 0.5 * (1 - min(q, threshold) /
    // threshold). The top score is 0.5 by upstream's design: an empty queue is the best sign of
    // capacity the metrics give, not proof of spare capacity.
    void score(const Request &, Endpoints endpoints, std::span<double> scores) const noexcept {
        for (std::size_t i = 0; i < endpoints.size(); ++i) {
            const std::uint64_t q = load::with_pending(endpoints[i].waiting_queue_size(), endpoints[i], count_pending_);
            const double capped = static_cast<double>(std::min(q, threshold_));
            scores[i] = q == 0 ? 0.5 : 0.5 * (1.0 - capped / static_cast<double>(threshold_));
        }
    }

private:
    // Upstream replaces a threshold <= 0 by the default, with a log line; so does this plugin.
    static std::uint64_t threshold_from(const Params &params, const Host &host) {
        const auto t = params.get<std::int64_t>("threshold");
        if (t > 0) return static_cast<std::uint64_t>(t);
        host.warn("threshold " + std::to_string(t) + " is not positive; using the default " +
                  std::to_string(kDefaultThreshold));
        return kDefaultThreshold;
    }
    static constexpr std::uint64_t kDefaultThreshold = 128;

    std::uint64_t threshold_;
    bool count_pending_;
};

inline constexpr Param kLoadAwareScorerParams[] = {
    {"threshold", ParamType::integer, "128",
     "Queue length at and beyond which an endpoint scores 0; a value <= 0 is replaced by 128 (logged)."},
    load::kCountPendingPicks,
};

inline constexpr Manifest kLoadAwareScorerManifest{
    .type = "load-aware-scorer",
    .role = Role::scorer,
    .version = "1.0.0",
    .stability = Stability::beta,
    .feature_gate = "LoadAwareScorer",
    .description = "Scores 0.5 for an empty queue, falling linearly to 0 at threshold waiting requests (counting the "
                   "host's picks since the last metrics update).",
    .parameters = kLoadAwareScorerParams,
    .thread_safe = true,  // no state: calls share nothing
};

}  // namespace plughost::plugins
