// The SDK's C++ layer: the manifest rendered at compile time, parameters, the exception
// boundary, and the test helpers plugin authors use (plughost/testing.hpp).
#include "inspect/manifest.hpp"
#include "load/instantiation.hpp"
#include "test_support.hpp"

#include <plughost/plugin.hpp>
#include <plughost/testing.hpp>

#include <doctest/doctest.h>

#include <set>

using namespace plughost::test;
namespace sdk = plughost;
namespace host = plughost::host;

namespace {

constexpr sdk::Param kParams[] = {
    {"blockSize", sdk::ParamType::integer, "64", "Bytes per block."},
    {"label", sdk::ParamType::string, "\"a \\\"quoted\\\" label\"", "A string with escapes."},
    {"ratio", sdk::ParamType::number, "", "No default."},
};
constexpr std::string_view kReplacements[] = {"first-scorer", "second-scorer"};
constexpr sdk::Deprecation kDeprecation{"1.1.0", "1.3.0", "Split into \"first\" and \\second\\.", kReplacements};
constexpr sdk::Manifest kManifest{
    .type = "sdk-test",
    .role = sdk::Role::filter,
    .version = "1.2.0-rc.1",
    .stability = sdk::Stability::alpha,
    .feature_gate = "SdkTest",
    .description = "Tests the \"SDK\" \u00e9 path \\ escapes.",
    .parameters = kParams,
    .thread_safe = true,
    .deprecation = kDeprecation,
};
constexpr auto kNote = sdk::detail::make_note<sdk::detail::json_size(kManifest)>(kManifest);

}  // namespace

TEST_CASE("the manifest rendered at compile time is read back by the host field for field") {
    const std::string_view json(kNote.json().data, kNote.json().size);
    const auto reading = host::read_manifest(json);
    std::string errors;
    for (const auto &e : reading.errors) errors += e.field + " " + e.message + "\n";
    REQUIRE_MESSAGE(reading.manifest, errors << json);
    const host::Manifest &m = *reading.manifest;
    CHECK(m.type == "sdk-test");
    CHECK(m.role == host::Role::filter);
    CHECK(m.version.str() == "1.2.0-rc.1");
    CHECK(m.abi_version == host::host_abi_version());
    CHECK(m.stability == host::Stability::alpha);
    CHECK(m.feature_gate == "SdkTest");
    CHECK(m.description == "Tests the \"SDK\" \u00e9 path \\ escapes.");
    CHECK(m.thread_safe);
    REQUIRE(m.parameters.size() == 3);
    CHECK(m.parameters[0].default_value->as_int64() == 64);
    CHECK(m.parameters[1].default_value->as_string() == "a \"quoted\" label");
    CHECK(!m.parameters[2].default_value);
    REQUIRE(m.deprecation);
    CHECK(m.deprecation->message == "Split into \"first\" and \\second\\.");
    CHECK(m.deprecation->replacements == std::vector<std::string>{"first-scorer", "second-scorer"});
}

TEST_CASE("the note record has the ELF layout: owner plughost, type 1, 4-byte aligned") {
    CHECK(kNote.namesz == 9);
    CHECK(std::string_view(kNote.name) == "plughost");
    CHECK(kNote.type == PLUGHOST_NOTE_TYPE_MANIFEST);
    CHECK(kNote.descsz == kNote.json().size + 1);
    CHECK(alignof(decltype(kNote)) == 4);
    CHECK(sizeof(kNote) % 4 == 0);
}

