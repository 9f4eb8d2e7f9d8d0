// utilization-filter: keeps endpoints whose load signals are all at or under their caps. The
// tables are upstream llm-d-router's unit-test cases from
// pkg/epp/framework/plugins/scheduling/filter/utilization/filter_test.go.
#include "plugin_test_helpers.hpp"

#include <limits>
#include <string>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

namespace {

using Names = std::vector<std::string>;

Names kept(pt::PluginInstance &filter, const pt::EndpointSet &endpoints) {
    const auto passed = filter.filter(pt::RequestData(), endpoints);
    REQUIRE_MESSAGE(passed.ok(), passed.message);
    Names names;
    for (std::size_t i : passed.value) names.emplace_back(endpoints.name(i));
    return names;
}

}  // namespace

TEST_CASE("utilization-filter declares an alpha filter behind UtilizationFilter") {
    pt::PluginLibrary lib(paths::plugin_utilization_filter);
    const auto m = host_manifest(lib);
    CHECK(m.type == "utilization-filter");
    CHECK(m.role == host::Role::filter);
    CHECK(m.stability == host::Stability::alpha);
    CHECK(m.feature_gate == "UtilizationFilter");
    CHECK(m.thread_safe);
    CHECK(default_of(m, "conditions") == "[]");
    CHECK(default_of(m, "fallbackOnEmpty") == "false");
    CHECK(default_of(m, "inFlightLoadProducerName") == "\"\"");
}

// Upstream TestUtilizationFilter. "load" is upstream's in-flight count (InFlightLoad.Requests),
// which the host counts as requests_in_flight.
TEST_CASE("utilization-filter keeps the endpoints within every cap (upstream filter_test.go)") {
    pt::PluginLibrary lib(paths::plugin_utilization_filter);
    struct Case {
        const char *name;
        std::string params;
        std::vector<pt::EndpointSpec> endpoints;
        Names kept;
    };
    const std::vector<Case> cases{
        {"active-requests at most 2",
         R"({"conditions": [{"metric": "active-requests", "maxValue": 2}]})",
         {{.name = "a", .requests_in_flight = 1},
          {.name = "b", .requests_in_flight = 2},
          {.name = "c", .requests_in_flight = 3}},
         {"a", "b"}},
        {"endpoints without a load are kept",
         R"({"conditions": [{"metric": "active-requests", "maxValue": 1}]})",
         {{.name = "a"}, {.name = "b", .requests_in_flight = 5}},
         {"a"}},
        {"running-requests at most 4",
         R"({"conditions": [{"metric": "running-requests", "maxValue": 4}]})",
         {{.name = "a", .running_requests = 4}, {.name = "b", .running_requests = 5}},
         {"a"}},
        {"waiting-queue at most 0",
         R"({"conditions": [{"metric": "waiting-queue", "maxValue": 0}]})",
         {{.name = "a", .waiting_queue_size = 0}, {.name = "b", .waiting_queue_size = 3}},
         {"a"}},
        {"kv-cache at most 0.8",
         R"({"conditions": [{"metric": "kv-cache-utilization", "maxValue": 0.8}]})",
         {{.name = "a", .kv_cache_usage = 0.5}, {.name = "b", .kv_cache_usage = 0.9}},
         {"a"}},
        {"multiple conditions",
         R"({"conditions": [{"metric": "running-requests", "maxValue": 40}, {"metric": "waiting-queue", "maxValue": 0}]})",
         {{.name = "a", .waiting_queue_size = 0, .running_requests = 10},
          {.name = "b", .waiting_queue_size = 0, .running_requests = 41},
          {.name = "c", .waiting_queue_size = 1, .running_requests = 10}},
         {"a"}},
        {"host and model-server signals mixed",
         R"({"conditions": [{"metric": "active-requests", "maxValue": 10}, {"metric": "kv-cache-utilization", "maxValue": 0.8}]})",
         {{.name = "a", .requests_in_flight = 5},
          {.name = "b", .requests_in_flight = 11},
          {.name = "c", .kv_cache_usage = 0.9}},
         {"a"}},
        {"all filtered, no fallback",
         R"({"conditions": [{"metric": "active-requests", "maxValue": 1}]})",
         {{.name = "a", .requests_in_flight = 2}, {.name = "b", .requests_in_flight = 3}},
         {}},
        {"all filtered, fallback",
         R"({"conditions": [{"metric": "active-requests", "maxValue": 1}], "fallbackOnEmpty": true})",
         {{.name = "a", .requests_in_flight = 2}, {.name = "b", .requests_in_flight = 3}},
         {"a", "b"}},
    };
    for (const Case &c : cases) {
        INFO(c.name);
        pt::EndpointSet endpoints(c.endpoints);
        CHECK(kept(*make(lib, c.params), endpoints) == c.kept);
    }
}

