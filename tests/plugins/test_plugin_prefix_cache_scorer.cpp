// prefix-cache-scorer: chained block hashes, one LRU per endpoint fed by on_picked, the share of
// leading prompt blocks an endpoint holds as its score, and the hits/lookups counters.
#include "plugin_test_helpers.hpp"

#include <algorithm>
#include <list>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

using Scores = std::vector<double>;

namespace {

// One chosen endpoint with the given id, as the host passes it to the `picked` hook.
struct Chosen {
    explicit Chosen(std::uint64_t id) : set{{.name = "chosen-" + std::to_string(id), .id = id}} {}
    pt::EndpointSet set;
};

pt::EndpointSet three_endpoints() { return pt::EndpointSet{{.name = "a"}, {.name = "b"}, {.name = "c"}}; }

Scores scores_for(pt::PluginInstance &scorer, const std::string &prompt, const pt::EndpointSet &endpoints) {
    const auto scored = scorer.score(pt::RequestData({.prompt = prompt}), endpoints);
    REQUIRE_MESSAGE(scored.ok(), scored.message);
    return scored.value;
}

void picked(pt::PluginInstance &scorer, const std::string &prompt, const pt::EndpointSet &chosen) {
    const auto told = scorer.picked(pt::RequestData({.prompt = prompt}), chosen);
    REQUIRE(told.value);  // the plugin has the hook
    REQUIRE_MESSAGE(told.ok(), told.message);
}

double counter(const pt::PluginInstance &scorer, const std::string &name) {
    const auto it = scorer.counters().find(name);
    return it == scorer.counters().end() ? -1.0 : it->second;
}

// Distinct filler for block `i` of a prompt, `size` bytes.
std::string block(char c, std::size_t size) { return std::string(size, c); }

// An independent model of the documented behaviour: each endpoint remembers whole prefixes
// (the bytes, not hashes) in an LRU list, most recent first.
class ReferenceCache {
public:
    ReferenceCache(std::size_t block_size, std::size_t max_blocks, std::size_t capacity)
        : block_size_(block_size), max_blocks_(max_blocks), capacity_(capacity) {}

    double score(std::uint64_t id, const std::string &prompt) const {
        const auto prefixes = prefixes_of(prompt);
        if (prefixes.empty()) return 0.0;
        const auto it = lrus_.find(id);
        std::size_t held = 0;
        if (it != lrus_.end())
            while (held < prefixes.size() && holds(it->second, prefixes[held])) ++held;
        return static_cast<double>(held) / static_cast<double>(prefixes.size());
    }

    bool holds_first_block(std::uint64_t id, const std::string &prompt) const {
        const auto prefixes = prefixes_of(prompt);
        const auto it = lrus_.find(id);
        return !prefixes.empty() && it != lrus_.end() && holds(it->second, prefixes[0]);
    }

    void picked(std::uint64_t id, const std::string &prompt) {
        const auto prefixes = prefixes_of(prompt);
        if (prefixes.empty()) return;
        auto &lru = lrus_[id];
        for (auto p = prefixes.rbegin(); p != prefixes.rend(); ++p) {
            lru.remove(*p);
            lru.push_front(*p);
            if (lru.size() > capacity_) lru.pop_back();
        }
    }

private:
    std::vector<std::string> prefixes_of(const std::string &prompt) const {
        std::vector<std::string> out;
        for (std::size_t b = 0; b < max_blocks_ && (b + 1) * block_size_ <= prompt.size(); ++b)
            out.push_back(prompt.substr(0, (b + 1) * block_size_));
        return out;
    }
    static bool holds(const std::list<std::string> &lru, const std::string &prefix) {
        return std::find(lru.begin(), lru.end(), prefix) != lru.end();
    }

    std::size_t block_size_, max_blocks_, capacity_;
    std::map<std::uint64_t, std::list<std::string>> lrus_;
};

}  // namespace

