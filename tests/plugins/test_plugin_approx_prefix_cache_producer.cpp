// approx-prefix-cache-producer: prompts as 4-byte tokens cut into blocks, chained block hashes
// seeded with the model, one LRU per endpoint fed in pre_request, and the prefix-cache.*
// attributes it publishes. Most cases are upstream llm-d-router's own (each cites its file);
// upstream's tests give token ids, which this plugin reads as 4 little-endian prompt bytes each,
// so tokens({1, 2}) is the prompt upstream's estimate tokenizer turns into the tokens [1, 2].
#include "plugin_test_helpers.hpp"

#include <algorithm>
#include <list>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

namespace {

const char *const kMatch = "prefix-cache.match-blocks";
const char *const kTotal = "prefix-cache.total-blocks";
const char *const kBlockSize = "prefix-cache.block-size-tokens";
const char *const kPromptTokens = "prefix-cache.prompt-tokens";

// Upstream's tests turn off the 64-token minimum block size (disableMinBlockSizeClamp);
// plughost's minBlockSizeTokens parameter does the same through the real entry.
const std::string kOneTokenBlocks = R"({"autoTune": false, "blockSizeTokens": 1, "minBlockSizeTokens": 1})";

// The prompt whose estimated tokens are `ids`: each as 4 little-endian bytes.
std::string tokens(const std::vector<std::uint32_t> &ids) {
    std::string out;
    for (std::uint32_t id : ids)
        for (int b = 0; b < 4; ++b) out.push_back(static_cast<char>((id >> (8 * b)) & 0xff));
    return out;
}

std::vector<std::uint32_t> range(std::uint32_t from, std::uint32_t to) {
    std::vector<std::uint32_t> out;
    for (std::uint32_t i = from; i <= to; ++i) out.push_back(i);
    return out;
}

struct Produced {
    std::vector<double> match;  // per endpoint; -1 when not published
    double total = -1, block_size = -1, prompt_tokens = -1;
};

// Runs produce over `endpoints` and reads what it published.
Produced produce(pt::PluginInstance &producer, const pt::RequestData &request, const pt::EndpointSet &endpoints) {
    producer.clear_attributes();
    const auto done = producer.produce(request, endpoints);
    REQUIRE_MESSAGE(done.ok(), done.message);
    Produced out;
    for (std::size_t i = 0; i < endpoints.size(); ++i)
        out.match.push_back(producer.attribute_number(kMatch, endpoints.at(i)).value_or(-1));
    out.total = producer.attribute_number(kTotal, nullptr).value_or(-1);
    out.block_size = producer.attribute_number(kBlockSize, nullptr).value_or(-1);
    out.prompt_tokens = producer.attribute_number(kPromptTokens, nullptr).value_or(-1);
    return out;
}

// One scheduling cycle as the host runs it: produce, then pre_request with the primary pick
// `primary` and, when given, the "prefill" extra.
Produced schedule(pt::PluginInstance &producer, const pt::RequestData &request, const pt::EndpointSet &endpoints,
                  std::size_t primary, std::optional<std::size_t> prefill = std::nullopt) {
    Produced out = produce(producer, request, endpoints);
    std::vector<std::pair<std::string, std::size_t>> extras;
    if (prefill) extras.emplace_back("prefill", *prefill);
    const pt::DecisionData decision(prefill ? "decode" : "default", endpoints, {primary}, extras);
    const auto told = producer.pre_request(request, decision);
    REQUIRE(told.value);  // the plugin has the hook
    REQUIRE_MESSAGE(told.ok(), told.message);
    return out;
}

pt::RequestData request_for(const std::string &prompt, const std::string &model = "test-model1") {
    return pt::RequestData({.model = model, .prompt = prompt});
}

pt::EndpointSet pods(std::size_t n) {
    std::vector<pt::EndpointSpec> specs;
    for (std::size_t i = 1; i <= n; ++i) specs.push_back({.name = "pod" + std::to_string(i)});
    return pt::EndpointSet(specs);
}

double counter(const pt::PluginInstance &p, const std::string &name) {
    const auto it = p.counters().find(name);
    return it == p.counters().end() ? -1.0 : it->second;
}

}  // namespace

