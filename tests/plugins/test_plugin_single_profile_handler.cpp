// single-profile-handler: runs the config's one profile. The cases are upstream llm-d-router's,
// from pkg/epp/framework/plugins/scheduling/profilehandler/single/single_profile_handler_test.go.
#include "deployment.hpp"
#include "plugin_test_helpers.hpp"

#include <string>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

TEST_CASE("single-profile-handler declares a beta profile handler without parameters") {
    pt::PluginLibrary lib(paths::plugin_single_profile_handler);
    const auto m = host_manifest(lib);
    CHECK(m.type == "single-profile-handler");
    CHECK(m.role == host::Role::profile_handler);
    CHECK(m.stability == host::Stability::beta);
    CHECK(m.parameters.empty());
    CHECK(static_cast<bool>(lib.entry().pick_profiles));
    CHECK(static_cast<bool>(lib.entry().process_results));
    CHECK(!lib.entry().pre_request);
}

// Upstream TestSingleProfileHandler_Pick (the case with no profile at all cannot happen here:
// the host always offers at least one).
TEST_CASE("single-profile-handler runs the profile once (upstream single_profile_handler_test.go)") {
    pt::PluginLibrary lib(paths::plugin_single_profile_handler);
    auto handler = make(lib);
    const pt::RequestData request;
    pt::EndpointSet endpoints{{.name = "e0"}};
    pt::ProfileRunSet fresh({"default"});
    const auto first = handler->pick_profiles(request, fresh);
    REQUIRE(first.ok());
    CHECK(first.value == Indexes{0});

    pt::ProfileRunSet done({"default"});
    done.picked(0, endpoints, {0});
    const auto second = handler->pick_profiles(request, done);
    REQUIRE(second.ok());
    CHECK(second.value.empty());
}

// Upstream TestSingleProfileHandler_ProcessResults.
TEST_CASE("single-profile-handler names the profile that ran and refuses anything else (upstream "
          "single_profile_handler_test.go)") {
    pt::PluginLibrary lib(paths::plugin_single_profile_handler);
    auto handler = make(lib);
    const pt::RequestData request;
    pt::EndpointSet endpoints{{.name = "e0"}, {.name = "e1"}};

    pt::ProfileRunSet one({"default"});
    one.picked(0, endpoints, {1});
    const auto primary = handler->process_results(request, one);
    REQUIRE(primary.ok());
    CHECK(primary.value == 0);

    pt::ProfileRunSet none({"default"});
    const auto empty = handler->process_results(request, none);
    CHECK(empty.status == PLUGHOST_ERROR);
    CHECK(empty.message ==
          "single profile handler is intended to be used with a single profile, 0 ran (the config has 1 profiles)");

    pt::ProfileRunSet two({"a", "b"});
    two.picked(0, endpoints, {0});
    two.picked(1, endpoints, {1});
    const auto both = handler->process_results(request, two);
    CHECK(both.status == PLUGHOST_ERROR);
    CHECK(both.message ==
          "single profile handler is intended to be used with a single profile, 2 ran (the config has 2 profiles)");

    // Upstream errors on a profile that failed; here the failed profile is named, so that the
    // host answers with that profile's own error (the host checks that the primary picked).
    pt::ProfileRunSet failed({"default"});
    failed.failed(0);
    const auto named = handler->process_results(request, failed);
    REQUIRE(named.ok());
    CHECK(named.value == 0);
}

TEST_CASE("single-profile-handler with several profiles runs them all, as upstream, then refuses") {
    pt::PluginLibrary lib(paths::plugin_single_profile_handler);
    auto handler = make(lib);
    pt::ProfileRunSet profiles({"a", "b", "c"});
    const auto chosen = handler->pick_profiles(pt::RequestData(), profiles);
    REQUIRE(chosen.ok());
    CHECK(chosen.value == Indexes{0, 1, 2});
}

// The host gives a profile handler room for one index per profile. With more profiles than
// endpoints that room was sized by the endpoints, and this handler (which runs every profile)
// wrote past it. Through the real CLI: many profiles, one endpoint.
TEST_CASE("single-profile-handler with more profiles than endpoints: every request answered, nothing overrun") {
    Deployment d({paths::plugin_single_profile_handler, paths::plugin_max_score_picker});
    std::string profiles;
    for (int i = 0; i < 200; ++i)
        profiles += std::string(i ? "," : "") + R"({"name": "p)" + std::to_string(i) +
                    R"(", "plugins": [{"pluginRef": "max-score-picker"}]})";
    const std::string config = d.config(R"({"apiVersion": "plughost.io/v1", "kind": "EndpointPickerConfig",
        "policy": {"minStability": "beta"},
        "plugins": [{"type": "single-profile-handler"}, {"type": "max-score-picker"}],
        "schedulingProfiles": [)" + profiles +
                                        "]}");
    std::string stream = R"({"endpoint": {"name": "only", "address": "10.0.0.1:8000"}})"
                         "\n";
    for (int i = 0; i < 20; ++i)
        stream += R"({"request": {"id": "r)" + std::to_string(i) +
                  R"("}})"
                  "\n";
    const auto r = run_plughost(d.args("run", config), stream);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 20);
    for (const auto &line : out) CHECK(parse_json(line).at("error").at("code").as_string() == "profile-handler-failed");
    // It ran all 200 profiles, then refused; after 5 such faults in a row the host disabled it.
    CHECK(std::string(parse_json(out[0]).at("error").at("message").as_string()).find("200 ran") != std::string::npos);
    CHECK(std::string(parse_json(out[19]).at("error").at("message").as_string()).find("disabled") != std::string::npos);
}
