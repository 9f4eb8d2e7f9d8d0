// approx-prefix-cache-producer (beta): estimates, for every endpoint, how much of the request's
// prompt prefix its KV cache holds, judged from where earlier requests went, and publishes it
// as attributes (plugins/common/prefix_cache_attributes.hpp) for scorers to read. Upstream
// llm-d-router's producer of the same name: prompts estimated at 4 bytes per token, blocks of
// blockSizeTokens tokens, block hashes chained from a seed of the model name, one LRU of block
// hashes per endpoint, fed in pre_request with the primary pick and the "prefill" extra.
#pragma once

#include "common/prefix_cache_attributes.hpp"

#include <plughost/plugin.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plughost::plugins {

namespace prefix_cache {

inline constexpr std::uint32_t kNone = UINT32_MAX;
inline constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ULL;  // 2^64 / golden ratio, odd
inline constexpr std::uint64_t kMixA = 0xbf58476d1ce4e5b9ULL;
inline constexpr std::uint64_t kMixB = 0x94d049bb133111ebULL;
inline constexpr std::uint64_t kChainStart = 0x5bd1e9955bd1e995ULL;  // "hash" of the empty prefix

/// Spreads every input bit over the whole word (xor-shift / multiply rounds); a bijection.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
    x ^= x >> 31;
    x *= kMixA;
    x ^= x >> 29;
    x *= kMixB;
    x ^= x >> 32;
    return x;
}

constexpr std::uint64_t rotl(std::uint64_t x, int r) noexcept { return (x << r) | (x >> (64 - r)); }

inline std::uint64_t load_word(const char *p) noexcept {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
}

// One word into one lane: a bijection of the lane for a fixed word, and of the word for a
// fixed lane.
constexpr std::uint64_t absorb(std::uint64_t lane, std::uint64_t word) noexcept {
    lane = (lane ^ word) * kMixA;
    return lane ^ (lane >> 32);
}

/// Hash of one block of a prompt: `size` bytes read as ceil(size / 4) little-endian 4-byte
/// tokens, the last one padded with zero bytes (upstream's estimate tokenizer packs bytes that
/// way, so "ab" and "ab\0" are the same token). Four independent lanes take every fourth 8-byte
/// word, so the multiplications of a block overlap instead of forming one long dependency
/// chain; a last word of 1 to 4 bytes (half a word once padded) goes into a lane of its own.
inline std::uint64_t hash_tokens(const char *data, std::size_t size) noexcept {
    const std::size_t padded = (size + 3) / 4 * 4;
    std::uint64_t a = kChainStart ^ padded, b = kGolden, c = kMixB, d = kMixA;
    std::size_t i = 0;
    for (; i + 32 <= size; i += 32) {
        a = absorb(a, load_word(data + i));
        b = absorb(b, load_word(data + i + 8));
        c = absorb(c, load_word(data + i + 16));
        d = absorb(d, load_word(data + i + 24));
    }
    for (; i + 8 <= size; i += 8) a = absorb(a, load_word(data + i));
    if (i < size) {
        std::uint64_t tail = 0;
        std::memcpy(&tail, data + i, size - i);
        if (padded - i == 8) a = absorb(a, tail);  // a whole word once padded, as the loop above
        else b = absorb(b, tail);
    }
    return mix64(a ^ rotl(b, 16) ^ rotl(c, 32) ^ rotl(d, 48));
}

/// The hash of a prefix: the previous prefix's hash chained with the hash of the next block's
/// bytes, so equal hashes mean equal prefixes (up to collisions).
constexpr std::uint64_t chain(std::uint64_t previous, std::uint64_t block) noexcept {
    return mix64(previous * kGolden + block);
}