TEST_CASE("prefix-cache-scorer declares a beta scorer behind PrefixCacheScorer with its defaults") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    const auto m = host_manifest(lib);
    CHECK(m.type == "prefix-cache-scorer");
    CHECK(m.role == host::Role::scorer);
    CHECK(m.stability == host::Stability::beta);
    CHECK(!m.thread_safe);  // per-instance state
    CHECK(m.feature_gate == "PrefixCacheScorer");
    REQUIRE(m.parameters.size() == 4);
    CHECK(default_of(m, "blockSize") == "64");
    CHECK(default_of(m, "maxPrefixBlocks") == "256");
    CHECK(default_of(m, "lruCapacityPerEndpoint") == "31250");
    CHECK(default_of(m, "maxTrackedEndpoints") == "1024");
    CHECK((lib.entry().picked != nullptr));
}

TEST_CASE("prefix-cache-scorer misses before on_picked and hits the chosen endpoint after it") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    auto scorer = make(lib);
    const auto endpoints = three_endpoints();
    const std::string prompt = block('p', 64) + block('q', 64) + block('r', 64) + block('s', 64);
    CHECK(scores_for(*scorer, prompt, endpoints) == Scores{0.0, 0.0, 0.0});
    picked(*scorer, prompt, Chosen(2).set);
    CHECK(scores_for(*scorer, prompt, endpoints) == Scores{0.0, 1.0, 0.0});
}

TEST_CASE("prefix-cache-scorer scores the share of leading blocks held") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    auto scorer = make(lib);
    const auto endpoints = three_endpoints();
    const std::string p = block('p', 64), q = block('q', 64), r = block('r', 64), s = block('s', 64);
    const std::string x = block('x', 64), y = block('y', 64), z = block('z', 64);
    picked(*scorer, p + q + r + s, Chosen(1).set);
    CHECK(scores_for(*scorer, p + q + x + y, endpoints) == Scores{2.0 / 4.0, 0.0, 0.0});
    CHECK(scores_for(*scorer, p + q + r + x + y + z, endpoints) == Scores{3.0 / 6.0, 0.0, 0.0});
    CHECK(scores_for(*scorer, p, endpoints) == Scores{1.0, 0.0, 0.0});
    CHECK(scores_for(*scorer, x + q + r + s, endpoints) == Scores{0.0, 0.0, 0.0});
}

TEST_CASE("prefix-cache-scorer counts only full blocks and scores 0 without one") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    auto scorer = make(lib);
    const auto endpoints = three_endpoints();
    const std::string head = block('h', 64);
    picked(*scorer, head + block('t', 36), Chosen(1).set);
    // the 36-byte tail was never a block: another tail changes nothing
    CHECK(scores_for(*scorer, head + block('u', 36), endpoints) == Scores{1.0, 0.0, 0.0});
    CHECK(scores_for(*scorer, head + block('u', 63), endpoints) == Scores{1.0, 0.0, 0.0});
    // with a second full block, it counts (and is not held)
    CHECK(scores_for(*scorer, head + block('u', 64), endpoints) == Scores{0.5, 0.0, 0.0});

    const std::string short_prompt = block('h', 63);
    picked(*scorer, short_prompt, Chosen(1).set);
    CHECK(scores_for(*scorer, short_prompt, endpoints) == Scores{0.0, 0.0, 0.0});
    CHECK(scores_for(*scorer, "", endpoints) == Scores{0.0, 0.0, 0.0});
}

TEST_CASE("prefix-cache-scorer chains block hashes so a block counts only after the same prefix") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    auto scorer = make(lib, R"({"blockSize": 4})");
    const auto endpoints = three_endpoints();
    // The endpoint saw block XXXX first and block YYYY second, but never after XXXX.
    picked(*scorer, "XXXXWWWW", Chosen(1).set);
    picked(*scorer, "ZZZZYYYY", Chosen(1).set);
    CHECK(scores_for(*scorer, "XXXXYYYY", endpoints) == Scores{0.5, 0.0, 0.0});
    CHECK(scores_for(*scorer, "YYYY", endpoints) == Scores{0.0, 0.0, 0.0});
    CHECK(scores_for(*scorer, "ZZZZYYYY", endpoints) == Scores{1.0, 0.0, 0.0});
}