TEST_CASE("approx-prefix-cache-producer declares a beta producer of the prefix-cache attributes, with upstream's "
          "parameters") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    const auto m = host_manifest(lib);
    CHECK(m.type == "approx-prefix-cache-producer");
    CHECK(m.role == host::Role::producer);
    CHECK(m.stability == host::Stability::beta);  // upstream registers it as Beta
    CHECK(m.feature_gate == "ApproxPrefixCacheProducer");
    CHECK(!m.thread_safe);
    // Upstream's names and defaults (types.go).
    CHECK(default_of(m, "autoTune") == "true");
    CHECK(default_of(m, "blockSizeTokens") == "16");
    CHECK(default_of(m, "blockSize") == "0");
    CHECK(default_of(m, "maxPrefixTokensToMatch") == "131072");
    CHECK(default_of(m, "maxPrefixBlocksToMatch") == "2048");
    CHECK(default_of(m, "lruCapacityPerServer") == "31250");
    CHECK(default_of(m, "minBlockSizeTokens") == "64");  // plughost's: upstream's minBlockSizeTokens constant
    REQUIRE(m.produces.size() == 4);
    std::map<std::string, host::AttributeScope> scopes;
    for (const auto &a : m.produces) scopes[a.name] = a.scope;
    CHECK(scopes.at(kMatch) == host::AttributeScope::endpoint);
    CHECK(scopes.at(kTotal) == host::AttributeScope::request);
    CHECK(scopes.at(kBlockSize) == host::AttributeScope::request);
    CHECK(scopes.at(kPromptTokens) == host::AttributeScope::request);
    CHECK((lib.entry().produce != nullptr));
    CHECK((lib.entry().pre_request != nullptr));
}

// ---- upstream: pkg/epp/framework/plugins/requestcontrol/dataproducer/approximateprefix/plugin_test.go ----

TEST_CASE("upstream TestProduce: an empty index matches nothing, every endpoint gets match 0 of total 2") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    auto producer = make(lib, kOneTokenBlocks);
    const auto endpoints = pods(2);
    const auto p = produce(*producer, request_for(tokens({1, 2})), endpoints);
    CHECK(p.match == std::vector<double>{0, 0});
    CHECK(p.total == 2);
    CHECK(p.block_size == 1);
    CHECK(p.prompt_tokens == 2);
}

TEST_CASE("upstream TestPreRequest/Basic cache update: the primary pick holds every block afterwards") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    auto producer = make(lib, kOneTokenBlocks);
    const auto endpoints = pods(2);
    schedule(*producer, request_for(tokens({1, 2})), endpoints, 0);
    const auto p = produce(*producer, request_for(tokens({1, 2})), endpoints);
    CHECK(p.match == std::vector<double>{2, 0});
}

TEST_CASE("upstream TestPreRequest/Respects LRUCapacityPerServer: the oldest block is evicted") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    auto producer =
        make(lib, R"({"autoTune": false, "blockSizeTokens": 1, "minBlockSizeTokens": 1, "lruCapacityPerServer": 2})");
    const auto endpoints = pods(1);
    for (std::uint32_t t : {1u, 2u, 3u}) schedule(*producer, request_for(tokens({t})), endpoints, 0);
    CHECK(produce(*producer, request_for(tokens({1})), endpoints).match == std::vector<double>{0});
    CHECK(produce(*producer, request_for(tokens({2})), endpoints).match == std::vector<double>{1});
    CHECK(produce(*producer, request_for(tokens({3})), endpoints).match == std::vector<double>{1});
}

TEST_CASE("upstream TestDataProducerValidation: blockSizeTokens must be > 0 unless autoTune") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    make(lib, R"({"autoTune": false, "blockSizeTokens": 1})");
    make(lib, R"({"autoTune": false, "blockSize": 1, "blockSizeTokens": 1})");
    make(lib, R"({"autoTune": true, "blockSizeTokens": 0})");
    check_rejected(lib, R"({"autoTune": false, "blockSize": 1, "blockSizeTokens": 0})",
                   "parameter 'blockSizeTokens': expected a value > 0 when autoTune is false, found 0");
    check_rejected(lib, R"({"autoTune": false, "blockSizeTokens": 0})",
                   "parameter 'blockSizeTokens': expected a value > 0 when autoTune is false, found 0");
}

