// Random sampling shared by weighted-random-picker and random-picker. Everything that decides
// an outcome is written here rather than taken from <random>'s distributions, whose results
// differ between standard libraries: only std::mt19937_64, which the standard fully specifies,
// is used, so a seed gives the same decisions everywhere.
#pragma once

#include <plughost/plugin.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace plughost::plugins::sampling {

/// Reads `maxNumOfEndpoints` (1-1024), the parameter every picker shares.
inline std::size_t pick_count(const Params &params) {
    return static_cast<std::size_t>(params.get_in_range<std::int64_t>("maxNumOfEndpoints", 1, 1024));
}

/// The `seed` parameter (any int64) when given; otherwise 64 bits from std::random_device.
inline std::uint64_t seed_from(const Params &params) {
    if (params.contains("seed")) return static_cast<std::uint64_t>(params.get<std::int64_t>("seed"));
    std::random_device device;
    const auto high = static_cast<std::uint64_t>(device());
    return (high << 32) ^ static_cast<std::uint64_t>(device());
}

/// A double in [0, 1) from the top 53 bits of one generator output.
inline double unit_interval(std::uint64_t bits) noexcept { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

/// An integer in [0, n), n > 0, without modulo bias: outputs below 2^64 mod n are redrawn.
inline std::size_t uniform_below(std::mt19937_64 &engine, std::size_t n) noexcept {
    const auto range = static_cast<std::uint64_t>(n);
    const std::uint64_t threshold = (0 - range) % range;  // 2^64 mod n
    for (;;) {
        const std::uint64_t x = engine();
        if (x >= threshold) return static_cast<std::size_t>(x % range);
    }
}

/// Draws up to `count` distinct endpoints, each round with probability proportional to its
/// weight among those not drawn yet; a round where every remaining weight is 0 draws
/// uniformly among the remaining ones. Weights that are not finite or not positive count as 0.
///
/// The exact procedure (a contract: tests and users can reproduce a seeded decision):
///  - weights are divided by the largest one, so their sum cannot overflow;
///  - a weighted round takes u = unit_interval(engine()) and picks the first remaining index
///    whose running sum of remaining weights exceeds u * (sum of remaining weights), falling
///    back to the last remaining positive weight when rounding leaves none;
///  - a uniform round takes j = uniform_below(engine, remaining) and picks the j-th remaining
///    index in index order.
///
/// Reuses one buffer: no heap allocation once it has grown to the largest endpoint count.
class WeightedSampler {
public:
    WeightedSampler(std::size_t count, std::uint64_t seed) : count_(count), engine_(seed) {}

    /// `weights` empty means all weights are 0 (uniform). Otherwise it has `n` entries.
    void draw(std::size_t n, std::span<const double> weights, Selection &out) {
        const std::size_t k = count_ < n ? count_ : n;
        if (k == 0) return;
        weights_.resize(n);  // grows only; never shrinks the capacity
        double largest = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const double w = weights.empty() ? 0.0 : weights[i];
            weights_[i] = std::isfinite(w) && w > 0 ? w : 0.0;
            if (weights_[i] > largest) largest = weights_[i];
        }
        if (largest > 0)
            for (std::size_t i = 0; i < n; ++i) weights_[i] /= largest;

        std::size_t remaining = n;
        for (std::size_t round = 0; round < k; ++round, --remaining) {
            double total = 0;
            for (std::size_t i = 0; i < n; ++i)
                if (weights_[i] > 0) total += weights_[i];
            const std::size_t chosen = total > 0 ? weighted_round(n, total) : uniform_round(n, remaining);
            weights_[chosen] = kTaken;
            out.add(chosen);
        }
    }

private:
    static constexpr double kTaken = -1.0;  // marks a drawn endpoint; real weights are >= 0

    std::size_t weighted_round(std::size_t n, double total) {
        const double target = unit_interval(engine_()) * total;
        double running = 0;
        std::size_t last_positive = n;
        for (std::size_t i = 0; i < n; ++i) {
            if (weights_[i] <= 0) continue;
            running += weights_[i];
            last_positive = i;
            if (running > target) return i;
        }
        return last_positive;
    }

    std::size_t uniform_round(std::size_t n, std::size_t remaining) {
        std::size_t j = uniform_below(engine_, remaining);
        for (std::size_t i = 0; i < n; ++i) {
            if (weights_[i] == kTaken) continue;
            if (j == 0) return i;
            --j;
        }
        return n - 1;  // unreachable: `remaining` counts the entries not taken
    }

    std::size_t count_;
    std::mt19937_64 engine_;
    std::vector<double> weights_;
};

}  // namespace plughost::plugins::sampling
