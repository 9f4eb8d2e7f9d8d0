// no-hit-lru-scorer (beta): spreads cold requests, those whose prompt prefix no endpoint holds,
// over the endpoints that received a cold request least recently, so that new prefixes build up
// in every cache instead of piling onto one. Upstream llm-d-router's scorer of the same name.
#pragma once

#include "common/prefix_cache_attributes.hpp"

#include <plughost/plugin.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace plughost::plugins {

class NoHitLruScorer {
public:
    static constexpr std::int64_t kDefaultLruSize = 1024;  // upstream's default
    static constexpr std::int64_t kMaxLruSize = 1 << 20;
    static constexpr std::size_t kMaxPending = 4096;  // requests scored and not yet decided

    NoHitLruScorer(const Params &params, Host host)
        : host_(std::move(host)), match_blocks_(host_.attribute(prefix_attributes::kMatchBlocks)) {
        const std::int64_t size = params.get<std::int64_t>("lruSize");
        if (size > kMaxLruSize)
            throw ParameterError("parameter 'lruSize': expected at most " + std::to_string(kMaxLruSize) + ", found " +
                                 std::to_string(size));
        lru_size_ = static_cast<std::size_t>(size > 0 ? size : kDefaultLruSize);
    }

    /// Warm request (some endpoint holds a block of its prompt): 0.5 everywhere. Cold request:
    /// endpoints never given a cold request first, in the order offered, then those given one
    /// least recently; rank r of n scores 1 - r / (n - 1), at least 0.
    void score(const Request &request, Endpoints endpoints, std::span<double> scores) {
        bool cold = true;
        for (const Endpoint e : endpoints)
            if (host_.number(request, e, match_blocks_).value_or(0) > 0) cold = false;
        remember(request.id(), cold);
        const std::size_t n = endpoints.size();
        if (!cold || n <= 1) {
            std::fill(scores.begin(), scores.end(), cold ? 1.0 : 0.5);
            return;
        }
        // Positions in the LRU, the least recently used first (as upstream's Keys() lists them).
        positions_.clear();
        std::size_t position = 0;
        for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) positions_[*it] = position++;
        std::size_t never_used = 0;
        for (const Endpoint e : endpoints) never_used += positions_.count(e.id()) ? 0 : 1;
        const double last = static_cast<double>(n - 1);
        std::size_t next_unused = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const auto it = positions_.find(endpoints[i].id());
            const std::size_t rank = it == positions_.end() ? next_unused++ : never_used + it->second;
            scores[i] = std::max(0.0, 1.0 - static_cast<double>(rank) / last);
        }
    }

    /// After a cold request: its primary pick and its "prefill" extra become the most recently
    /// used. Warm requests, and requests this instance did not score, change nothing.
    void pre_request(const Request &request, const Decision &decision) {
        const auto it = pending_.find(std::string(request.id()));
        if (it == pending_.end()) return;
        const bool cold = it->second.cold;
        pending_.erase(it);
        if (!cold) return;
        if (!decision.picked().empty()) use(decision.picked()[0].id());
        if (const auto prefill = decision.extra("prefill")) use(prefill->id());
    }

private:
    // The cold flag of a scored request until its decision; a request scored by two profiles
    // keeps the last one, as upstream's per-request state does. Bounded: requests that are
    // never decided are forgotten oldest first.
    void remember(std::string_view id, bool cold) {
        auto [it, fresh] = pending_.try_emplace(std::string(id));
        it->second.cold = cold;
        if (!fresh) return;
        it->second.serial = ++serial_;
        order_.emplace_back(it->first, serial_);
        while (order_.size() > kMaxPending) {
            // Only the entry this one was queued for: the id may have been decided and reused since.
            const auto old = pending_.find(order_.front().first);
            if (old != pending_.end() && old->second.serial == order_.front().second) pending_.erase(old);
            order_.pop_front();
        }
    }

    void use(std::uint64_t id) {
        if (const auto it = where_.find(id); it != where_.end()) lru_.erase(it->second);
        lru_.push_front(id);
        where_[id] = lru_.begin();
        if (lru_.size() > lru_size_) {
            where_.erase(lru_.back());
            lru_.pop_back();
        }
    }

    Host host_;
    Attribute match_blocks_;
    std::size_t lru_size_ = kDefaultLruSize;
    std::list<std::uint64_t> lru_;  // endpoint ids, the most recently used first
    std::unordered_map<std::uint64_t, std::list<std::uint64_t>::iterator> where_;
    std::unordered_map<std::uint64_t, std::size_t> positions_;
    struct Pending {
        bool cold = false;
        std::uint64_t serial = 0;
    };
    std::unordered_map<std::string, Pending> pending_;
    std::deque<std::pair<std::string, std::uint64_t>> order_;  // as scored: (id, serial)
    std::uint64_t serial_ = 0;
};

inline constexpr Param kNoHitLruScorerParams[] = {
    {"lruSize", ParamType::integer, "1024",
     "Endpoints remembered as having received cold requests (at most 1048576; 0 or less: 1024)."},
    {"prefixMatchInfoProducerName", ParamType::string, "\"\"",
     "Upstream's choice of producer; accepted for upstream configs. plughost reads prefix-cache.match-blocks "
     "from whichever configured plugin produces it (approx-prefix-cache-producer by default)."},
    {"prefixPluginType", ParamType::string, "\"\"", "Accepted and unused, as upstream."},
    {"prefixPluginName", ParamType::string, "\"\"", "Accepted and unused, as upstream."},
};

inline constexpr Consumes kNoHitLruScorerConsumes[] = {
    {prefix_attributes::kMatchBlocks, true, prefix_attributes::kProducerType},
};

inline constexpr Manifest kNoHitLruScorerManifest{
    .type = "no-hit-lru-scorer",
    .role = Role::scorer,
    .version = "1.0.0",
    .stability = Stability::beta,
    .feature_gate = "NoHitLruScorer",
    .description = "Sends requests no endpoint has a cached prefix for to the endpoints that received such a "
                   "request least recently; scores 0.5 everywhere otherwise.",
    .parameters = kNoHitLruScorerParams,
    .consumes = kNoHitLruScorerConsumes,
};

}  // namespace plughost::plugins