TEST_CASE("parameters are checked against the manifest and defaults filled in") {
    const auto p = sdk::detail::make_params(kManifest, {R"({"ratio": 0.5})", 14});
    CHECK(p.get<int>("blockSize") == 64);
    CHECK(p.get<std::string>("label") == "a \"quoted\" label");
    CHECK(p.get<double>("ratio") == 0.5);
    CHECK(p.get_or<int>("absent", 7) == 7);
    CHECK_THROWS_WITH_AS(p.get<bool>("blockSize"), "parameter 'blockSize': expected a boolean, found integer 64",
                         sdk::ParameterError);
    CHECK_THROWS_WITH_AS(p.get_in_range<int>("blockSize", 1, 32),
                         "parameter 'blockSize': expected a value in [1, 32], found 64", sdk::ParameterError);
    CHECK_THROWS_WITH_AS(p.get<int>("absent"), "parameter 'absent' is required", sdk::ParameterError);
    CHECK_THROWS_WITH_AS(p.get_in_range<double>("ratio", 0, 0.25),
                         "parameter 'ratio': expected a value in [0, 0.25], found 0.5", sdk::ParameterError);

    auto params = [](std::string_view text) { return sdk::detail::make_params(kManifest, {text.data(), text.size()}); };
    CHECK_THROWS_WITH_AS(params(R"({"blocksize": 1})"),
                         "unknown parameter 'blocksize'; known parameters: blockSize, label, ratio",
                         sdk::ParameterError);
    CHECK_THROWS_WITH_AS(params(R"({"blockSize": "big"})"),
                         "parameter 'blockSize': expected integer, found string \"big\"", sdk::ParameterError);
    CHECK_THROWS_WITH_AS(params("[1]"), "parameters must be a JSON object, found array", sdk::ParameterError);
    CHECK_THROWS_AS(params("{"), sdk::ParameterError);
    CHECK(params(R"({"blockSize": 2.0})").get<int>("blockSize") == 2);
    CHECK_THROWS_AS(params(R"({"blockSize": 99999999999})").get<int>("blockSize"), sdk::ParameterError);
}

TEST_CASE("no exception crosses the C boundary: each becomes a status and a message") {
    sdk::testing::PluginLibrary lib(paths::throwing_plugin);
    auto failed = lib.create("t", R"({"throwInCreate": true})");
    CHECK(failed.status == PLUGHOST_ERROR);
    CHECK(failed.message == "refusing to start: throwInCreate is set");
    CHECK(!failed.value);

    auto bad_param = lib.create("t", R"({"limit": "x"})");
    CHECK(bad_param.status == PLUGHOST_INVALID_ARGUMENT);
    CHECK(bad_param.message == "parameter 'limit': expected integer, found string \"x\"");

    auto made = lib.create("t");
    REQUIRE(made.ok());
    sdk::testing::EndpointSet endpoints{{.name = "a"}, {.name = "b"}};
    sdk::testing::RequestData request;
    const auto scored = made.value->score(request, endpoints);
    CHECK(scored.status == PLUGHOST_ERROR);
    CHECK(scored.message == "scorer exploded");
    const auto picked = made.value->picked(request, endpoints);
    CHECK(picked.status == PLUGHOST_ERROR);
    CHECK(picked.message == "unknown exception");
}

TEST_CASE("the test helpers drive an in-tree plugin through its real entry") {
    sdk::testing::PluginLibrary lib(paths::plugin_queue_scorer);
    CHECK(lib.manifest_json().find("\"queue-scorer\"") != std::string_view::npos);
    auto made = lib.create("q");
    REQUIRE_MESSAGE(made.ok(), made.message);
    sdk::testing::EndpointSet endpoints{{.name = "a", .waiting_queue_size = 10},
                                        {.name = "b", .waiting_queue_size = 0},
                                        {.name = "c", .waiting_queue_size = 5}};
    const auto scores = made.value->score(sdk::testing::RequestData(), endpoints);
    REQUIRE(scores.ok());
    CHECK(scores.value == std::vector<double>{0.0, 1.0, 0.5});

    sdk::testing::PluginLibrary picker_lib(paths::plugin_max_score_picker);
    auto picker = picker_lib.create("p", R"({"maxNumOfEndpoints": 2})");
    REQUIRE(picker.ok());
    const double totals[] = {0.2, 0.9, 0.9};
    const auto picked = picker.value->pick(sdk::testing::RequestData(), endpoints, totals);
    REQUIRE(picked.ok());
    REQUIRE(picked.value.size() == 2);  // the tie at 0.9 between "b" and "c" is broken at random
    CHECK(std::set<std::size_t>(picked.value.begin(), picked.value.end()) == std::set<std::size_t>{1, 2});
}

