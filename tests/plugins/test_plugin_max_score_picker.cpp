// max-score-picker: the highest totals, best first; equal totals broken at random by a seeded
// hash of the request id and the endpoint name.
#include "plugin_test_helpers.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

namespace {

pt::RequestData request(const std::string &id) { return pt::RequestData({.id = id}); }

std::set<std::size_t> as_set(const Indexes &v) { return {v.begin(), v.end()}; }

}  // namespace

TEST_CASE("max-score-picker declares a stable, thread-safe picker: maxNumOfEndpoints 1, seed unset") {
    pt::PluginLibrary lib(paths::plugin_max_score_picker);
    const auto m = host_manifest(lib);
    CHECK(m.type == "max-score-picker");
    CHECK(m.role == host::Role::picker);
    CHECK(m.stability == host::Stability::stable);
    CHECK(m.thread_safe);  // no mutable state
    CHECK(m.feature_gate.empty());
    REQUIRE(m.parameters.size() == 2);
    CHECK(default_of(m, "maxNumOfEndpoints") == "1");
    CHECK(default_of(m, "seed").empty());
    CHECK(m.find_parameter("seed")->type == host::ParamType::integer);
}

// Upstream pkg/epp/framework/plugins/scheduling/picker/maxscore/picker_test.go: equal-score
// prefixes are compared as sets (the order among them is random). Run under 50 request ids.
TEST_CASE("max-score-picker passes upstream's picker_test.go table") {
    pt::PluginLibrary lib(paths::plugin_max_score_picker);
    struct Case {
        const char *name;
        int max;
        std::vector<double> scores;
        std::vector<std::set<std::size_t>> expected;  // groups in order; within a group any order
    };
    const Case cases[] = {
        {"Single max score", 1, {10, 25, 15}, {{1}}},
        {"Multiple max scores, all are equally scored", 2, {50, 50, 30}, {{0, 1}}},
        {"more pods than needed", 2, {20, 25, 30}, {{2}, {1}}},
        {"less pods than needed", 4, {20, 25, 30}, {{2}, {1}, {0}}},
        {"num of pods exactly needed", 3, {30, 25, 30}, {{0, 2}, {1}}},
    };
    pt::EndpointSet pods{{.name = "pod1"}, {.name = "pod2"}, {.name = "pod3"}};
    for (const Case &c : cases) {
        CAPTURE(c.name);
        auto picker = make(lib, R"({"maxNumOfEndpoints": )" + std::to_string(c.max) + R"(, "seed": 1})");
        for (int r = 0; r < 50; ++r) {
            const auto picked = picker->pick(request("r" + std::to_string(r)), pods, c.scores);
            REQUIRE(picked.ok());
            std::size_t at = 0;
            for (const auto &group : c.expected) {
                REQUIRE(at + group.size() <= picked.value.size());
                CHECK(as_set(Indexes(picked.value.begin() + at, picked.value.begin() + at + group.size())) == group);
                at += group.size();
            }
            CHECK(at == picked.value.size());
        }
    }
}

TEST_CASE("max-score-picker breaks ties uniformly at random across requests") {
    pt::PluginLibrary lib(paths::plugin_max_score_picker);
    auto picker = make(lib, R"({"seed": 42})");
    pt::EndpointSet endpoints{{.name = "a"}, {.name = "b"}, {.name = "c"}, {.name = "d"}};
    const double equal[] = {0.5, 0.5, 0.5, 0.5};
    std::map<std::size_t, int> wins;
    const int requests = 8000;
    for (int r = 0; r < requests; ++r) {
        const auto picked = picker->pick(request("req-" + std::to_string(r)), endpoints, equal);
        REQUIRE(picked.value.size() == 1);
        ++wins[picked.value[0]];
    }
    for (std::size_t i = 0; i < 4; ++i) {
        CAPTURE(i);
        CHECK(std::abs(wins[i] / static_cast<double>(requests) - 0.25) < 0.03);
    }
}