/// Open-addressing index from 64-bit keys to entry numbers, which is all an LRU needs besides
/// its nodes. The keys live in the caller's entries (`key_of(entry)`), so a slot is 4 bytes.
/// Linear probing, kept at most half full by its users; deletion shifts later entries back
/// instead of leaving tombstones, so lookups never slow down with churn.
class OpenIndex {
public:
    /// Empties the index and gives it `slot_count` slots (a power of two, at least 2).
    void reset(std::size_t slot_count) {
        slots_.assign(slot_count, kNone);
        shift_ = 64;
        for (std::size_t n = slot_count; n > 1; n >>= 1) --shift_;
    }
    void clear() noexcept { std::fill(slots_.begin(), slots_.end(), kNone); }
    std::size_t slot_count() const noexcept { return slots_.size(); }

    template <class KeyOf> std::uint32_t find(std::uint64_t key, const KeyOf &key_of) const noexcept {
        if (slots_.empty()) return kNone;
        for (std::size_t i = home(key);; i = next(i)) {
            const std::uint32_t entry = slots_[i];
            if (entry == kNone || key_of(entry) == key) return entry;
        }
    }
    /// Adds `entry`, whose key must not be in the index yet.
    template <class KeyOf> void insert(std::uint32_t entry, const KeyOf &key_of) noexcept {
        std::size_t i = home(key_of(entry));
        while (slots_[i] != kNone) i = next(i);
        slots_[i] = entry;
    }
    /// Removes `entry`, which must be in the index.
    template <class KeyOf> void erase(std::uint32_t entry, const KeyOf &key_of) noexcept {
        std::size_t hole = home(key_of(entry));
        while (slots_[hole] != entry) hole = next(hole);
        slots_[hole] = kNone;
        // Move back every later entry of the probe run whose home is not in (hole, j].
        for (std::size_t j = next(hole); slots_[j] != kNone; j = next(j)) {
            const std::size_t h = home(key_of(slots_[j]));
            const bool stays = hole < j ? (hole < h && h <= j) : (hole < h || h <= j);
            if (stays) continue;
            slots_[hole] = slots_[j];
            slots_[j] = kNone;
            hole = j;
        }
    }

private:
    // Fibonacci hashing: the top bits of key * 2^64/phi, so sequential keys spread as well.
    std::size_t home(std::uint64_t key) const noexcept { return static_cast<std::size_t>((key * kGolden) >> shift_); }
    std::size_t next(std::size_t i) const noexcept { return (i + 1) & (slots_.size() - 1); }

    std::vector<std::uint32_t> slots_;
    unsigned shift_ = 64;
};

/// A set of block hashes with a fixed capacity that evicts the least recently used one.
/// Nodes come from a pool that grows with use up to the capacity and is then recycled, so
/// memory is proportional to what is held and nothing is allocated once the set is full.
class BlockLru {
    struct Node {
        std::uint64_t hash;
        std::uint32_t prev;  // towards the most recently used end
        std::uint32_t next;  // towards the least recently used end
    };
    struct NodeKey {
        const std::vector<Node> *nodes;
        std::uint64_t operator()(std::uint32_t n) const noexcept { return (*nodes)[n].hash; }
    };

public:
    explicit BlockLru(std::uint32_t capacity) noexcept : capacity_(capacity) {}

    std::size_t size() const noexcept { return nodes_.size(); }
    bool contains(std::uint64_t hash) const noexcept { return index_.find(hash, key_of()) != kNone; }

    /// Makes `hash` the most recently used entry, inserting it (and evicting the least
    /// recently used entry when full) if it is not held yet.
    void insert(std::uint64_t hash) {
        std::uint32_t node = index_.find(hash, key_of());
        if (node != kNone) {
            if (node != head_) {
                unlink(node);
                link_front(node);
            }
            return;
        }
        if (nodes_.size() < capacity_) {
            if ((nodes_.size() + 1) * 2 > index_.slot_count()) grow_index();
            node = static_cast<std::uint32_t>(nodes_.size());
            nodes_.push_back({hash, kNone, kNone});
        } else {
            node = tail_;
            index_.erase(node, key_of());
            unlink(node);
            nodes_[node].hash = hash;
        }
        index_.insert(node, key_of());
        link_front(node);
    }

