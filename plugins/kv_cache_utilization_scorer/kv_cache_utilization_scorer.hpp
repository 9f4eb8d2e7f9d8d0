// kv-cache-utilization-scorer (stable): prefers endpoints with more free KV cache.
#pragma once

#include <plughost/plugin.hpp>

#include <cmath>
#include <span>

namespace plughost::plugins {

class KvCacheUtilizationScorer {
public:
    // 1 - usage (a fraction), clamped to [0, 1]. A NaN usage (a broken metric) scores 0: an endpoint
    // whose load is unknown is never preferred.
    void score(const Request &, Endpoints endpoints, std::span<double> scores) const noexcept {
        for (std::size_t i = 0; i < endpoints.size(); ++i) {
            const double free = 1.0 - endpoints[i].kv_cache_usage();
            scores[i] = std::isnan(free) ? 0.0 : free < 0.0 ? 0.0 : free > 1.0 ? 1.0 : free;
        }
    }
};

inline constexpr Manifest kKvCacheUtilizationScorerManifest{
    .type = "kv-cache-utilization-scorer",
    .role = Role::scorer,
    .version = "1.0.0",
    .stability = Stability::stable,
    .description =
        "Prefers endpoints with more free KV cache: scores 1 - kvCacheUsage (the 0-1 fraction), clamped to [0, 1].",
    .thread_safe = true,  // no state: calls share nothing
};

}  // namespace plughost::plugins
