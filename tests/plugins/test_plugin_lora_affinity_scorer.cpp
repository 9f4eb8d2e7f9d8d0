// lora-affinity-scorer: running 1, room to load capacityScore (0.8), waiting 0.6, else 0; the
// adapter is the request's lora, else its model.
#include "plugin_test_helpers.hpp"

#include <string>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

namespace {

// Four kinds of endpoint for a request for adapter "sql":
//  has:   "sql" running (and no room left, which must not matter)
//  room:  another adapter running, 1 of 4 slots used
//  full:  2 of 2 slots used by other adapters
//  none:  cannot load adapters at all (max 0)
pt::EndpointSet lora_endpoints() {
    return pt::EndpointSet{{.name = "has", .active_loras = {"chat", "sql"}, .max_active_loras = 2},
                           {.name = "room", .active_loras = {"chat"}, .max_active_loras = 4},
                           {.name = "full", .active_loras = {"chat", "math"}, .max_active_loras = 2},
                           {.name = "none", .max_active_loras = 0}};
}

}  // namespace

TEST_CASE("lora-affinity-scorer declares a beta scorer behind LoraAffinityScorer, capacityScore 0.8") {
    pt::PluginLibrary lib(paths::plugin_lora_affinity_scorer);
    const auto m = host_manifest(lib);
    CHECK(m.type == "lora-affinity-scorer");
    CHECK(m.role == host::Role::scorer);
    CHECK(m.stability == host::Stability::beta);
    CHECK(m.thread_safe);  // stateless
    CHECK(m.feature_gate == "LoraAffinityScorer");
    REQUIRE(m.parameters.size() == 1);
    CHECK(m.find_parameter("capacityScore")->type == host::ParamType::number);
    CHECK(m.find_parameter("capacityScore")->default_value->to_number<double>() == 0.8);
}

// Upstream pkg/epp/framework/plugins/scheduling/scorer/loraaffinity/lora_affinity_test.go
// (tolerance 1e-4; one score per endpoint). Upstream's TargetModel is the request's model here.
TEST_CASE("lora-affinity-scorer passes upstream's lora_affinity_test.go table") {
    pt::PluginLibrary lib(paths::plugin_lora_affinity_scorer);
    auto scorer = make(lib);
    const std::string m1 = "active-model-1", m2 = "active-model-2", m3 = "active-model-3", m4 = "active-model-4",
                      m5 = "active-model-5";
    struct Case {
        const char *name;
        std::vector<pt::EndpointSpec> endpoints;
        std::vector<double> expected;
    };
    const std::vector<Case> cases = {
        {"Target model is active", {{.name = "pod1", .active_loras = {m1}, .max_active_loras = 5}}, {1.0}},
        {"Target model is waiting",
         {{.name = "pod1", .active_loras = {m2}, .max_active_loras = 2, .waiting_loras = {m1}}},
         {0.6}},
        {"Endpoints have no space for new model",
         {{.name = "pod1", .active_loras = {m2}, .max_active_loras = 2, .waiting_loras = {m3}},
          {.name = "pod2", .max_active_loras = 0}},
         {0.0, 0.0}},
        {"Multipleendpoints with mixed active and waiting models",
         {{.name = "pod1", .active_loras = {m1}, .max_active_loras = 5},
          {.name = "pod2", .active_loras = {m2}, .max_active_loras = 5, .waiting_loras = {m1}},
          {.name = "pod3", .active_loras = {m2}, .max_active_loras = 2},
          {.name = "pod4", .active_loras = {m3}, .max_active_loras = 2, .waiting_loras = {m1}},
          {.name = "pod5", .active_loras = {m4, m5}, .max_active_loras = 2}},
         {1.0, 0.8, 0.8, 0.6, 0.0}},
    };
    for (const Case &c : cases) {
        CAPTURE(c.name);
        const pt::EndpointSet endpoints(c.endpoints);
        const auto scores = scorer->score(pt::RequestData({.model = m1}), endpoints);
        REQUIRE(scores.ok());
        REQUIRE(scores.value.size() == c.expected.size());
        for (std::size_t i = 0; i < c.expected.size(); ++i)
            CHECK(scores.value[i] == doctest::Approx(c.expected[i]).epsilon(1e-4));
    }
    // "Empty pods slice": no scores.
    pt::EndpointSet none{};
    const auto empty = scorer->score(pt::RequestData({.model = "modelA"}), none);
    CHECK(empty.ok());
    CHECK(empty.value.empty());
}

