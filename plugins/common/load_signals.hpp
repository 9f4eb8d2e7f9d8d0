// Load signals shared by the in-tree load scorers (queue-scorer, running-requests-size-scorer,
// load-aware-scorer): the reported metric plus, by default, the host's own picks of the endpoint
// since its metrics were last updated. The reported numbers cannot show those picks until the
// next update; without them every request of a burst sees the same metrics and goes to the same
// endpoint (herding).
#pragma once

#include <plughost/plugin.hpp>

#include <algorithm>
#include <cstdint>
#include <span>

namespace plughost::plugins::load {

/// The `countPendingPicks` parameter every load scorer declares.
inline constexpr Param kCountPendingPicks{
    "countPendingPicks", ParamType::boolean, "true",
    "Add the host's picks of the endpoint since its last metrics update (pendingPicks) to the reported count, so a "
    "burst between two updates spreads; false uses the reported count alone, as upstream does."};

/// `reported` plus the endpoint's pending picks when `count_pending`; 64 bits: cannot overflow.
inline std::uint64_t with_pending(std::uint32_t reported, Endpoint e, bool count_pending) noexcept {
    return std::uint64_t{reported} + (count_pending ? e.pending_picks() : 0u);
}

/// Min-max normalisation, lower is better: (max - v) / (max - min); every endpoint 1 when all
/// values are equal (also for a single endpoint). `value(e)` gives an endpoint's count.
template <class Value> void score_relative(Endpoints endpoints, std::span<double> scores, Value value) {
    std::uint64_t lo = UINT64_MAX, hi = 0;
    for (const Endpoint e : endpoints) {
        lo = std::min(lo, value(e));
        hi = std::max(hi, value(e));
    }
    const double range = static_cast<double>(hi - lo);
    for (std::size_t i = 0; i < endpoints.size(); ++i)
        scores[i] = hi > lo ? static_cast<double>(hi - value(endpoints[i])) / range : 1.0;
}

}  // namespace plughost::plugins::load
