// kv-cache-utilization-scorer: 1 - kvCacheUsagePercent/100, clamped to [0, 1].
#include "plugin_test_helpers.hpp"

#include <limits>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

TEST_CASE("kv-cache-utilization-scorer declares a stable scorer without parameters") {
    pt::PluginLibrary lib(paths::plugin_kv_cache_utilization_scorer);
    const auto m = host_manifest(lib);
    CHECK(m.type == "kv-cache-utilization-scorer");
    CHECK(m.role == host::Role::scorer);
    CHECK(m.stability == host::Stability::stable);
    CHECK(m.thread_safe);  // stateless
    CHECK(m.feature_gate.empty());
    CHECK(m.version.str() == "1.0.0");
    CHECK(m.parameters.empty());
    CHECK(!m.deprecation);
}

TEST_CASE("kv-cache-utilization-scorer scores the free share of the KV cache") {
    pt::PluginLibrary lib(paths::plugin_kv_cache_utilization_scorer);
    auto scorer = make(lib);
    pt::EndpointSet endpoints{{.name = "idle", .kv_cache_usage = 0},
                              {.name = "quarter", .kv_cache_usage = 0.25},
                              {.name = "most", .kv_cache_usage = 0.875},
                              {.name = "full", .kv_cache_usage = 1}};
    const auto scores = scorer->score(pt::RequestData(), endpoints);
    REQUIRE(scores.ok());
    CHECK(scores.value == std::vector<double>{1.0, 0.75, 0.125, 0.0});
}

TEST_CASE("kv-cache-utilization-scorer clamps out-of-range usage and scores NaN usage 0") {
    pt::PluginLibrary lib(paths::plugin_kv_cache_utilization_scorer);
    auto scorer = make(lib);
    pt::EndpointSet endpoints{{.name = "over", .kv_cache_usage = 1.5},
                              {.name = "negative", .kv_cache_usage = -0.1},
                              {.name = "nan", .kv_cache_usage = std::numeric_limits<double>::quiet_NaN()},
                              {.name = "inf", .kv_cache_usage = std::numeric_limits<double>::infinity()}};
    const auto scores = scorer->score(pt::RequestData(), endpoints);
    REQUIRE(scores.ok());
    CHECK(scores.value == std::vector<double>{0.0, 1.0, 0.0, 0.0});
}

TEST_CASE("kv-cache-utilization-scorer handles an empty endpoint list") {
    pt::PluginLibrary lib(paths::plugin_kv_cache_utilization_scorer);
    auto scorer = make(lib);
    pt::EndpointSet none{};
    const auto scores = scorer->score(pt::RequestData(), none);
    CHECK(scores.ok());
    CHECK(scores.value.empty());
}

TEST_CASE("kv-cache-utilization-scorer rejects any parameter") {
    pt::PluginLibrary lib(paths::plugin_kv_cache_utilization_scorer);
    check_rejected(lib, R"({"threshold": 1})", "unknown parameter 'threshold'; this plugin takes no parameters");
    check_rejected(lib, "[]", "parameters must be a JSON object, found array");
}