TEST_CASE("lora-affinity-scorer gives every endpoint 1 when the request names neither lora nor model") {
    pt::PluginLibrary lib(paths::plugin_lora_affinity_scorer);
    auto scorer = make(lib);
    const auto endpoints = lora_endpoints();
    const auto scores = scorer->score(pt::RequestData(), endpoints);
    REQUIRE(scores.ok());
    CHECK(scores.value == std::vector<double>{1.0, 1.0, 1.0, 1.0});
}

TEST_CASE("lora-affinity-scorer reads the adapter from lora, else from the model") {
    pt::PluginLibrary lib(paths::plugin_lora_affinity_scorer);
    auto scorer = make(lib);
    const auto endpoints = lora_endpoints();
    CHECK(scorer->score(pt::RequestData({.lora = "sql"}), endpoints).value == std::vector<double>{1.0, 0.8, 0.0, 0.0});
    CHECK(scorer->score(pt::RequestData({.model = "sql"}), endpoints).value == std::vector<double>{1.0, 0.8, 0.0, 0.0});
    // lora wins over model: "math" runs on "full" only
    CHECK(scorer->score(pt::RequestData({.model = "sql", .lora = "math"}), endpoints).value ==
          std::vector<double>{0.0, 0.8, 1.0, 0.0});
}

TEST_CASE("lora-affinity-scorer counts waiting adapters against the room, and room before waiting") {
    pt::PluginLibrary lib(paths::plugin_lora_affinity_scorer);
    auto scorer = make(lib);
    pt::EndpointSet endpoints{
        // 1 running + 1 waiting of 2: no room, and sql waits here
        {.name = "waits", .active_loras = {"chat"}, .max_active_loras = 2, .waiting_loras = {"sql"}},
        // 1 running + 1 waiting of 3: room, so 0.8 although sql waits
        {.name = "room", .active_loras = {"chat"}, .max_active_loras = 3, .waiting_loras = {"sql"}},
        // 1 running + 1 other waiting of 2: no room, sql not waiting
        {.name = "busy", .active_loras = {"chat"}, .max_active_loras = 2, .waiting_loras = {"x"}}};
    CHECK(scorer->score(pt::RequestData({.lora = "sql"}), endpoints).value == std::vector<double>{0.6, 0.8, 0.0});
}

TEST_CASE("lora-affinity-scorer matches adapter names exactly") {
    pt::PluginLibrary lib(paths::plugin_lora_affinity_scorer);
    auto scorer = make(lib);
    const auto endpoints = lora_endpoints();
    // "sq" is a prefix of a running adapter, not a running adapter
    const auto scores = scorer->score(pt::RequestData({.lora = "sq"}), endpoints);
    REQUIRE(scores.ok());
    CHECK(scores.value == std::vector<double>{0.0, 0.8, 0.0, 0.0});
}

TEST_CASE("lora-affinity-scorer uses capacityScore for endpoints that can still load the adapter") {
    pt::PluginLibrary lib(paths::plugin_lora_affinity_scorer);
    const auto endpoints = lora_endpoints();
    for (const double capacity : {0.0, 0.2, 1.0}) {
        CAPTURE(capacity);
        auto scorer = make(lib, R"({"capacityScore": )" + std::to_string(capacity) + "}");
        const auto scores = scorer->score(pt::RequestData({.lora = "sql"}), endpoints);
        REQUIRE(scores.ok());
        CHECK(scores.value == std::vector<double>{1.0, capacity, 0.0, 0.0});
    }
}

TEST_CASE("lora-affinity-scorer rejects invalid parameters with precise messages") {
    pt::PluginLibrary lib(paths::plugin_lora_affinity_scorer);
    check_out_of_range(lib, R"({"capacityScore": 1.5})", "capacityScore", 0, 1, 1.5);
    check_out_of_range(lib, R"({"capacityScore": -2})", "capacityScore", 0, 1, -2);
    check_rejected(lib, R"({"capacityScore": "high"})",
                   "parameter 'capacityScore': expected number, found string \"high\"");
    check_rejected(lib, R"({"capacity": 0.1})", "unknown parameter 'capacity'; known parameters: capacityScore");
}
