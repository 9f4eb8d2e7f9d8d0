// prefix-cache-scorer: upstream's stateless scorer over the prefix-cache.* attributes (the share
// of the prompt's blocks an endpoint holds, optionally blended with the match length), its
// retired parameters, and the producer + scorer pair through the real host (`plughost run`).
#include "plugin_test_helpers.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

using Scores = std::vector<double>;

namespace {

const char *const kMatch = "prefix-cache.match-blocks";
const char *const kTotal = "prefix-cache.total-blocks";
const char *const kBlockSize = "prefix-cache.block-size-tokens";

// Upstream's NewPrefixCacheMatchInfo(match, total, blockSize) on one endpoint, as a producer
// would have published it.
struct Info {
    double match, total, block_size;
};

// Scores `endpoints` with the attributes a producer would have published: `infos[i]` for
// endpoint i when present, the request's totals from the first present one.
Scores score_with(pt::PluginInstance &scorer, const pt::EndpointSet &endpoints,
                  const std::vector<std::optional<Info>> &infos) {
    scorer.clear_attributes();
    for (std::size_t i = 0; i < infos.size(); ++i)
        if (infos[i]) {
            scorer.set_attribute(kMatch, endpoints.at(i), infos[i]->match);
            scorer.set_attribute(kTotal, nullptr, infos[i]->total);
            scorer.set_attribute(kBlockSize, nullptr, infos[i]->block_size);
        }
    const auto scored = scorer.score(pt::RequestData({.prompt = "p"}), endpoints);
    REQUIRE_MESSAGE(scored.ok(), scored.message);
    return scored.value;
}

std::vector<pt::PluginInstance::LogLine> logs_at(const pt::PluginInstance &p, int level) {
    std::vector<pt::PluginInstance::LogLine> out;
    std::copy_if(p.logs().begin(), p.logs().end(), std::back_inserter(out),
                 [&](const auto &l) { return l.level == level; });
    return out;
}

}  // namespace

TEST_CASE("prefix-cache-scorer declares a stateless beta scorer that consumes the producer's attributes") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    const auto m = host_manifest(lib);
    CHECK(m.type == "prefix-cache-scorer");
    CHECK(m.version.str() == "2.0.0");
    CHECK(m.role == host::Role::scorer);
    CHECK(m.stability == host::Stability::beta);
    CHECK(m.feature_gate == "PrefixCacheScorer");
    CHECK(m.thread_safe);
    CHECK(default_of(m, "matchLengthWeight") == "0");
    CHECK(default_of(m, "matchLengthScaleTokens") == "8192");
    CHECK(default_of(m, "prefixMatchInfoProducerName") == "\"\"");
    REQUIRE(m.consumes.size() == 3);
    for (const auto &c : m.consumes) {
        CHECK(c.required);
        CHECK(c.default_producer == "approx-prefix-cache-producer");
    }
    CHECK((lib.entry().picked == nullptr));  // it learns nothing itself any more
}

// ---- upstream: pkg/epp/framework/plugins/scheduling/scorer/prefix/plugin_test.go ----

TEST_CASE("upstream TestPrefixPluginScore: matched blocks over total blocks") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    auto scorer = make(lib);
    const pt::EndpointSet endpoints{{.name = "pod1"}, {.name = "pod2"}};
    scorer->clear_attributes();
    scorer->set_attribute(kMatch, endpoints.at(0), 5);
    scorer->set_attribute(kMatch, endpoints.at(1), 2);
    scorer->set_attribute(kTotal, nullptr, 10);
    scorer->set_attribute(kBlockSize, nullptr, 1);
    const auto scored = scorer->score(pt::RequestData({.prompt = "p"}), endpoints);
    REQUIRE(scored.ok());
    CHECK(scored.value == Scores{0.5, 0.2});
}

TEST_CASE("upstream TestPrefixPluginScoreAggregatesMissingMatchInfo: one log line for all missing endpoints") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    auto scorer = make(lib);
    const auto endpoints = endpoints_named(3);
    CHECK(score_with(*scorer, endpoints, {}) == Scores{0, 0, 0});
    const auto info = logs_at(*scorer, PLUGHOST_LOG_INFO);
    REQUIRE(info.size() == 1);
    CHECK(info[0].text == "prefix-cache match info not found for 3 endpoints, assigning score 0");
    CHECK(logs_at(*scorer, PLUGHOST_LOG_ERROR).empty());
}

