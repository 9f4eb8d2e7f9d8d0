// no-hit-lru-scorer: neutral 0.5 for warm requests; for cold ones (no endpoint holds a prompt
// block), endpoints never given a cold request first, then the least recently given one; fed in
// pre_request with the primary pick and the "prefill" extra. The cases are upstream llm-d-router's
// pkg/epp/framework/plugins/scheduling/scorer/nohitlru/no_hit_lru_test.go unless marked.
#include "plugin_test_helpers.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

using Scores = std::vector<double>;

namespace {

const char *const kMatch = "prefix-cache.match-blocks";

// Upstream's "warm" endpoint: PrefixCacheMatchInfo(5, 10, 1); cold ones carry match 0.
Scores score(pt::PluginInstance &scorer, const std::string &id, const pt::EndpointSet &endpoints,
             std::optional<std::size_t> warm = std::nullopt) {
    scorer.clear_attributes();
    for (std::size_t i = 0; i < endpoints.size(); ++i)
        scorer.set_attribute(kMatch, endpoints.at(i), warm && *warm == i ? 5.0 : 0.0);
    const auto scored = scorer.score(pt::RequestData({.id = id}), endpoints);
    REQUIRE_MESSAGE(scored.ok(), scored.message);
    REQUIRE(scored.value.size() == endpoints.size());
    return scored.value;
}

void decide(pt::PluginInstance &scorer, const std::string &id, const pt::EndpointSet &endpoints, std::size_t primary,
            std::optional<std::size_t> prefill = std::nullopt) {
    std::vector<std::pair<std::string, std::size_t>> extras;
    if (prefill) extras.emplace_back("prefill", *prefill);
    const pt::DecisionData decision("primary-profile", endpoints, {primary}, extras);
    const auto told = scorer.pre_request(pt::RequestData({.id = id}), decision);
    REQUIRE(told.value);
    REQUIRE_MESSAGE(told.ok(), told.message);
}

std::size_t best(const Scores &s) { return static_cast<std::size_t>(std::max_element(s.begin(), s.end()) - s.begin()); }

pt::EndpointSet abc() { return pt::EndpointSet{{.name = "pod-a"}, {.name = "pod-b"}, {.name = "pod-c"}}; }

}  // namespace

TEST_CASE("no-hit-lru-scorer declares a beta scorer consuming prefix-cache.match-blocks, with upstream's "
          "parameters") {
    pt::PluginLibrary lib(paths::plugin_no_hit_lru_scorer);
    const auto m = host_manifest(lib);
    CHECK(m.type == "no-hit-lru-scorer");
    CHECK(m.role == host::Role::scorer);
    CHECK(m.stability == host::Stability::beta);  // upstream registers it as Beta
    CHECK(m.feature_gate == "NoHitLruScorer");
    CHECK(!m.thread_safe);
    CHECK(default_of(m, "lruSize") == "1024");
    CHECK(default_of(m, "prefixMatchInfoProducerName") == "\"\"");
    REQUIRE(m.consumes.size() == 1);
    CHECK(m.consumes[0].name == kMatch);
    CHECK(m.consumes[0].required);
    CHECK(m.consumes[0].default_producer == "approx-prefix-cache-producer");
    CHECK((lib.entry().pre_request != nullptr));
}

TEST_CASE("upstream factory: no parameters is fine, lruSize 0 or less means the default, the prefix plugin "
          "names are accepted") {
    pt::PluginLibrary lib(paths::plugin_no_hit_lru_scorer);
    make(lib);
    make(lib, R"({"lruSize": 0})");
    make(lib, R"({"lruSize": -3})");
    make(lib, R"({"lruSize": 2048, "prefixMatchInfoProducerName": "approx-prefix-cache-producer",
                  "prefixPluginType": "prefix-cache-scorer", "prefixPluginName": "prefix"})");
    check_rejected(lib, R"({"lruSize": 1048577})", "parameter 'lruSize': expected at most 1048576, found 1048577");
    check_rejected(lib, R"({"lruSize": "big"})", "parameter 'lruSize': expected integer, found string \"big\"");
}

