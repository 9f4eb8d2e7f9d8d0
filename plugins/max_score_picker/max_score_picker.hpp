// max-score-picker (stable): picks the endpoints with the highest total score.
#pragma once

#include <plughost/plugin.hpp>

#include <cstdint>
#include <span>

namespace plughost::plugins {

class MaxScorePicker {
public:
    explicit MaxScorePicker(const Params &params)
        : count_(static_cast<std::size_t>(params.get_in_range<std::int64_t>("maxNumOfEndpoints", 1, 1024))) {}

    // Repeated scans rather than a sort: no allocation, and k is small. Ties go to the endpoint
    // whose name sorts first, so a decision never depends on arrival order.
    void pick(const Request &, Endpoints endpoints, std::span<const double> totals, Selection &picked) const {
        const std::size_t n = endpoints.size();
        const std::size_t k = count_ < n ? count_ : n;
        std::size_t chosen_buf[1024];
        std::size_t chosen = 0;
        for (std::size_t round = 0; round < k; ++round) {
            std::size_t best = n;
            for (std::size_t i = 0; i < n; ++i) {
                bool taken = false;
                for (std::size_t j = 0; j < chosen; ++j) taken = taken || chosen_buf[j] == i;
                if (taken) continue;
                if (best == n || totals[i] > totals[best] ||
                    (totals[i] == totals[best] && endpoints[i].name() < endpoints[best].name()))
                    best = i;
            }
            chosen_buf[chosen++] = best;
            picked.add(best);
        }
    }

private:
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
};

} // namespace plughost::plugins
