// queue-scorer: scores from the waiting-queue length, relative to the candidates or to a cap.
#include "plugin_test_helpers.hpp"

#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

TEST_CASE("queue-scorer declares a stable scorer with maxQueueSize defaulting to 0") {
    pt::PluginLibrary lib(paths::plugin_queue_scorer);
    const auto m = host_manifest(lib);
    CHECK(m.type == "queue-scorer");
    CHECK(m.role == host::Role::scorer);
    CHECK(m.stability == host::Stability::stable);
    CHECK(m.thread_safe);  // stateless
    CHECK(m.feature_gate.empty());
    CHECK(m.version.str() == "1.0.0");
    REQUIRE(m.parameters.size() == 1);
    CHECK(default_of(m, "maxQueueSize") == "0");
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
    check_rejected(lib, R"({"maxQueue": 3})", "unknown parameter 'maxQueue'; known parameters: maxQueueSize");
}