    /// Forgets every entry; keeps the memory for reuse.
    void clear() noexcept {
        nodes_.clear();
        index_.clear();
        head_ = tail_ = kNone;
    }

private:
    NodeKey key_of() const noexcept { return {&nodes_}; }

    void grow_index() {
        index_.reset(std::max<std::size_t>(16, index_.slot_count() * 2));
        for (std::uint32_t n = 0; n < nodes_.size(); ++n) index_.insert(n, key_of());
    }

    void unlink(std::uint32_t n) noexcept {
        Node &node = nodes_[n];
        (node.prev == kNone ? head_ : nodes_[node.prev].next) = node.next;
        (node.next == kNone ? tail_ : nodes_[node.next].prev) = node.prev;
    }

    void link_front(std::uint32_t n) noexcept {
        nodes_[n].prev = kNone;
        nodes_[n].next = head_;
        (head_ == kNone ? tail_ : nodes_[head_].prev) = n;
        head_ = n;
    }

    std::uint32_t capacity_;
    std::vector<Node> nodes_;
    OpenIndex index_;
    std::uint32_t head_ = kNone;
    std::uint32_t tail_ = kNone;
};

}  // namespace prefix_cache
class ApproxPrefixCacheProducer {
public:
    static constexpr std::int64_t kDefaultBlockSizeTokens = 16;   // upstream's default
    static constexpr std::int64_t kDefaultLruCapacity = 31250;    // upstream's default
    static constexpr std::int64_t kMaxBlockSizeTokens = 1 << 20;  // 4 MiB of prompt per block
    static constexpr std::int64_t kMaxLruCapacity = 1 << 24;      // node numbers are 32-bit
    static constexpr std::size_t kUnlimited = std::numeric_limits<std::size_t>::max();

    ApproxPrefixCacheProducer(const Params &params, Host host)
        : auto_tune_(params.get<bool>("autoTune")),
          min_block_size_(params.get_in_range<std::int64_t>("minBlockSizeTokens", 1, kMaxBlockSizeTokens)),
          max_prefix_tokens_(params.get_in_range<std::int64_t>("maxPrefixTokensToMatch", 0, INT32_MAX)),
          max_prefix_blocks_(params.get_in_range<std::int64_t>("maxPrefixBlocksToMatch", 0, INT32_MAX)),
          host_(std::move(host)), match_blocks_(host_.attribute(prefix_attributes::kMatchBlocks)),
          total_blocks_(host_.attribute(prefix_attributes::kTotalBlocks)),
          block_size_attr_(host_.attribute(prefix_attributes::kBlockSizeTokens)),
          prompt_tokens_(host_.attribute(prefix_attributes::kPromptTokens)) {
        block_size_tokens_ = params.get_in_range<std::int64_t>("blockSizeTokens", 0, kMaxBlockSizeTokens);
        // The deprecated character-era name, mapped as upstream maps it: into blockSizeTokens,
        // unless that was changed from its default.
        const std::int64_t legacy = params.get_in_range<std::int64_t>("blockSize", 0, kMaxBlockSizeTokens);
        if (legacy > 0) {
            host_.warn("parameter 'blockSize' is deprecated: use 'blockSizeTokens' (a size in tokens of 4 bytes)");
            if (block_size_tokens_ == kDefaultBlockSizeTokens) block_size_tokens_ = legacy;
        }
        if (!auto_tune_ && block_size_tokens_ <= 0)
            throw ParameterError("parameter 'blockSizeTokens': expected a value > 0 when autoTune is false, found " +
                                 std::to_string(block_size_tokens_));
        const std::int64_t capacity = params.get<std::int64_t>("lruCapacityPerServer");
        if (capacity > kMaxLruCapacity)
            throw ParameterError("parameter 'lruCapacityPerServer': expected at most " +
                                 std::to_string(kMaxLruCapacity) + ", found " + std::to_string(capacity));
        lru_capacity_ = static_cast<std::uint32_t>(capacity > 0 ? capacity : kDefaultLruCapacity);
        if (block_size_tokens_ > 0 && block_size_tokens_ < min_block_size_)
            host_.info("blockSizeTokens " + std::to_string(block_size_tokens_) + " is below minBlockSizeTokens " +
                       std::to_string(min_block_size_) + ": blocks of " + std::to_string(min_block_size_) +
                       " tokens are used");
    }

