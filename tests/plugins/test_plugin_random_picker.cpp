// random-picker (deprecated): uniform draws without replacement, the scores ignored.
#include "plugin_test_helpers.hpp"
#include "sampling_reference.hpp"

#include <cmath>
#include <set>
#include <string>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

TEST_CASE("random-picker declares a deprecated beta picker behind RandomPicker, replaced by weighted-random-picker") {
    pt::PluginLibrary lib(paths::plugin_random_picker);
    const auto m = host_manifest(lib);
    CHECK(m.type == "random-picker");
    CHECK(m.role == host::Role::picker);
    CHECK(m.stability == host::Stability::beta);
    CHECK(!m.thread_safe);  // per-instance state
    CHECK(m.feature_gate == "RandomPicker");
    REQUIRE(m.deprecation);
    CHECK(m.deprecation->since.str() == "1.0.0");
    CHECK(m.deprecation->removed_in.str() == "1.2.0");
    CHECK(m.deprecation->message ==
          "Use weighted-random-picker: it picks at random in proportion to the scores, and uniformly when they are "
          "all zero.");
    CHECK(m.deprecation->replacements == std::vector<std::string>{"weighted-random-picker"});
    REQUIRE(m.parameters.size() == 2);
    CHECK(default_of(m, "maxNumOfEndpoints") == "1");
    CHECK(default_of(m, "seed").empty());
}

TEST_CASE("random-picker ignores the totals and picks uniformly") {
    pt::PluginLibrary lib(paths::plugin_random_picker);
    auto picker = make(lib, R"({"seed": 8})");
    std::vector<double> shares(4, 0.0);
    const int calls = 8000;
    for (const auto &picked : decisions(*picker, {100.0, 0.0, -5.0, 0.0}, calls)) {
        REQUIRE(picked.size() == 1);
        shares.at(picked[0]) += 1.0 / calls;
    }
    for (std::size_t i = 0; i < 4; ++i) {
        CAPTURE(i);
        CHECK(std::abs(shares[i] - 0.25) < 0.03);
    }
}

// Upstream pkg/epp/framework/plugins/scheduling/picker/random/picker_test.go: 10,000 draws, each
// endpoint's share of the picks within 0.05 of the expected probability.
TEST_CASE("random-picker passes upstream's picker_test.go table") {
    pt::PluginLibrary lib(paths::plugin_random_picker);
    struct Case {
        const char *name;
        int max;
        std::vector<double> scores;
        std::size_t returned;
        double probability;
    };
    const Case cases[] = {
        {"Single endpoint returned from multiple candidates", 1, {10, 20, 30}, 1, 1.0 / 3.0},
        {"more candidates than needed", 2, {10, 20, 30}, 2, 2.0 / 3.0},
        {"Fewer candidates than maxNumOfEndpoints", 5, {10, 20}, 2, 1.0},
        {"Exact number", 3, {10, 20, 30}, 3, 1.0},
    };
    for (const Case &c : cases) {
        CAPTURE(c.name);
        auto picker = make(lib, R"({"seed": 17, "maxNumOfEndpoints": )" + std::to_string(c.max) + "}");
        std::vector<double> share(c.scores.size(), 0.0);
        const int iterations = 10000;
        for (const auto &picked : decisions(*picker, c.scores, iterations)) {
            REQUIRE(picked.size() == c.returned);
            for (const std::size_t i : picked) share.at(i) += 1.0 / iterations;
        }
        for (std::size_t i = 0; i < share.size(); ++i) {
            CAPTURE(i);
            CHECK(std::abs(share[i] - c.probability) <= 0.05);
        }
    }
}

TEST_CASE("random-picker with a seed makes the documented uniform draws") {
    pt::PluginLibrary lib(paths::plugin_random_picker);
    const std::vector<double> zeros(5, 0.0);
    auto picker = make(lib, R"({"seed": 31337, "maxNumOfEndpoints": 3})");
    std::mt19937_64 engine(31337);
    for (const auto &picked : decisions(*picker, {9.0, 1.0, 0.0, 4.0, 2.0}, 100))
        CHECK(picked == reference_draw(engine, zeros, 3));  // the totals play no part
}

TEST_CASE("random-picker repeats a sequence for the same seed and not for another") {
    pt::PluginLibrary lib(paths::plugin_random_picker);
    const std::vector<double> totals(6, 0.5);
    auto a = make(lib, R"({"seed": 77})");
    auto b = make(lib, R"({"seed": 77})");
    auto c = make(lib, R"({"seed": 78})");
    const auto first = decisions(*a, totals, 200);
    CHECK(first == decisions(*b, totals, 200));
    CHECK(first != decisions(*c, totals, 200));
}

TEST_CASE("random-picker decides as weighted-random-picker does with all-zero totals and the same seed") {
    pt::PluginLibrary lib(paths::plugin_random_picker);
    pt::PluginLibrary replacement(paths::plugin_weighted_random_picker);
    auto old_picker = make(lib, R"({"seed": 4242, "maxNumOfEndpoints": 2})");
    auto new_picker = make(replacement, R"({"seed": 4242, "maxNumOfEndpoints": 2})");
    const auto old_picks = decisions(*old_picker, {0.9, 0.1, 0.4, 0.7, 0.2}, 300);
    CHECK(old_picks == decisions(*new_picker, {0.0, 0.0, 0.0, 0.0, 0.0}, 300));
}

TEST_CASE("random-picker picks distinct endpoints, at most as many as offered, none from an empty list") {
    pt::PluginLibrary lib(paths::plugin_random_picker);
    auto picker = make(lib, R"({"maxNumOfEndpoints": 5})");
    for (const auto &picked : decisions(*picker, {1.0, 1.0, 1.0}, 50)) {
        CHECK(picked.size() == 3);
        CHECK(std::set<std::size_t>(picked.begin(), picked.end()) == std::set<std::size_t>{0, 1, 2});
    }
    pt::EndpointSet none{};
    const auto empty = picker->pick(pt::RequestData(), none, std::span<const double>());
    CHECK(empty.ok());
    CHECK(empty.value.empty());
}

TEST_CASE("random-picker rejects invalid parameters with precise messages") {
    pt::PluginLibrary lib(paths::plugin_random_picker);
    check_rejected(lib, R"({"maxNumOfEndpoints": 0})",
                   "parameter 'maxNumOfEndpoints': expected a value in [1, 1024], found 0");
    check_rejected(lib, R"({"maxNumOfEndpoints": 2000})",
                   "parameter 'maxNumOfEndpoints': expected a value in [1, 1024], found 2000");
    check_rejected(lib, R"({"seed": true})", "parameter 'seed': expected integer, found boolean true");
    check_rejected(lib, R"({"weights": []})", "unknown parameter 'weights'; known parameters: maxNumOfEndpoints, seed");
}
