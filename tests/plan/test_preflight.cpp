// Pre-flight over real plugin files: config against the plugin directory and the policy.
#include "common/json_document.hpp"
#include "deployment.hpp"
#include "plan/preflight.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace plughost::host;
using namespace plughost::test;

namespace {

// A plugin directory holding the in-tree queue-scorer and max-score-picker plus fixtures.
struct Setup : Deployment {
    Setup() {
        add(paths::plugin_queue_scorer, "queue-scorer.so");
        add(paths::plugin_max_score_picker, "max-score-picker.so");
        add(paths::good_scorer, "good.so");
        add(paths::alpha_gated, "alpha.so");
        add(paths::stable_filter, "filter.so");
        add(paths::deprecated_plugin, "deprecated.so");
    }
    Preflight run(const std::string &config_text, PolicyOverrides overrides = {}) {
        return plan(config_text, std::move(overrides), false);
    }
};

const Issue *at(const std::vector<Issue> &issues, const std::string &path, Code code) {
    for (const auto &i : issues)
        if (i.path == path && i.code == code) return &i;
    return nullptr;
}

}  // namespace

TEST_CASE("a good config plans its instances and profiles") {
    Setup s;
    const auto pf = s.run(R"({"policy": {"minStability": "stable"}, "plugins": [
        {"type": "pass-filter"}, {"type": "queue-scorer", "name": "q", "parameters": {"maxQueueSize": 4}},
        {"type": "good-scorer"}, {"type": "max-score-picker"}],
        "schedulingProfiles": [{"name": "main", "plugins": [{"pluginRef": "pass-filter"}, {"pluginRef": "q", "weight": 2},
                                {"pluginRef": "good-scorer"}, {"pluginRef": "max-score-picker"}]}]})");
    CHECK_MESSAGE(pf.ok(), dump(pf.errors));
    REQUIRE(pf.instances.size() == 4);
    REQUIRE(pf.profiles.size() == 1);
    const auto &p = pf.profiles[0];
    CHECK(p.filters == std::vector<std::size_t>{0});
    REQUIRE(p.scorers.size() == 2);
    CHECK(p.scorers[0] == std::pair<std::size_t, double>{1, 2.0});
    CHECK(p.scorers[1].second == 1.0);
    CHECK(pf.instances[p.picker].type == "max-score-picker");
    CHECK(!pf.policy->min_stability_defaulted);
}

TEST_CASE("without profiles: a default one, every scorer at weight 1, max-score-picker added when absent") {
    Setup s;
    const auto pf = s.run(R"({"plugins": [{"type": "queue-scorer"}, {"type": "good-scorer"}]})");
    CHECK_MESSAGE(pf.ok(), dump(pf.errors));
    REQUIRE(pf.profiles.size() == 1);
    CHECK(pf.profiles[0].defaulted);
    CHECK(pf.profiles[0].scorers.size() == 2);
    CHECK(pf.instances[pf.profiles[0].picker].implicit);
    CHECK(pf.instances[pf.profiles[0].picker].type == "max-score-picker");
    // minStability was not set: the report says so.
    CHECK(pf.policy->min_stability_defaulted);
    CHECK(at(pf.warnings, "/policy/minStability", Code::min_stability_defaulted));
}

