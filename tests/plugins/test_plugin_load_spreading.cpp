// The in-tree load plugins through the real host (`plughost run`, real .so files): ties spread
// by max-score-picker, and bursts between two metrics updates spread by queue-scorer's use of
// the host's pending picks.
#include "plugin_test_helpers.hpp"

#include <map>
#include <string>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

namespace {

using Counts = std::map<std::string, int>;

// A plugin directory holding just the named in-tree plugins.
struct PluginDir {
    TempDir dir;
    explicit PluginDir(const std::vector<std::string> &plugins) {
        for (const auto &path : plugins) copy_to(path, dir / std::filesystem::path(path).filename().string());
    }
};

std::string endpoint(const std::string &name, int queue) {
    return R"({"endpoint": {"name": ")" + name + R"(", "metrics": {"waitingQueueSize": )" + std::to_string(queue) +
           "}}}\n";
}

std::string requests(const std::string &prefix, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += R"({"request": {"id": ")" + prefix + std::to_string(i) + "\"}}\n";
    return out;
}

// Runs the stream through `config` (plugins from `plugins`), and counts the picks per endpoint of
// the decision lines; fails the test when a line is not a decision.
Counts picks(const PluginDir &plugins, const std::string &config, const std::string &stream) {
    TempDir dir;
    write_file(dir / "config.json", config);
    const auto r = run_plughost(
        {"run", "--config", (dir / "config.json").string(), "--plugin-dir", plugins.dir.path().string()}, stream);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    Counts counts;
    for (const auto &line : lines(r.out)) {
        const auto decision = parse_json(line);
        REQUIRE_MESSAGE(decision.as_object().contains("picked"), line);
        ++counts[std::string(decision.at("picked").at(0).as_string())];
    }
    return counts;
}

}  // namespace

TEST_CASE("max-score-picker spreads 1,000 requests over 4 identical endpoints (plughost run)") {
    const PluginDir plugins({paths::plugin_max_score_picker});
    const std::string stream =
        endpoint("a", 0) + endpoint("b", 0) + endpoint("c", 0) + endpoint("d", 0) + requests("r", 1000);
    // No scorer: every total is 0, so each decision is a four-way tie.
    const auto counts =
        picks(plugins, R"({"plugins": [{"type": "max-score-picker", "parameters": {"seed": 2026}}]})", stream);
    REQUIRE(counts.size() == 4);
    int total = 0;
    for (const auto &[name, n] : counts) {
        CAPTURE(name);
        CHECK(n >= 200);  // 250 expected; the binomial standard deviation is 13.7
        CHECK(n <= 300);
        total += n;
    }
    CHECK(total == 1000);
    // Seeded: the same run decides the same.
    CHECK(counts ==
          picks(plugins, R"({"plugins": [{"type": "max-score-picker", "parameters": {"seed": 2026}}]})", stream));
}

TEST_CASE("the built-in default config spreads 1,000 requests over 4 identical endpoints") {
    const std::string stream =
        endpoint("a", 0) + endpoint("b", 0) + endpoint("c", 0) + endpoint("d", 0) + requests("r", 1000);
    const auto r = run_plughost({"run"}, stream);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    Counts counts;
    for (const auto &line : lines(r.out)) ++counts[std::string(parse_json(line).at("picked").at(0).as_string())];
    REQUIRE(counts.size() == 4);
    for (const auto &[name, n] : counts) {
        CAPTURE(name);
        CHECK(n >= 200);
    }
}

// Reported queues a 0, b 1, c 3, d 6; then 8 requests before any new metrics. Each request sees
// the queue plus the host's picks of the endpoint since its last update, so the burst fills the
// shortest queues up to the same level: a +4, b +3, c +1 (levels 4, 4, 4, 6). The servers then
// report those queues (which resets the pending picks), and 6 more requests bring a, b, c to 6.
TEST_CASE("queue-scorer spreads a burst between two metrics updates by the host's pending picks (plughost run)") {
    const PluginDir plugins({paths::plugin_queue_scorer, paths::plugin_max_score_picker});
    const std::string before = endpoint("a", 0) + endpoint("b", 1) + endpoint("c", 3) + endpoint("d", 6);
    const std::string burst = before + requests("first-", 8);
    const std::string update = endpoint("a", 4) + endpoint("b", 4) + endpoint("c", 4) + endpoint("d", 6);
    const std::string config = R"({"plugins": [{"type": "queue-scorer"},
        {"type": "max-score-picker", "parameters": {"seed": 9}}]})";

    CHECK(picks(plugins, config, burst) == Counts{{"a", 4}, {"b", 3}, {"c", 1}});
    const auto both = picks(plugins, config, burst + update + requests("second-", 6));
    CHECK(both == Counts{{"a", 6}, {"b", 5}, {"c", 3}});

    // Upstream's scorer reads the reported queue alone: the whole burst herds onto a.
    const std::string upstream = R"({"plugins": [{"type": "queue-scorer", "parameters": {"countPendingPicks": false}},
        {"type": "max-score-picker", "parameters": {"seed": 9}}]})";
    CHECK(picks(plugins, upstream, burst) == Counts{{"a", 8}});
}

