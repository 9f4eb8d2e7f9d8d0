// random-picker (beta, deprecated): picks uniformly at random, ignoring the scores.
#pragma once

#include "../common/random_sampling.hpp"

#include <plughost/plugin.hpp>

#include <span>
#include <string_view>

namespace plughost::plugins {

// Draws exactly as weighted-random-picker does when every total is 0, so with the same seed
// the replacement makes the same decisions.
class RandomPicker {
public:
    explicit RandomPicker(const Params &params) : sampler_(sampling::pick_count(params), sampling::seed_from(params)) {}

    void pick(const Request &, Endpoints endpoints, std::span<const double>, Selection &picked) {
        sampler_.draw(endpoints.size(), {}, picked);
    }

private:
    sampling::WeightedSampler sampler_;
};

inline constexpr Param kRandomPickerParams[] = {
    {"maxNumOfEndpoints", ParamType::integer, "1", "How many distinct endpoints to pick (1-1024)."},
    {"seed", ParamType::integer, "",
     "Seed of the random generator (any int64); when given, decisions are reproducible. Default: "
     "seeded from std::random_device."},
};

inline constexpr std::string_view kRandomPickerReplacements[] = {"weighted-random-picker"};

inline constexpr Deprecation kRandomPickerDeprecation{
    .since = "1.0.0",
    .removed_in = "1.2.0",
    .message = "Use weighted-random-picker: it picks at random in proportion to the scores, and uniformly when "
               "they are all zero.",
    .replacements = kRandomPickerReplacements,
};

inline constexpr Manifest kRandomPickerManifest{
    .type = "random-picker",
    .role = Role::picker,
    .version = "1.0.0",
    .stability = Stability::beta,
    .feature_gate = "RandomPicker",
    .description = "Picks endpoints uniformly at random without replacement, ignoring the scores.",
    .parameters = kRandomPickerParams,
    .deprecation = kRandomPickerDeprecation,
};

}  // namespace plughost::plugins
