// max-score-picker: the highest totals, best first, ties broken by name then position.
#include "plugin_test_helpers.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

TEST_CASE("max-score-picker declares a stable picker with maxNumOfEndpoints defaulting to 1") {
    pt::PluginLibrary lib(paths::plugin_max_score_picker);
    const auto m = host_manifest(lib);
    CHECK(m.type == "max-score-picker");
    CHECK(m.role == host::Role::picker);
    CHECK(m.stability == host::Stability::stable);
    CHECK(m.thread_safe);  // stateless
    CHECK(m.feature_gate.empty());
    REQUIRE(m.parameters.size() == 1);
    CHECK(default_of(m, "maxNumOfEndpoints") == "1");
}

TEST_CASE("max-score-picker by default picks the one endpoint with the highest total") {
    pt::PluginLibrary lib(paths::plugin_max_score_picker);
    auto picker = make(lib);
    pt::EndpointSet endpoints{{.name = "a"}, {.name = "b"}, {.name = "c"}};
    const double totals[] = {0.2, 0.9, 0.5};
    const auto picked = picker->pick(pt::RequestData(), endpoints, totals);
    REQUIRE(picked.ok());
    CHECK(picked.value == Indexes{1});
}

TEST_CASE("max-score-picker picks maxNumOfEndpoints best first, and all when fewer are offered") {
    pt::PluginLibrary lib(paths::plugin_max_score_picker);
    pt::EndpointSet endpoints{{.name = "a"}, {.name = "b"}, {.name = "c"}, {.name = "d"}};
    const double totals[] = {0.3, 0.1, 0.7, 0.5};
    auto two = make(lib, R"({"maxNumOfEndpoints": 2})");
    CHECK(two->pick(pt::RequestData(), endpoints, totals).value == Indexes{2, 3});
    auto many = make(lib, R"({"maxNumOfEndpoints": 9})");
    CHECK(many->pick(pt::RequestData(), endpoints, totals).value == Indexes{2, 3, 0, 1});
}

TEST_CASE("max-score-picker breaks ties by name, then by position when names repeat") {
    pt::PluginLibrary lib(paths::plugin_max_score_picker);
    auto picker = make(lib, R"({"maxNumOfEndpoints": 4})");
    pt::EndpointSet endpoints{{.name = "c"}, {.name = "a"}, {.name = "b"}, {.name = "a"}};
    const double equal[] = {0.5, 0.5, 0.5, 0.5};
    CHECK(picker->pick(pt::RequestData(), endpoints, equal).value == Indexes{1, 3, 2, 0});
    const double zeros[] = {0.0, 0.0, 0.0, 0.0};
    CHECK(picker->pick(pt::RequestData(), endpoints, zeros).value == Indexes{1, 3, 2, 0});
}

TEST_CASE("max-score-picker ranks NaN totals below every number") {
    pt::PluginLibrary lib(paths::plugin_max_score_picker);
    auto picker = make(lib, R"({"maxNumOfEndpoints": 3})");
    pt::EndpointSet endpoints{{.name = "a"}, {.name = "b"}, {.name = "c"}};
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double totals[] = {nan, -std::numeric_limits<double>::infinity(), 0.1};
    // -inf and NaN rank equal, so the name decides: "a" (NaN) before "b" (-inf).
    CHECK(picker->pick(pt::RequestData(), endpoints, totals).value == Indexes{2, 0, 1});
    const double nan_first[] = {nan, 0.0, -1.0};
    CHECK(picker->pick(pt::RequestData(), endpoints, nan_first).value == Indexes{1, 2, 0});
}

TEST_CASE("max-score-picker picks nothing from an empty endpoint list") {
    pt::PluginLibrary lib(paths::plugin_max_score_picker);
    auto picker = make(lib);
    pt::EndpointSet none{};
    const auto picked = picker->pick(pt::RequestData(), none, std::span<const double>());
    CHECK(picked.ok());
    CHECK(picked.value.empty());
}

TEST_CASE("max-score-picker agrees with a stable sort on many endpoints with repeated totals") {
    pt::PluginLibrary lib(paths::plugin_max_score_picker);
    auto picker = make(lib, R"({"maxNumOfEndpoints": 1024})");
    std::mt19937 rng(7);
    std::vector<pt::EndpointSpec> specs;
    std::vector<double> totals;
    for (int i = 0; i < 1500; ++i) {
        specs.push_back({.name = "e" + std::to_string(rng() % 400)});  // names repeat too
        totals.push_back(static_cast<double>(rng() % 10) / 10.0);
    }
    pt::EndpointSet endpoints(specs);
    Indexes expected(specs.size());
    std::iota(expected.begin(), expected.end(), 0);
    std::stable_sort(expected.begin(), expected.end(), [&](std::size_t a, std::size_t b) {
        if (totals[a] != totals[b]) return totals[a] > totals[b];
        return specs[a].name < specs[b].name;
    });
    expected.resize(1024);
    const auto picked = picker->pick(pt::RequestData(), endpoints, totals);
    REQUIRE(picked.ok());
    CHECK(picked.value == expected);
}

TEST_CASE("max-score-picker rejects invalid parameters with precise messages") {
    pt::PluginLibrary lib(paths::plugin_max_score_picker);
    check_rejected(lib, R"({"maxNumOfEndpoints": 0})",
                   "parameter 'maxNumOfEndpoints': expected a value in [1, 1024], found 0");
    check_rejected(lib, R"({"maxNumOfEndpoints": 1025})",
                   "parameter 'maxNumOfEndpoints': expected a value in [1, 1024], found 1025");
    check_rejected_number(lib, R"({"maxNumOfEndpoints": 1.5})",
                          "parameter 'maxNumOfEndpoints': expected integer, found number ", 1.5);
    check_rejected(lib, R"({"seed": 1})", "unknown parameter 'seed'; known parameters: maxNumOfEndpoints");
}
