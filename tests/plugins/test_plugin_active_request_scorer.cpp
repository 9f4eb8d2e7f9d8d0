// active-request-scorer: scores from the requests in flight the host counts.
#include "plugin_test_helpers.hpp"

#include <cstdint>
#include <string>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

namespace {

std::vector<double> scores_for(pt::PluginInstance &scorer, const std::vector<std::uint32_t> &in_flight) {
    std::vector<pt::EndpointSpec> specs;
    for (std::size_t i = 0; i < in_flight.size(); ++i)
        specs.push_back(
            {.name = "pod-" + std::string(1, static_cast<char>('a' + i)), .requests_in_flight = in_flight[i]});
    const pt::EndpointSet endpoints(specs);
    auto scores = scorer.score(pt::RequestData(), endpoints);
    REQUIRE_MESSAGE(scores.ok(), scores.message);
    return scores.value;
}

}  // namespace

TEST_CASE("active-request-scorer declares a beta scorer behind ActiveRequestScorer with upstream's parameters") {
    pt::PluginLibrary lib(paths::plugin_active_request_scorer);
    const auto m = host_manifest(lib);
    CHECK(m.type == "active-request-scorer");
    CHECK(m.role == host::Role::scorer);
    CHECK(m.stability == host::Stability::beta);
    CHECK(m.feature_gate == "ActiveRequestScorer");
    CHECK(m.thread_safe);
    REQUIRE(m.parameters.size() == 4);
    CHECK(default_of(m, "idleThreshold") == "0");
    CHECK(m.find_parameter("maxBusyScore")->default_value->to_number<double>() == 1.0);
    CHECK(default_of(m, "inFlightLoadProducerName").empty());
    CHECK(default_of(m, "requestTimeout").empty());
}

// Upstream pkg/epp/framework/plugins/scheduling/scorer/activerequest/active_request_test.go.
// Upstream reads the in-flight count from inflight-load-producer's attribute ("no attribute"
// counts 0); here the host's requests_in_flight is that count, 0 when nothing was sent.
TEST_CASE("active-request-scorer passes upstream's active_request_test.go table") {
    pt::PluginLibrary lib(paths::plugin_active_request_scorer);
    SUBCASE("no load attribute set") {
        auto scorer = make(lib);
        CHECK(scores_for(*scorer, {0, 0, 0}) == std::vector<double>{1.0, 1.0, 1.0});
    }
    SUBCASE("all endpoints have different request counts") {
        auto scorer = make(lib);
        CHECK(scores_for(*scorer, {3, 0, 6}) == std::vector<double>{0.5, 1.0, 0.0});
    }
    SUBCASE("some endpoints have load data") {
        auto scorer = make(lib);
        CHECK(scores_for(*scorer, {4, 0, 1}) == std::vector<double>{0.0, 1.0, 0.75});
    }
    SUBCASE("binary mode") {
        auto scorer = make(lib, R"({"idleThreshold": 0, "maxBusyScore": 0.0})");
        CHECK(scores_for(*scorer, {0, 0}) == std::vector<double>{1.0, 1.0});
        CHECK(scores_for(*scorer, {1, 0}) == std::vector<double>{0.0, 1.0});
    }
    SUBCASE("hybrid mode") {
        auto scorer = make(lib, R"({"idleThreshold": 1, "maxBusyScore": 0.5})");
        CHECK(scores_for(*scorer, {1, 2, 0}) == std::vector<double>{1.0, 0.0, 1.0});
    }
    SUBCASE("DefaultParamsProduceContinuousScores") {
        auto scorer = make(lib, "{}");
        const auto scores = scores_for(*scorer, {3, 11});
        CHECK(scores[0] == doctest::Approx(0.7272).epsilon(0.001));
        CHECK(scores[1] == 0.0);
    }
}

TEST_CASE("active-request-scorer applies upstream's fallbacks: negative idleThreshold, maxBusyScore outside [0, 1]") {
    pt::PluginLibrary lib(paths::plugin_active_request_scorer);
    auto negative = make(lib, R"({"idleThreshold": -3})");
    CHECK(scores_for(*negative, {2, 0, 4}) == std::vector<double>{0.5, 1.0, 0.0});
    CHECK(negative->logs().empty());
    auto outside = make(lib, R"({"maxBusyScore": 1.5})");
    CHECK(scores_for(*outside, {2, 1, 4}) == std::vector<double>{0.5, 0.75, 0.0});
    REQUIRE(outside->logs().size() == 1);
    CHECK(outside->logs()[0].level == PLUGHOST_LOG_WARN);
}

TEST_CASE("active-request-scorer accepts upstream's ignored parameters, warning about requestTimeout") {
    pt::PluginLibrary lib(paths::plugin_active_request_scorer);
    auto scorer = make(lib, R"({"requestTimeout": "invalid", "inFlightLoadProducerName": "my-producer"})");
    REQUIRE(scorer->logs().size() == 1);
    CHECK(scorer->logs()[0].level == PLUGHOST_LOG_WARN);
    CHECK(contains(scorer->logs()[0].text, "requestTimeout is deprecated upstream and ignored"));
    CHECK(scores_for(*scorer, {1, 0}) == std::vector<double>{0.0, 1.0});
}

TEST_CASE("active-request-scorer ignores queue, running and pending counts, and handles no endpoints") {
    pt::PluginLibrary lib(paths::plugin_active_request_scorer);
    auto scorer = make(lib);
    pt::EndpointSet endpoints{{.name = "a", .waiting_queue_size = 9, .running_requests = 9, .pending_picks = 9},
                              {.name = "b", .requests_in_flight = 2}};
    CHECK(scorer->score(pt::RequestData(), endpoints).value == std::vector<double>{1.0, 0.0});
    pt::EndpointSet none{};
    CHECK(scorer->score(pt::RequestData(), none).value.empty());
    check_rejected(lib, R"({"idleThreshold": "2"})", "parameter 'idleThreshold': expected integer, found string \"2\"");
}