TEST_CASE("upstream TestPrefixPluginPartialPrefixMatch: the primary pick and the prefill extra both learn") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    auto producer = make(lib, kOneTokenBlocks);
    const auto endpoints = pods(3);
    schedule(*producer, request_for(tokens({1, 2})), endpoints, 0, 2);  // primary pod1, prefill pod3
    const auto p = produce(*producer, request_for(tokens({1, 3})), endpoints);
    CHECK(p.match == std::vector<double>{1, 0, 1});
    CHECK(p.total == 2);
}

TEST_CASE("upstream TestPrefixPluginPrefixGrowth: a longer prompt matches the blocks of its shorter prefix") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    auto producer = make(lib, R"({"autoTune": false, "blockSizeTokens": 2, "minBlockSizeTokens": 1})");
    const auto endpoints = pods(2);
    const auto first = schedule(*producer, request_for(tokens(range(1, 6))), endpoints, 0);
    const auto grown = produce(*producer, request_for(tokens(range(1, 12))), endpoints);
    CHECK(grown.total > first.total);
    CHECK(grown.total == 6);
    CHECK(grown.match[0] > 0);
    CHECK(grown.match == std::vector<double>{3, 0});
}

TEST_CASE("upstream TestPrefixPluginAutoTune: block size and LRU capacity come from the endpoint's metrics") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    auto producer = make(lib, R"({"autoTune": true, "blockSizeTokens": 256, "lruCapacityPerServer": 1})");
    const pt::EndpointSet endpoints{{.name = "pod1", .metrics = {{"cacheBlockSize", 128}, {"cacheNumBlocks", 1000}}}};
    const auto request = request_for(tokens(range(1, 192)));
    const auto p = schedule(*producer, request, endpoints, 0);
    CHECK(p.block_size == 128);
    CHECK(p.total == 2);  // 192 tokens in blocks of 128
    // Capacity 1000 (the metric), not 1 (lruCapacityPerServer): both blocks stay.
    CHECK(produce(*producer, request, endpoints).match == std::vector<double>{2});
}

TEST_CASE("upstream TestMaxPrefixTokensToMatch and TestMaxPrefixBothCapsZeroMatchesEverything") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    const auto endpoints = pods(1);
    const auto request = request_for(tokens({1, 2, 3, 4}));
    auto tokens_cap =
        make(lib, R"({"autoTune": false, "blockSizeTokens": 1, "minBlockSizeTokens": 1, "maxPrefixTokensToMatch": 2})");
    CHECK(produce(*tokens_cap, request, endpoints).total == 2);
    auto blocks_cap = make(lib, R"({"autoTune": false, "blockSizeTokens": 1, "minBlockSizeTokens": 1,
                                    "maxPrefixTokensToMatch": 0, "maxPrefixBlocksToMatch": 3})");
    CHECK(produce(*blocks_cap, request, endpoints).total == 3);
    auto unlimited = make(lib, R"({"autoTune": false, "blockSizeTokens": 1, "minBlockSizeTokens": 1,
                                   "maxPrefixTokensToMatch": 0, "maxPrefixBlocksToMatch": 0})");
    CHECK(produce(*unlimited, request, endpoints).total == 4);
    // A token cap below the block size hashes nothing (upstream: a misconfiguration, not "unlimited").
    auto below = make(lib, R"({"autoTune": false, "blockSizeTokens": 4, "minBlockSizeTokens": 1,
                               "maxPrefixTokensToMatch": 3})");
    CHECK(produce(*below, request, endpoints).total == 0);
}

TEST_CASE("upstream TestGetBlockSize_*: every block size below 64 tokens is raised to 64") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    const pt::EndpointSet small_metric{{.name = "pod1", .metrics = {{"cacheBlockSize", 16}}}};
    const pt::EndpointSet large_metric{{.name = "pod1", .metrics = {{"cacheBlockSize", 128}}}};
    const pt::EndpointSet no_metric{{.name = "pod1"}};
    const auto request = request_for("x");
    auto tuned = make(lib, R"({"autoTune": true, "blockSizeTokens": 16})");
    CHECK(produce(*tuned, request, small_metric).block_size == 64);   // AutotuneClampsBelowMinimum
    CHECK(produce(*tuned, request, large_metric).block_size == 128);  // AutotuneAboveMinimumPassesThrough
    CHECK(produce(*tuned, request, no_metric).block_size == 64);      // AutotuneFallbackClampsLowConfig
    // NewDataProducer_AcceptsLowManualBlockSize, ManualConfigClampedBelowMinimum; the override is said.
    auto manual = make(lib, R"({"autoTune": false, "blockSizeTokens": 32})");
    CHECK(produce(*manual, request, large_metric).block_size == 64);
    CHECK(std::any_of(manual->logs().begin(), manual->logs().end(), [](const auto &l) {
        return l.level == PLUGHOST_LOG_INFO && contains(l.text, "blockSizeTokens 32 is below minBlockSizeTokens 64");
    }));
    // The default configuration: 16 tokens, raised to 64.
    auto defaults = make(lib);
    CHECK(produce(*defaults, request, no_metric).block_size == 64);
}