// Upstream's default profile weighs queue-scorer 2 and kv-cache-utilization-scorer 2. With equal
// KV-cache use, a burst onto equal queues spreads one request per endpoint per round.
TEST_CASE("a burst through queue-scorer and kv-cache-utilization-scorer at upstream's weights spreads evenly") {
    const PluginDir plugins(
        {paths::plugin_queue_scorer, paths::plugin_kv_cache_utilization_scorer, paths::plugin_max_score_picker});
    const std::string config = R"({"plugins": [{"type": "queue-scorer"}, {"type": "kv-cache-utilization-scorer"},
        {"type": "max-score-picker", "parameters": {"seed": 4}}],
        "schedulingProfiles": [{"name": "default", "plugins": [{"pluginRef": "queue-scorer", "weight": 2},
            {"pluginRef": "kv-cache-utilization-scorer", "weight": 2}, {"pluginRef": "max-score-picker"}]}]})";
    std::string stream;
    for (const char *name : {"a", "b", "c", "d"})
        stream += std::string(R"({"endpoint": {"name": ")") + name +
                  R"(", "metrics": {"waitingQueueSize": 2, "kvCacheUsage": 0.5}}})" + "\n";
    stream += requests("r", 12);
    CHECK(picks(plugins, config, stream) == Counts{{"a", 3}, {"b", 3}, {"c", 3}, {"d", 3}});
}

// docs/plugins.md, "With a strong prefix-cache weight": one prompt family, a burst of 30 requests
// with no metrics update in between. With upstream's behaviour (spreadQueueDepth 0) the family stays
// on its endpoint however many pending picks it has, at prefix 3 / queue 2 and even more so at
// upstream's prefix 3 / queue 1. By default the prefix credit falls as the endpoint's queue
// (waiting + pending picks) grows past the shortest, so the family spreads to the other endpoint,
// which then holds the prefix too. Heavier, absolute queue scoring (weight 4, maxQueueSize 16)
// spreads it as well.
TEST_CASE("a burst of one prompt family between two metric updates spreads once its endpoint's queue grows") {
    const PluginDir plugins({paths::plugin_prefix_cache_scorer, paths::plugin_approx_prefix_cache_producer,
                             paths::plugin_queue_scorer, paths::plugin_max_score_picker});
    std::string prompt;
    while (prompt.size() < 4096) prompt += "You are a careful assistant. Answer in short sentences. ";
    std::string stream = endpoint("a", 0) + endpoint("b", 0);
    for (int i = 0; i < 30; ++i)
        stream += R"({"request": {"id": "f)" + std::to_string(i) + R"(", "prompt": ")" + prompt + "\"}}\n";
    const auto config = [](const std::string &prefix_parameters, const std::string &queue_parameters,
                           int queue_weight) {
        return R"({"plugins": [{"type": "prefix-cache-scorer", "parameters": )" + prefix_parameters +
               R"(}, {"type": "queue-scorer", "parameters": )" + queue_parameters +
               R"(}, {"type": "max-score-picker", "parameters": {"seed": 11}}],
            "schedulingProfiles": [{"name": "default", "plugins": [{"pluginRef": "prefix-cache-scorer", "weight": 3},
                {"pluginRef": "queue-scorer", "weight": )" +
               std::to_string(queue_weight) + R"(}, {"pluginRef": "max-score-picker"}]}]})";
    };
    const std::string upstream = R"({"spreadQueueDepth": 0})";
    for (int queue_weight : {1, 2}) {
        CAPTURE(queue_weight);
        CHECK(picks(plugins, config(upstream, "{}", queue_weight), stream).size() == 1);  // all 30 on one
        const auto spreads = picks(plugins, config("{}", "{}", queue_weight), stream);
        REQUIRE(spreads.size() == 2);
        for (const auto &[name, n] : spreads) {
            CAPTURE(name);
            CHECK(n >= 10);
        }
    }
    const auto absolute = picks(plugins, config(upstream, R"({"maxQueueSize": 16})", 4), stream);
    REQUIRE(absolute.size() == 2);
    for (const auto &[name, n] : absolute) {
        CAPTURE(name);
        CHECK(n >= 12);
    }
}