TEST_CASE("max-score-picker decides the same for the same seed and request, whatever the endpoint order") {
    pt::PluginLibrary lib(paths::plugin_max_score_picker);
    auto a = make(lib, R"({"seed": 7, "maxNumOfEndpoints": 4})");
    auto b = make(lib, R"({"seed": 7, "maxNumOfEndpoints": 4})");
    auto other = make(lib, R"({"seed": 8, "maxNumOfEndpoints": 4})");
    pt::EndpointSet forward{{.name = "a"}, {.name = "b"}, {.name = "c"}, {.name = "d"}};
    pt::EndpointSet backward{{.name = "d"}, {.name = "c"}, {.name = "b"}, {.name = "a"}};
    const double equal[] = {1.0, 1.0, 1.0, 1.0};
    int differs = 0;
    for (int r = 0; r < 100; ++r) {
        const auto id = "r" + std::to_string(r);
        const auto first = a->pick(request(id), forward, equal).value;
        CHECK(first == b->pick(request(id), forward, equal).value);
        std::vector<std::string> names_forward, names_backward;
        for (const std::size_t i : first) names_forward.emplace_back(forward.name(i));
        for (const std::size_t i : a->pick(request(id), backward, equal).value)
            names_backward.emplace_back(backward.name(i));
        CHECK(names_forward == names_backward);
        differs += first != other->pick(request(id), forward, equal).value ? 1 : 0;
    }
    CHECK(differs > 50);  // another seed breaks ties another way (24 orders: ~96 of 100 differ)
}

TEST_CASE("max-score-picker without a seed breaks ties differently in each instance") {
    pt::PluginLibrary lib(paths::plugin_max_score_picker);
    auto a = make(lib, R"({"maxNumOfEndpoints": 8})");
    auto b = make(lib, R"({"maxNumOfEndpoints": 8})");
    const auto endpoints = endpoints_named(8);
    const std::vector<double> equal(8, 0.0);
    int differs = 0;
    for (int r = 0; r < 20; ++r)
        differs += a->pick(request(std::to_string(r)), endpoints, equal).value !=
                           b->pick(request(std::to_string(r)), endpoints, equal).value
                       ? 1
                       : 0;
    CHECK(differs > 0);  // 20 orders of 8 agreeing by chance: (1/40320)^20
}

TEST_CASE("max-score-picker picks maxNumOfEndpoints best first, and all when fewer are offered") {
    pt::PluginLibrary lib(paths::plugin_max_score_picker);
    pt::EndpointSet endpoints{{.name = "a"}, {.name = "b"}, {.name = "c"}, {.name = "d"}};
    const double totals[] = {0.3, 0.1, 0.7, 0.5};
    auto one = make(lib);
    CHECK(one->pick(pt::RequestData(), endpoints, totals).value == Indexes{2});
    auto two = make(lib, R"({"maxNumOfEndpoints": 2})");
    CHECK(two->pick(pt::RequestData(), endpoints, totals).value == Indexes{2, 3});
    auto many = make(lib, R"({"maxNumOfEndpoints": 9})");
    CHECK(many->pick(pt::RequestData(), endpoints, totals).value == Indexes{2, 3, 0, 1});
}

TEST_CASE("max-score-picker ranks NaN totals below every number") {
    pt::PluginLibrary lib(paths::plugin_max_score_picker);
    auto picker = make(lib, R"({"maxNumOfEndpoints": 3, "seed": 3})");
    pt::EndpointSet endpoints{{.name = "a"}, {.name = "b"}, {.name = "c"}};
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double nan_first[] = {nan, 0.0, -1.0};
    CHECK(picker->pick(pt::RequestData(), endpoints, nan_first).value == Indexes{1, 2, 0});
    const double totals[] = {nan, -std::numeric_limits<double>::infinity(), 0.1};
    const auto picked = picker->pick(pt::RequestData(), endpoints, totals).value;
    REQUIRE(picked.size() == 3);
    CHECK(picked[0] == 2);  // NaN and -inf rank equal, below 0.1; the tie-break orders them
    CHECK(as_set(picked) == std::set<std::size_t>{0, 1, 2});
}

TEST_CASE("max-score-picker picks nothing from an empty endpoint list") {
    pt::PluginLibrary lib(paths::plugin_max_score_picker);
    auto picker = make(lib);
    pt::EndpointSet none{};
    const auto picked = picker->pick(pt::RequestData(), none, std::span<const double>());
    CHECK(picked.ok());
    CHECK(picked.value.empty());
}