TEST_CASE("upstream TestFactory_RejectsUnknownField and TestFactory_DeprecatedBlockSizeMapped") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    const auto made = lib.create("bad", R"({"unknownField": "value"})");
    CHECK(made.status == PLUGHOST_INVALID_ARGUMENT);
    CHECK(contains(made.message, "unknownField"));

    auto mapped = make(lib, R"({"autoTune": false, "blockSize": 24, "minBlockSizeTokens": 1})");
    CHECK(produce(*mapped, request_for("x"), pods(1)).block_size == 24);
    CHECK(std::any_of(mapped->logs().begin(), mapped->logs().end(), [](const auto &l) {
        return l.level == PLUGHOST_LOG_WARN && contains(l.text, "'blockSize' is deprecated");
    }));
    // As upstream: blockSizeTokens changed from its default wins over the deprecated name.
    auto explicit_size = make(lib, R"({"autoTune": false, "blockSize": 24, "blockSizeTokens": 8,
                                       "minBlockSizeTokens": 1})");
    CHECK(produce(*explicit_size, request_for("x"), pods(1)).block_size == 8);
}

TEST_CASE("upstream TestPrefixPluginTokenizedRequest and TestPrefixPluginMatchesSameTokens") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    auto producer = make(lib, kOneTokenBlocks);
    const auto p = produce(*producer, request_for(tokens({10, 20, 30, 40})), pods(1));
    CHECK(p.total == 4);
    CHECK(p.match == std::vector<double>{0});

    // The same 8 tokens twice, with the 64-token minimum in force: the same (single) block hash.
    auto clamped = make(lib, R"({"autoTune": false, "blockSizeTokens": 1})");
    const auto request = request_for(tokens(range(1, 8)));
    const auto first = schedule(*clamped, request, pods(1), 0);
    CHECK(first.total == 1);
    CHECK(produce(*clamped, request_for(tokens(range(1, 8))), pods(1)).match == std::vector<double>{1});
}

// ---- upstream: pkg/epp/framework/plugins/requestcontrol/dataproducer/approximateprefix/indexer_test.go ----

TEST_CASE("upstream TestIndexer_AddAndGet: the endpoint's cacheNumBlocks caps its LRU below the configured "
          "capacity") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    auto producer = make(lib, R"({"autoTune": true, "blockSizeTokens": 1, "minBlockSizeTokens": 1,
                                  "lruCapacityPerServer": 3})");
    const pt::EndpointSet endpoints{{.name = "server1", .metrics = {{"cacheNumBlocks", 2}}}};
    for (std::uint32_t t : {1u, 2u, 3u}) schedule(*producer, request_for(tokens({t})), endpoints, 0);
    CHECK(produce(*producer, request_for(tokens({1})), endpoints).match == std::vector<double>{0});
    CHECK(produce(*producer, request_for(tokens({2})), endpoints).match == std::vector<double>{1});
    CHECK(produce(*producer, request_for(tokens({3})), endpoints).match == std::vector<double>{1});
    CHECK(produce(*producer, request_for(tokens({4})), endpoints).match == std::vector<double>{0});
}