TEST_CASE("upstream TestPrefixPluginScoreMixedMissingMatchInfo: present ones score, missing ones 0, one line") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    auto scorer = make(lib);
    const auto endpoints = endpoints_named(3);
    const auto scores = score_with(*scorer, endpoints, {Info{5, 10, 1}, std::nullopt, std::nullopt});
    CHECK(scores[0] == doctest::Approx(0.5));
    CHECK(scores[1] == 0);
    CHECK(scores[2] == 0);
    const auto info = logs_at(*scorer, PLUGHOST_LOG_INFO);
    REQUIRE(info.size() == 1);
    CHECK(contains(info[0].text, "for 2 endpoints"));
}

TEST_CASE("upstream TestPrefixPluginScoreWithWeights: w * min(1, matched tokens / scale)^2 + (1 - w) * ratio") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    auto scorer = make(lib, R"({"matchLengthWeight": 0.5, "matchLengthScaleTokens": 100})");
    const auto one = endpoints_named(1);
    CHECK(score_with(*scorer, one, {Info{5, 10, 1}})[0] == doctest::Approx(0.25125).epsilon(1e-6));
    CHECK(score_with(*scorer, one, {Info{50, 100, 1}})[0] == doctest::Approx(0.375).epsilon(1e-6));
    // The length term saturates at 1: 200 matched tokens of a 100-token scale.
    CHECK(score_with(*scorer, one, {Info{50, 100, 4}})[0] == doctest::Approx(0.75).epsilon(1e-6));
}

TEST_CASE("upstream TestPrefixPluginFactoryValidation: matchLengthWeight in [0, 1], a positive scale when used") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    make(lib);
    make(lib, R"({"matchLengthWeight": 0.5, "matchLengthScaleTokens": 100})");
    make(lib, R"({"matchLengthWeight": 0.5})");
    make(lib, R"({"matchLengthWeight": 0.0})");
    make(lib, R"({"matchLengthWeight": 0, "matchLengthScaleTokens": 0})");  // unused scale: not checked, as upstream
    check_rejected(lib, R"({"matchLengthWeight": -0.1})",
                   "parameter 'matchLengthWeight': expected a value in [0, 1], found -0.1");
    check_rejected(lib, R"({"matchLengthWeight": 1.1})",
                   "parameter 'matchLengthWeight': expected a value in [0, 1], found 1.1");
    check_rejected(lib, R"({"matchLengthWeight": 0.5, "matchLengthScaleTokens": 0})",
                   "parameter 'matchLengthScaleTokens': expected a value > 0 when matchLengthWeight is above 0, "
                   "found 0");
    check_rejected(lib, R"({"matchLengthScaleTokens": "big"})",
                   "parameter 'matchLengthScaleTokens': expected integer, found string \"big\"");
}

// ---- plughost's own cases ----

TEST_CASE("prefix-cache-scorer scores 0 when the prompt has no block, and clamps to [0, 1]") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    auto scorer = make(lib);
    const auto endpoints = endpoints_named(2);
    CHECK(score_with(*scorer, endpoints, {Info{0, 0, 64}, Info{0, 0, 64}}) == Scores{0, 0});
    CHECK(score_with(*scorer, endpoints, {Info{12, 10, 64}, Info{-1, 10, 64}}) == Scores{1, 0});
    CHECK(logs_at(*scorer, PLUGHOST_LOG_INFO).empty());
    pt::EndpointSet none{};
    const auto scored = scorer->score(pt::RequestData({.prompt = "p"}), none);
    CHECK(scored.ok());
    CHECK(scored.value.empty());
}

TEST_CASE("prefix-cache-scorer accepts its retired parameters, ignores them and names their replacement") {
    pt::PluginLibrary lib(paths::plugin_prefix_cache_scorer);
    auto scorer = make(lib, R"({"blockSize": 4, "maxPrefixBlocks": 2, "lruCapacityPerEndpoint": 10,
                                "maxTrackedEndpoints": 3})");
    const auto warnings = logs_at(*scorer, PLUGHOST_LOG_WARN);
    REQUIRE(warnings.size() == 4);
    CHECK(warnings[0].text == "parameter 'blockSize' is deprecated and has no effect since prefix-cache-scorer 2.0.0 "
                              "(removed in 3.0.0): configure approx-prefix-cache-producer's 'blockSizeTokens' instead");
    CHECK(contains(warnings[1].text, "'maxPrefixBlocks'"));
    CHECK(contains(warnings[1].text, "'maxPrefixTokensToMatch'"));
    CHECK(contains(warnings[2].text, "'lruCapacityPerServer'"));
    CHECK(contains(warnings[3].text, "'maxTrackedEndpoints'"));
    // Same scores as without them.
    CHECK(score_with(*scorer, endpoints_named(1), {Info{3, 4, 1}}) == Scores{0.75});
    check_rejected(lib, R"({"blockSize": "64"})", "parameter 'blockSize': expected integer, found string \"64\"");
}