TEST_CASE("all errors at once, each with a JSON Pointer, a message and a hint") {
    Setup s;
    const auto pf = s.run(R"({"featureGates": {"AlphaScorr": true, "QueueKvBlendScorer": true},
      "plugins": [{"type": "queue-scorr"}, {"type": "alpha-scorer"}, {"type": "queue-kv-blend-scorer"},
                  {"type": "queue-scorer", "name": "q", "parameters": {"maxQueueSise": 1}},
                  {"type": "queue-scorer", "name": "q"},
                  {"type": "good-scorer", "parameters": {"x": 1}},
                  {"type": "max-score-picker", "parameters": {"maxNumOfEndpoints": "two"}},
                  {"type": "pass-filter"}, {"type": "max-score-picker", "name": "p2"}],
      "schedulingProfiles": [
        {"name": "a", "plugins": [{"pluginRef": "qq"}, {"pluginRef": "pass-filter", "weight": 1},
                                  {"pluginRef": "q", "weight": -1}, {"pluginRef": "q"}]},
        {"name": "b", "plugins": [{"pluginRef": "max-score-picker"}, {"pluginRef": "p2"}]},
        {"name": "a", "plugins": [{"pluginRef": "max-score-picker"}]}]})");
    CHECK(!pf.ok());
    const auto &e = pf.errors;
    INFO(dump(e));
    const Issue *unknown = at(e, "/plugins/0/type", Code::unknown_type);
    REQUIRE(unknown);
    CHECK(contains(unknown->message, "no plugin file declares type \"queue-scorr\" (did you mean \"queue-scorer\"?)"));
    CHECK(!unknown->hint.empty());
    const Issue *refused = at(e, "/plugins/1/type", Code::plugin_refused);
    REQUIRE(refused);
    CHECK(contains(refused->message, "[below-min-stability]"));
    CHECK(contains(refused->message, "[gate-disabled]"));
    const Issue *tomb = at(e, "/plugins/2/type", Code::tombstoned_type);
    REQUIRE(tomb);
    CHECK(contains(tomb->hint, "replace it with \"queue-scorer\" and \"kv-cache-utilization-scorer\""));
    CHECK(contains(at(e, "/plugins/3/parameters/maxQueueSise", Code::unknown_parameter)->message,
                   "did you mean \"maxQueueSize\""));
    CHECK(contains(at(e, "/plugins/4/name", Code::duplicate_name)->message, "already used at /plugins/3"));
    CHECK(contains(at(e, "/plugins/5/parameters/x", Code::unknown_parameter)->hint, "it takes no parameters"));
    CHECK(contains(at(e, "/plugins/6/parameters/maxNumOfEndpoints", Code::parameter_type)->message,
                   "expects integer, found string \"two\""));
    CHECK(contains(at(e, "/schedulingProfiles/0/plugins/0/pluginRef", Code::undefined_plugin_ref)->message,
                   "no plugin named \"qq\""));
    CHECK(at(e, "/schedulingProfiles/0/plugins/1/weight", Code::weight_on_non_scorer));
    CHECK(at(e, "/schedulingProfiles/0/plugins/2/weight", Code::invalid_weight));
    CHECK(at(e, "/schedulingProfiles/0/plugins/3/pluginRef", Code::duplicate_plugin_ref));
    CHECK(at(e, "/schedulingProfiles/1", Code::multiple_pickers));
    CHECK(at(e, "/schedulingProfiles/2/name", Code::duplicate_name));
    CHECK(contains(at(e, "/featureGates/AlphaScorr", Code::unknown_gate)->message, "did you mean \"AlphaScorer\""));
    CHECK(at(e, "/featureGates/QueueKvBlendScorer", Code::tombstoned_gate));
}

TEST_CASE("a profile without a picker gets the first configured one, else max-score-picker, with a warning") {
    Setup s;
    const auto pf = s.run(R"({"plugins": [{"type": "queue-scorer"}], "schedulingProfiles": [{"name": "p",
        "plugins": [{"pluginRef": "queue-scorer"}]}]})");
    REQUIRE_MESSAGE(pf.ok(), dump(pf.errors));
    const Issue *w = at(pf.warnings, "/schedulingProfiles/0", Code::picker_defaulted);
    REQUIRE_MESSAGE(w, dump(pf.warnings));
    CHECK(contains(w->message, "profile \"p\" has no picker: it uses \"max-score-picker\""));
    REQUIRE(pf.profiles.size() == 1);
    CHECK(pf.instances[pf.profiles[0].picker].type == "max-score-picker");
    CHECK(pf.instances[pf.profiles[0].picker].implicit);

    // The first picker the config has, when it has one (here in another profile).
    const auto reused = s.run(R"({"plugins": [{"type": "queue-scorer"}, {"type": "max-score-picker", "name": "mine",
        "parameters": {"maxNumOfEndpoints": 2}}], "schedulingProfiles": [
        {"name": "a", "plugins": [{"pluginRef": "queue-scorer"}]},
        {"name": "b", "plugins": [{"pluginRef": "mine"}]}]})");
    REQUIRE_MESSAGE(reused.ok(), dump(reused.errors));
    CHECK(reused.instances[reused.profiles[0].picker].name == "mine");

    std::filesystem::remove(s.plugins / "max-score-picker.so");
    const auto none = s.run(R"({"plugins": [{"type": "queue-scorer"}], "schedulingProfiles": [{"name": "p",
        "plugins": [{"pluginRef": "queue-scorer"}]}]})");
    const Issue *e = at(none.errors, "/schedulingProfiles/0", Code::no_picker);
    REQUIRE_MESSAGE(e, dump(none.errors));
    CHECK(contains(e->message, "max-score-picker, the default, is not available"));
}

