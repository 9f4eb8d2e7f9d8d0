// running-requests-size-scorer: queue-scorer's min-max formula on the running requests.
#include "plugin_test_helpers.hpp"

#include <cstdint>
#include <string>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

TEST_CASE("running-requests-size-scorer declares a beta scorer behind RunningRequestsSizeScorer") {
    pt::PluginLibrary lib(paths::plugin_running_requests_size_scorer);
    const auto m = host_manifest(lib);
    CHECK(m.type == "running-requests-size-scorer");
    CHECK(m.role == host::Role::scorer);
    CHECK(m.stability == host::Stability::beta);
    CHECK(m.feature_gate == "RunningRequestsSizeScorer");
    CHECK(m.thread_safe);
    REQUIRE(m.parameters.size() == 1);
    CHECK(default_of(m, "countPendingPicks") == "true");
}

// Upstream pkg/epp/framework/plugins/scheduling/scorer/runningrequests/running_test.go (tolerance 1e-4).
TEST_CASE("running-requests-size-scorer passes upstream's running_test.go table") {
    pt::PluginLibrary lib(paths::plugin_running_requests_size_scorer);
    auto scorer = make(lib);
    struct Case {
        const char *name;
        std::vector<std::uint32_t> running;
        std::vector<double> expected;
    };
    const Case cases[] = {
        {"Different running queue sizes", {10, 5, 0}, {0.0, 0.5, 1.0}},
        {"Same running queue sizes", {5, 5}, {1.0, 1.0}},
        {"Zero running queue sizes", {0, 0}, {1.0, 1.0}},
    };
    for (const Case &c : cases) {
        CAPTURE(c.name);
        std::vector<pt::EndpointSpec> specs;
        for (std::size_t i = 0; i < c.running.size(); ++i)
            specs.push_back({.name = "pod" + std::to_string(i + 1), .running_requests = c.running[i]});
        const pt::EndpointSet endpoints(specs);
        const auto scores = scorer->score(pt::RequestData(), endpoints);
        REQUIRE(scores.ok());
        REQUIRE(scores.value.size() == c.expected.size());
        for (std::size_t i = 0; i < c.expected.size(); ++i)
            CHECK(scores.value[i] == doctest::Approx(c.expected[i]).epsilon(1e-4));
    }
}

TEST_CASE("running-requests-size-scorer ignores the waiting queue and counts pending picks") {
    pt::PluginLibrary lib(paths::plugin_running_requests_size_scorer);
    pt::EndpointSet endpoints{{.name = "a", .waiting_queue_size = 50, .running_requests = 2},
                              {.name = "b", .running_requests = 4},
                              {.name = "c", .running_requests = 1, .pending_picks = 5}};
    auto scorer = make(lib);  // effective 2, 4, 6
    CHECK(scorer->score(pt::RequestData(), endpoints).value == std::vector<double>{1.0, 0.5, 0.0});
    auto upstream = make(lib, R"({"countPendingPicks": false})");  // 2, 4, 1
    CHECK(upstream->score(pt::RequestData(), endpoints).value == std::vector<double>{2.0 / 3.0, 0.0, 1.0});
}

TEST_CASE("running-requests-size-scorer handles one and no endpoints, and rejects unknown parameters") {
    pt::PluginLibrary lib(paths::plugin_running_requests_size_scorer);
    auto scorer = make(lib);
    pt::EndpointSet one{{.name = "a", .running_requests = 9}};
    CHECK(scorer->score(pt::RequestData(), one).value == std::vector<double>{1.0});
    pt::EndpointSet none{};
    CHECK(scorer->score(pt::RequestData(), none).value.empty());
    check_rejected(lib, R"({"max": 3})", "unknown parameter 'max'; known parameters: countPendingPicks");
}