TEST_CASE("prefix-cache-scorer over approx-prefix-cache-producer: the endpoint that served a prefix scores its "
          "share") {
    pt::PluginLibrary producer_lib(paths::plugin_approx_prefix_cache_producer);
    pt::PluginLibrary scorer_lib(paths::plugin_prefix_cache_scorer);
    auto producer = make(producer_lib, R"({"autoTune": false, "blockSizeTokens": 2, "minBlockSizeTokens": 1})");
    auto scorer = make(scorer_lib);
    const auto endpoints = endpoints_named(3);
    // What the host does between the two: the scorer reads what the producer published.
    auto cycle = [&](const std::string &prompt, std::optional<std::size_t> primary) {
        const pt::RequestData request({.model = "m", .prompt = prompt});
        producer->clear_attributes();
        REQUIRE(producer->produce(request, endpoints).ok());
        scorer->clear_attributes();
        for (std::size_t i = 0; i < endpoints.size(); ++i)
            scorer->set_attribute(kMatch, endpoints.at(i), *producer->attribute_number(kMatch, endpoints.at(i)));
        scorer->set_attribute(kTotal, nullptr, *producer->attribute_number(kTotal, nullptr));
        scorer->set_attribute(kBlockSize, nullptr, *producer->attribute_number(kBlockSize, nullptr));
        const auto scored = scorer->score(request, endpoints);
        REQUIRE(scored.ok());
        if (primary) REQUIRE(producer->pre_request(request, pt::DecisionData("default", endpoints, {*primary})).ok());
        return scored.value;
    };
    const std::string system = "You are a careful assistant. ";  // 29 bytes: 3 whole blocks of 8
    CHECK(cycle(system + "Hi!", 1) == Scores{0, 0, 0});
    CHECK(cycle(system + "Bye", std::nullopt) == Scores{0, 3.0 / 4.0, 0});
    CHECK(cycle("Something else entirely", std::nullopt) == Scores{0, 0, 0});
}

// ---- Through the real host: `plughost run` with a config, on a small stream ----

namespace {

struct CliRun {
    TempDir dir;
    ProcessResult result;
    std::vector<boost::json::value> decisions;

    CliRun(const std::string &config, const std::string &stream) {
        write_file(dir / "config.json", config);
        result = run_plughost({"run", "--config", (dir / "config.json").string(), "--plugin-dir", paths::plugin_dir},
                              stream);
        for (const auto &l : lines(result.out)) decisions.push_back(parse_json(l));
    }
    std::string picked(std::size_t i) const {
        INFO(result.out);
        return std::string(decisions.at(i).at("picked").at(0).as_string());
    }
};

// Two prompt families of 600 bytes of shared preamble each (two whole 256-byte blocks at the
// default 64-token blocks), each followed by a short question.
std::string family(char f, int turn) {
    return std::string(600, f) + " question " + std::to_string(turn) + " of family " + std::string(1, f);
}

std::string stream_of(const std::vector<std::pair<std::string, std::string>> &requests) {
    std::string s = R"({"endpoint": {"name": "a", "metrics": {"waitingQueueSize": 0}}}
{"endpoint": {"name": "b", "metrics": {"waitingQueueSize": 1}}}
{"endpoint": {"name": "c", "metrics": {"waitingQueueSize": 2}}}
)";
    for (const auto &[id, prompt] : requests)
        s += R"({"request": {"id": ")" + id + R"(", "model": "m", "prompt": ")" + prompt + "\"}}\n";
    return s;
}

}  // namespace