// Upstream TestUtilizationFilterInvalidParameters and TestFactory (nil parameters).
TEST_CASE("utilization-filter refuses upstream's invalid conditions (upstream filter_test.go)") {
    pt::PluginLibrary lib(paths::plugin_utilization_filter);
    check_rejected(lib, "{}", "utilization filter requires at least one condition");
    check_rejected(lib, R"({"conditions": []})", "utilization filter requires at least one condition");
    check_rejected(lib, R"({"conditions": [{"maxValue": 1}]})",
                   "parameter 'conditions' [0]: metric must be one of \"active-requests\", \"running-requests\", "
                   "\"waiting-queue\", \"kv-cache-utilization\", got none");
    check_rejected(lib, R"({"conditions": [{"metric": "gpu", "maxValue": 1}]})",
                   "parameter 'conditions' [0]: metric must be one of \"active-requests\", \"running-requests\", "
                   "\"waiting-queue\", \"kv-cache-utilization\", got \"gpu\"");
    check_rejected(lib, R"({"conditions": [{"metric": "waiting-queue"}]})",
                   "parameter 'conditions' [0]: the condition for \"waiting-queue\" requires maxValue");
    check_rejected(lib, R"({"conditions": [{"metric": "waiting-queue", "maxValue": -1}]})",
                   "parameter 'conditions' [0]: the condition for \"waiting-queue\" requires a non-negative maxValue, "
                   "got -1");
    check_rejected(lib, R"({"conditions": [{"metric": "kv-cache-utilization", "maxValue": 80}]})",
                   "parameter 'conditions' [0]: maxValue for \"kv-cache-utilization\" is a fraction and must be at "
                   "most 1, got 80");
    check_rejected(
        lib,
        R"({"conditions": [{"metric": "waiting-queue", "maxValue": 1}, {"metric": "waiting-queue", "maxValue": "1"}]})",
        "parameter 'conditions' [1]: maxValue must be a number, found \"1\"");
    check_rejected(lib, R"({"conditions": [{"metric": "waiting-queue", "maxValue": 1, "max": 2}]})",
                   "parameter 'conditions' [0]: unknown field \"max\"; known fields: metric, maxValue");
}

TEST_CASE("utilization-filter accepts upstream's example and its inFlightLoadProducerName") {
    pt::PluginLibrary lib(paths::plugin_utilization_filter);
    auto filter = make(lib, R"({"conditions": [{"metric": "running-requests", "maxValue": 40},
                                               {"metric": "waiting-queue", "maxValue": 0}]})");
    make(lib, R"({"conditions": [{"metric": "active-requests", "maxValue": 3}], "inFlightLoadProducerName": "load"})");
    // The caps are inclusive, and a kv cap of 1 or 0 is in range.
    pt::EndpointSet edge{{.name = "full", .kv_cache_usage = 1}, {.name = "empty", .kv_cache_usage = 0}};
    CHECK(kept(*make(lib, R"({"conditions": [{"metric": "kv-cache-utilization", "maxValue": 1}]})"), edge) ==
          Names{"full", "empty"});
    CHECK(kept(*make(lib, R"({"conditions": [{"metric": "kv-cache-utilization", "maxValue": 0}]})"), edge) ==
          Names{"empty"});
    pt::EndpointSet none{};
    CHECK(kept(*filter, none).empty());
}