TEST_CASE("a weight on a picker is one error, not also a missing picker") {
    Setup s;
    const auto pf = s.run(R"({"plugins": [{"type": "queue-scorer"}, {"type": "max-score-picker"}],
        "schedulingProfiles": [{"name": "p", "plugins": [{"pluginRef": "queue-scorer"},
                                                         {"pluginRef": "max-score-picker", "weight": 2}]}]})");
    REQUIRE_MESSAGE(pf.errors.size() == 1, dump(pf.errors));
    CHECK(at(pf.errors, "/schedulingProfiles/0/plugins/1/weight", Code::weight_on_non_scorer));
}

TEST_CASE("weights whose sum overflows, or is beyond the limit, are refused") {
    Setup s;
    const auto pf =
        s.run(R"({"plugins": [{"type": "queue-scorer"}, {"type": "good-scorer"}, {"type": "max-score-picker"}],
        "schedulingProfiles": [{"name": "p", "plugins": [{"pluginRef": "queue-scorer", "weight": 1e308},
            {"pluginRef": "good-scorer", "weight": 1e308}, {"pluginRef": "max-score-picker"}]}]})");
    const Issue *e = at(pf.errors, "/schedulingProfiles/0", Code::invalid_weight);
    REQUIRE_MESSAGE(e, dump(pf.errors));
    CHECK(contains(e->message, "add up to inf"));
    const auto big = s.run(R"({"plugins": [{"type": "queue-scorer"}, {"type": "max-score-picker"}],
        "schedulingProfiles": [{"name": "p", "plugins": [{"pluginRef": "queue-scorer", "weight": 2e9},
            {"pluginRef": "max-score-picker"}]}]})");
    CHECK(at(big.errors, "/schedulingProfiles/0", Code::invalid_weight));
    const auto fine = s.run(R"({"plugins": [{"type": "queue-scorer"}, {"type": "max-score-picker"}],
        "schedulingProfiles": [{"name": "p", "plugins": [{"pluginRef": "queue-scorer", "weight": 1e9},
            {"pluginRef": "max-score-picker"}]}]})");
    CHECK_MESSAGE(fine.errors.empty(), dump(fine.errors));
}

TEST_CASE("a configured plugin no profile uses is a warning of its own") {
    Setup s;
    const auto pf =
        s.run(R"({"plugins": [{"type": "queue-scorer"}, {"type": "good-scorer"}, {"type": "max-score-picker"}],
        "schedulingProfiles": [{"name": "p", "plugins": [{"pluginRef": "queue-scorer"}, {"pluginRef": "max-score-picker"}]}]})");
    CHECK(pf.errors.empty());
    const Issue *w = at(pf.warnings, "/plugins/1", Code::unused_plugin);
    REQUIRE_MESSAGE(w, dump(pf.warnings));
    CHECK(contains(w->message, "\"good-scorer\" is configured but used by no profile"));
}

