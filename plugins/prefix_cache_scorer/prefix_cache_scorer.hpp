// prefix-cache-scorer (beta): prefers endpoints that probably hold the request's prompt prefix in
// their KV cache. Upstream llm-d-router's scorer of the same name: stateless, it reads what a
// prefix producer (approx-prefix-cache-producer by default) published and scores the share of
// the prompt's blocks an endpoint holds, optionally blended with the absolute match length.
#pragma once

#include "common/prefix_cache_attributes.hpp"

#include <plughost/plugin.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace plughost::plugins {

class PrefixCacheScorer {
public:
    PrefixCacheScorer(const Params &params, Host host)
        : weight_(params.get<double>("matchLengthWeight")),
          scale_tokens_(params.get<std::int64_t>("matchLengthScaleTokens")),
          spread_depth_(params.get_in_range<std::int64_t>("spreadQueueDepth", 0, 1000000)), host_(std::move(host)),
          match_blocks_(host_.attribute(prefix_attributes::kMatchBlocks)),
          total_blocks_(host_.attribute(prefix_attributes::kTotalBlocks)),
          block_size_(host_.attribute(prefix_attributes::kBlockSizeTokens)) {
        if (!(weight_ >= 0 && weight_ <= 1))
            throw ParameterError("parameter 'matchLengthWeight': expected a value in [0, 1], found " + text(weight_));
        if (weight_ > 0 && !(scale_tokens_ > 0))
            throw ParameterError("parameter 'matchLengthScaleTokens': expected a value > 0 when matchLengthWeight "
                                 "is above 0, found " +
                                 std::to_string(scale_tokens_));
        // The parameters of plughost's first prefix-cache-scorer, which kept the cache itself.
        // The cache is now the producer's: they are accepted, ignored, and said so.
        for (const auto &[name, replacement] : kRetired)
            if (params.contains(name))
                host_.warn("parameter '" + std::string(name) +
                           "' is deprecated and has no effect since prefix-cache-scorer 2.0.0 (removed in 3.0.0): "
                           "configure approx-prefix-cache-producer's '" +
                           std::string(replacement) + "' instead");
    }

    /// matchBlocks / totalBlocks, blended with (matched tokens / matchLengthScaleTokens)^2 by
    /// matchLengthWeight; 0 where the producer published nothing or the prompt has no block.
    void score(const Request &request, Endpoints endpoints, std::span<double> scores) {
        const double total = host_.number(request, std::nullopt, total_blocks_).value_or(0);
        const double block_size = host_.number(request, std::nullopt, block_size_).value_or(0);
        // One call reads every endpoint's match into `scores` (NaN where absent), then each is
        // replaced by its score.
        const std::size_t missing = endpoints.size() - host_.numbers(request, endpoints, match_blocks_, scores);
        const double shortest = spread_depth_ > 0 ? shortest_queue(endpoints) : 0;
        for (std::size_t i = 0; i < endpoints.size(); ++i) {
            const double matched = scores[i];
            scores[i] = 0.0;
            if (std::isnan(matched) || !(total > 0)) continue;
            const double ratio = matched / total;
            double score = ratio;
            if (weight_ > 0 && block_size > 0) {
                const double length = std::min(1.0, matched * block_size / static_cast<double>(scale_tokens_));
                score = weight_ * length * length + (1 - weight_) * ratio;
            }
            scores[i] = std::clamp(score, 0.0, 1.0) * spread_factor(endpoints[i], shortest);
        }
        // One line per request, as upstream logs it, rather than one per endpoint.
        if (missing > 0)
            host_.info("prefix-cache match info not found for " + std::to_string(missing) +
                       " endpoints, assigning score 0");
    }

private:
    // An endpoint's queue as the host sees it between metric updates: the waiting requests it
    // reported plus the host's own picks of it since.
    static double queue(const Endpoint &e) {
        return static_cast<double>(e.waiting_queue_size()) + static_cast<double>(e.pending_picks());
    }
    static double shortest_queue(Endpoints endpoints) {
        double shortest = endpoints.size() ? queue(endpoints[0]) : 0;
        for (std::size_t i = 1; i < endpoints.size(); ++i) shortest = std::min(shortest, queue(endpoints[i]));
        return shortest;
    }
    // Why a prompt family does not pile onto one endpoint: the credit for a cached prefix falls
    // linearly from 1 (the endpoint's queue is the shortest) to 0 (it is spreadQueueDepth longer).
    // Without it, a burst between two metric updates follows the cache however long the queue
    // behind it grows; with it, the family spreads to a second endpoint, which then caches it too.
    double spread_factor(const Endpoint &e, double shortest) const {
        if (spread_depth_ <= 0) return 1.0;
        const double excess = queue(e) - shortest;
        return std::clamp(1.0 - excess / static_cast<double>(spread_depth_), 0.0, 1.0);
    }

