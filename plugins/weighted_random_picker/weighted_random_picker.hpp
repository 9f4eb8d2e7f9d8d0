// weighted-random-picker (beta): picks at random, in proportion to the total scores.
#pragma once

#include "../common/random_sampling.hpp"

#include <plughost/plugin.hpp>

#include <span>
#include <string_view>

namespace plughost::plugins {

class WeightedRandomPicker {
public:
    explicit WeightedRandomPicker(const Params &params)
        : sampler_(sampling::pick_count(params), sampling::seed_from(params)) {}

    void pick(const Request &, Endpoints endpoints, std::span<const double> totals, Selection &picked) {
        sampler_.draw(endpoints.size(), totals.first(endpoints.size()), picked);
    }

private:
    sampling::WeightedSampler sampler_;
};

inline constexpr Param kWeightedRandomPickerParams[] = {
    {"maxNumOfEndpoints", ParamType::integer, "1", "How many distinct endpoints to pick (1-1024)."},
    {"seed", ParamType::integer, "",
     "Seed of the random generator (any int64); when given, decisions are reproducible. Default: "
     "seeded from std::random_device."},
};

inline constexpr Manifest kWeightedRandomPickerManifest{
    .type = "weighted-random-picker",
    .role = Role::picker,
    .version = "1.0.0",
    .stability = Stability::beta,
    .feature_gate = "WeightedRandomPicker",
    .description = "Picks endpoints at random without replacement, each with probability proportional to its "
                   "total score; uniformly when all totals are 0.",
    .parameters = kWeightedRandomPickerParams,
};

}  // namespace plughost::plugins