TEST_CASE("upstream TestNoHitLRUScorer: cold and never used 1, 0.5, 0, one warm endpoint makes all 0.5, a single "
          "cold one 1") {
    pt::PluginLibrary lib(paths::plugin_no_hit_lru_scorer);
    auto scorer = make(lib);
    const auto endpoints = abc();
    CHECK(score(*scorer, "cold", endpoints) == Scores{1.0, 0.5, 0.0});
    CHECK(score(*scorer, "warm", endpoints, 1) == Scores{0.5, 0.5, 0.5});
    const pt::EndpointSet one{{.name = "pod-a"}};
    CHECK(score(*scorer, "single", one) == Scores{1.0});
}

TEST_CASE("upstream BasicFunctionality and NoPrefixCacheStateFound") {
    pt::PluginLibrary lib(paths::plugin_no_hit_lru_scorer);
    auto scorer = make(lib);
    const pt::EndpointSet two{{.name = "pod-a"}, {.name = "pod-b"}};
    const auto s = score(*scorer, "r", two);
    CHECK(s[0] >= 0);
    CHECK(s[0] <= 1);
    CHECK(s[1] >= 0);
    CHECK(s[1] <= 1);
    CHECK(s[0] != s[1]);
    // No attribute at all (no producer published): cold.
    scorer->clear_attributes();
    const pt::EndpointSet one{{.name = "pod-a"}};
    const auto scored = scorer->score(pt::RequestData({.id = "bare"}), one);
    REQUIRE(scored.ok());
    CHECK(scored.value == Scores{1.0});
}

TEST_CASE("upstream PreferLeastRecentlyUsedAfterColdRequests") {
    pt::PluginLibrary lib(paths::plugin_no_hit_lru_scorer);
    auto scorer = make(lib);
    const auto endpoints = abc();
    score(*scorer, "cold-1", endpoints);
    decide(*scorer, "cold-1", endpoints, 0);  // routed to a
    auto s = score(*scorer, "cold-2", endpoints);
    CHECK(best(s) == 1);
    CHECK(s[1] == 1.0);
    CHECK(s[2] == 0.5);
    CHECK(s[1] > s[0]);
    // A warm request: neutral, and its decision (to b) does not touch the LRU.
    CHECK(score(*scorer, "warm", endpoints, 0) == Scores{0.5, 0.5, 0.5});
    decide(*scorer, "warm", endpoints, 1);
    s = score(*scorer, "cold-2", endpoints);
    CHECK(s[1] > s[0]);
    decide(*scorer, "cold-2", endpoints, 1);  // routed to b
    CHECK(best(score(*scorer, "cold-3", endpoints)) == 2);
    decide(*scorer, "cold-3", endpoints, 2);  // routed to c
    CHECK(score(*scorer, "cold-4", endpoints) == Scores{1.0, 0.5, 0.0});
}

TEST_CASE("upstream EdgeCases: an empty endpoint list scores nothing") {
    pt::PluginLibrary lib(paths::plugin_no_hit_lru_scorer);
    auto scorer = make(lib);
    pt::EndpointSet none{};
    const auto scored = scorer->score(pt::RequestData({.id = "r"}), none);
    CHECK(scored.ok());
    CHECK(scored.value.empty());
}

TEST_CASE("upstream PrefillDecodeTracking: the primary pick and the prefill extra both become recently used") {
    pt::PluginLibrary lib(paths::plugin_no_hit_lru_scorer);
    auto scorer = make(lib);
    const pt::EndpointSet all{{.name = "decode-a", .id = 1},
                              {.name = "decode-b", .id = 2},
                              {.name = "prefill-a", .id = 3},
                              {.name = "prefill-b", .id = 4}};
    const pt::EndpointSet prefills{{.name = "prefill-a", .id = 3}, {.name = "prefill-b", .id = 4}};
    const pt::EndpointSet decodes{{.name = "decode-a", .id = 1}, {.name = "decode-b", .id = 2}};
    score(*scorer, "pd", all);
    decide(*scorer, "pd", all, 0, 2);  // decode-a, prefill prefill-a
    auto s = score(*scorer, "later-prefill", prefills);
    CHECK(s[1] > s[0]);
    s = score(*scorer, "later-decode", decodes);
    CHECK(s[1] > s[0]);

    auto plain = make(lib);  // without a prefill profile
    score(*plain, "d", decodes);
    decide(*plain, "d", decodes, 0);
    s = score(*plain, "later", decodes);
    CHECK(s[1] > s[0]);
}