TEST_CASE("testing.hpp fails a result the host would refuse, naming the rule") {
    namespace t = sdk::testing;
    t::EndpointSet endpoints{{.name = "a"}, {.name = "b"}, {.name = "c"}};
    t::RequestData request;
    auto rule_broken = [](auto &&call) -> std::string {
        try {
            call();
        } catch (const t::HostRuleBroken &e) {
            return e.what();
        }
        return "";
    };
    {
        t::PluginLibrary lib(paths::scorer_out_of_range);
        auto made = lib.create("s");
        REQUIRE(made.ok());
        const std::string why = rule_broken([&] { made.value->score(request, endpoints); });
        CHECK_MESSAGE(why.find("the score of endpoint 0 (\"a\") is 1.5") != std::string::npos, why);
        CHECK(why.find(sdk::rules::kScoreRule) != std::string::npos);
    }
    {
        t::PluginLibrary lib(paths::scorer_nan);
        auto made = lib.create("s");
        REQUIRE(made.ok());
        CHECK(rule_broken([&] { made.value->score(request, endpoints); }).find("NaN is not") != std::string::npos);
    }
    {
        t::PluginLibrary lib(paths::filter_unordered);
        auto made = lib.create("f");
        REQUIRE(made.ok());
        const std::string why = rule_broken([&] { made.value->filter(request, endpoints); });
        CHECK_MESSAGE(why.find("filter: it returned [1, 0]") != std::string::npos, why);
        CHECK(why.find(sdk::rules::kFilterRule) != std::string::npos);
    }
    {
        t::PluginLibrary lib(paths::filter_unknown_endpoint);
        auto made = lib.create("f");
        REQUIRE(made.ok());
        CHECK(rule_broken([&] { made.value->filter(request, endpoints); }).find(sdk::rules::kFilterRule) !=
              std::string::npos);
    }
    {
        t::PluginLibrary lib(paths::picker_unknown_endpoint);
        auto made = lib.create("p");
        REQUIRE(made.ok());
        const double totals[] = {0.1, 0.2, 0.3};
        CHECK(rule_broken([&] { made.value->pick(request, endpoints, totals); }).find(sdk::rules::kPickRule) !=
              std::string::npos);
    }
    {  // -0.0 is a valid 0 for the host, and so for the harness
        t::PluginLibrary lib(paths::scorer_negative_zero);
        auto made = lib.create("s");
        REQUIRE(made.ok());
        CHECK(made.value->score(request, endpoints).ok());
    }
}

TEST_CASE("testing.hpp passes the manifest's defaults to create, as the host does") {
    sdk::testing::PluginLibrary lib(paths::parameter_defaults);
    auto made = lib.create("d");
    CHECK_MESSAGE(made.ok(), made.message);  // the fixture refuses to start without its default
    auto given = lib.create("d", R"({"mode": "lenient"})");
    CHECK(given.status == PLUGHOST_INVALID_ARGUMENT);  // the given value is kept, not replaced
    CHECK(given.message == R"({"mode":"lenient"})");
    auto not_object = lib.create("d", "[]");  // passed as is: the plugin's own check answers
    CHECK(not_object.status == PLUGHOST_INVALID_ARGUMENT);
    CHECK(not_object.message == "[]");
}

TEST_CASE("the host's default filling is the SDK's rule") {
    host::Manifest m;
    m.parameters.push_back({"a", sdk::ParamType::integer, boost::json::value(1), ""});
    m.parameters.push_back({"b", sdk::ParamType::integer, std::nullopt, ""});
    boost::json::object given{{"a", 5}};
    CHECK(host::effective_parameters(given, m) == boost::json::object{{"a", 5}});
    CHECK(host::effective_parameters({}, m) == boost::json::object{{"a", 1}});
}

TEST_CASE("testing.hpp serves a C plugin's parameters through host_api.param as the host does: given values over "
          "the manifest's defaults, typed by the manifest") {
    sdk::testing::PluginLibrary lib(paths::c_params);
    auto made = lib.create("p", R"({"bias": 3, "tags": ["a"]})");
    REQUIRE_MESSAGE(made.ok(), made.message);
    std::string logged;
    for (const auto &line : made.value->logs()) logged += line.text + "\n";
    CHECK_MESSAGE(contains(logged, R"(params: weight=0.25 mode=flat(string) bias=3 enabled=true tags=["a"](json) )"
                                   "undeclared=(none)"),
                  logged);
    CHECK(made.value->score(sdk::testing::RequestData(), sdk::testing::EndpointSet{{.name = "a"}}).value ==
          std::vector<double>{0.25});
}