    /// Publishes, for every endpoint, how many leading blocks of the prompt it holds, and for the
    /// request the block count, block size and prompt length in tokens.
    void produce(const Request &request, Endpoints endpoints) {
        const std::size_t block_size = effective_block_size(endpoints);
        const std::size_t blocks = hash_prompt(request, block_size);
        // The endpoints this instance remembers, among those offered; the others match nothing.
        ++stamp_;
        present_.clear();
        for (std::size_t i = 0; i < endpoints.size(); ++i) {
            const std::uint32_t t = find_endpoint(endpoints[i].id());
            if (t == prefix_cache::kNone) continue;
            tracked_[t].seen = stamp_;
            present_.push_back({i, t});
        }
        matches_.assign(endpoints.size(), 0);
        // Upstream's walk: block by block, every endpoint holding the block gets one more; the walk
        // stops at the first block no endpoint holds.
        for (std::size_t b = 0; b < blocks; ++b) {
            bool held = false;
            for (const auto &[position, t] : present_)
                if (tracked_[t].lru.contains(hashes_[b])) {
                    ++matches_[position];
                    held = true;
                }
            if (!held) break;
        }
        host_.put(request, endpoints, match_blocks_, matches_);  // one call for all endpoints
        host_.put(request, std::nullopt, total_blocks_, static_cast<double>(blocks));
        host_.put(request, std::nullopt, block_size_attr_, static_cast<double>(block_size));
        host_.put(request, std::nullopt, prompt_tokens_, static_cast<double>((request.prompt().size() + 3) / 4));
        // Every live endpoint is offered to produce: one that is not was removed (ids are never
        // reused), so its memory is dropped, as upstream drops pods that left the pool.
        if (present_.size() < tracked_.size()) forget_unseen();
    }

    /// Records that the request's blocks are now in the cache of the primary pick and of the
    /// "prefill" extra (upstream's hard-coded profile name), and counts the lookup.
    void pre_request(const Request &request, const Decision &decision) {
        const auto block_size = host_.number(request, std::nullopt, block_size_attr_);
        // Nothing when produce failed (or was not called) for this request, or nothing was picked.
        if (!block_size || !(*block_size >= 1) || decision.picked().empty()) return;
        const std::size_t blocks = hash_prompt(request, static_cast<std::size_t>(*block_size));
        const Endpoint primary = decision.picked()[0];
        const double matched = host_.number(request, primary, match_blocks_).value_or(0);
        host_.count("lookups", 1.0);
        host_.count("hits", matched > 0 ? 1.0 : 0.0);  // 0 too, so the hit rate always shows
        host_.count("matched-blocks", matched);
        host_.count("total-blocks", static_cast<double>(blocks));
        record(primary, blocks);
        if (const auto prefill = decision.extra("prefill")) record(*prefill, blocks);
    }

private:
    struct Tracked {
        std::uint64_t id;
        std::uint64_t seen;
        prefix_cache::BlockLru lru;
    };
    struct TrackedKey {
        const std::vector<Tracked> *tracked;
        std::uint64_t operator()(std::uint32_t t) const noexcept { return (*tracked)[t].id; }
    };

    // Upstream's GetBlockSize: the first endpoint's cacheBlockSize metric when auto-tuning,
    // else blockSizeTokens; never below the minimum.
    std::size_t effective_block_size(Endpoints endpoints) const {
        std::int64_t size = block_size_tokens_;
        if (auto_tune_ && !endpoints.empty())
            if (const auto metric = whole_metric(endpoints[0], "cacheBlockSize")) size = *metric;
        return static_cast<std::size_t>(std::clamp(size, min_block_size_, kMaxBlockSizeTokens));
    }

