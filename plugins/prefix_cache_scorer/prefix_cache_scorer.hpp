// prefix-cache-scorer (beta): prefers endpoints that probably hold the request's prompt prefix
// in their KV cache, judged from where this instance sent earlier requests.
#pragma once

#include <plughost/plugin.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
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

/// Hash of one block's bytes. Four independent lanes take every fourth 8-byte word, so the
/// multiplications of a block (and of consecutive blocks) overlap instead of forming one long
/// dependency chain; the tail bytes go into a lane of their own.
inline std::uint64_t hash_bytes(const char *data, std::size_t size) noexcept {
    std::uint64_t a = kChainStart ^ size, b = kGolden, c = kMixB, d = kMixA;
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
        b = absorb(b, tail);
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

class PrefixCacheScorer {
    struct Tracked {
        std::uint64_t id;
        std::uint64_t last_used;
        prefix_cache::BlockLru lru;
    };
    struct TrackedKey {
        const std::vector<Tracked> *tracked;
        std::uint64_t operator()(std::uint32_t t) const noexcept { return (*tracked)[t].id; }
    };

public:
    PrefixCacheScorer(const Params &params, Host host)
        : block_size_(static_cast<std::size_t>(params.get_in_range<std::int64_t>("blockSize", 1, 1 << 20))),
          max_blocks_(static_cast<std::size_t>(params.get_in_range<std::int64_t>("maxPrefixBlocks", 1, 1 << 16))),
          capacity_(
              static_cast<std::uint32_t>(params.get_in_range<std::int64_t>("lruCapacityPerEndpoint", 1, 1 << 24))),
          max_tracked_(static_cast<std::size_t>(params.get_in_range<std::int64_t>("maxTrackedEndpoints", 1, 1 << 16))),
          host_(std::move(host)) {
        tracked_.reserve(max_tracked_);
        std::size_t slots = 2;
        while (slots < 2 * max_tracked_) slots *= 2;
        endpoint_index_.reset(slots);
    }

    /// (leading prompt blocks the endpoint holds) / (prompt blocks considered); 0 when the
    /// prompt has no full block or the endpoint was never picked.
    void score(const Request &request, Endpoints endpoints, std::span<double> scores) {
        const std::size_t blocks = hash_prompt(request.prompt());
        for (std::size_t i = 0; i < endpoints.size(); ++i) {
            scores[i] = 0.0;
            const std::uint32_t t = find_endpoint(endpoints[i].id());
            if (t == prefix_cache::kNone) continue;
            tracked_[t].last_used = ++clock_;  // still offered: keep its state over vanished ones
            if (blocks == 0) continue;
            std::size_t held = 0;
            while (held < blocks && tracked_[t].lru.contains(hashes_[held])) ++held;
            scores[i] = static_cast<double>(held) / static_cast<double>(blocks);
        }
    }

    /// Records that the chosen endpoints now hold this prompt's blocks, and counts whether the
    /// first of them already held its first block.
    void on_picked(const Request &request, Endpoints chosen) {
        const std::size_t blocks = hash_prompt(request.prompt());
        bool hit = false;
        if (blocks > 0 && !chosen.empty()) {
            const std::uint32_t t = find_endpoint(chosen[0].id());
            hit = t != prefix_cache::kNone && tracked_[t].lru.contains(hashes_[0]);
        }
        host_.count("lookups", 1.0);
        host_.count("hits", hit ? 1.0 : 0.0);  // 0 too, so the counter (and hit rate) always shows
        if (blocks == 0) return;
        for (const Endpoint e : chosen) {
            Tracked &t = tracked_[track(e.id())];
            t.last_used = ++clock_;
            // Last block first: the first blocks end up most recent and are evicted last, as
            // a longer prefix is worth nothing once a block before it is gone.
            for (std::size_t b = blocks; b-- > 0;) t.lru.insert(hashes_[b]);
        }
    }

private:
    // Fills hashes_ with the chained hashes of the prompt's full blocks, at most max_blocks_,
    // and returns their number. The host calls on_picked right after score for the same
    // request, so the bytes hashed last are kept: when they are the same, so are the hashes.
    // Both buffers grow only up to the largest prompt prefix seen (at most max_blocks_ blocks).
    std::size_t hash_prompt(std::string_view prompt) {
        const std::size_t blocks = std::min(prompt.size() / block_size_, max_blocks_);
        const std::string_view hashed = prompt.substr(0, blocks * block_size_);
        if (hashed == std::string_view(hashed_bytes_)) return blocks;
        hashed_bytes_.assign(hashed);
        hashes_.resize(blocks);
        std::uint64_t h = prefix_cache::kChainStart;
        for (std::size_t b = 0; b < blocks; ++b) {
            h = prefix_cache::chain(h, prefix_cache::hash_bytes(prompt.data() + b * block_size_, block_size_));
            hashes_[b] = h;
        }
        return blocks;
    }

    TrackedKey endpoint_key() const noexcept { return {&tracked_}; }

    std::uint32_t find_endpoint(std::uint64_t id) const noexcept { return endpoint_index_.find(id, endpoint_key()); }

    // The state of endpoint `id`, made on first use; at the limit, the state of the endpoint
    // seen least recently is dropped and its memory reused.
    std::uint32_t track(std::uint64_t id) {
        std::uint32_t t = find_endpoint(id);
        if (t != prefix_cache::kNone) return t;
        if (tracked_.size() < max_tracked_) {
            t = static_cast<std::uint32_t>(tracked_.size());
            tracked_.push_back({id, 0, prefix_cache::BlockLru(capacity_)});
        } else {
            t = 0;
            for (std::uint32_t i = 1; i < tracked_.size(); ++i)
                if (tracked_[i].last_used < tracked_[t].last_used) t = i;
            endpoint_index_.erase(t, endpoint_key());
            tracked_[t].id = id;
            tracked_[t].lru.clear();
        }
        endpoint_index_.insert(t, endpoint_key());
        return t;
    }

    std::size_t block_size_;
    std::size_t max_blocks_;
    std::uint32_t capacity_;
    std::size_t max_tracked_;
    Host host_;
    std::string hashed_bytes_;
    std::vector<std::uint64_t> hashes_;
    std::vector<Tracked> tracked_;
    prefix_cache::OpenIndex endpoint_index_;
    std::uint64_t clock_ = 0;
};

inline constexpr Param kPrefixCacheScorerParams[] = {
    {"blockSize", ParamType::integer, "64",
     "Bytes per prompt block (1-1048576); only full blocks count, so shorter prompts score 0."},
    {"maxPrefixBlocks", ParamType::integer, "256", "Most leading blocks of a prompt to consider (1-65536)."},
    {"lruCapacityPerEndpoint", ParamType::integer, "31250",
     "Block hashes remembered per endpoint (1-16777216); the least recently used is evicted beyond it."},
    {"maxTrackedEndpoints", ParamType::integer, "1024",
     "Endpoints with remembered blocks (1-65536); beyond it the endpoint seen least recently is forgotten."},
};

inline constexpr Manifest kPrefixCacheScorerManifest{
    .type = "prefix-cache-scorer",
    .role = Role::scorer,
    .version = "1.0.0",
    .stability = Stability::beta,
    .feature_gate = "PrefixCacheScorer",
    .description = "Prefers endpoints this instance already sent the same prompt prefix to: scores the share of "
                   "leading prompt blocks found in a per-endpoint LRU of block hashes.",
    .parameters = kPrefixCacheScorerParams,
};

}  // namespace plughost::plugins