TEST_CASE("a type whose file could not be read is not reported as absent") {
    Setup s;
    std::filesystem::remove(s.plugins / "queue-scorer.so");
    std::filesystem::create_directory(s.plugins / "queue-scorer.so");  // unreadable as a plugin
    const auto pf = s.run(R"({"plugins": [{"type": "queue-scorer"}, {"type": "max-score-picker"}]})");
    const Issue *e = at(pf.errors, "/plugins/0/type", Code::unknown_type);
    REQUIRE_MESSAGE(e, dump(pf.errors));
    CHECK(contains(e->message, "some files could not be read, and one of them may"));
    CHECK(contains(e->message, "queue-scorer.so: is a directory"));
    CHECK_FALSE(contains(e->message, "did you mean"));
}

TEST_CASE("a configured picker that could not be planned is its own error, not also a missing picker") {
    Setup s;
    std::filesystem::remove(s.plugins / "max-score-picker.so");
    std::filesystem::create_directory(s.plugins / "max-score-picker.so");  // unreadable as a plugin
    // Without profiles (the default profile) and with one naming the picker.
    for (const std::string config : {R"({"plugins": [{"type": "queue-scorer"}, {"type": "max-score-picker"}]})",
                                     R"({"plugins": [{"type": "queue-scorer"}, {"type": "max-score-picker"}],
                                   "schedulingProfiles": [{"name": "p", "plugins": [{"pluginRef": "queue-scorer"},
                                                                                    {"pluginRef": "max-score-picker"}]}]})"}) {
        CAPTURE(config);
        const auto pf = s.run(config);
        REQUIRE_MESSAGE(pf.errors.size() == 1, dump(pf.errors));
        CHECK(at(pf.errors, "/plugins/1/type", Code::unknown_type));
    }
}

TEST_CASE("command-line overrides win over the config") {
    Setup s;
    const std::string config = R"({"policy": {"minStability": "beta"}, "featureGates": {"AlphaScorer": false},
        "plugins": [{"type": "alpha-scorer"}, {"type": "max-score-picker"}]})";
    CHECK(!s.run(config).ok());
    PolicyOverrides o;
    o.min_stability = Stability::alpha;
    o.feature_gates["AlphaScorer"] = {true, "--feature-gates"};
    const auto pf = s.run(config, o);
    CHECK_MESSAGE(pf.ok(), dump(pf.errors));
    CHECK(pf.policy->min_stability_source == "--min-stability");
}

TEST_CASE("a configured deprecated plugin is a warning at its config path") {
    Setup s;
    const auto pf = s.run(R"({"plugins": [{"type": "old-scorer"}, {"type": "max-score-picker"}]})");
    CHECK(pf.ok());
    const Issue *w = at(pf.warnings, "/plugins/0/type", Code::deprecated);
    REQUIRE(w);
    CHECK(contains(w->message, "replace it with \"new-scorer-a\" and \"new-scorer-b\""));
    PolicyOverrides strict;
    strict.reject_deprecated = true;
    CHECK(at(s.run(R"({"plugins": [{"type": "old-scorer"}, {"type": "max-score-picker"}]})", strict).errors,
             "/plugins/0/type", Code::plugin_refused));
}

TEST_CASE("operator tombstones and maturity files, relative to the config") {
    Setup s;
    write_file(s.dir / "tomb.json", R"({"plugins": [{"type": "good-scorer", "removedIn": "0.1.0",
        "message": "retired.", "replacements": ["queue-scorer"]}]})");
    write_file(s.dir / "maturity.json", R"({"plugins": {"good-scorer": "stable", "alpha-scorer": "beta"}})");
    const auto pf = s.run(R"({"policy": {"tombstonesFile": "tomb.json", "maturityFile": "maturity.json",
        "minStability": "alpha"}, "featureGates": {"AlphaScorer": true},
        "plugins": [{"type": "good-scorer"}, {"type": "alpha-scorer"}, {"type": "max-score-picker"}]})");
    CHECK(at(pf.errors, "/plugins/0/type", Code::tombstoned_type));
    const Issue *refused = at(pf.errors, "/plugins/1/type", Code::plugin_refused);
    REQUIRE_MESSAGE(refused, dump(pf.errors));
    CHECK(contains(refused->message, "[maturity-regression]"));

    const auto missing =
        s.run(R"({"policy": {"tombstonesFile": "nope.json"}, "plugins": [{"type": "max-score-picker"}]})");
    CHECK(!missing.io_error);
    CHECK(at(missing.errors, "/policy/tombstonesFile", Code::io_error));
    PolicyOverrides flag;
    flag.tombstones_file = (s.dir / "nope.json").string();
    CHECK(s.run(R"({"plugins": [{"type": "max-score-picker"}]})", flag).io_error);
}

