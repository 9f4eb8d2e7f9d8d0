// header-profile-handler: runs the profile a request header names. The cases are upstream
// llm-d-router's, from
// pkg/epp/framework/plugins/scheduling/profilehandler/headerprofile/header_profile_handler_test.go.
#include "deployment.hpp"
#include "plugin_test_helpers.hpp"

#include <string>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

namespace {

pt::RequestData with_header(const std::string &name, const std::string &value) {
    return pt::RequestData({.headers = {{name, value}}});
}

// The profiles the handler chooses in the first round.
Indexes first_round(pt::PluginInstance &handler, const pt::RequestData &request, std::vector<std::string> names) {
    pt::ProfileRunSet profiles(std::move(names));
    const auto chosen = handler.pick_profiles(request, profiles);
    REQUIRE_MESSAGE(chosen.ok(), chosen.message);
    return chosen.value;
}

}  // namespace

TEST_CASE("header-profile-handler declares an alpha profile handler with upstream's parameters") {
    pt::PluginLibrary lib(paths::plugin_header_profile_handler);
    const auto m = host_manifest(lib);
    CHECK(m.type == "header-profile-handler");
    CHECK(m.role == host::Role::profile_handler);
    CHECK(m.stability == host::Stability::alpha);
    CHECK(m.feature_gate == "HeaderProfileHandler");
    CHECK(default_of(m, "headerName") == "\"EPP-Profile\"");
    CHECK(default_of(m, "defaultProfile") == "\"decode\"");
    CHECK(lib.create("bad", "{invalid}").status == PLUGHOST_INVALID_ARGUMENT);
}

// Upstream TestHeaderProfileHandler_Pick, profiles {encode, decode}.
TEST_CASE("header-profile-handler runs the profile the header names (upstream header_profile_handler_test.go)") {
    pt::PluginLibrary lib(paths::plugin_header_profile_handler);
    auto handler = make(lib);
    const std::vector<std::string> names{"encode", "decode"};
    CHECK(first_round(*handler, with_header("epp-profile", "encode"), names) == Indexes{0});
    CHECK(first_round(*handler, pt::RequestData(), names) == Indexes{1});  // no header: decode
    CHECK(first_round(*handler, with_header("epp-profile", "prefill"), names).empty());
    CHECK(first_round(*handler, with_header("epp-profile", "  encode  "), names) == Indexes{0});
    CHECK(first_round(*handler, with_header("epp-profile", "   "), names) == Indexes{1});
    CHECK(first_round(*handler, with_header("epp-profile", "Encode"), names).empty());  // values are case-sensitive
    // Header names are not (upstream stores them lower-cased).
    CHECK(first_round(*handler, with_header("EPP-Profile", "encode"), names) == Indexes{0});

    pt::EndpointSet endpoints{{.name = "e0"}};
    pt::ProfileRunSet ran({"encode", "decode"});
    ran.picked(0, endpoints, {0});
    const auto again = handler->pick_profiles(with_header("epp-profile", "encode"), ran);
    REQUIRE(again.ok());
    CHECK(again.value.empty());

    // One profile: it runs whatever the header says.
    CHECK(first_round(*handler, pt::RequestData(), {"decode"}) == Indexes{0});
    CHECK(first_round(*handler, with_header("epp-profile", "prefill"), {"decode"}) == Indexes{0});
}

TEST_CASE("header-profile-handler logs why it chose no profile, naming the profiles (upstream "
          "header_profile_handler_test.go)") {
    pt::PluginLibrary lib(paths::plugin_header_profile_handler);
    auto handler = make(lib);
    CHECK(first_round(*handler, with_header("epp-profile", "prefill"), {"decode", "encode"}).empty());
    REQUIRE(handler->logs().size() == 1);
    CHECK(handler->logs()[0].level == PLUGHOST_LOG_INFO);
    CHECK(handler->logs()[0].text ==
          "request request-1: no scheduling profile selected: header profile handler: no scheduling profile configured "
          "for \"epp-profile\" header value \"prefill\" (profiles: decode, encode)");
}

