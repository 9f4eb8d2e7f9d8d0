// From a plan to live instances, through real dlopen and real create calls.
#include "deployment.hpp"
#include "load/instantiation.hpp"

#include <doctest/doctest.h>

using namespace plughost::host;
using namespace plughost::test;

TEST_CASE("every planned instance is created with its parameters and the manifest's defaults") {
    Deployment s;
    copy_to(paths::host_api_user, s.plugins / "host-api-user.so");
    copy_to(paths::plugin_max_score_picker, s.plugins / "max-score-picker.so");
    auto pf = s.plan(R"({"plugins": [{"type": "host-api-user", "name": "u1", "parameters": {"greeting": "hey"}},
                                     {"type": "host-api-user", "name": "u2"}, {"type": "max-score-picker"}]})");
    REQUIRE(pf.ok());
    auto live = instantiate(pf, false);
    CHECK(live.errors.empty());
    REQUIRE(live.complete());
    REQUIRE(live.instances.size() == 3);
    CHECK(live.instances[0]->name() == "u1");
    CHECK(live.instances[1]->manifest().type == "host-api-user");

    Manifest m;
    m.parameters.push_back({"a", ParamType::integer, boost::json::value(3), "d"});
    m.parameters.push_back({"b", ParamType::string, std::nullopt, "d"});
    const auto p = effective_parameters({{"b", "x"}}, m);
    CHECK(p.at("a").as_int64() == 3);
    CHECK(p.at("b").as_string() == "x");
    CHECK(effective_parameters({{"a", 9}}, m).at("a").as_int64() == 9);
}

TEST_CASE("a failing create is reported with the instance name and the plugin's message") {
    Deployment s;
    copy_to(paths::throwing_plugin, s.plugins / "throwing.so");
    copy_to(paths::plugin_max_score_picker, s.plugins / "max-score-picker.so");
    auto pf = s.plan(R"({"plugins": [{"type": "throwing-scorer", "name": "boom", "parameters": {"throwInCreate": true}},
                                     {"type": "max-score-picker"}]})");
    REQUIRE(pf.ok());
    auto live = instantiate(pf, false);
    CHECK(!live.complete());
    CHECK(pf.errors.empty());  // the pre-flight is not changed
    REQUIRE(live.errors.size() == 1);
    CHECK(live.errors[0].code == Code::create_failed);
    CHECK(live.errors[0].path == "/plugins/0");
    CHECK(contains(live.errors[0].message,
                   "plugin \"boom\" (throwing-scorer) failed to start: refusing to start: throwInCreate is set"));
    CHECK(live.instances[1]);  // the others still start
}

TEST_CASE("a plugin that fails to load is reported at every instance using it and becomes rejected") {
    Deployment s;
    copy_to(paths::unresolved_symbol, s.plugins / "needy.so");
    copy_to(paths::plugin_max_score_picker, s.plugins / "max-score-picker.so");
    copy_to(paths::note_entry_mismatch, s.plugins / "mismatch.so");
    auto pf =
        s.plan(R"({"plugins": [{"type": "unresolved-scorer", "name": "a"}, {"type": "unresolved-scorer", "name": "b"},
                                     {"type": "max-score-picker"}]})");
    REQUIRE(pf.ok());
    auto live = instantiate(pf, true);
    for (const auto &c : pf.candidates)
        if (c.file.path.filename() == "needy.so") CHECK(c.admitted());  // until the report is told
    add_to_report(pf, live);
    std::size_t load_errors = 0, mismatch = 0;
    for (const auto &e : pf.errors) {
        if (e.code == Code::load_failed) {
            ++load_errors;
            CHECK(contains(e.message, "undefined symbol: plughost_fixture_symbol_nobody_defines"));
        }
        if (e.code == Code::manifest_mismatch) ++mismatch;  // loaded too, because load_all checks every file
    }
    CHECK(load_errors == 2);
    CHECK(mismatch == 1);
    CHECK(!live.instances[0]);
    CHECK(live.instances[2]);
    for (const auto &c : pf.candidates)
        if (c.file.path.filename() == "needy.so") CHECK(!c.admitted());
}

TEST_CASE("a plugin refused by policy is never loaded: its constructor never runs") {
    Deployment s;
    const auto marker = s.dir / "marker.txt";
    REQUIRE(::setenv("PLUGHOST_TEST_MARKER", marker.c_str(), 1) == 0);
    copy_to(paths::alpha_gated, s.plugins / "alpha.so");
    copy_to(paths::marker_admitted, s.plugins / "marker.so");
    copy_to(paths::plugin_max_score_picker, s.plugins / "max-score-picker.so");
    auto pf = s.plan(R"({"plugins": [{"type": "marker-admitted"}, {"type": "max-score-picker"}]})");
    REQUIRE(pf.ok());
    auto live = instantiate(pf, true);
    CHECK(live.complete());
    CHECK(read_file(marker) == "marker-admitted loaded\n");  // only the admitted twin ran
    ::unsetenv("PLUGHOST_TEST_MARKER");
}