TEST_CASE("upstream TestIndexer_RemovePodAndEviction: eviction is per endpoint, and a removed endpoint is "
          "forgotten") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    auto producer =
        make(lib, R"({"autoTune": false, "blockSizeTokens": 1, "minBlockSizeTokens": 1, "lruCapacityPerServer": 10})");
    const pt::EndpointSet both{{.name = "server1", .id = 1}, {.name = "server2", .id = 2}};
    for (std::uint32_t t = 0; t < 10; ++t) schedule(*producer, request_for(tokens({t})), both, 0, 1);
    schedule(*producer, request_for(tokens({10})), both, 0);  // server1 only: its oldest block goes
    CHECK(produce(*producer, request_for(tokens({0})), both).match == std::vector<double>{0, 1});
    CHECK(produce(*producer, request_for(tokens({1})), both).match == std::vector<double>{1, 1});
    // server2 leaves the pool: produce is offered every live endpoint, and it is not among them.
    const pt::EndpointSet only_first{{.name = "server1", .id = 1}};
    produce(*producer, request_for(tokens({5})), only_first);
    CHECK(produce(*producer, request_for(tokens({0})), both).match == std::vector<double>{0, 0});
    CHECK(produce(*producer, request_for(tokens({5})), both).match == std::vector<double>{1, 0});
}

// ---- upstream: pkg/epp/framework/plugins/requestcontrol/dataproducer/prefixhash/hashing_test.go ----

TEST_CASE("upstream TestGetKVCacheBlocksFromTokens and TestGetBlockHashes: the trailing partial block counts") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    auto four = make(lib, R"({"autoTune": false, "blockSizeTokens": 4, "minBlockSizeTokens": 1})");
    const auto endpoints = pods(1);
    CHECK(produce(*four, request_for(tokens(range(1, 8))), endpoints).total == 2);   // EvenSplit
    CHECK(produce(*four, request_for(tokens(range(1, 10))), endpoints).total == 3);  // TrailingPartialBlock
    const auto empty = produce(*four, request_for(""), endpoints);                   // EmptyTokens
    CHECK(empty.total == 0);
    CHECK(empty.match == std::vector<double>{0});
    CHECK(empty.prompt_tokens == 0);
    // A partial block matches only the same partial block: [9, 10] is not [9, 10, 11].
    schedule(*four, request_for(tokens(range(1, 10))), endpoints, 0);
    CHECK(produce(*four, request_for(tokens(range(1, 10))), endpoints).match == std::vector<double>{3});
    CHECK(produce(*four, request_for(tokens(range(1, 11))), endpoints).match == std::vector<double>{2});
}

TEST_CASE("upstream TestKVCacheBlock_Hash: equal blocks hash equal, different blocks differ") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    auto producer = make(lib, R"({"autoTune": false, "blockSizeTokens": 2, "minBlockSizeTokens": 1})");
    const auto endpoints = pods(1);
    schedule(*producer, request_for(tokens({1, 2})), endpoints, 0);
    CHECK(produce(*producer, request_for(tokens({1, 2})), endpoints).match == std::vector<double>{1});
    CHECK(produce(*producer, request_for(tokens({1, 3})), endpoints).match == std::vector<double>{0});
}

TEST_CASE("upstream TestGetBlockHashesCacheSalt, for the model seed: the same tokens of another model share "
          "nothing") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    auto producer = make(lib, R"({"autoTune": false, "blockSizeTokens": 2, "minBlockSizeTokens": 1})");
    const auto endpoints = pods(1);
    schedule(*producer, request_for(tokens({1, 2, 3, 4}), "m"), endpoints, 0);
    const auto same = produce(*producer, request_for(tokens({1, 2, 3, 4}), "m"), endpoints);
    const auto other = produce(*producer, request_for(tokens({1, 2, 3, 4}), "m2"), endpoints);
    CHECK(same.total == other.total);
    CHECK(same.match == std::vector<double>{2});
    CHECK(other.match == std::vector<double>{0});
    CHECK(produce(*producer, request_for(tokens({1, 2, 3, 4}), ""), endpoints).match == std::vector<double>{0});
}

// ---- plughost's own cases ----