    static constexpr std::pair<std::string_view, std::string_view> kRetired[] = {
        {"blockSize", "blockSizeTokens"},
        {"maxPrefixBlocks", "maxPrefixTokensToMatch"},
        {"lruCapacityPerEndpoint", "lruCapacityPerServer"},
        {"maxTrackedEndpoints", "(none: it forgets endpoints that leave the pool)"},
    };

    static std::string text(double v) {
        std::string s = std::to_string(v);
        s.erase(s.find_last_not_of('0') + 1);
        if (!s.empty() && s.back() == '.') s.pop_back();
        return s;
    }

    double weight_;
    std::int64_t scale_tokens_;
    std::int64_t spread_depth_;
    Host host_;
    Attribute match_blocks_, total_blocks_, block_size_;
};

inline constexpr Param kPrefixCacheScorerParams[] = {
    {"prefixMatchInfoProducerName", ParamType::string, "\"\"",
     "Upstream's choice of producer; accepted for upstream configs. plughost reads the prefix-cache.* attributes "
     "from whichever configured plugin produces them (approx-prefix-cache-producer by default)."},
    {"matchLengthWeight", ParamType::number, "0",
     "Weight (0 to 1) of the absolute match length against the matched share of the prompt."},
    {"matchLengthScaleTokens", ParamType::integer, "8192",
     "Matched tokens at which the match-length term reaches 1; must be > 0 when matchLengthWeight > 0."},
    {.name = "spreadQueueDepth",
     .type = ParamType::integer,
     .default_json = "8",
     .description = "plughost: how much longer an endpoint's queue (waiting + the host's pending picks) may be than "
                    "the shortest candidate's before its cached prefix stops counting; the credit falls linearly to "
                    "0 at this depth. 0 turns it off (upstream's behaviour).",
     .minimum_json = "0",
     .maximum_json = "1000000"},
    {"blockSize", ParamType::integer, {}, "Deprecated, no effect: use approx-prefix-cache-producer's blockSizeTokens."},
    {"maxPrefixBlocks",
     ParamType::integer,
     {},
     "Deprecated, no effect: use approx-prefix-cache-producer's maxPrefixTokensToMatch."},
    {"lruCapacityPerEndpoint",
     ParamType::integer,
     {},
     "Deprecated, no effect: use approx-prefix-cache-producer's lruCapacityPerServer."},
    {"maxTrackedEndpoints", ParamType::integer, {}, "Deprecated, no effect."},
};

inline constexpr Consumes kPrefixCacheScorerConsumes[] = {
    {prefix_attributes::kMatchBlocks, true, prefix_attributes::kProducerType},
    {prefix_attributes::kTotalBlocks, true, prefix_attributes::kProducerType},
    {prefix_attributes::kBlockSizeTokens, true, prefix_attributes::kProducerType},
};

inline constexpr Manifest kPrefixCacheScorerManifest{
    .type = "prefix-cache-scorer",
    .role = Role::scorer,
    .version = "2.0.0",
    .stability = Stability::beta,
    .feature_gate = "PrefixCacheScorer",
    .description = "Prefers endpoints that hold more of the request's prompt prefix, as a prefix producer "
                   "(approx-prefix-cache-producer by default) estimates it: matched blocks / prompt blocks.",
    .parameters = kPrefixCacheScorerParams,
    .thread_safe = true,  // no state: it reads the request's attributes only
    .consumes = kPrefixCacheScorerConsumes,
};

}  // namespace plughost::plugins
