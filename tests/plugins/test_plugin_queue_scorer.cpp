// queue-scorer: scores from the waiting-queue length plus the host's pending picks, relative to
// the candidates or to a cap.
#include "plugin_test_helpers.hpp"

#include <cstdint>
#include <string>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

TEST_CASE("queue-scorer declares a stable scorer: maxQueueSize 0, countPendingPicks true") {
    pt::PluginLibrary lib(paths::plugin_queue_scorer);
    const auto m = host_manifest(lib);
    CHECK(m.type == "queue-scorer");
    CHECK(m.role == host::Role::scorer);
    CHECK(m.stability == host::Stability::stable);
    CHECK(m.thread_safe);  // stateless
    CHECK(m.feature_gate.empty());
    CHECK(m.version.str() == "1.0.0");
    REQUIRE(m.parameters.size() == 2);
    CHECK(default_of(m, "maxQueueSize") == "0");
    CHECK(default_of(m, "countPendingPicks") == "true");
}

// Upstream pkg/epp/framework/plugins/scheduling/scorer/queuedepth/queue_test.go, TestQueueScorer
// (tolerance 1e-4), with no pending picks.
TEST_CASE("queue-scorer passes upstream's queue_test.go table") {
    pt::PluginLibrary lib(paths::plugin_queue_scorer);
    auto scorer = make(lib);
    struct Case {
        const char *name;
        std::vector<std::uint32_t> queues;
        std::vector<double> expected;
    };
    const Case cases[] = {
        {"Different queue sizes", {10, 5, 0}, {0.0, 0.5, 1.0}},
        {"Same queue sizes", {5, 5}, {1.0, 1.0}},
        {"Zero queue sizes", {0, 0}, {1.0, 1.0}},
    };
    for (const Case &c : cases) {
        CAPTURE(c.name);
        std::vector<pt::EndpointSpec> specs;
        for (std::size_t i = 0; i < c.queues.size(); ++i)
            specs.push_back({.name = "pod" + std::to_string(i + 1), .waiting_queue_size = c.queues[i]});
        const pt::EndpointSet endpoints(specs);
        const auto scores = scorer->score(pt::RequestData(), endpoints);
        REQUIRE(scores.ok());
        REQUIRE(scores.value.size() == c.expected.size());
        for (std::size_t i = 0; i < c.expected.size(); ++i)
            CHECK(scores.value[i] == doctest::Approx(c.expected[i]).epsilon(1e-4));
    }
}

TEST_CASE("queue-scorer adds each endpoint's pending picks to its reported queue") {
    pt::PluginLibrary lib(paths::plugin_queue_scorer);
    auto scorer = make(lib);
    // Reported queues 0, 0, 2; picks since the last update 3, 1, 0: effective 3, 1, 2.
    pt::EndpointSet endpoints{
        {.name = "a", .pending_picks = 3}, {.name = "b", .pending_picks = 1}, {.name = "c", .waiting_queue_size = 2}};
    const auto scores = scorer->score(pt::RequestData(), endpoints);
    REQUIRE(scores.ok());
    CHECK(scores.value == std::vector<double>{0.0, 1.0, 0.5});

    // Requests in flight are not pending picks: a metrics update has counted them already.
    pt::EndpointSet flight{{.name = "a", .requests_in_flight = 9}, {.name = "b"}};
    CHECK(scorer->score(pt::RequestData(), flight).value == std::vector<double>{1.0, 1.0});

    auto capped = make(lib, R"({"maxQueueSize": 4})");
    CHECK(capped->score(pt::RequestData(), endpoints).value == std::vector<double>{0.25, 0.75, 0.5});
}

TEST_CASE("queue-scorer with countPendingPicks false reads the reported queue alone, as upstream") {
    pt::PluginLibrary lib(paths::plugin_queue_scorer);
    auto scorer = make(lib, R"({"countPendingPicks": false})");
    pt::EndpointSet endpoints{{.name = "a", .pending_picks = 3}, {.name = "b", .waiting_queue_size = 2}};
    CHECK(scorer->score(pt::RequestData(), endpoints).value == std::vector<double>{1.0, 0.0});
}

TEST_CASE("queue-scorer by default scores relative to the candidates: shortest 1, longest 0") {
    pt::PluginLibrary lib(paths::plugin_queue_scorer);
    auto scorer = make(lib);
    pt::EndpointSet endpoints{{.name = "a", .waiting_queue_size = 4},
                              {.name = "b", .waiting_queue_size = 12},
                              {.name = "c", .waiting_queue_size = 6}};
    const auto scores = scorer->score(pt::RequestData(), endpoints);
    REQUIRE(scores.ok());
    // range 12 - 4 = 8: (12 - q) / 8
    CHECK(scores.value == std::vector<double>{1.0, 0.0, 6.0 / 8.0});
}

TEST_CASE("queue-scorer gives every endpoint 1 when all queues are equal, and handles no endpoints") {
    pt::PluginLibrary lib(paths::plugin_queue_scorer);
    auto scorer = make(lib);
    pt::EndpointSet equal{{.name = "a", .waiting_queue_size = 7}, {.name = "b", .waiting_queue_size = 7}};
    const auto scores = scorer->score(pt::RequestData(), equal);
    REQUIRE(scores.ok());
    CHECK(scores.value == std::vector<double>{1.0, 1.0});

    pt::EndpointSet none{};
    const auto empty = scorer->score(pt::RequestData(), none);
    CHECK(empty.ok());
    CHECK(empty.value.empty());
}

TEST_CASE("queue-scorer with maxQueueSize scores 1 - queue/maxQueueSize, 0 at and beyond the cap") {
    pt::PluginLibrary lib(paths::plugin_queue_scorer);
    auto scorer = make(lib, R"({"maxQueueSize": 20})");
    pt::EndpointSet endpoints{{.name = "a", .waiting_queue_size = 0},
                              {.name = "b", .waiting_queue_size = 5},
                              {.name = "c", .waiting_queue_size = 20},
                              {.name = "d", .waiting_queue_size = 400}};
    const auto scores = scorer->score(pt::RequestData(), endpoints);
    REQUIRE(scores.ok());
    CHECK(scores.value == std::vector<double>{1.0, 1.0 - 5.0 / 20.0, 0.0, 0.0});
}

TEST_CASE("queue-scorer rejects invalid parameters with precise messages") {
    pt::PluginLibrary lib(paths::plugin_queue_scorer);
    check_rejected(lib, R"({"maxQueueSize": -1})",
                   "parameter 'maxQueueSize': expected a value in [0, 1000000000], found -1");
    check_rejected(lib, R"({"maxQueueSize": 1000000001})",
                   "parameter 'maxQueueSize': expected a value in [0, 1000000000], found 1000000001");
    check_rejected(lib, R"({"maxQueueSize": "ten"})",
                   "parameter 'maxQueueSize': expected integer, found string \"ten\"");
    check_rejected(lib, R"({"maxQueue": 3})",
                   "unknown parameter 'maxQueue'; known parameters: maxQueueSize, countPendingPicks");
    check_rejected(lib, R"({"countPendingPicks": 1})",
                   "parameter 'countPendingPicks': expected boolean, found integer 1");
}