TEST_CASE("testing::admission gives the host's own decision under a policy, codes and messages word for word") {
    // The default policy: an alpha plugin with its gate off is refused on both counts.
    const auto by_default = sdk::testing::admission(paths::alpha_gated);
    CHECK(!by_default.admitted);
    CHECK(by_default.min_stability == "beta");
    CHECK(by_default.refused_with("below-min-stability"));
    CHECK(by_default.refused_with("gate-disabled"));
    // The same reasons as `plughost inspect` gives under the same policy.
    const auto host =
        parse_json(run_plughost({"inspect", paths::alpha_gated, "--min-stability", "beta", "-o", "json"}).out);
    const auto beta = sdk::testing::admission(paths::alpha_gated, {.min_stability = "beta"});
    REQUIRE(beta.reasons.size() == host.at("reasons").as_array().size());
    for (std::size_t i = 0; i < beta.reasons.size(); ++i) {
        CHECK(beta.reasons[i].code == host.at("reasons").at(i).at("code").as_string());
        CHECK(beta.reasons[i].message == host.at("reasons").at(i).at("message").as_string());
    }
    CHECK(contains(beta.describe(), "refused: [below-min-stability] " + paths::alpha_gated));

    const auto operator_config = sdk::testing::admission(
        paths::alpha_gated,
        {.config = R"({"policy": {"minStability": "alpha"}, "featureGates": {"AlphaScorer": true}})"});
    CHECK_MESSAGE(operator_config.admitted, operator_config.describe());
    CHECK(operator_config.min_stability == "alpha");
    CHECK(operator_config.describe() == "admitted");
    // Flags override the config, as on the command line.
    const auto overridden =
        sdk::testing::admission(paths::alpha_gated, {.config = R"({"policy": {"minStability": "alpha"}})",
                                                     .min_stability = "stable",
                                                     .feature_gates = {"AlphaScorer=true"}});
    CHECK(overridden.refused_with("below-min-stability"));
    CHECK(!overridden.refused_with("gate-disabled"));

    const auto deprecated = sdk::testing::admission(paths::deprecated_plugin, {.min_stability = "dev"});
    CHECK(deprecated.admitted);
    REQUIRE(deprecated.warnings.size() == 1);
    CHECK(deprecated.warnings[0].code == "deprecated");
    CHECK(sdk::testing::admission(paths::deprecated_plugin, {.min_stability = "dev", .reject_deprecated = true})
              .refused_with("deprecated"));
}

TEST_CASE("testing::admission says why when the tool cannot be run or refuses the policy") {
    TempDir dir;
    const auto config = dir / "operator.yaml";
    write_file(config, "policy:\n  minStability: gamma\n");
    try {
        sdk::testing::admission(paths::alpha_gated, {.config_file = config.string()});
        FAIL("no exception");
    } catch (const std::runtime_error &e) {
        CHECK_MESSAGE(contains(e.what(), "exited 2 without a decision"), e.what());
        CHECK(contains(e.what(), "/policy/minStability"));
    }
    ::setenv("PLUGHOST_TOOL", "/nonexistent/bin/plughost", 1);
    try {
        sdk::testing::admission(paths::alpha_gated);
        FAIL("no exception");
    } catch (const std::runtime_error &e) {
        CHECK_MESSAGE(contains(e.what(), "cannot run the plughost tool /nonexistent/bin/plughost: No such file or "
                                         "directory (is plughost installed there?"),
                      e.what());
    }
    ::unsetenv("PLUGHOST_TOOL");
}

TEST_CASE("testing.hpp's put_numbers and get_numbers check what the host checks") {
    // batch-producer (a C fixture) makes every call the host refuses, then publishes the waiting
    // queues through an array in reverse order; the harness must refuse the same calls.
    namespace t = sdk::testing;
    t::PluginLibrary lib(paths::batch_producer);
    auto made = lib.create("p");
    REQUIRE_MESSAGE(made.ok(), made.message);
    t::EndpointSet endpoints{{.name = "a", .waiting_queue_size = 3},
                             {.name = "b", .waiting_queue_size = 1},
                             {.name = "c", .waiting_queue_size = 5}};
    const t::RequestData request;
    const auto produced = made.value->produce(request, endpoints);
    REQUIRE_MESSAGE(produced.ok(), produced.message);
    for (std::size_t i = 0; i < endpoints.size(); ++i)
        CHECK(made.value->attribute_number("batch.load", endpoints.at(i)) ==
              double(endpoints.at(i)->waiting_queue_size));
    CHECK(made.value->attribute_number("batch.total", nullptr) == 3.0);
    const auto &counters = made.value->counters();
    for (const char *name : {"published", "refused-undeclared", "refused-scope", "refused-type", "refused-foreign",
                             "refused-null-endpoints", "refused-null-values", "empty-ok", "refused-not-finite",
                             "refused-infinite", "kept-before-bad"}) {
        CAPTURE(name);
        CHECK(counters.count(name) == 1);
    }
    // Outside produce (pre_request) a put is refused too.
    const t::DecisionData decision("default", endpoints, {1});
    REQUIRE(made.value->pre_request(request, decision).ok());
    CHECK(made.value->counters().count("refused-outside-produce") == 1);
}
