#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <plughost/testing.hpp>

using namespace plughost::testing;

TEST_CASE("a session returns to the endpoint that served it") {
    PluginLibrary lib(PLUGIN_PATH);
    auto made = lib.create("affinity");
    REQUIRE_MESSAGE(made.ok(), made.message);
    auto &scorer = *made.value;
    EndpointSet endpoints{{.name = "a"}, {.name = "b"}};
    RequestData request({.id = "1", .headers = {{"x-session-id", "s-42"}}});

    CHECK(scorer.score(request, endpoints).value == std::vector<double>{0, 0});  // unknown session
    // The host tells the plugin where the request went (chosen endpoints, best first): "a".
    REQUIRE(scorer.picked(request, endpoints).ok());
    CHECK(scorer.score(request, endpoints).value == std::vector<double>{1, 0});
    RequestData other({.id = "2", .headers = {{"x-session-id", "s-7"}}});
    CHECK(scorer.score(other, endpoints).value == std::vector<double>{0, 0});
}

TEST_CASE("parameters are validated with precise messages") {
    PluginLibrary lib(PLUGIN_PATH);
    auto bad = lib.create("affinity", R"({"maxSessions": 0})");
    CHECK(bad.status == PLUGHOST_INVALID_ARGUMENT);
    CHECK(bad.message == "parameter 'maxSessions': expected a value in [1, 10000000], found 0");
    auto typo = lib.create("affinity", R"({"headr": "x"})");
    CHECK(typo.status == PLUGHOST_INVALID_ARGUMENT);
}

TEST_CASE("the least recent sessions are forgotten beyond maxSessions") {
    PluginLibrary lib(PLUGIN_PATH);
    auto made = lib.create("affinity", R"({"maxSessions": 1})");
    REQUIRE(made.ok());
    auto &scorer = *made.value;
    EndpointSet endpoints{{.name = "a"}};
    RequestData first({.id = "1", .headers = {{"x-session-id", "one"}}});
    RequestData second({.id = "2", .headers = {{"x-session-id", "two"}}});
    REQUIRE(scorer.picked(first, endpoints).ok());
    REQUIRE(scorer.picked(second, endpoints).ok());
    CHECK(scorer.score(first, endpoints).value == std::vector<double>{0});
    CHECK(scorer.score(second, endpoints).value == std::vector<double>{1});
    CHECK(scorer.counters().at("evictions") == 1);
}

TEST_CASE("the host admits it under the operator's policy for alpha plugins, and refuses it below") {
    // The host's own admission rules, through the installed plughost tool (no plugin code runs).
    const auto enabled = admission(PLUGIN_PATH, {.config = R"({"policy": {"minStability": "alpha"},
                                                              "featureGates": {"SessionAffinityScorer": true}})"});
    CHECK_MESSAGE(enabled.admitted, enabled.describe());
    // An operator who keeps minStability at beta: refused, with the host's code and message.
    const auto beta =
        admission(PLUGIN_PATH, {.min_stability = "beta", .feature_gates = {"SessionAffinityScorer=true"}});
    REQUIRE(beta.refused_with("below-min-stability"));
    CHECK(beta.reasons.front().message.find("is alpha, below the minimum stability beta") != std::string::npos);
}