TEST_CASE("inputs that cannot be read are I/O errors, bad content is reported as errors") {
    Setup s;
    PreflightInputs in;
    in.plugin_dir = s.plugins.path();
    in.config_source = ConfigSource::file;
    in.config_file = s.dir / "absent.json";
    CHECK(preflight(in).io_error);
    in.config_file = s.dir / "c.json";
    write_file(in.config_file, "{\"plugins\": [");
    const auto bad = preflight(in);
    CHECK(!bad.io_error);
    REQUIRE(!bad.errors.empty());
    CHECK(bad.errors[0].code == Code::not_json);
    CHECK(bad.candidates.size() == 6);  // the plugin report is still made
    in.plugin_dir = s.dir / "no-such-dir";
    CHECK(preflight(in).io_error);
}

TEST_CASE("20,000 undefined plugin references: every one reported, did-you-mean for a bounded number") {
    Setup s;
    // 1,000 plugins and 1,000 profiles of 20 references each, every reference one typo away from
    // a plugin's name: the old did-you-mean compared each with every name (150 s at this scale).
    std::string config = R"({"plugins": [)";
    for (std::size_t i = 0; i < 1000; ++i)
        config += (i ? "," : "") + fmt::format(R"({{"type": "queue-scorer", "name": "plugin-{:04}"}})", i);
    config += R"(], "schedulingProfiles": [)";
    for (std::size_t p = 0; p < 1000; ++p) {
        config += (p ? "," : "") + fmt::format(R"({{"name": "profile-{}", "plugins": [)", p);
        for (std::size_t r = 0; r < 20; ++r)
            config += (r ? "," : "") + fmt::format(R"({{"pluginRef": "plugin-{:04}"}})", 1000 + p * 20 + r);
        config += "]}";
    }
    config += "]}";
    const auto pf = s.run(config);
    std::size_t undefined = 0, suggested = 0;
    for (const auto &e : pf.errors) {
        if (e.code != Code::undefined_plugin_ref) continue;
        ++undefined;
        suggested += contains(e.message, "did you mean") ? 1 : 0;
    }
    CHECK(undefined == 20000);
    CHECK(suggested >= 1);
    CHECK(suggested <= 100);
    const Issue *first = at(pf.errors, "/schedulingProfiles/0/plugins/0/pluginRef", Code::undefined_plugin_ref);
    REQUIRE(first);
    CHECK(contains(first->message, "no plugin named \"plugin-1000\" is defined (did you mean \"plugin-"));
}

TEST_CASE("a config over a structural limit is reported once, without a cascade of follow-up errors") {
    Setup s;
    std::string refs;
    for (std::size_t r = 0; r < 20000; ++r)
        refs += (r ? "," : "") + fmt::format(R"({{"pluginRef": "undefined-{}"}})", r);
    const auto pf = s.run(R"({"plugins": [{"type": "max-score-picker"}, {"type": "queue-scorr"}],
        "schedulingProfiles": [{"name": "p", "plugins": [)" +
                          refs + "]}]}");
    // The plugins are still checked; the 20,000 references are not, so no undefined-plugin-ref.
    REQUIRE_MESSAGE(pf.errors.size() == 2, dump(pf.errors));
    const Issue *limit = at(pf.errors, "/schedulingProfiles/0/plugins", Code::too_large);
    REQUIRE(limit);
    CHECK(contains(limit->message, "profile \"p\" lists 20000 plugin references; the limit is 1000"));
    CHECK(contains(limit->hint, "only the first 1000 were read"));
    CHECK(at(pf.errors, "/plugins/1/type", Code::unknown_type));
}
