// The commands for plugin authors, run as real processes: `plughost test-plugin` (what
// plughost_add_plugin_test runs) and `plughost new-plugin`.
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace plughost::test;

namespace {

ProcessResult test_plugin(const std::string &file, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"test-plugin", file};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_plughost(args);
}

bool has(const std::string &text, std::string_view part) { return text.find(part) != std::string::npos; }

std::string read(const std::filesystem::path &path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

TEST_CASE("test-plugin passes a good plugin through admission, the loader, create and its role") {
    const auto r = test_plugin(paths::good_scorer);
    CHECK_MESSAGE(r.exit_code == 0, r.out, r.err);
    CHECK(has(r.out, "admitted: good-scorer"));
    CHECK(has(r.out, "ok    load:"));
    CHECK(has(r.out, "ok    score: [0.5, 0.5, 0.5]"));
    CHECK(has(r.out, "plugin good-scorer passed the host's checks"));
}

TEST_CASE("test-plugin passes every in-tree plugin with its defaults") {
    for (const std::string &file :
         {paths::plugin_queue_scorer, paths::plugin_max_score_picker, paths::plugin_kv_cache_utilization_scorer,
          paths::plugin_prefix_cache_scorer, paths::plugin_lora_affinity_scorer, paths::plugin_weighted_random_picker,
          paths::plugin_random_picker, paths::plugin_kv_headroom_filter}) {
        const auto r = test_plugin(file);
        CHECK_MESSAGE(r.exit_code == 0, file, "\n", r.out, r.err);
    }
}

TEST_CASE("a plugin declaring scorer that implements a filter passes inspect but fails test-plugin at load") {
    CHECK(run_plughost({"inspect", paths::scorer_implements_filter}).exit_code == 0);  // the manifest is fine
    const auto r = test_plugin(paths::scorer_implements_filter);
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(has(r.out, "FAIL  load:"), r.out);
    CHECK_MESSAGE(has(r.out, "score"), r.out);
    CHECK(!has(r.out, "passed the host's checks"));
}

TEST_CASE("results the scheduler would count as faults fail test-plugin, naming the rule") {
    struct Case {
        std::string file, step, rule;
    };
    const Case cases[] = {
        {paths::scorer_out_of_range, "FAIL  score: endpoint 0 got 1.5", "each a number in [0, 1]"},
        {paths::scorer_nan, "FAIL  score: endpoint", "(NaN is not)"},
        {paths::filter_unordered, "FAIL  filter returned [1, 0]", "strictly increasing order"},
        {paths::filter_unknown_endpoint, "FAIL  filter returned", "each below the number offered"},
        {paths::picker_unknown_endpoint, "FAIL  pick returned", "none twice"},
        {paths::scorer_error_status, "FAIL  score returned status", "plugin-error"},
    };
    for (const Case &c : cases) {
        const auto r = test_plugin(c.file);
        CHECK_MESSAGE(r.exit_code == 1, c.file, "\n", r.out);
        CHECK_MESSAGE(has(r.out, c.step), c.file, "\n", r.out);
        CHECK_MESSAGE(has(r.out, c.rule), c.file, "\n", r.out);
    }
    // -0.0 is a valid 0, for the scheduler and so for test-plugin.
    CHECK(test_plugin(paths::scorer_negative_zero).exit_code == 0);
}

TEST_CASE("test-plugin fills in the manifest's defaults and passes the given parameters") {
    const auto r = test_plugin(paths::parameter_defaults);
    CHECK_MESSAGE(r.exit_code == 0, r.out);
    CHECK(has(r.out, R"(create: parameters {"mode":"strict"})"));
    const auto given = test_plugin(paths::parameter_defaults, {"--parameters", R"({"mode":"lenient"})"});
    CHECK(given.exit_code == 1);  // the fixture wants its default; the operator's value wins over it
    CHECK_MESSAGE(has(given.out, R"(FAIL  create with {"mode":"lenient"})"), given.out);
    const auto bad = test_plugin(paths::parameter_defaults, {"--parameters", "[1]"});
    CHECK(bad.exit_code == 2);
    CHECK(has(bad.err, "--parameters must be a JSON object"));
}

TEST_CASE("test-plugin refuses a file the host refuses, with the reason") {
    const auto r = test_plugin(paths::no_note);
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(has(r.out, "the host refuses this file"), r.out);
    CHECK(has(r.out, "no-manifest"));
}

TEST_CASE("test-plugin admits under the operator's policy when one is given, with the host's codes") {
    // Without a policy, every tier and the plugin's own gate are allowed.
    CHECK(test_plugin(paths::alpha_gated).exit_code == 0);
    // The default policy (an empty config): an alpha plugin is below beta, and its gate is off.
    TempDir dir;
    const auto empty = dir / "empty.json";
    write_file(empty, "{}");
    const auto below = test_plugin(paths::alpha_gated, {"--config", empty.string()});
    CHECK(below.exit_code == 1);
    CHECK_MESSAGE(has(below.out, "the host refuses this file under the policy given, minStability beta (the default"),
                  below.out);
    CHECK(has(below.out, "below-min-stability: " + paths::alpha_gated + ": plugin \"alpha-scorer\" is alpha"));
    CHECK(has(below.out, "gate-disabled: "));
    CHECK(!has(below.out, "load:"));  // no plugin code ran
    // Both settings, from flags or from an operator's YAML config: admitted, then exercised.
    const auto flags =
        test_plugin(paths::alpha_gated, {"--min-stability", "alpha", "--feature-gates", "AlphaScorer=true"});
    CHECK_MESSAGE(flags.exit_code == 0, flags.out);
    CHECK(has(flags.out, "admitted: alpha-scorer 1.0.0 (scorer, alpha), under the policy given, minStability alpha "
                         "(set at --min-stability)"));
    CHECK(has(flags.out, "ok    score: "));
    const auto yaml = dir / "operator.yaml";
    write_file(yaml, "policy:\n  minStability: alpha\nfeatureGates:\n  AlphaScorer: true\n");
    CHECK(test_plugin(paths::alpha_gated, {"--config", yaml.string()}).exit_code == 0);
    // Only the gate: still below the minimum stability.
    const auto gate_only = test_plugin(paths::alpha_gated, {"--feature-gates", "AlphaScorer=true"});
    CHECK(gate_only.exit_code == 1);
    CHECK(has(gate_only.out, "below-min-stability: "));
    CHECK(!has(gate_only.out, "gate-disabled: "));
    // Deprecation by the policy: a warning, or a refusal with --reject-deprecated.
    const auto warned = test_plugin(paths::deprecated_plugin, {"--min-stability", "dev"});
    CHECK_MESSAGE(warned.exit_code == 0, warned.out);
    CHECK(has(warned.out, "warning deprecated: "));
    const auto rejected = test_plugin(paths::deprecated_plugin, {"--min-stability", "dev", "--reject-deprecated"});
    CHECK(rejected.exit_code == 1);
    CHECK(has(rejected.out, "deprecated: "));
}

TEST_CASE("a policy that cannot be used is a usage error of test-plugin and inspect, saying why") {
    TempDir dir;
    const auto bad = dir / "bad.json";
    write_file(bad, R"({"policy": {"minStability": "gamma"}})");
    for (const std::string command : {"test-plugin", "inspect"}) {
        CAPTURE(command);
        const auto r = run_plughost({command, paths::alpha_gated, "--config", bad.string()});
        CHECK(r.exit_code == 2);
        CHECK_MESSAGE(has(r.err, "the config has errors"), r.err);
        CHECK(has(r.err, "/policy/minStability"));
        const auto missing = run_plughost({command, paths::alpha_gated, "--config", (dir / "none.json").string()});
        CHECK(missing.exit_code == 2);
        const auto gates = run_plughost({command, paths::alpha_gated, "--feature-gates", "AlphaScorer"});
        CHECK(gates.exit_code == 2);
    }
}

TEST_CASE("inspect gives the decision under a policy, in the table and as JSON") {
    const auto foundation = run_plughost({"inspect", paths::alpha_gated});
    CHECK(foundation.exit_code == 0);
    CHECK(has(foundation.out, "policy:       none given, so the foundation rules only"));
    const auto table = run_plughost({"inspect", paths::alpha_gated, "--min-stability", "beta"});
    CHECK(table.exit_code == 1);
    CHECK(has(table.out, "decision:     rejected\n  [below-min-stability] "));
    CHECK(has(table.out, "policy:       minStability beta (set at --min-stability)"));
    const auto json = run_plughost({"inspect", paths::alpha_gated, "-o", "json", "--min-stability", "alpha",
                                    "--feature-gates", "AlphaScorer=true"});
    CHECK(json.exit_code == 0);
    const auto doc = parse_json(json.out);
    CHECK(doc.at("decision") == "admitted");
    CHECK(doc.at("minStability").at("value") == "alpha");
}

TEST_CASE("new-plugin writes a project for each role and language, and never overwrites") {
    TempDir dir;
    for (const std::string role : {"filter", "scorer", "picker", "profile-handler", "producer", "observer"}) {
        for (const std::string lang : {"c", "c++"}) {
            const std::string name = "acme-" + role + (lang == "c" ? "-c" : "-cxx");
            const auto r =
                run_plughost({"new-plugin", name, "--role", role, "--lang", lang, "--dir", (dir / name).string()});
            REQUIRE_MESSAGE(r.exit_code == 0, r.err);
            const std::string ident = [&] {
                std::string s = name;
                for (char &ch : s)
                    if (ch == '-') ch = '_';
                return s;
            }();
            const std::string ext = lang == "c" ? ".c" : ".cpp";
            CHECK(std::filesystem::exists(dir / name / "README.md"));
            const std::string cmake = read(dir / name / "CMakeLists.txt");
            CHECK(has(cmake, "plughost_add_plugin_test(" + ident + " POLICY --min-stability alpha --feature-gates "));
            CHECK(has(cmake, lang == "c" ? "LANGUAGES C)" : "LANGUAGES CXX)"));
            const std::string source = read(dir / name / (ident + ext));
            // The manifest's type: a C string literal holds it escaped.
            const std::string quote = lang == "c" ? "\\\"" : "\"";
            CHECK_MESSAGE(has(source, quote + name + quote), source);
            CHECK(std::filesystem::exists(dir / name / (ident + "_test" + ext)));
            CHECK(!has(source, "@"));  // every placeholder filled
        }
    }
    const auto again = run_plughost(
        {"new-plugin", "acme-filter-c", "--role", "filter", "--lang", "c", "--dir", (dir / "acme-filter-c").string()});
    CHECK(again.exit_code == 2);
    CHECK(has(again.err, "exists and is not empty"));
    CHECK(run_plughost({"new-plugin", "Acme_Filter", "--role", "filter", "--dir", (dir / "x").string()}).exit_code ==
          2);
    const auto role = run_plughost({"new-plugin", "acme-x", "--role", "sorter", "--dir", (dir / "y").string()});
    CHECK(role.exit_code == 2);
    CHECK(has(role.err, "expected filter, scorer, picker, profile-handler, producer or observer"));
}
