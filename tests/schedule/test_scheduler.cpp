// The dispatch path with real plugins: weighted scoring, ties, and every runtime fault.
#include "deployment.hpp"
#include "load/instantiation.hpp"
#include "schedule/endpoint_table.hpp"
#include "schedule/scheduler.hpp"

#include <doctest/doctest.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <limits>
#include <set>
#include <sstream>

using namespace plughost::host;
using namespace plughost::test;

namespace {

// Plugins configured from a config text, instantiated for real, driven by a Scheduler.
struct Pipeline {
    Deployment deployment;
    LivePipeline live;
    std::unique_ptr<Scheduler> &scheduler = live.scheduler;
    EndpointTable endpoints;

    Pipeline(const std::vector<std::string> &files, const std::string &config, std::uint32_t max_faults = 3)
        : deployment(files), live(deployment.plan(config), max_faults) {}

    // Runs the first profile; `explain` receives what it did.
    Decision decide(Explanation *explain = nullptr, const std::string &id = "r") {
        plughost_request req{};
        req.struct_size = sizeof req;
        req.id = {id.data(), id.size()};
        std::vector<Explanation> explanations;
        Decision d = scheduler->schedule(req, endpoints.data(), endpoints.size(), 0, explain ? &explanations : nullptr);
        if (explain && !explanations.empty()) *explain = explanations.front();
        return d;
    }

    const RuntimeInstance &instance(const std::string &name) const {
        for (const auto &r : scheduler->instances())
            if (r.instance->name() == name) return r;
        FAIL("no instance " << name);
        throw 0;
    }
};

std::string name_of(const plughost_endpoint *e) { return std::string(e->name.data, e->name.size); }

}  // namespace

TEST_CASE("the shortest queue wins, totals are the weighted sums of the scores") {
    Pipeline p({paths::plugin_queue_scorer, paths::plugin_max_score_picker, paths::good_scorer},
               R"({"plugins": [{"type": "queue-scorer"}, {"type": "good-scorer"}, {"type": "max-score-picker"}],
                   "schedulingProfiles": [{"name": "p", "plugins": [{"pluginRef": "queue-scorer", "weight": 2},
                       {"pluginRef": "good-scorer", "weight": 0.5}, {"pluginRef": "max-score-picker"}]}]})");
    p.endpoints.upsert({.name = "a", .waiting_queue_size = 10});
    p.endpoints.upsert({.name = "b", .waiting_queue_size = 0});
    p.endpoints.upsert({.name = "c", .waiting_queue_size = 5});
    Explanation e;
    const Decision d = p.decide(&e);
    REQUIRE(d.error == std::nullopt);
    REQUIRE(d.picked.size() == 1);
    CHECK(name_of(d.picked[0]) == "b");
    // queue-scorer: a 0, b 1, c 0.5; good-scorer 0.5 everywhere.
    REQUIRE(e.totals.size() == 3);
    CHECK(e.totals[0].second == doctest::Approx(2 * 0.0 + 0.5 * 0.5));
    CHECK(e.totals[1].second == doctest::Approx(2 * 1.0 + 0.5 * 0.5));
    CHECK(e.totals[2].second == doctest::Approx(2 * 0.5 + 0.5 * 0.5));
    CHECK(e.scorers[0].weight == 2);
}

TEST_CASE("ties are broken at random, and seeded the same for a request whatever the arrival order") {
    const std::string seeded = R"({"plugins": [{"type": "queue-scorer"},
        {"type": "max-score-picker", "parameters": {"seed": 7}}]})";
    std::vector<std::vector<std::string>> runs;
    for (const auto &order : {std::vector<std::string>{"b", "a", "c"}, std::vector<std::string>{"c", "b", "a"}}) {
        Pipeline p({paths::plugin_queue_scorer, paths::plugin_max_score_picker}, seeded);
        for (const auto &n : order) p.endpoints.upsert({.name = n, .waiting_queue_size = 4});
        std::vector<std::string> picks;
        for (int i = 0; i < 60; ++i) picks.push_back(name_of(p.decide(nullptr, "r" + std::to_string(i)).picked[0]));
        CHECK(name_of(p.decide(nullptr, "r0").picked[0]) == picks[0]);  // the same request, the same pick
        runs.push_back(std::move(picks));
    }
    CHECK(runs[0] == runs[1]);
    CHECK(std::set<std::string>(runs[0].begin(), runs[0].end()) == std::set<std::string>{"a", "b", "c"});
}

TEST_CASE("no endpoints, and a filter that leaves no candidate") {
    Pipeline p({paths::plugin_queue_scorer, paths::plugin_max_score_picker, paths::filter_drop_all},
               R"({"plugins": [{"type": "drop-all-filter"}, {"type": "queue-scorer"}, {"type": "max-score-picker"}]})");
    CHECK(p.decide().error == Code::no_endpoints);
    p.endpoints.upsert({.name = "a"});
    const Decision d = p.decide();
    CHECK(d.error == Code::no_candidates);
    CHECK(contains(d.message, "drop-all-filter let no endpoint through"));
}