TEST_CASE("max-score-picker agrees with a stable sort by total on many endpoints with repeated totals") {
    pt::PluginLibrary lib(paths::plugin_max_score_picker);
    auto picker = make(lib, R"({"maxNumOfEndpoints": 1024, "seed": 5})");
    std::mt19937 rng(7);
    std::vector<pt::EndpointSpec> specs;
    std::vector<double> totals;
    for (int i = 0; i < 1500; ++i) {
        specs.push_back({.name = "e" + std::to_string(i)});
        totals.push_back(static_cast<double>(rng() % 10) / 10.0);
    }
    pt::EndpointSet endpoints(specs);
    const auto picked = picker->pick(pt::RequestData(), endpoints, totals);
    REQUIRE(picked.ok());
    REQUIRE(picked.value.size() == 1024);
    CHECK(as_set(picked.value).size() == 1024);
    for (std::size_t i = 1; i < picked.value.size(); ++i) CHECK(totals[picked.value[i - 1]] >= totals[picked.value[i]]);
    // The 1024 picked are the best: nothing left out has a higher total than the last picked.
    const double last = totals[picked.value.back()];
    const auto chosen = as_set(picked.value);
    for (std::size_t i = 0; i < totals.size(); ++i)
        if (!chosen.count(i)) CHECK(totals[i] <= last);
}

namespace {

// docs/plugins.md's tie-break, written again from the text: FNV-1a 64 of the request id and of
// the endpoint name, mixed by the splitmix64 finaliser; the smaller key wins.
std::uint64_t fnv1a(const std::string &bytes) {
    std::uint64_t h = 14695981039346656037ULL;
    for (const unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
    return h;
}
std::uint64_t splitmix_finaliser(std::uint64_t x) {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}
std::uint64_t documented_key(std::int64_t seed, const std::string &request, const std::string &name) {
    const std::uint64_t request_key = splitmix_finaliser(static_cast<std::uint64_t>(seed) ^ fnv1a(request));
    return splitmix_finaliser(request_key ^ fnv1a(name));
}

}  // namespace

TEST_CASE("max-score-picker orders by total, then by the documented tie-break key") {
    pt::PluginLibrary lib(paths::plugin_max_score_picker);
    auto picker = make(lib, R"({"seed": -12345, "maxNumOfEndpoints": 1024})");
    std::mt19937 rng(3);
    std::vector<pt::EndpointSpec> specs;
    std::vector<double> totals;
    for (int i = 0; i < 300; ++i) {
        specs.push_back({.name = "vllm-" + std::to_string(i)});
        totals.push_back(static_cast<double>(rng() % 4));  // many ties
    }
    const pt::EndpointSet endpoints(specs);
    for (const std::string id : {"req-1", "req-2", "another"}) {
        CAPTURE(id);
        Indexes expected(specs.size());
        std::iota(expected.begin(), expected.end(), 0);
        std::sort(expected.begin(), expected.end(), [&](std::size_t a, std::size_t b) {
            if (totals[a] != totals[b]) return totals[a] > totals[b];
            return documented_key(-12345, id, specs[a].name) < documented_key(-12345, id, specs[b].name);
        });
        CHECK(picker->pick(request(id), endpoints, totals).value == expected);
    }
}

TEST_CASE("max-score-picker rejects invalid parameters with precise messages") {
    pt::PluginLibrary lib(paths::plugin_max_score_picker);
    check_rejected(lib, R"({"maxNumOfEndpoints": 0})",
                   "parameter 'maxNumOfEndpoints': expected a value in [1, 1024], found 0");
    check_rejected(lib, R"({"maxNumOfEndpoints": 1025})",
                   "parameter 'maxNumOfEndpoints': expected a value in [1, 1024], found 1025");
    check_rejected_number(lib, R"({"maxNumOfEndpoints": 1.5})",
                          "parameter 'maxNumOfEndpoints': expected integer, found number ", 1.5);
    check_rejected(lib, R"({"seed": "x"})", "parameter 'seed': expected integer, found string \"x\"");
    check_rejected(lib, R"({"seeds": 1})", "unknown parameter 'seeds'; known parameters: maxNumOfEndpoints, seed");
}
