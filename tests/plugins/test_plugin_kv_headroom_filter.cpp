// kv-headroom-filter: keeps endpoints at or under a KV-cache usage limit.
#include "plugin_test_helpers.hpp"

#include <limits>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

TEST_CASE("kv-headroom-filter declares an alpha filter behind KvHeadroomFilter with its defaults") {
    pt::PluginLibrary lib(paths::plugin_kv_headroom_filter);
    const auto m = host_manifest(lib);
    CHECK(m.type == "kv-headroom-filter");
    CHECK(m.role == host::Role::filter);
    CHECK(m.stability == host::Stability::alpha);
    CHECK(m.thread_safe);  // stateless
    CHECK(m.feature_gate == "KvHeadroomFilter");
    REQUIRE(m.parameters.size() == 2);
    CHECK(m.find_parameter("maxKvCacheUsagePercent")->default_value->to_number<double>() == 90.0);
    CHECK(default_of(m, "passAllWhenNoneFit") == "true");
}

TEST_CASE("kv-headroom-filter by default keeps endpoints at or under 90 percent") {
    pt::PluginLibrary lib(paths::plugin_kv_headroom_filter);
    auto filter = make(lib);
    pt::EndpointSet endpoints{{.name = "a", .kv_cache_usage = 0.5},
                              {.name = "b", .kv_cache_usage = 0.9},
                              {.name = "c", .kv_cache_usage = 0.905},
                              {.name = "d", .kv_cache_usage = 1},
                              {.name = "e", .kv_cache_usage = 0}};
    const auto passed = filter->filter(pt::RequestData(), endpoints);
    REQUIRE(passed.ok());
    CHECK(passed.value == Indexes{0, 1, 4});
}

TEST_CASE("kv-headroom-filter applies maxKvCacheUsagePercent, including the bounds 0 and 100") {
    pt::PluginLibrary lib(paths::plugin_kv_headroom_filter);
    pt::EndpointSet endpoints{{.name = "a", .kv_cache_usage = 0},
                              {.name = "b", .kv_cache_usage = 0.4},
                              {.name = "c", .kv_cache_usage = 0.4001},
                              {.name = "d", .kv_cache_usage = 1}};
    CHECK(make(lib, R"({"maxKvCacheUsagePercent": 40})")->filter(pt::RequestData(), endpoints).value == Indexes{0, 1});
    CHECK(make(lib, R"({"maxKvCacheUsagePercent": 0})")->filter(pt::RequestData(), endpoints).value == Indexes{0});
    CHECK(make(lib, R"({"maxKvCacheUsagePercent": 100})")->filter(pt::RequestData(), endpoints).value ==
          Indexes{0, 1, 2, 3});
}

TEST_CASE("kv-headroom-filter passes every endpoint when none fits, by default") {
    pt::PluginLibrary lib(paths::plugin_kv_headroom_filter);
    auto filter = make(lib);
    pt::EndpointSet endpoints{{.name = "a", .kv_cache_usage = 0.95},
                              {.name = "b", .kv_cache_usage = 0.99},
                              {.name = "c", .kv_cache_usage = 0.91}};
    const auto passed = filter->filter(pt::RequestData(), endpoints);
    REQUIRE(passed.ok());
    CHECK(passed.value == Indexes{0, 1, 2});
}

TEST_CASE("kv-headroom-filter with passAllWhenNoneFit false passes none when none fits") {
    pt::PluginLibrary lib(paths::plugin_kv_headroom_filter);
    auto filter = make(lib, R"({"passAllWhenNoneFit": false})");
    pt::EndpointSet full{{.name = "a", .kv_cache_usage = 0.95}, {.name = "b", .kv_cache_usage = 0.99}};
    const auto none = filter->filter(pt::RequestData(), full);
    REQUIRE(none.ok());
    CHECK(none.value.empty());

    pt::EndpointSet mixed{{.name = "a", .kv_cache_usage = 0.95}, {.name = "b", .kv_cache_usage = 0.1}};
    CHECK(filter->filter(pt::RequestData(), mixed).value == Indexes{1});
}

TEST_CASE("kv-headroom-filter never lets a NaN usage fit") {
    pt::PluginLibrary lib(paths::plugin_kv_headroom_filter);
    auto filter = make(lib, R"({"maxKvCacheUsagePercent": 100})");
    pt::EndpointSet endpoints{{.name = "nan", .kv_cache_usage = std::numeric_limits<double>::quiet_NaN()},
                              {.name = "ok", .kv_cache_usage = 1}};
    CHECK(filter->filter(pt::RequestData(), endpoints).value == Indexes{1});
}

TEST_CASE("kv-headroom-filter passes nothing from an empty endpoint list") {
    pt::PluginLibrary lib(paths::plugin_kv_headroom_filter);
    auto filter = make(lib);
    pt::EndpointSet none{};
    const auto passed = filter->filter(pt::RequestData(), none);
    CHECK(passed.ok());
    CHECK(passed.value.empty());
}

TEST_CASE("kv-headroom-filter rejects invalid parameters with precise messages") {
    pt::PluginLibrary lib(paths::plugin_kv_headroom_filter);
    check_out_of_range(lib, R"({"maxKvCacheUsagePercent": 100.5})", "maxKvCacheUsagePercent", 0, 100, 100.5);
    check_out_of_range(lib, R"({"maxKvCacheUsagePercent": -1})", "maxKvCacheUsagePercent", 0, 100, -1);
    check_rejected(lib, R"({"maxKvCacheUsagePercent": "90%"})",
                   "parameter 'maxKvCacheUsagePercent': expected number, found string \"90%\"");
    check_rejected(lib, R"({"passAllWhenNoneFit": 1})",
                   "parameter 'passAllWhenNoneFit': expected boolean, found integer 1");
    check_rejected(lib, R"({"passAll": true})",
                   "unknown parameter 'passAll'; known parameters: maxKvCacheUsagePercent, passAllWhenNoneFit");
}