TEST_CASE("a scorer returning an error contributes nothing, the fault is counted and logged with its name") {
    CapturedLog log;
    Pipeline p({paths::plugin_queue_scorer, paths::plugin_max_score_picker, paths::scorer_error_status},
               R"({"plugins": [{"type": "error-scorer", "name": "flaky-backend"}, {"type": "queue-scorer"},
                   {"type": "max-score-picker"}]})",
               100);
    p.endpoints.upsert({.name = "a", .waiting_queue_size = 1});
    p.endpoints.upsert({.name = "b", .waiting_queue_size = 9});
    Explanation e;
    const Decision d = p.decide(&e, "req-42");
    REQUIRE(d.error == std::nullopt);
    CHECK(name_of(d.picked[0]) == "a");
    CHECK(e.scorers[0].fault);
    CHECK(e.totals[0].second == 1.0);  // queue-scorer's alone
    CHECK(p.instance("flaky-backend").faults == 1);
    CHECK(p.instance("flaky-backend").errors == 1);
    CHECK(contains(log.text.str(),
                   "[flaky-backend] [warning] fault [plugin-error] on request req-42: backend unavailable"));
}

TEST_CASE("scores outside [0, 1] or NaN are faults, and ignored") {
    for (const auto &[file, type] :
         {std::pair{paths::scorer_out_of_range, "out-of-range-scorer"}, std::pair{paths::scorer_nan, "nan-scorer"}}) {
        Pipeline p({paths::plugin_queue_scorer, paths::plugin_max_score_picker, file},
                   R"({"plugins": [{"type": ")" + std::string(type) +
                       R"("}, {"type": "queue-scorer"}, {"type": "max-score-picker"}]})");
        p.endpoints.upsert({.name = "a", .waiting_queue_size = 9});
        p.endpoints.upsert({.name = "b", .waiting_queue_size = 1});
        Explanation e;
        const Decision d = p.decide(&e);
        REQUIRE(d.error == std::nullopt);
        CHECK(name_of(d.picked[0]) == "b");
        CHECK(p.instance(type).bad_scores == 1);
        CHECK(e.totals[0].second == 0.0);
    }
}

TEST_CASE("a filter naming an endpoint not offered, out of order, or failing, lets everything through") {
    for (const auto &[file, type] : {std::pair{paths::filter_unknown_endpoint, "unknown-endpoint-filter"},
                                     std::pair{paths::filter_unordered, "unordered-filter"},
                                     std::pair{paths::filter_error_status, "error-filter"}}) {
        Pipeline p({paths::plugin_queue_scorer, paths::plugin_max_score_picker, file},
                   R"({"plugins": [{"type": ")" + std::string(type) +
                       R"("}, {"type": "queue-scorer"}, {"type": "max-score-picker"}]})");
        p.endpoints.upsert({.name = "a", .waiting_queue_size = 9});
        p.endpoints.upsert({.name = "b", .waiting_queue_size = 1});
        Explanation e;
        const Decision d = p.decide(&e);
        REQUIRE(d.error == std::nullopt);
        CHECK(name_of(d.picked[0]) == "b");
        CHECK(e.filters[0].fault);
        CHECK(e.totals.size() == 2);  // both endpoints were scored
        CHECK(p.instance(type).faults == 1);
    }
}

TEST_CASE("scores of exactly 0, -0.0 and 1 are valid, and weighted sums are exact") {
    Pipeline p(
        {paths::plugin_max_score_picker, paths::scorer_negative_zero, paths::plugin_queue_scorer},
        R"({"plugins": [{"type": "negative-zero-scorer"}, {"type": "queue-scorer"}, {"type": "max-score-picker"}]})");
    p.endpoints.upsert({.name = "a", .waiting_queue_size = 0});
    p.endpoints.upsert({.name = "b", .waiting_queue_size = 1});
    Explanation e;
    REQUIRE(p.decide(&e).error == std::nullopt);
    CHECK(!e.scorers[0].fault);
    CHECK(p.instance("negative-zero-scorer").faults == 0);
    CHECK(e.totals[0].second == 1.0);
    CHECK(e.totals[1].second == 0.0);
}

TEST_CASE("the range check is exact at the edges of [0, 1]") {
    const double good[] = {0.0, -0.0, 1.0, 0.5, 1e-300, std::nextafter(1.0, 0.0)};
    const double in[6] = {};
    double out[6];
    CHECK(add_weighted_scores(good, 6, 2.0, in, out));
    CHECK(out[2] == 2.0);
    for (double bad : {std::nextafter(1.0, 2.0), -1e-300, -1.0, 2.0, std::numeric_limits<double>::infinity(),
                       -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN(),
                       -std::numeric_limits<double>::quiet_NaN()}) {
        const double scores[] = {0.5, bad, 0.25};
        CHECK_MESSAGE(!add_weighted_scores(scores, 3, 1.0, in, out), bad);
    }
}