TEST_CASE("prefix-cache-scorer hashes blocks of blockSize bytes, words and tail bytes alike") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    const auto endpoints = three_endpoints();
    // 11-byte blocks: one 8-byte word and a 3-byte tail; a difference in either is seen.
    auto scorer = make(lib, R"({"blockSize": 11})");
    const std::string prompt = "0123456789a"
                               "bcdefghijkl"
                               "mnopqrstuvw";
    picked(*scorer, prompt, Chosen(3).set);
    CHECK(scores_for(*scorer, prompt, endpoints) == Scores{0.0, 0.0, 1.0});
    CHECK(scores_for(*scorer,
                     "0123456789a"
                     "bcdefghijkX"
                     "mnopqrstuvw",
                     endpoints) == Scores{0.0, 0.0, 1.0 / 3.0});
    CHECK(scores_for(*scorer,
                     "0123456789a"
                     "Xcdefghijkl"
                     "mnopqrstuvw",
                     endpoints) == Scores{0.0, 0.0, 1.0 / 3.0});
    CHECK(scores_for(*scorer,
                     "0123456789a"
                     "bcdefghijkl",
                     endpoints) == Scores{0.0, 0.0, 1.0});

    // The default 64-byte blocks see no full block in 33 bytes.
    auto by_default = make(lib);
    picked(*by_default, prompt, Chosen(3).set);
    CHECK(scores_for(*by_default, prompt, endpoints) == Scores{0.0, 0.0, 0.0});
}

TEST_CASE("prefix-cache-scorer considers at most maxPrefixBlocks leading blocks") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    auto scorer = make(lib, R"({"blockSize": 4, "maxPrefixBlocks": 2})");
    const auto endpoints = three_endpoints();
    picked(*scorer, "aaaabbbbccccdddd", Chosen(1).set);
    CHECK(scores_for(*scorer, "aaaabbbbxxxxyyyy", endpoints) == Scores{1.0, 0.0, 0.0});
    CHECK(scores_for(*scorer, "aaaaxxxxccccdddd", endpoints) == Scores{0.5, 0.0, 0.0});
    CHECK(scores_for(*scorer, "aaaabbbbcccc", endpoints) == Scores{1.0, 0.0, 0.0});
}

TEST_CASE("prefix-cache-scorer evicts the least recently used blocks at lruCapacityPerEndpoint") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    auto scorer = make(lib, R"({"blockSize": 4, "lruCapacityPerEndpoint": 4})");
    const auto endpoints = three_endpoints();
    const Chosen a(1);
    picked(*scorer, "aaaabbbb", a.set);
    picked(*scorer, "ccccdddd", a.set);  // 4 blocks: full
    CHECK(scores_for(*scorer, "aaaabbbb", endpoints) == Scores{1.0, 0.0, 0.0});
    CHECK(scores_for(*scorer, "ccccdddd", endpoints) == Scores{1.0, 0.0, 0.0});
    picked(*scorer, "eeeeffff", a.set);  // evicts the oldest two: aaaabbbb's
    CHECK(scores_for(*scorer, "aaaabbbb", endpoints) == Scores{0.0, 0.0, 0.0});
    CHECK(scores_for(*scorer, "ccccdddd", endpoints) == Scores{1.0, 0.0, 0.0});
    CHECK(scores_for(*scorer, "eeeeffff", endpoints) == Scores{1.0, 0.0, 0.0});
    picked(*scorer, "ccccdddd", a.set);  // refreshed: now eeeeffff's blocks are the oldest
    picked(*scorer, "gggghhhh", a.set);
    CHECK(scores_for(*scorer, "eeeeffff", endpoints) == Scores{0.0, 0.0, 0.0});
    CHECK(scores_for(*scorer, "ccccdddd", endpoints) == Scores{1.0, 0.0, 0.0});
    CHECK(scores_for(*scorer, "gggghhhh", endpoints) == Scores{1.0, 0.0, 0.0});
}

