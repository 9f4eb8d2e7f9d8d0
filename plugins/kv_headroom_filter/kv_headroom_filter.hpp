// kv-headroom-filter (alpha): drops endpoints whose KV cache is nearly full.
#pragma once

#include <plughost/plugin.hpp>

namespace plughost::plugins {

class KvHeadroomFilter {
public:
    explicit KvHeadroomFilter(const Params &params)
        : max_usage_(params.get_in_range<double>("maxKvCacheUsagePercent", 0.0, 100.0) / 100.0),
          pass_all_when_none_fit_(params.get<bool>("passAllWhenNoneFit")) {}

    // A NaN usage never fits (the comparison is false). When nothing fits, dropping everything
    // would fail the request outright; by default every endpoint passes instead, so the
    // scorers and the picker still choose the least bad one.
    void filter(const Request &, Endpoints endpoints, Selection &passed) const {
        for (std::size_t i = 0; i < endpoints.size(); ++i)
            if (endpoints[i].kv_cache_usage() <= max_usage_) passed.add(i);
        if (passed.size() == 0 && pass_all_when_none_fit_)
            for (std::size_t i = 0; i < endpoints.size(); ++i) passed.add(i);
    }

private:
    double max_usage_;  // a fraction, as endpoints report usage
    bool pass_all_when_none_fit_;
};

inline constexpr Param kKvHeadroomFilterParams[] = {
    {"maxKvCacheUsagePercent", ParamType::number, "90",
     "Highest KV-cache usage (0-100 percent) an endpoint may have to pass."},
    {"passAllWhenNoneFit", ParamType::boolean, "true",
     "When no endpoint fits: true passes all of them, false passes none."},
};

inline constexpr Manifest kKvHeadroomFilterManifest{
    .type = "kv-headroom-filter",
    .role = Role::filter,
    .version = "1.0.0",
    .stability = Stability::alpha,
    .feature_gate = "KvHeadroomFilter",
    .description = "Keeps endpoints whose KV-cache usage is at most maxKvCacheUsagePercent; when none fit, passes "
                   "all of them (or none if passAllWhenNoneFit is false).",
    .parameters = kKvHeadroomFilterParams,
    .thread_safe = true,  // no state: calls share nothing
};

}  // namespace plughost::plugins
