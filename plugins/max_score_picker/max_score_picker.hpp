// max-score-picker (stable): picks the endpoints with the highest total score; equal totals are
// broken at random, as upstream's picker does (it shuffles before a stable sort).
#pragma once

#include "../common/random_sampling.hpp"

#include <plughost/plugin.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string_view>

namespace plughost::plugins {

// Ties are broken by a pseudo-random key per (request, endpoint): a hash of the seed, the
// request id and the endpoint name. So the picker keeps no state (one instance may serve
// several threads), allocates nothing, and a seeded run replayed gives the same decisions
// whatever the order the endpoints arrive in; across requests, each of n tied endpoints wins
// about 1/n of the time.
class MaxScorePicker {
public:
    explicit MaxScorePicker(const Params &params)
        : count_(sampling::pick_count(params)), seed_(sampling::seed_from(params)) {}

    // Each round takes the best endpoint ranked strictly after the previous pick: O(k·n), no
    // allocation, and no record of what was taken. The ranking is a strict total order: higher
    // total first (NaN below every number), then the smaller tie key, then the earlier position
    // (the same key twice needs the same name twice). Keys are hashed only for equal totals.
    void pick(const Request &request, Endpoints endpoints, std::span<const double> totals, Selection &picked) const {
        const std::size_t n = endpoints.size();
        const std::size_t k = count_ < n ? count_ : n;
        const std::uint64_t request_key = mix(seed_ ^ hash(request.id()));
        const auto key_of = [&](std::size_t i) { return tie_key(request_key, endpoints[i]); };
        std::size_t previous = n;
        double previous_total = 0;
        std::uint64_t previous_key = 0;
        for (std::size_t round = 0; round < k; ++round) {
            std::size_t best = n;
            double best_total = 0;
            std::optional<std::uint64_t> best_key;
            for (std::size_t i = 0; i < n; ++i) {
                const double total = rank_value(totals[i]);
                std::optional<std::uint64_t> key;
                if (previous != n) {  // only what ranks strictly after the previous pick
                    if (total > previous_total) continue;
                    if (total == previous_total) {
                        key = key_of(i);
                        if (*key < previous_key || (*key == previous_key && i <= previous)) continue;
                    }
                }
                if (best != n && total < best_total) continue;
                if (best != n && total == best_total) {
                    if (!key) key = key_of(i);
                    if (!best_key) best_key = key_of(best);
                    if (*key > *best_key || (*key == *best_key && i > best)) continue;
                }
                best = i;
                best_total = total;
                best_key = key;
            }
            picked.add(best);
            previous = best;
            previous_total = best_total;
            previous_key = best_key ? *best_key : key_of(best);
        }
    }

    /// FNV-1a, 64 bits: fixed, so a seed means the same decisions on every platform.
    static constexpr std::uint64_t hash(std::string_view bytes) noexcept {
        std::uint64_t h = 0xcbf29ce484222325ULL;
        for (const char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
        return h;
    }
    /// The splitmix64 finaliser: spreads every input bit over the output.
    static constexpr std::uint64_t mix(std::uint64_t x) noexcept {
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
        return x ^ (x >> 31);
    }
    /// An endpoint's tie-break key for a request; the smaller key wins a tie.
    static std::uint64_t tie_key(std::uint64_t request_key, Endpoint e) noexcept {
        return mix(request_key ^ hash(e.name()));
    }

private:
    static double rank_value(double total) noexcept {
        return std::isnan(total) ? -std::numeric_limits<double>::infinity() : total;
    }

    std::size_t count_;
    std::uint64_t seed_;
};

inline constexpr Param kMaxScorePickerParams[] = {
    {"maxNumOfEndpoints", ParamType::integer, "1", "How many endpoints to pick, best first (1-1024)."},
    {"seed", ParamType::integer, "",
     "Seed of the tie-break (any int64); when given, equal totals are broken the same way in every run. Default: "
     "seeded from std::random_device."},
};

inline constexpr Manifest kMaxScorePickerManifest{
    .type = "max-score-picker",
    .role = Role::picker,
    .version = "1.0.0",
    .stability = Stability::stable,
    .description = "Picks the endpoints with the highest weighted total score; equal totals are broken at random.",
    .parameters = kMaxScorePickerParams,
    .thread_safe = true,  // no mutable state: the tie-break is a hash of the request
};

}  // namespace plughost::plugins