TEST_CASE("prefix-cache-scorer keeps a prompt's leading blocks longest when the LRU overflows") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    const auto endpoints = three_endpoints();
    // A prompt longer than the LRU keeps its first blocks.
    auto small = make(lib, R"({"blockSize": 4, "lruCapacityPerEndpoint": 3})");
    picked(*small, "aaaabbbbccccdddd", Chosen(1).set);
    CHECK(scores_for(*small, "aaaabbbbccccdddd", endpoints) == Scores{0.75, 0.0, 0.0});

    // Eviction takes the later block of an older prompt first.
    auto other = make(lib, R"({"blockSize": 4, "lruCapacityPerEndpoint": 3})");
    picked(*other, "aaaabbbb", Chosen(1).set);
    picked(*other, "cccc", Chosen(1).set);
    picked(*other, "dddd", Chosen(1).set);
    CHECK(scores_for(*other, "aaaabbbb", endpoints) == Scores{0.5, 0.0, 0.0});
    CHECK(scores_for(*other, "cccc", endpoints) == Scores{1.0, 0.0, 0.0});
    CHECK(scores_for(*other, "dddd", endpoints) == Scores{1.0, 0.0, 0.0});
}

TEST_CASE("prefix-cache-scorer feeds every chosen endpoint") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    auto scorer = make(lib, R"({"blockSize": 4})");
    const auto endpoints = three_endpoints();
    pt::EndpointSet chosen{{.name = "c", .id = 3}, {.name = "a", .id = 1}};
    picked(*scorer, "aaaabbbb", chosen);
    CHECK(scores_for(*scorer, "aaaabbbb", endpoints) == Scores{1.0, 0.0, 1.0});
}

TEST_CASE(
    "prefix-cache-scorer counts lookups per request and hits when the first chosen endpoint held the first block") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    auto scorer = make(lib, R"({"blockSize": 4})");
    const std::string prompt = "aaaabbbbcccc";
    picked(*scorer, prompt, Chosen(1).set);  // nothing held yet
    CHECK(counter(*scorer, "lookups") == 1);
    CHECK(counter(*scorer, "hits") == 0);  // published, so the hit rate shows from the start

    picked(*scorer, prompt, Chosen(1).set);
    CHECK(counter(*scorer, "lookups") == 2);
    CHECK(counter(*scorer, "hits") == 1);

    pt::EndpointSet two_then_one{{.name = "b", .id = 2}, {.name = "a", .id = 1}};
    picked(*scorer, prompt, two_then_one);  // the first chosen (2) held nothing
    CHECK(counter(*scorer, "lookups") == 3);
    CHECK(counter(*scorer, "hits") == 1);

    picked(*scorer, "aaaaxxxx", Chosen(2).set);  // only the first block is held: still a hit
    CHECK(counter(*scorer, "lookups") == 4);
    CHECK(counter(*scorer, "hits") == 2);

    picked(*scorer, "aaa", Chosen(1).set);  // no full block: a lookup, never a hit
    pt::EndpointSet nobody{};
    picked(*scorer, prompt, nobody);
    CHECK(counter(*scorer, "lookups") == 6);
    CHECK(counter(*scorer, "hits") == 2);
}

TEST_CASE("prefix-cache-scorer forgets the endpoint seen least recently beyond maxTrackedEndpoints") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    auto scorer = make(lib, R"({"blockSize": 4, "maxTrackedEndpoints": 2})");
    const auto endpoints = three_endpoints();
    const std::string prompt = "aaaabbbb";
    picked(*scorer, prompt, Chosen(1).set);
    picked(*scorer, prompt, Chosen(2).set);
    CHECK(scores_for(*scorer, prompt, Chosen(2).set) == Scores{1.0});  // 2 seen after 1
    CHECK(scores_for(*scorer, prompt, Chosen(1).set) == Scores{1.0});  // 1 seen after 2
    picked(*scorer, prompt, Chosen(3).set);                            // a third endpoint: 2 is forgotten
    CHECK(scores_for(*scorer, prompt, endpoints) == Scores{1.0, 0.0, 1.0});
    picked(*scorer, prompt, Chosen(2).set);  // and comes back empty-handed, evicting 1 (seen before 3)
    CHECK(counter(*scorer, "hits") == 0);
    CHECK(scores_for(*scorer, prompt, endpoints) == Scores{0.0, 1.0, 1.0});

    auto roomy = make(lib, R"({"blockSize": 4})");  // 1024 by default
    for (std::uint64_t id = 1; id <= 3; ++id) picked(*roomy, prompt, Chosen(id).set);
    CHECK(scores_for(*roomy, prompt, endpoints) == Scores{1.0, 1.0, 1.0});
}