TEST_CASE("approx-prefix-cache-producer reads bytes as upstream's estimate tokenizer packs them: 4 per token, "
          "the last zero-padded") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    auto producer = make(lib, R"({"autoTune": false, "blockSizeTokens": 2, "minBlockSizeTokens": 1})");
    const auto endpoints = pods(1);
    const auto p = produce(*producer, request_for("abcdefghijk"), endpoints);  // 11 bytes: 3 tokens, 2 blocks
    CHECK(p.prompt_tokens == 3);
    CHECK(p.total == 2);
    schedule(*producer, request_for("abcdefghijk"), endpoints, 0);
    CHECK(produce(*producer, request_for(std::string("abcdefghijk\0", 12)), endpoints).match == std::vector<double>{2});
    CHECK(produce(*producer, request_for("abcdefghijkl"), endpoints).match == std::vector<double>{1});
    // Every padding length of the last word hashes as its padded token does.
    for (std::size_t size = 1; size <= 40; ++size) {
        CAPTURE(size);
        auto fresh = make(lib, R"({"autoTune": false, "blockSizeTokens": 3, "minBlockSizeTokens": 1})");
        const std::string prompt(size, 'q');
        schedule(*fresh, request_for(prompt), endpoints, 0);
        const auto padded = produce(*fresh, request_for(prompt + std::string((4 - size % 4) % 4, '\0')), endpoints);
        CHECK(padded.match[0] == padded.total);
        const auto longer = produce(*fresh, request_for(prompt + "q"), endpoints);
        CHECK(longer.match[0] == longer.total - 1);  // only the last block differs
    }
}

TEST_CASE("approx-prefix-cache-producer sees a chat request as its rendered prompt: a shared system message "
          "matches") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    auto producer = make(lib, R"({"autoTune": false, "blockSizeTokens": 4, "minBlockSizeTokens": 1})");
    const auto endpoints = pods(2);
    const std::string system(160, 's');  // "system: " + 160 bytes + "\n": 169 bytes, 2 whole blocks of 16 bytes
    const pt::RequestData first({.model = "m", .messages = {{"system", system}, {"user", "What is a KV cache?"}}});
    schedule(*producer, first, endpoints, 1);
    const pt::RequestData second({.model = "m", .messages = {{"system", system}, {"user", "And a LoRA adapter?"}}});
    const auto p = produce(*producer, second, endpoints);
    CHECK(p.prompt_tokens == (169 + 26 + 3) / 4);  // "user: And a LoRA adapter?\n" is 26 bytes
    CHECK(p.match[0] == 0);
    CHECK(p.match[1] == 10);  // 169 shared bytes: 10 whole blocks of 16 bytes
}

TEST_CASE("approx-prefix-cache-producer walks upstream's way: endpoints count every block they hold until no "
          "endpoint holds one") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    auto producer = make(lib, kOneTokenBlocks);
    const auto endpoints = pods(3);
    schedule(*producer, request_for(tokens({1})), endpoints, 0);           // pod1: [1]
    schedule(*producer, request_for(tokens({1, 2, 3})), endpoints, 1);     // pod2: [1], [1 2], [1 2 3]
    schedule(*producer, request_for(tokens({1, 2, 3, 4})), endpoints, 2);  // pod3: all four
    const auto p = produce(*producer, request_for(tokens({1, 2, 3, 4, 5})), endpoints);
    CHECK(p.match == std::vector<double>{1, 3, 4});
    CHECK(p.total == 5);
}

TEST_CASE("approx-prefix-cache-producer counts lookups, hits of the primary pick and matched blocks") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    auto producer = make(lib, kOneTokenBlocks);
    const auto endpoints = pods(2);
    schedule(*producer, request_for(tokens({1, 2, 3})), endpoints, 0);
    CHECK(counter(*producer, "lookups") == 1);
    CHECK(counter(*producer, "hits") == 0);  // published at 0, so the hit rate shows from the start
    schedule(*producer, request_for(tokens({1, 2, 4, 5})), endpoints, 0);
    CHECK(counter(*producer, "lookups") == 2);
    CHECK(counter(*producer, "hits") == 1);
    CHECK(counter(*producer, "matched-blocks") == 2);
    CHECK(counter(*producer, "total-blocks") == 7);
    schedule(*producer, request_for(tokens({1, 2})), endpoints, 1);  // pod2 held nothing
    CHECK(counter(*producer, "hits") == 1);
    CHECK(counter(*producer, "lookups") == 3);
}

TEST_CASE("approx-prefix-cache-producer records nothing when produce published nothing for the request") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    auto producer = make(lib, kOneTokenBlocks);
    const auto endpoints = pods(1);
    producer->clear_attributes();
    const pt::DecisionData decision("default", endpoints, {0});
    REQUIRE(producer->pre_request(request_for(tokens({1})), decision).ok());
    CHECK(produce(*producer, request_for(tokens({1})), endpoints).match == std::vector<double>{0});
    CHECK(counter(*producer, "lookups") == -1);
}

