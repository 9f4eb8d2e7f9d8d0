// weighted-random-picker: draws without replacement in proportion to the totals.
#include "plugin_test_helpers.hpp"
#include "sampling_reference.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

namespace {

// Share of calls whose first pick was each index.
std::vector<double> first_pick_shares(const std::vector<Indexes> &calls, std::size_t n) {
    std::vector<double> shares(n, 0.0);
    for (const auto &picked : calls) shares.at(picked.at(0)) += 1.0 / static_cast<double>(calls.size());
    return shares;
}

bool distinct_and_in_range(const Indexes &picked, std::size_t n) {
    const std::set<std::size_t> unique(picked.begin(), picked.end());
    return unique.size() == picked.size() &&
           std::all_of(picked.begin(), picked.end(), [&](std::size_t i) { return i < n; });
}

}  // namespace

TEST_CASE("weighted-random-picker declares a beta picker behind WeightedRandomPicker with its defaults") {
    pt::PluginLibrary lib(paths::plugin_weighted_random_picker);
    const auto m = host_manifest(lib);
    CHECK(m.type == "weighted-random-picker");
    CHECK(m.role == host::Role::picker);
    CHECK(m.stability == host::Stability::beta);
    CHECK(!m.thread_safe);  // per-instance state
    CHECK(m.feature_gate == "WeightedRandomPicker");
    CHECK(!m.deprecation);
    REQUIRE(m.parameters.size() == 2);
    CHECK(default_of(m, "maxNumOfEndpoints") == "1");
    CHECK(default_of(m, "seed").empty());
    CHECK(m.find_parameter("seed")->type == host::ParamType::integer);
}

// Upstream pkg/epp/framework/plugins/scheduling/picker/weightedrandom/picker_test.go: 10,000
// draws with maxNumOfEndpoints 1, each share within 0.05 of score / sum of scores.
TEST_CASE("weighted-random-picker passes upstream's picker_test.go table") {
    pt::PluginLibrary lib(paths::plugin_weighted_random_picker);
    struct Case {
        const char *name;
        std::vector<double> scores;
    };
    const Case cases[] = {
        {"High weight dominance test", {10, 90}},
        {"Equal weights test", {100, 100, 100}},
        {"Zero weight exclusion test", {30, 0}},
        {"Multi-tier weighted test", {100, 90, 50, 30, 20}},
    };
    for (const Case &c : cases) {
        CAPTURE(c.name);
        auto picker = make(lib, R"({"seed": 23})");
        const auto shares = first_pick_shares(decisions(*picker, c.scores, 10000), c.scores.size());
        double sum = 0;
        for (const double s : c.scores) sum += s;
        for (std::size_t i = 0; i < c.scores.size(); ++i) {
            CAPTURE(i);
            CHECK(std::abs(shares[i] - c.scores[i] / sum) <= 0.05);
        }
    }
}

TEST_CASE("weighted-random-picker by default picks exactly one endpoint") {
    pt::PluginLibrary lib(paths::plugin_weighted_random_picker);
    auto picker = make(lib);
    for (const auto &picked : decisions(*picker, {0.3, 0.1, 0.6}, 50)) {
        CHECK(picked.size() == 1);
        CHECK(picked[0] < 3);
    }
}

TEST_CASE("weighted-random-picker with a seed makes the documented draws") {
    pt::PluginLibrary lib(paths::plugin_weighted_random_picker);
    const std::vector<double> totals = {1.0, 2.0, 4.0, 1.0};
    auto one = make(lib, R"({"seed": 42})");
    std::mt19937_64 engine(42);
    for (const auto &picked : decisions(*one, totals, 100)) CHECK(picked == reference_draw(engine, totals, 1));

    // Three picks of five, two with a zero total: after the three positive ones the rounds
    // turn uniform among what is left.
    const std::vector<double> mixed = {0.5, 0.0, 3.0, 1.5, 0.0};
    auto three = make(lib, R"({"seed": -7, "maxNumOfEndpoints": 4})");
    std::mt19937_64 engine2(static_cast<std::uint64_t>(std::int64_t{-7}));
    for (const auto &picked : decisions(*three, mixed, 100)) CHECK(picked == reference_draw(engine2, mixed, 4));
}

TEST_CASE("weighted-random-picker repeats a sequence for the same seed and not for another") {
    pt::PluginLibrary lib(paths::plugin_weighted_random_picker);
    const std::vector<double> totals(8, 1.0);
    auto a = make(lib, R"({"seed": 12345, "maxNumOfEndpoints": 2})");
    auto b = make(lib, R"({"seed": 12345, "maxNumOfEndpoints": 2})");
    auto c = make(lib, R"({"seed": 12346, "maxNumOfEndpoints": 2})");
    const auto first = decisions(*a, totals, 200);
    CHECK(first == decisions(*b, totals, 200));
    CHECK(first != decisions(*c, totals, 200));
}

TEST_CASE("weighted-random-picker without a seed draws differently in each instance") {
    pt::PluginLibrary lib(paths::plugin_weighted_random_picker);
    const std::vector<double> totals(8, 1.0);
    auto a = make(lib);
    auto b = make(lib);
    // 100 uniform draws among 8 agree by chance with probability 8^-100.
    CHECK(decisions(*a, totals, 100) != decisions(*b, totals, 100));
}