TEST_CASE("prefix-cache-scorer handles an empty endpoint list") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    auto scorer = make(lib);
    pt::EndpointSet none{};
    const auto scored = scorer->score(pt::RequestData({.prompt = std::string(128, 'x')}), none);
    CHECK(scored.ok());
    CHECK(scored.value.empty());
}

TEST_CASE("prefix-cache-scorer matches an independent model over many requests with eviction") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    // Small blocks, a small LRU and few distinct blocks: prefixes are shared a lot and the LRUs
    // churn, which exercises lookups, refreshes and evictions on every request.
    auto scorer = make(lib, R"({"blockSize": 4, "maxPrefixBlocks": 6, "lruCapacityPerEndpoint": 20})");
    ReferenceCache model(4, 6, 20);
    pt::EndpointSet endpoints{{.name = "a"}, {.name = "b"}, {.name = "c"}, {.name = "d"}};
    const std::vector<std::string> blocks = {"abcd", "efgh", "ijkl"};
    std::mt19937 rng(20240611);
    double hits = 0;
    for (int request = 0; request < 3000; ++request) {
        std::string prompt;
        const std::size_t length = rng() % 9;
        for (std::size_t b = 0; b < length; ++b) prompt += blocks[rng() % blocks.size()];
        prompt += std::string(rng() % 4, 'z');  // never a full block

        const Scores scores = scores_for(*scorer, prompt, endpoints);
        for (std::uint64_t id = 1; id <= 4; ++id) {
            CAPTURE(request);
            CAPTURE(id);
            REQUIRE(scores[id - 1] == model.score(id, prompt));
        }
        const std::uint64_t first = 1 + rng() % 4;
        const std::uint64_t second = 1 + rng() % 4;
        const bool two = rng() % 3 == 0 && second != first;
        pt::EndpointSet chosen = two ? pt::EndpointSet{{.name = "x", .id = first}, {.name = "y", .id = second}}
                                     : pt::EndpointSet{{.name = "x", .id = first}};
        if (model.holds_first_block(first, prompt)) ++hits;
        picked(*scorer, prompt, chosen);
        model.picked(first, prompt);
        if (two) model.picked(second, prompt);
    }
    CHECK(counter(*scorer, "lookups") == 3000);
    CHECK(counter(*scorer, "hits") == hits);
    CHECK(hits > 0);
}

TEST_CASE("prefix-cache-scorer rejects invalid parameters with precise messages") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    check_rejected(lib, R"({"blockSize": 0})", "parameter 'blockSize': expected a value in [1, 1048576], found 0");
    check_rejected(lib, R"({"blockSize": 1048577})",
                   "parameter 'blockSize': expected a value in [1, 1048576], found 1048577");
    check_rejected(lib, R"({"maxPrefixBlocks": 0})",
                   "parameter 'maxPrefixBlocks': expected a value in [1, 65536], found 0");
    check_rejected(lib, R"({"maxPrefixBlocks": 65537})",
                   "parameter 'maxPrefixBlocks': expected a value in [1, 65536], found 65537");
    check_rejected(lib, R"({"lruCapacityPerEndpoint": 0})",
                   "parameter 'lruCapacityPerEndpoint': expected a value in [1, 16777216], found 0");
    check_rejected(lib, R"({"lruCapacityPerEndpoint": 16777217})",
                   "parameter 'lruCapacityPerEndpoint': expected a value in [1, 16777216], found 16777217");
    check_rejected(lib, R"({"maxTrackedEndpoints": 0})",
                   "parameter 'maxTrackedEndpoints': expected a value in [1, 65536], found 0");
    check_rejected(lib, R"({"maxTrackedEndpoints": 65537})",
                   "parameter 'maxTrackedEndpoints': expected a value in [1, 65536], found 65537");
    check_rejected(lib, R"({"blockSize": "64"})", "parameter 'blockSize': expected integer, found string \"64\"");
    check_rejected(lib, R"({"block_size": 64})",
                   "unknown parameter 'block_size'; known parameters: blockSize, maxPrefixBlocks, "
                   "lruCapacityPerEndpoint, maxTrackedEndpoints");
}