TEST_CASE("plughost run, producer + scorer: requests sharing a prefix go where the family went first") {
    // The queue scorer alone would spread the first request of each family (the queues read 0,
    // 1 and 2, so no tie is left to the picker's random choice): family x goes to a, family y is
    // steered by the busy metrics below. After that, the prefix cache keeps each family together.
    const std::string config = R"({"plugins": [
        {"type": "approx-prefix-cache-producer", "name": "prefix-producer"},
        {"type": "prefix-cache-scorer", "name": "prefix"},
        {"type": "queue-scorer", "name": "queue"},
        {"type": "max-score-picker", "name": "picker"}],
      "schedulingProfiles": [{"name": "default", "plugins": [
        {"pluginRef": "prefix", "weight": 3}, {"pluginRef": "queue", "weight": 1}, {"pluginRef": "picker"}]}]})";
    std::string stream = stream_of({{"x1", family('x', 1)}});
    stream += R"({"endpoint": {"name": "a", "metrics": {"waitingQueueSize": 3}}}
)";
    for (const auto &[id, prompt] : std::vector<std::pair<std::string, std::string>>{
             {"y1", family('y', 1)}, {"x2", family('x', 2)}, {"y2", family('y', 2)}, {"x3", family('x', 3)}})
        stream += R"({"request": {"id": ")" + id + R"(", "model": "m", "prompt": ")" + prompt + "\"}}\n";
    const CliRun run(config, stream);
    INFO(run.result.err);
    REQUIRE(run.result.exit_code == 0);
    REQUIRE(run.decisions.size() == 5);
    CHECK(run.picked(0) == "a");  // x1: no prefix anywhere, the shortest queue
    CHECK(run.picked(1) == "b");  // y1: a is busy now, no prefix anywhere
    CHECK(run.picked(2) == "a");  // x2: a holds x's preamble (2 of 3 blocks: 3 * 2/3 = 2 > queue's 1)
    CHECK(run.picked(3) == "b");  // y2: b holds y's preamble
    CHECK(run.picked(4) == "a");  // x3
    CHECK(contains(run.result.err, "plugin approx-prefix-cache-producer 1.0.0 [beta] admitted"));
    CHECK(contains(run.result.err, "hit rate"));
}

TEST_CASE("plughost run, a config naming only the scorer: the planner adds the default producer and it works") {
    const std::string config = R"({"plugins": [{"type": "prefix-cache-scorer", "name": "prefix"},
        {"type": "queue-scorer", "name": "queue"}, {"type": "max-score-picker", "name": "picker"}],
      "schedulingProfiles": [{"name": "default", "plugins": [
        {"pluginRef": "prefix", "weight": 3}, {"pluginRef": "queue", "weight": 1}, {"pluginRef": "picker"}]}]})";
    std::string stream = stream_of({{"x1", family('x', 1)}});
    stream += R"({"endpoint": {"name": "a", "metrics": {"waitingQueueSize": 3}}}
)";
    for (const auto &[id, prompt] :
         std::vector<std::pair<std::string, std::string>>{{"x2", family('x', 2)}, {"z1", family('z', 1)}})
        stream += R"({"request": {"id": ")" + id + R"(", "model": "m", "prompt": ")" + prompt + "\"}}\n";
    const CliRun run(config, stream);
    INFO(run.result.err);
    REQUIRE(run.result.exit_code == 0);
    CHECK(contains(run.result.err, "plughost adds its default producer \"approx-prefix-cache-producer\""));
    REQUIRE(run.decisions.size() == 3);
    CHECK(run.picked(0) == "a");
    CHECK(run.picked(1) == "a");  // the cache outweighs a's queue
    CHECK(run.picked(2) == "b");  // a new family: the queue decides
}

TEST_CASE("plughost run, another model's requests never share a prefix") {
    const std::string config = R"({"plugins": [{"type": "prefix-cache-scorer", "name": "prefix"},
        {"type": "queue-scorer", "name": "queue"}, {"type": "max-score-picker", "name": "picker"}],
      "schedulingProfiles": [{"name": "default", "plugins": [
        {"pluginRef": "prefix", "weight": 3}, {"pluginRef": "queue", "weight": 1}, {"pluginRef": "picker"}]}]})";
    std::string stream = stream_of({{"x1", family('x', 1)}});
    stream += R"({"endpoint": {"name": "a", "metrics": {"waitingQueueSize": 3}}}
{"request": {"id": "other-model", "model": "m2", "prompt": ")" +
              family('x', 2) + R"("}}
{"request": {"id": "same-model", "model": "m", "prompt": ")" +
              family('x', 3) + R"("}}
)";
    const CliRun run(config, stream);
    INFO(run.result.err);
    REQUIRE(run.result.exit_code == 0);
    REQUIRE(run.decisions.size() == 3);
    CHECK(run.picked(0) == "a");
    CHECK(run.picked(1) == "b");
    CHECK(run.picked(2) == "a");
}