// Upstream factory cases: header name trimmed and lower-cased, blanks fall back to the defaults.
TEST_CASE(
    "header-profile-handler takes upstream's headerName and defaultProfile (upstream header_profile_handler_test.go)") {
    pt::PluginLibrary lib(paths::plugin_header_profile_handler);
    const std::vector<std::string> names{"encode", "prefill"};
    auto custom = make(lib, R"({"headerName": "  X-Custom-Profile  "})");
    CHECK(first_round(*custom, with_header("x-custom-profile", "prefill"), names) == Indexes{1});
    CHECK(first_round(*custom, with_header("epp-profile", "prefill"), names).empty());  // default decode absent

    auto blank = make(lib, R"({"headerName": "   ", "defaultProfile": "   "})");
    CHECK(first_round(*blank, with_header("epp-profile", "encode"), names) == Indexes{0});
    CHECK(first_round(*blank, pt::RequestData(), {"encode", "decode"}) == Indexes{1});

    auto prefill_default = make(lib, R"({"defaultProfile": "prefill"})");
    CHECK(first_round(*prefill_default, pt::RequestData(), names) == Indexes{1});
    CHECK(first_round(*prefill_default, with_header("epp-profile", "encode"), names) == Indexes{0});

    // Default decode is not configured: nothing runs, and the log says so.
    auto fallback = make(lib);
    CHECK(first_round(*fallback, pt::RequestData(), names).empty());
    REQUIRE(fallback->logs().size() == 1);
    CHECK(fallback->logs()[0].text.find("defaultProfile \"decode\" is not a configured scheduling profile") !=
          std::string::npos);
    const auto result = fallback->process_results(pt::RequestData(), pt::ProfileRunSet(names));
    CHECK(result.status == PLUGHOST_ERROR);
    CHECK(result.message == "header profile handler: missing \"epp-profile\" header");
}

// Upstream TestHeaderProfileHandler_ProcessResults.
TEST_CASE("header-profile-handler names the profile that ran, with upstream's errors (upstream "
          "header_profile_handler_test.go)") {
    pt::PluginLibrary lib(paths::plugin_header_profile_handler);
    auto handler = make(lib);
    pt::EndpointSet endpoints{{.name = "e0"}, {.name = "e1"}};

    pt::ProfileRunSet encode({"encode", "decode"});
    encode.picked(0, endpoints, {0});
    const auto primary = handler->process_results(with_header("epp-profile", "encode"), encode);
    REQUIRE(primary.ok());
    CHECK(primary.value == 0);

    pt::ProfileRunSet none({"encode", "decode"});
    const auto missing = handler->process_results(pt::RequestData(), none);
    CHECK(missing.status == PLUGHOST_ERROR);
    CHECK(missing.message == "header profile handler: missing \"epp-profile\" header");
    CHECK(handler->process_results(with_header("epp-profile", " "), none).message ==
          "header profile handler: missing \"epp-profile\" header");
    CHECK(handler->process_results(with_header("epp-profile", "prefill"), none).message ==
          "header profile handler: no scheduling profile configured for \"epp-profile\" header value \"prefill\"");

    pt::ProfileRunSet two({"encode", "decode"});
    two.picked(0, endpoints, {0});
    two.picked(1, endpoints, {1});
    CHECK(handler->process_results(pt::RequestData(), two).message ==
          "header profile handler is intended to run a single profile per request, got 2");

    // Upstream errors on a failed profile; here it is named so that the host answers with the
    // profile's own error.
    pt::ProfileRunSet failed({"encode", "decode"});
    failed.failed(0);
    const auto named = handler->process_results(with_header("epp-profile", "encode"), failed);
    REQUIRE(named.ok());
    CHECK(named.value == 0);
}

TEST_CASE("header-profile-handler through plughost run: the header picks the profile, default decode") {
    Deployment d(
        {paths::plugin_header_profile_handler, paths::plugin_label_selector_filter, paths::plugin_max_score_picker});
    const std::string config = d.config(R"({"apiVersion": "plughost.io/v1", "kind": "EndpointPickerConfig",
        "policy": {"minStability": "alpha"}, "featureGates": {"HeaderProfileHandler": true},
        "plugins": [{"type": "header-profile-handler"}, {"type": "max-score-picker"},
                    {"type": "label-selector-filter", "name": "pool-a", "parameters": {"matchLabels": {"pool": "a"}}},
                    {"type": "label-selector-filter", "name": "pool-b", "parameters": {"matchLabels": {"pool": "b"}}}],
        "schedulingProfiles": [
          {"name": "decode", "plugins": [{"pluginRef": "pool-a"}, {"pluginRef": "max-score-picker"}]},
          {"name": "batch", "plugins": [{"pluginRef": "pool-b"}, {"pluginRef": "max-score-picker"}]}]})");
    const std::string stream = R"({"endpoint": {"name": "a-0", "labels": {"pool": "a"}}}
{"endpoint": {"name": "b-0", "labels": {"pool": "b"}}}
{"request": {"id": "default"}}
{"request": {"id": "batch", "headers": {"EPP-Profile": "batch"}}}
{"request": {"id": "unknown", "headers": {"epp-profile": "prefill"}}}
)";
    const auto r = run_plughost(d.args("run", config), stream);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 3);
    const auto first = parse_json(out[0]);
    CHECK(first.at("profile").as_string() == "decode");
    CHECK(first.at("picked").at(0).as_string() == "a-0");
    const auto second = parse_json(out[1]);
    CHECK(second.at("profile").as_string() == "batch");
    CHECK(second.at("picked").at(0).as_string() == "b-0");
    CHECK(parse_json(out[2]).at("error").at("code").as_string() == "profile-handler-failed");
    CHECK(r.err.find("no scheduling profile configured for \"epp-profile\" header value \"prefill\"") !=
          std::string::npos);
}