TEST_CASE("no-hit-lru-scorer (plughost): a decision for a request it never scored changes nothing") {
    pt::PluginLibrary lib(paths::plugin_no_hit_lru_scorer);
    auto scorer = make(lib);
    const auto endpoints = abc();
    decide(*scorer, "never-scored", endpoints, 0);
    CHECK(score(*scorer, "cold", endpoints) == Scores{1.0, 0.5, 0.0});
}

TEST_CASE("no-hit-lru-scorer (plughost): used endpoints rank by their place in the whole LRU, never below 0") {
    pt::PluginLibrary lib(paths::plugin_no_hit_lru_scorer);
    auto scorer = make(lib, R"({"lruSize": 3})");
    const pt::EndpointSet five{{.name = "e1", .id = 1},
                               {.name = "e2", .id = 2},
                               {.name = "e3", .id = 3},
                               {.name = "e4", .id = 4},
                               {.name = "e5", .id = 5}};
    for (std::size_t i : {0u, 1u, 2u, 3u}) {  // cold requests to e1..e4; lruSize 3 forgets e1
        score(*scorer, "r" + std::to_string(i), five);
        decide(*scorer, "r" + std::to_string(i), five, i);
    }
    // Never used: e1 (forgotten), e5 -> ranks 0, 1. Used, oldest first: e2, e3, e4 -> ranks 2, 3, 4.
    CHECK(score(*scorer, "next", five) == Scores{1.0, 0.5, 0.25, 0.0, 0.75});
    // Offered fewer endpoints than the LRU holds: ranks still count the whole LRU, floored at 0.
    const pt::EndpointSet two{{.name = "e4", .id = 4}, {.name = "e3", .id = 3}};
    CHECK(score(*scorer, "few", two) == Scores{0.0, 0.0});
}

// ---- Through the real host: `plughost run` with a config, on a small stream ----

TEST_CASE("plughost run, no-hit-lru-scorer with the prefix cache: cold requests spread, warm ones stay") {
    // Every queue reads 0, so without this scorer max-score-picker would send every cold request
    // to "a" (ties go to the first name).
    const std::string config = R"({"plugins": [{"type": "prefix-cache-scorer", "name": "prefix"},
        {"type": "no-hit-lru-scorer", "name": "no-hit-lru"}, {"type": "max-score-picker", "name": "picker"}],
      "schedulingProfiles": [{"name": "default", "plugins": [
        {"pluginRef": "prefix", "weight": 3}, {"pluginRef": "no-hit-lru", "weight": 1}, {"pluginRef": "picker"}]}]})";
    std::string stream = R"({"endpoint": {"name": "a"}}
{"endpoint": {"name": "b"}}
{"endpoint": {"name": "c"}}
)";
    // 600 bytes of a family's preamble: two whole blocks of 64 tokens (256 bytes) shared.
    auto request = [](const std::string &id, char family, int turn) {
        return R"({"request": {"id": ")" + id + R"(", "model": "m", "prompt": ")" + std::string(600, family) +
               " turn " + std::to_string(turn) + "\"}}\n";
    };
    stream += request("x1", 'x', 1) + request("y1", 'y', 1) + request("z1", 'z', 1) + request("y2", 'y', 2) +
              request("w1", 'w', 1) + request("v1", 'v', 1);
    TempDir dir;
    write_file(dir / "config.json", config);
    const auto r =
        run_plughost({"run", "--config", (dir / "config.json").string(), "--plugin-dir", paths::plugin_dir}, stream);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    std::vector<std::string> picked;
    for (const auto &l : lines(r.out)) picked.emplace_back(parse_json(l).at("picked").at(0).as_string());
    // Cold x1, y1, z1 go to a, b, c in turn; warm y2 follows its prefix to b and leaves the LRU
    // alone; cold w1 and v1 go to the least recently used: a, then b.
    CHECK(picked == std::vector<std::string>{"a", "b", "c", "b", "a", "b"});
}