TEST_CASE("approx-prefix-cache-producer rejects invalid parameters with precise messages") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    check_out_of_range(lib, R"({"maxPrefixTokensToMatch": -1})", "maxPrefixTokensToMatch", 0, 2147483647, -1);
    check_out_of_range(lib, R"({"blockSizeTokens": -1})", "blockSizeTokens", 0, 1048576, -1);
    check_out_of_range(lib, R"({"minBlockSizeTokens": 0})", "minBlockSizeTokens", 1, 1048576, 0);
    check_rejected(lib, R"({"lruCapacityPerServer": 16777217})",
                   "parameter 'lruCapacityPerServer': expected at most 16777216, found 16777217");
    check_rejected(lib, R"({"autoTune": "yes"})", "parameter 'autoTune': expected boolean, found string \"yes\"");
    make(lib, R"({"lruCapacityPerServer": 0})");  // upstream: 0 or less means the default
    make(lib, R"({"lruCapacityPerServer": -5})");
}

namespace {

// An independent model of upstream's approximate prefix index: per endpoint an LRU list of
// whole prefixes (model + bytes up to the end of a block), most recent first.
class ReferenceIndex {
public:
    ReferenceIndex(std::size_t block_bytes, std::size_t capacity) : block_bytes_(block_bytes), capacity_(capacity) {}

    std::vector<double> match(const std::string &model, const std::string &prompt, std::size_t endpoints) const {
        std::vector<double> out(endpoints, 0);
        for (const std::string &prefix : prefixes(model, prompt)) {
            bool held = false;
            for (std::size_t e = 0; e < endpoints; ++e) {
                const auto it = lrus_.find(e);
                if (it == lrus_.end() || std::find(it->second.begin(), it->second.end(), prefix) == it->second.end())
                    continue;
                ++out[e];
                held = true;
            }
            if (!held) break;
        }
        return out;
    }
    void record(const std::string &model, const std::string &prompt, std::size_t endpoint) {
        auto &lru = lrus_[endpoint];
        for (const std::string &prefix : prefixes(model, prompt)) {
            lru.remove(prefix);
            lru.push_front(prefix);
            if (lru.size() > capacity_) lru.pop_back();
        }
    }

private:
    std::vector<std::string> prefixes(const std::string &model, const std::string &prompt) const {
        std::vector<std::string> out;
        for (std::size_t end = block_bytes_; end < prompt.size() + block_bytes_; end += block_bytes_)
            out.push_back(model + '\x01' + prompt.substr(0, std::min(end, prompt.size())));
        return out;
    }
    std::size_t block_bytes_, capacity_;
    std::map<std::size_t, std::list<std::string>> lrus_;
};

}  // namespace

TEST_CASE("approx-prefix-cache-producer matches an independent model over many requests with eviction") {
    pt::PluginLibrary lib(paths::plugin_approx_prefix_cache_producer);
    // 8-byte blocks, a small LRU and few distinct blocks: prefixes are shared a lot and the
    // LRUs churn, which exercises lookups, refreshes, evictions and partial blocks.
    auto producer =
        make(lib, R"({"autoTune": false, "blockSizeTokens": 2, "minBlockSizeTokens": 1, "lruCapacityPerServer": 20})");
    ReferenceIndex model(8, 20);
    const auto endpoints = pods(4);
    const std::vector<std::string> pieces = {"abcdefgh", "ijklmnop", "qrstuvwx"};
    const std::vector<std::string> models = {"m1", "m2"};
    std::mt19937 rng(20261130);
    for (int request = 0; request < 2000; ++request) {
        CAPTURE(request);
        std::string prompt;
        const std::size_t length = rng() % 6;
        for (std::size_t b = 0; b < length; ++b) prompt += pieces[rng() % pieces.size()];
        prompt += std::string(rng() % 8, 'z');  // a partial block, sometimes
        const std::string &m = models[rng() % 4 == 0 ? 1 : 0];
        const std::size_t primary = rng() % 4;
        const bool with_prefill = rng() % 3 == 0;
        const std::size_t prefill = rng() % 4;
        const auto request_data = request_for(prompt, m);
        const auto p = with_prefill ? schedule(*producer, request_data, endpoints, primary, prefill)
                                    : schedule(*producer, request_data, endpoints, primary);
        REQUIRE(p.match == model.match(m, prompt, 4));
        model.record(m, prompt, primary);
        if (with_prefill) model.record(m, prompt, prefill);
    }
}