TEST_CASE("weighted-random-picker picks each endpoint in proportion to its total") {
    pt::PluginLibrary lib(paths::plugin_weighted_random_picker);
    const std::vector<double> totals = {1.0, 3.0, 0.0, 6.0};
    auto picker = make(lib, R"({"seed": 2024})");
    const auto shares = first_pick_shares(decisions(*picker, totals, 20000), totals.size());
    const double sum = 1.0 + 3.0 + 0.0 + 6.0;
    for (std::size_t i = 0; i < totals.size(); ++i) {
        CAPTURE(i);
        CHECK(std::abs(shares[i] - totals[i] / sum) < 0.015);
    }
    CHECK(shares[2] == 0.0);
}

TEST_CASE("weighted-random-picker counts zero, negative and non-finite totals as 0") {
    pt::PluginLibrary lib(paths::plugin_weighted_random_picker);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    const std::vector<double> totals = {0.0, -1.0, nan, inf, -inf, 2.0};
    auto picker = make(lib, R"({"seed": 5, "maxNumOfEndpoints": 2})");
    std::set<std::size_t> seconds;
    for (const auto &picked : decisions(*picker, totals, 600)) {
        REQUIRE(picked.size() == 2);
        CHECK(picked[0] == 5);  // the only positive finite total
        seconds.insert(picked[1]);
    }
    // The second round has only zero weights left: uniform over the other five.
    CHECK(seconds == std::set<std::size_t>{0, 1, 2, 3, 4});
}

TEST_CASE("weighted-random-picker picks uniformly when every total is 0") {
    pt::PluginLibrary lib(paths::plugin_weighted_random_picker);
    auto picker = make(lib, R"({"seed": 99})");
    const auto shares = first_pick_shares(decisions(*picker, {0.0, 0.0, 0.0, 0.0}, 8000), 4);
    for (std::size_t i = 0; i < 4; ++i) {
        CAPTURE(i);
        CHECK(std::abs(shares[i] - 0.25) < 0.03);
    }
}

TEST_CASE("weighted-random-picker handles totals whose sum overflows a double") {
    pt::PluginLibrary lib(paths::plugin_weighted_random_picker);
    auto picker = make(lib, R"({"seed": 3})");
    const double big = std::numeric_limits<double>::max();
    const auto shares = first_pick_shares(decisions(*picker, {big, big, 0.0}, 4000), 3);
    CHECK(std::abs(shares[0] - 0.5) < 0.04);
    CHECK(std::abs(shares[1] - 0.5) < 0.04);
    CHECK(shares[2] == 0.0);
}

TEST_CASE("weighted-random-picker picks without replacement, at most as many as offered") {
    pt::PluginLibrary lib(paths::plugin_weighted_random_picker);
    auto all = make(lib, R"({"seed": 11, "maxNumOfEndpoints": 4})");
    std::set<Indexes> orders;
    for (const auto &picked : decisions(*all, {1.0, 1.0, 1.0, 1.0}, 400)) {
        CHECK(picked.size() == 4);
        CHECK(distinct_and_in_range(picked, 4));
        orders.insert(picked);
    }
    CHECK(orders.size() == 24);  // every permutation of 4 shows up in 400 draws

    auto more = make(lib, R"({"seed": 11, "maxNumOfEndpoints": 1024})");
    for (const auto &picked : decisions(*more, {5.0, 0.0, 1.0}, 50)) {
        CHECK(picked.size() == 3);
        CHECK(distinct_and_in_range(picked, 3));
    }
}

TEST_CASE("weighted-random-picker picks nothing from an empty endpoint list") {
    pt::PluginLibrary lib(paths::plugin_weighted_random_picker);
    auto picker = make(lib, R"({"seed": 1})");
    pt::EndpointSet none{};
    const auto picked = picker->pick(pt::RequestData(), none, std::span<const double>());
    CHECK(picked.ok());
    CHECK(picked.value.empty());
}

TEST_CASE("weighted-random-picker rejects invalid parameters with precise messages") {
    pt::PluginLibrary lib(paths::plugin_weighted_random_picker);
    check_rejected(lib, R"({"maxNumOfEndpoints": 0})",
                   "parameter 'maxNumOfEndpoints': expected a value in [1, 1024], found 0");
    check_rejected(lib, R"({"maxNumOfEndpoints": 1025})",
                   "parameter 'maxNumOfEndpoints': expected a value in [1, 1024], found 1025");
    check_rejected(lib, R"({"seed": "abc"})", "parameter 'seed': expected integer, found string \"abc\"");
    check_rejected_number(lib, R"({"seed": 0.5})", "parameter 'seed': expected integer, found number ", 0.5);
    check_rejected_number(lib, R"({"seed": 1e30})",
                          "parameter 'seed': expected an integer in the range of int64, found number ", 1e30);
    check_rejected(lib, R"({"maxNumOfEndpoint": 2})",
                   "unknown parameter 'maxNumOfEndpoint'; known parameters: maxNumOfEndpoints, seed");
}