TEST_CASE("filter results are checked while gathered: increasing, offered, never read out of bounds") {
    plughost_endpoint e[4]{};
    const plughost_endpoint *offered[] = {&e[0], &e[1], &e[2], &e[3]};
    const plughost_endpoint *out[4];
    const std::size_t ok[] = {0, 2, 3};
    CHECK(gather_passed(offered, 4, ok, 3, out));
    CHECK(out[1] == &e[2]);
    const std::size_t repeated[] = {1, 1}, unordered[] = {2, 1}, beyond[] = {1, 9};
    CHECK(!gather_passed(offered, 4, repeated, 2, out));
    CHECK(!gather_passed(offered, 4, unordered, 2, out));
    CHECK(!gather_passed(offered, 4, beyond, 2, out));
    CHECK(!gather_passed(offered, 4, ok, 5, out));
    CHECK(gather_passed(offered, 4, ok, 0, out));
}

TEST_CASE("a picker choosing an endpoint not offered fails the request, and is disabled after N in a row") {
    CapturedLog log;
    Pipeline p({paths::plugin_queue_scorer, paths::picker_unknown_endpoint},
               R"({"plugins": [{"type": "queue-scorer"}, {"type": "unknown-endpoint-picker", "name": "bad-picker"}]})",
               3);
    p.endpoints.upsert({.name = "a"});
    for (int i = 0; i < 3; ++i) {
        const Decision d = p.decide();
        CHECK(d.error == Code::picker_failed);
        CHECK(contains(d.message, "picked an endpoint that was not offered"));
    }
    CHECK(p.instance("bad-picker").disabled);
    CHECK(contains(log.text.str(), "[bad-picker] [error] DISABLED after 3 consecutive faults"));
    const Decision after = p.decide();
    CHECK(after.error == Code::picker_disabled);
    CHECK(p.instance("bad-picker").calls == 3);  // not called again
}

TEST_CASE("the decision is reused: an undecided request shows none of the picks before, a decided one no error") {
    Pipeline p({paths::plugin_queue_scorer, paths::plugin_max_score_picker},
               R"({"plugins": [{"type": "queue-scorer"}, {"type": "max-score-picker"}]})");
    p.endpoints.upsert({.name = "a"});
    plughost_request req{};
    req.struct_size = sizeof req;
    REQUIRE(p.scheduler->schedule(req, p.endpoints.data(), p.endpoints.size(), 0).picked.size() == 1);
    const Decision &none = p.scheduler->schedule(req, nullptr, 0, 0);
    CHECK(none.error == Code::no_endpoints);
    CHECK(none.picked.empty());
    CHECK(none.extras.empty());
    CHECK(none.headers.empty());
    const Decision &again = p.scheduler->schedule(req, p.endpoints.data(), p.endpoints.size(), 0);
    CHECK(again.error == std::nullopt);
    CHECK(again.message.empty());
    REQUIRE(again.picked.size() == 1);
    CHECK(name_of(again.picked[0]) == "a");
}

TEST_CASE("a picker error fails that request only") {
    Pipeline p({paths::plugin_queue_scorer, paths::picker_error_status},
               R"({"plugins": [{"type": "queue-scorer"}, {"type": "error-picker"}]})", 10);
    p.endpoints.upsert({.name = "a"});
    const Decision d = p.decide();
    CHECK(d.error == Code::picker_failed);
    CHECK(contains(d.message, "picker crashed politely"));
    CHECK(!p.instance("error-picker").disabled);
}

TEST_CASE("a scorer with too many consecutive faults is disabled and no longer called, intermittent faults are not") {
    Pipeline p(
        {paths::plugin_queue_scorer, paths::plugin_max_score_picker, paths::scorer_error_status, paths::scorer_flaky},
        R"({"plugins": [{"type": "error-scorer"}, {"type": "flaky-scorer"}, {"type": "queue-scorer"},
                   {"type": "max-score-picker"}]})",
        2);
    p.endpoints.upsert({.name = "a"});
    for (int i = 0; i < 6; ++i) CHECK(p.decide().error == std::nullopt);
    CHECK(p.instance("error-scorer").disabled);
    CHECK(p.instance("error-scorer").calls == 2);
    CHECK(p.instance("flaky-scorer").faults == 3);
    CHECK(!p.instance("flaky-scorer").disabled);
    Explanation e;
    p.decide(&e);
    CHECK(e.scorers[0].disabled);
}

TEST_CASE("a failing picked hook is a fault, and the decision stands") {
    Pipeline p({paths::plugin_max_score_picker, paths::observer_error},
               R"({"plugins": [{"type": "observer-error-scorer"}, {"type": "max-score-picker"}]})", 10);
    p.endpoints.upsert({.name = "a"});
    CHECK(p.decide().error == std::nullopt);
    CHECK(p.instance("observer-error-scorer").faults == 1);
}
