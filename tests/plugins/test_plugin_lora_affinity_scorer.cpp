// lora-affinity-scorer: 1 with the adapter active, capacityScore with room to load it, else 0.
#include "plugin_test_helpers.hpp"

#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

namespace {

// Four kinds of endpoint for a request for adapter "sql":
//  has:   "sql" active (and no room left, which must not matter)
//  room:  another adapter active, 1 of 4 slots used
//  full:  2 of 2 slots used by other adapters
//  none:  cannot load adapters at all (max 0)
pt::EndpointSet lora_endpoints() {
    return pt::EndpointSet{{.name = "has", .active_loras = {"chat", "sql"}, .max_active_loras = 2},
                           {.name = "room", .active_loras = {"chat"}, .max_active_loras = 4},
                           {.name = "full", .active_loras = {"chat", "math"}, .max_active_loras = 2},
                           {.name = "none", .max_active_loras = 0}};
}

}  // namespace

TEST_CASE("lora-affinity-scorer declares a beta scorer behind LoraAffinityScorer, capacityScore 0.5") {
    pt::PluginLibrary lib(paths::plugin_lora_affinity_scorer);
    const auto m = host_manifest(lib);
    CHECK(m.type == "lora-affinity-scorer");
    CHECK(m.role == host::Role::scorer);
    CHECK(m.stability == host::Stability::beta);
    CHECK(m.thread_safe);  // stateless
    CHECK(m.feature_gate == "LoraAffinityScorer");
    REQUIRE(m.parameters.size() == 1);
    CHECK(m.find_parameter("capacityScore")->type == host::ParamType::number);
    CHECK(m.find_parameter("capacityScore")->default_value->to_number<double>() == 0.5);
}

TEST_CASE("lora-affinity-scorer gives every endpoint 1 when the request names no adapter") {
    pt::PluginLibrary lib(paths::plugin_lora_affinity_scorer);
    auto scorer = make(lib);
    const auto endpoints = lora_endpoints();
    const auto scores = scorer->score(pt::RequestData(), endpoints);
    REQUIRE(scores.ok());
    CHECK(scores.value == std::vector<double>{1.0, 1.0, 1.0, 1.0});
}

TEST_CASE("lora-affinity-scorer by default scores active 1, room to load 0.5, no room 0") {
    pt::PluginLibrary lib(paths::plugin_lora_affinity_scorer);
    auto scorer = make(lib);
    const auto endpoints = lora_endpoints();
    const auto scores = scorer->score(pt::RequestData({.lora = "sql"}), endpoints);
    REQUIRE(scores.ok());
    CHECK(scores.value == std::vector<double>{1.0, 0.5, 0.0, 0.0});
}

TEST_CASE("lora-affinity-scorer matches adapter names exactly") {
    pt::PluginLibrary lib(paths::plugin_lora_affinity_scorer);
    auto scorer = make(lib);
    const auto endpoints = lora_endpoints();
    // "sq" is a prefix of an active adapter, not an active adapter
    const auto scores = scorer->score(pt::RequestData({.lora = "sq"}), endpoints);
    REQUIRE(scores.ok());
    CHECK(scores.value == std::vector<double>{0.0, 0.5, 0.0, 0.0});
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

TEST_CASE("lora-affinity-scorer handles an empty endpoint list") {
    pt::PluginLibrary lib(paths::plugin_lora_affinity_scorer);
    auto scorer = make(lib);
    pt::EndpointSet none{};
    const auto scores = scorer->score(pt::RequestData({.lora = "sql"}), none);
    CHECK(scores.ok());
    CHECK(scores.value.empty());
}

TEST_CASE("lora-affinity-scorer rejects invalid parameters with precise messages") {
    pt::PluginLibrary lib(paths::plugin_lora_affinity_scorer);
    check_out_of_range(lib, R"({"capacityScore": 1.5})", "capacityScore", 0, 1, 1.5);
    check_out_of_range(lib, R"({"capacityScore": -2})", "capacityScore", 0, 1, -2);
    check_rejected(lib, R"({"capacityScore": "high"})",
                   "parameter 'capacityScore': expected number, found string \"high\"");
    check_rejected(lib, R"({"capacity": 0.1})", "unknown parameter 'capacity'; known parameters: capacityScore");
}
