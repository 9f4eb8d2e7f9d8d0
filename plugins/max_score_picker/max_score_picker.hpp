// max-score-picker (stable): picks the endpoints with the highest total score.
#pragma once

#include <plughost/plugin.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>

namespace plughost::plugins {

class MaxScorePicker {
public:
    explicit MaxScorePicker(const Params &params)
        : count_(static_cast<std::size_t>(params.get_in_range<std::int64_t>("maxNumOfEndpoints", 1, 1024))) {}

    // Each round takes the best endpoint ranked strictly after the previous pick: O(k·n), no
    // allocation, and no record of what was taken. The ranking is a strict total order (see
    // ranks_before), so a decision never depends on arrival order unless names repeat.
    void pick(const Request &, Endpoints endpoints, std::span<const double> totals, Selection &picked) const {
        const std::size_t n = endpoints.size();
        const std::size_t k = count_ < n ? count_ : n;
        std::size_t previous = n;
        for (std::size_t round = 0; round < k; ++round) {
            std::size_t best = n;
            for (std::size_t i = 0; i < n; ++i) {
                if (previous != n && !ranks_before(endpoints, totals, previous, i)) continue;
                if (best == n || ranks_before(endpoints, totals, i, best)) best = i;
            }
            picked.add(best);
            previous = best;
        }
    }

private:
    // Higher total first (NaN below every number), then the name that sorts first, then the
    // earlier position.
    static bool ranks_before(Endpoints endpoints, std::span<const double> totals, std::size_t a, std::size_t b) {
        const double ta = rank_value(totals[a]), tb = rank_value(totals[b]);
        if (ta != tb) return ta > tb;
        const int by_name = endpoints[a].name().compare(endpoints[b].name());
        return by_name != 0 ? by_name < 0 : a < b;
    }
    static double rank_value(double total) noexcept {
        return std::isnan(total) ? -std::numeric_limits<double>::infinity() : total;
    }

    std::size_t count_;
};

inline constexpr Param kMaxScorePickerParams[] = {
    {"maxNumOfEndpoints", ParamType::integer, "1", "How many endpoints to pick, best first (1-1024)."},
};

inline constexpr Manifest kMaxScorePickerManifest{
    .type = "max-score-picker",
    .role = Role::picker,
    .version = "1.0.0",
    .stability = Stability::stable,
    .description = "Picks the endpoints with the highest weighted total score; ties go to the first name.",
    .parameters = kMaxScorePickerParams,
    .thread_safe = true,  // no state: calls share nothing
};

}  // namespace plughost::plugins