    // Upstream's resolveMaxBlocks: maxPrefixTokensToMatch when set, else the deprecated
    // maxPrefixBlocksToMatch, 0 for both meaning no limit.
    std::size_t max_blocks(std::size_t block_size) const {
        if (max_prefix_tokens_ > 0) return static_cast<std::size_t>(max_prefix_tokens_) / block_size;
        return max_prefix_blocks_ == 0 ? kUnlimited : static_cast<std::size_t>(max_prefix_blocks_);
    }

    // A metric as a whole number >= 1 (at most 2^24), when the endpoint reports one.
    static std::optional<std::int64_t> whole_metric(const Endpoint &e, std::string_view name) {
        const auto v = e.metric(name);
        if (!v || !std::isfinite(*v) || *v < 1) return std::nullopt;
        return static_cast<std::int64_t>(std::min(*v, static_cast<double>(kMaxLruCapacity)));
    }

    // Fills hashes_ with the chained hashes of the prompt's blocks (the last one may be partial)
    // and returns their number. produce and pre_request of one request hash the same bytes, so
    // the last input is kept: when it is the same, so are the hashes.
    std::size_t hash_prompt(const Request &request, std::size_t block_size) {
        const std::string_view prompt = request.prompt();
        const std::size_t block_bytes = block_size * 4;
        const std::size_t tokens = (prompt.size() + 3) / 4;
        const std::size_t blocks = std::min((tokens + block_size - 1) / block_size, max_blocks(block_size));
        const std::string_view hashed = prompt.substr(0, std::min(prompt.size(), blocks * block_bytes));
        if (block_size == hashed_block_size_ && request.model() == hashed_model_ &&
            hashed == std::string_view(hashed_bytes_))
            return blocks;
        hashed_block_size_ = block_size;
        hashed_model_.assign(request.model());
        hashed_bytes_.assign(hashed);
        hashes_.resize(blocks);
        // Seeded with the model, so that prompts of different models never share a block.
        std::uint64_t h = prefix_cache::chain(prefix_cache::kChainStart,
                                              prefix_cache::hash_tokens(hashed_model_.data(), hashed_model_.size()));
        for (std::size_t b = 0; b < blocks; ++b) {
            const std::size_t from = b * block_bytes;
            h = prefix_cache::chain(
                h, prefix_cache::hash_tokens(hashed.data() + from, std::min(block_bytes, hashed.size() - from)));
            hashes_[b] = h;
        }
        return blocks;
    }

    void record(const Endpoint &endpoint, std::size_t blocks) {
        Tracked &t = tracked_[track(endpoint)];
        for (std::size_t b = 0; b < blocks; ++b) t.lru.insert(hashes_[b]);  // in order, as upstream adds them
    }

    TrackedKey endpoint_key() const noexcept { return {&tracked_}; }

    std::uint32_t find_endpoint(std::uint64_t id) const noexcept { return endpoint_index_.find(id, endpoint_key()); }

    // The memory of `endpoint`, made on first use with upstream's capacity: its cacheNumBlocks
    // metric when auto-tuning, else lruCapacityPerServer.
    std::uint32_t track(const Endpoint &endpoint) {
        std::uint32_t t = find_endpoint(endpoint.id());
        if (t != prefix_cache::kNone) return t;
        std::uint32_t capacity = lru_capacity_;
        if (auto_tune_)
            if (const auto blocks = whole_metric(endpoint, "cacheNumBlocks"))
                capacity = static_cast<std::uint32_t>(*blocks);
        t = static_cast<std::uint32_t>(tracked_.size());
        tracked_.push_back({endpoint.id(), stamp_, prefix_cache::BlockLru(capacity)});
        if (tracked_.size() * 2 > endpoint_index_.slot_count()) rebuild_index();
        else endpoint_index_.insert(t, endpoint_key());
        return t;
    }

    // Drops the endpoints produce was not offered this time.
    void forget_unseen() {
        std::erase_if(tracked_, [&](const Tracked &t) { return t.seen != stamp_; });
        rebuild_index();
    }

    void rebuild_index() {
        std::size_t slots = 16;
        while (slots < tracked_.size() * 2) slots *= 2;
        endpoint_index_.reset(slots);
        for (std::uint32_t t = 0; t < tracked_.size(); ++t) endpoint_index_.insert(t, endpoint_key());
    }

    bool auto_tune_;
    std::int64_t block_size_tokens_ = kDefaultBlockSizeTokens;
    std::int64_t min_block_size_;
    std::int64_t max_prefix_tokens_;
    std::int64_t max_prefix_blocks_;
    std::uint32_t lru_capacity_ = kDefaultLruCapacity;
    Host host_;
    Attribute match_blocks_, total_blocks_, block_size_attr_, prompt_tokens_;

    std::size_t hashed_block_size_ = 0;
    std::string hashed_model_, hashed_bytes_;
    std::vector<std::uint64_t> hashes_;
    std::vector<Tracked> tracked_;
    prefix_cache::OpenIndex endpoint_index_;
    std::uint64_t stamp_ = 0;
    std::vector<std::pair<std::size_t, std::uint32_t>> present_;  // (position offered, tracked)
    std::vector<double> matches_;  // leading blocks held, by position offered (published as is)
};

inline constexpr Param kApproxPrefixCacheProducerParams[] = {
    {"autoTune", ParamType::boolean, "true",
     "Take the block size from the first endpoint's cacheBlockSize metric and each endpoint's LRU capacity from "
     "its cacheNumBlocks metric, when they report them."},
    {"blockSizeTokens", ParamType::integer, "16",
     "Tokens (of 4 prompt bytes) per block (0-1048576; > 0 unless autoTune); raised to minBlockSizeTokens."},
    {"blockSize", ParamType::integer, "0",
     "Deprecated: use blockSizeTokens. When > 0 and blockSizeTokens is 16, it becomes blockSizeTokens."},
    {"maxPrefixTokensToMatch", ParamType::integer, "131072",
     "Most leading prompt tokens to look up (0-2147483647); 0 defers to maxPrefixBlocksToMatch."},
    {"maxPrefixBlocksToMatch", ParamType::integer, "2048",
     "Deprecated: most leading blocks to look up when maxPrefixTokensToMatch is 0 (0-2147483647; 0: no limit)."},
    {"lruCapacityPerServer", ParamType::integer, "31250",
     "Block hashes remembered per endpoint (at most 16777216; 0 or less: 31250); the least recently used is "
     "evicted beyond it."},
    {"minBlockSizeTokens", ParamType::integer, "64",
     "plughost only: the smallest block size used, whatever is configured or reported (1-1048576)."},
};

inline constexpr Produces kApproxPrefixCacheProducerProduces[] = {
    {prefix_attributes::kMatchBlocks, AttributeScope::endpoint, AttributeType::number,
     "Leading blocks of the prompt the endpoint is believed to hold in its KV cache."},
    {prefix_attributes::kTotalBlocks, AttributeScope::request, AttributeType::number,
     "Blocks of the prompt looked up (the last one may be partial)."},
    {prefix_attributes::kBlockSizeTokens, AttributeScope::request, AttributeType::number,
     "Tokens per block, as used for this request."},
    {prefix_attributes::kPromptTokens, AttributeScope::request, AttributeType::number,
     "Prompt length in estimated tokens: bytes / 4, rounded up."},
};

inline constexpr Manifest kApproxPrefixCacheProducerManifest{
    .type = prefix_attributes::kProducerType,
    .role = Role::producer,
    .version = "1.0.0",
    .stability = Stability::beta,
    .feature_gate = "ApproxPrefixCacheProducer",
    .description = "Estimates how much of each request's prompt prefix every endpoint holds in its KV cache, "
                   "from where earlier requests went, and publishes it as prefix-cache.* attributes.",
    .parameters = kApproxPrefixCacheProducerParams,
    .produces = kApproxPrefixCacheProducerProduces,
};

}  // namespace plughost::plugins
