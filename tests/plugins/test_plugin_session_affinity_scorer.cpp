// session-affinity-scorer: upstream's encoded_endpoint_header and session_id strategies.
#include "plugin_test_helpers.hpp"

#include <string>
#include <utility>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// base64 of "/pod-b", "default/pod1" and "default/prefill-pod", as Go's
// base64.StdEncoding.EncodeToString gives them.
const std::string kPodB = "L3BvZC1i";
const std::string kDefaultPod1 = "ZGVmYXVsdC9wb2Qx";
const std::string kDefaultPrefillPod = "ZGVmYXVsdC9wcmVmaWxsLXBvZA==";

pt::RequestData with_headers(Headers headers, std::string id = "request-1") {
    return pt::RequestData({.id = std::move(id), .headers = std::move(headers)});
}

std::vector<double> scores(pt::PluginInstance &scorer, const pt::RequestData &request, const pt::EndpointSet &e) {
    auto s = scorer.score(request, e);
    REQUIRE_MESSAGE(s.ok(), s.message);
    return s.value;
}

// The response started on `endpoint`: what the plugin set on the client's response.
Headers respond(pt::PluginInstance &scorer, const pt::RequestData &request, const plughost_endpoint *endpoint) {
    auto before = scorer.client_headers().size();
    auto r = scorer.respond(request, pt::ResponseSpec{.outcome = PLUGHOST_RESPONSE_STARTED, .endpoint = endpoint});
    REQUIRE_MESSAGE(r.ok(), r.message);
    return Headers(scorer.client_headers().begin() + static_cast<std::ptrdiff_t>(before),
                   scorer.client_headers().end());
}

}  // namespace

TEST_CASE("session-affinity-scorer declares an alpha scorer behind SessionAffinityScorer with upstream's parameters") {
    pt::PluginLibrary lib(paths::plugin_session_affinity_scorer);
    const auto m = host_manifest(lib);
    CHECK(m.type == "session-affinity-scorer");
    CHECK(m.role == host::Role::scorer);
    CHECK(m.stability == host::Stability::alpha);
    CHECK(m.feature_gate == "SessionAffinityScorer");
    CHECK(!m.thread_safe);  // session bindings
    REQUIRE(m.parameters.size() == 4);
    CHECK(default_of(m, "strategy") == "\"encoded_endpoint_header\"");
    CHECK(default_of(m, "profileName") == "\"\"");
    CHECK(default_of(m, "encodedEndpointHeaderConfig") == "{}");
    CHECK(default_of(m, "sessionIdConfig") == "{}");
    CHECK(static_cast<bool>(lib.entry().pre_request));
    CHECK(static_cast<bool>(lib.entry().response_started));
    CHECK(static_cast<bool>(lib.entry().response_complete));
}

// Upstream pkg/epp/framework/plugins/scheduling/scorer/sessionaffinity/session_affinity_test.go,
// TestSessionAffinity_Score: pods without a namespace, token base64("/pod-b").
TEST_CASE("session-affinity-scorer passes upstream's TestSessionAffinity_Score table") {
    pt::PluginLibrary lib(paths::plugin_session_affinity_scorer);
    auto plain = make(lib);
    auto custom = make(lib, R"({"encodedEndpointHeaderConfig": {"header": "x-custom-session"}})");
    pt::EndpointSet pods{{.name = "pod-a"}, {.name = "pod-b"}};
    CHECK(scores(*plain, with_headers({{"x-session-token", kPodB}}), pods) == std::vector<double>{0.0, 1.0});
    CHECK(scores(*custom, with_headers({{"x-custom-session", kPodB}}), pods) == std::vector<double>{0.0, 1.0});
    CHECK(scores(*custom, with_headers({{"x-session-token", kPodB}}), pods) == std::vector<double>{0.0, 0.0});
    CHECK(scores(*plain, with_headers({}), pods) == std::vector<double>{0.0, 0.0});
    CHECK(scores(*plain, with_headers({{"x-session-token", "garbage-token"}}), pods) == std::vector<double>{0.0, 0.0});
    pt::EndpointSet none{};
    CHECK(scores(*plain, with_headers({{"x-session-token", kPodB}}), none).empty());
}

TEST_CASE("session-affinity-scorer matches a token of the endpoint's own name, and header names in any case") {
    pt::PluginLibrary lib(paths::plugin_session_affinity_scorer);
    auto scorer = make(lib, R"({"encodedEndpointHeaderConfig": {"header": " X-Custom-Session "}})");
    pt::EndpointSet pods{{.name = "default/pod1"}, {.name = "pod1"}};
    CHECK(scores(*scorer, with_headers({{"X-CUSTOM-SESSION", kDefaultPod1}}), pods) == std::vector<double>{1.0, 0.0});
    // base64("pod1"): the plain name
    CHECK(scores(*scorer, with_headers({{"x-custom-session", "cG9kMQ=="}}), pods) == std::vector<double>{0.0, 1.0});
    // bad padding, characters outside the alphabet: no preference
    for (const char *bad : {"cG9kMQ", "cG9kMQ=", "cG9k*Q==", "cG=kMQ=="}) {
        CAPTURE(bad);
        CHECK(scores(*scorer, with_headers({{"x-custom-session", bad}}), pods) == std::vector<double>{0.0, 0.0});
    }
}

// Upstream TestSessionAffinity_ResponseHeader: target default/pod1; the token goes on the response.
TEST_CASE("session-affinity-scorer passes upstream's TestSessionAffinity_ResponseHeader table") {
    pt::PluginLibrary lib(paths::plugin_session_affinity_scorer);
    pt::EndpointSet pods{{.name = "default/pod1", .address = "1.2.3.4"}, {.name = "default/prefill-pod"}};
    const auto request = with_headers({});
    SUBCASE("default header") {
        auto scorer = make(lib);
        CHECK(respond(*scorer, request, pods.at(0)) == Headers{{"x-session-token", kDefaultPod1}});
    }
    SUBCASE("custom header") {
        auto scorer = make(lib, R"({"encodedEndpointHeaderConfig": {"header": "x-custom-session"}})");
        CHECK(respond(*scorer, request, pods.at(0)) == Headers{{"x-custom-session", kDefaultPod1}});
    }
    SUBCASE("nil target: the host no longer knows the endpoint") {
        auto scorer = make(lib);
        CHECK(respond(*scorer, request, nullptr).empty());
    }
    SUBCASE("profile prefill writes the prefill pick, not the served endpoint") {
        auto scorer = make(lib, R"({"profileName": "prefill",
            "encodedEndpointHeaderConfig": {"header": "x-session-token-prefill"}})");
        const pt::DecisionData decision("decode", pods, {0}, {{"prefill", 1}});
        REQUIRE(scorer->pre_request(request, decision).ok());
        CHECK(scorer->upstream_headers().empty());
        CHECK(respond(*scorer, request, pods.at(0)) == Headers{{"x-session-token-prefill", kDefaultPrefillPod}});
    }
    SUBCASE("profile set but absent from the decision: no header") {
        auto scorer = make(lib, R"({"profileName": "prefill"})");
        const pt::DecisionData decision("decode", pods, {0});
        REQUIRE(scorer->pre_request(request, decision).ok());
        CHECK(respond(*scorer, request, pods.at(0)).empty());
    }
    SUBCASE("profile set and no decision seen for the request: no header") {
        auto scorer = make(lib, R"({"profileName": "prefill"})");
        CHECK(respond(*scorer, request, pods.at(0)).empty());
    }
    SUBCASE("profile named is the primary one: its first pick") {
        auto scorer = make(lib, R"({"profileName": "decode"})");
        const pt::DecisionData decision("decode", pods, {1, 0});
        REQUIRE(scorer->pre_request(request, decision).ok());
        CHECK(respond(*scorer, request, pods.at(0)) == Headers{{"x-session-token", kDefaultPrefillPod}});
    }
}

TEST_CASE("session-affinity-scorer sets nothing when the response completes without starting") {
    pt::PluginLibrary lib(paths::plugin_session_affinity_scorer);
    auto scorer = make(lib, R"({"profileName": "prefill"})");
    pt::EndpointSet pods{{.name = "d"}, {.name = "p"}};
    const auto request = with_headers({});
    const pt::DecisionData decision("decode", pods, {0}, {{"prefill", 1}});
    REQUIRE(scorer->pre_request(request, decision).ok());
    REQUIRE(
        scorer->respond(request, pt::ResponseSpec{.outcome = PLUGHOST_RESPONSE_FAILED, .endpoint = pods.at(0)}).ok());
    CHECK(scorer->client_headers().empty());
    CHECK(respond(*scorer, request, pods.at(0)).empty());  // the record went with the response
}

// Upstream .../sessionaffinity/session_id_header_test.go and util/sessionaffinity/session_id_test.go.
TEST_CASE("session-affinity-scorer with strategy session_id binds a session to the endpoint that served it") {
    pt::PluginLibrary lib(paths::plugin_session_affinity_scorer);
    const std::string params =
        R"({"strategy": "session_id", "sessionIdConfig": {"sources": [{"header": "x-session-token"}],
        "evictionTtlSeconds": 300, "evictionSweepSeconds": 10}})";
    pt::EndpointSet pods{{.name = "pod-a"}, {.name = "pod-b"}};
    const auto s1 = [](const std::string &id) { return with_headers({{"x-session-token", "s1"}}, id); };

    SUBCASE("bound session present: 1 for its endpoint; no header written to the client") {
        auto scorer = make(lib, params);
        CHECK(scores(*scorer, s1("r1"), pods) == std::vector<double>{0.0, 0.0});  // unbound: no preference
        REQUIRE(scorer->pre_request(s1("r1"), pt::DecisionData("default", pods, {1})).ok());
        CHECK(scores(*scorer, s1("r2"), pods) == std::vector<double>{0.0, 1.0});
        CHECK(respond(*scorer, s1("r2"), pods.at(1)).empty());
        CHECK(scores(*scorer, with_headers({}, "r3"), pods) == std::vector<double>{0.0, 0.0});  // no session
        CHECK(scores(*scorer, with_headers({{"x-session-token", "s2"}}, "r4"), pods) ==
              std::vector<double>{0.0, 0.0});  // unbound session
    }
    SUBCASE("holds the pin when its endpoint was offered but outvoted") {
        auto scorer = make(lib, params);
        REQUIRE(scorer->pre_request(s1("r1"), pt::DecisionData("default", pods, {0})).ok());
        CHECK(scores(*scorer, s1("r2"), pods) == std::vector<double>{1.0, 0.0});
        REQUIRE(scorer->pre_request(s1("r2"), pt::DecisionData("default", pods, {1})).ok());
        CHECK(scores(*scorer, s1("r3"), pods) == std::vector<double>{1.0, 0.0});
    }
    SUBCASE("migrates when its endpoint was genuinely absent") {
        auto scorer = make(lib, params);
        REQUIRE(scorer->pre_request(s1("r1"), pt::DecisionData("default", pods, {0})).ok());
        pt::EndpointSet only_b{{.name = "pod-b"}};
        CHECK(scores(*scorer, s1("r2"), only_b) == std::vector<double>{0.0});
        REQUIRE(scorer->pre_request(s1("r2"), pt::DecisionData("default", only_b, {0})).ok());
        CHECK(scores(*scorer, s1("r3"), pods) == std::vector<double>{0.0, 1.0});
    }
    SUBCASE("a request that was never scored does not move the binding") {
        auto scorer = make(lib, params);
        REQUIRE(scorer->pre_request(s1("r1"), pt::DecisionData("default", pods, {0})).ok());
        REQUIRE(scorer->pre_request(s1("r2"), pt::DecisionData("default", pods, {1})).ok());
        CHECK(scores(*scorer, s1("r3"), pods) == std::vector<double>{1.0, 0.0});
    }
    SUBCASE("profileName binds that profile's pick, and nothing when it did not pick") {
        auto scorer = make(lib, R"({"strategy": "session_id", "profileName": "prefill"})");
        pt::EndpointSet all{{.name = "decode-pod"}, {.name = "prefill-pod"}};
        const auto s = [](const std::string &id) { return with_headers({{"x-session-id", "s1"}}, id); };
        REQUIRE(scorer->pre_request(s("r1"), pt::DecisionData("decode", all, {0})).ok());
        CHECK(scores(*scorer, s("r2"), all) == std::vector<double>{0.0, 0.0});
        REQUIRE(scorer->pre_request(s("r2"), pt::DecisionData("decode", all, {0}, {{"prefill", 1}})).ok());
        CHECK(scores(*scorer, s("r3"), all) == std::vector<double>{0.0, 1.0});
    }
}

TEST_CASE("session-affinity-scorer reads the first non-empty session source") {
    pt::PluginLibrary lib(paths::plugin_session_affinity_scorer);
    auto scorer = make(lib, R"({"strategy": "session_id",
        "sessionIdConfig": {"sources": [{"header": "X-First"}, {"header": "x-second"}]}})");
    pt::EndpointSet pods{{.name = "a"}, {.name = "b"}};
    REQUIRE(scorer->pre_request(with_headers({{"x-second", " s9 "}}, "r1"), pt::DecisionData("p", pods, {1})).ok());
    CHECK(scores(*scorer, with_headers({{"x-first", "  "}, {"x-second", "s9"}}, "r2"), pods) ==
          std::vector<double>{0.0, 1.0});
    CHECK(scores(*scorer, with_headers({{"x-first", "s9"}}, "r3"), pods) == std::vector<double>{0.0, 1.0});
    CHECK(scores(*scorer, with_headers({{"x-first", "other"}, {"x-second", "s9"}}, "r4"), pods) ==
          std::vector<double>{0.0, 0.0});
}

// Upstream TestSessionAffinity_FactoryValidation, and the config validation of session_id_test.go.
TEST_CASE("session-affinity-scorer accepts upstream's valid parameters and refuses the invalid ones") {
    pt::PluginLibrary lib(paths::plugin_session_affinity_scorer);
    for (const char *ok :
         {"{}", R"({"strategy": "encoded_endpoint_header"})", R"({"strategy": "session_id"})",
          R"({"strategy": "session_id", "sessionIdConfig": {"sources": [{"header": "x-session-id"}]}})",
          R"({"strategy": "session_id", "sessionIdConfig": {"sources": []}})",
          R"({"strategy": "session_id", "sessionIdConfig": {"evictionTtlSeconds": 0}})"}) {
        CAPTURE(ok);
        CHECK(lib.create("ok", ok).ok());
    }
    check_rejected(lib, R"({"strategy": "bogus"})",
                   "parameter 'strategy': expected \"encoded_endpoint_header\" or \"session_id\", found \"bogus\"");
    check_rejected(lib,
                   R"({"strategy": "session_id", "sessionIdConfig": {"sources": [{"header": "h", "attribute": "a"}]}})",
                   "parameter 'sessionIdConfig.sources[0]': set exactly one of header and attribute");
    check_rejected(lib, R"({"strategy": "session_id", "sessionIdConfig": {"sources": [{}]}})",
                   "parameter 'sessionIdConfig.sources[0]': set exactly one of header and attribute");
    check_rejected(lib, R"({"strategy": "session_id", "sessionIdConfig": {"evictionTtlSeconds": -1}})",
                   "parameter 'sessionIdConfig.evictionTtlSeconds': expected a number of seconds > 0, found -1");
    check_rejected(lib, R"({"strategy": "session_id", "sessionIdConfig": {"evictionSweepSeconds": -1}})",
                   "parameter 'sessionIdConfig.evictionSweepSeconds': expected a number of seconds > 0, found -1");
    const auto attribute = lib.create("bad", R"({"strategy": "session_id",
        "sessionIdConfig": {"sources": [{"header": "x-session-id"}, {"attribute": "agent-identity"}]}})");
    CHECK(attribute.status == PLUGHOST_INVALID_ARGUMENT);
    CHECK(contains(attribute.message, "sessionIdConfig.sources[1]': attribute sources are not supported by plughost"));
    check_rejected(lib, R"({"encodedEndpointHeaderConfig": {"header": "x_bad"}})",
                   "parameter 'encodedEndpointHeaderConfig.header': \"x_bad\" is not a header name the host can set "
                   "(1-64 characters of [A-Za-z0-9-])");
    check_rejected(lib, R"({"encodedEndpointHeaderConfig": {"name": "x"}})",
                   "parameter 'encodedEndpointHeaderConfig': unknown field 'name'; known fields: header");
}

namespace {

// Runs `stream` through plughost run with session-affinity-scorer (alpha: policy and gate set)
// at weight 10, queue-scorer and a seeded max-score-picker; the endpoint each request went to.
std::vector<std::string> run_with_sessions(const std::string &session_parameters, const std::string &stream) {
    TempDir dir, plugins;
    for (const auto &path :
         {paths::plugin_session_affinity_scorer, paths::plugin_queue_scorer, paths::plugin_max_score_picker})
        copy_to(path, plugins / std::filesystem::path(path).filename().string());
    write_file(dir / "config.json",
               R"({"policy": {"minStability": "alpha"}, "featureGates": {"SessionAffinityScorer": true},
        "plugins": [{"type": "session-affinity-scorer", "parameters": )" +
                   session_parameters + R"(}, {"type": "queue-scorer"},
            {"type": "max-score-picker", "parameters": {"seed": 5}}],
        "schedulingProfiles": [{"name": "default", "plugins": [{"pluginRef": "session-affinity-scorer", "weight": 10},
            {"pluginRef": "queue-scorer"}, {"pluginRef": "max-score-picker"}]}]})");
    const auto r = run_plughost(
        {"run", "--config", (dir / "config.json").string(), "--plugin-dir", plugins.path().string()}, stream);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    std::vector<std::string> out;
    for (const auto &line : lines(r.out)) out.emplace_back(parse_json(line).at("picked").at(0).as_string());
    return out;
}

const std::string kThreeEndpoints = R"({"endpoint": {"name": "a", "metrics": {"waitingQueueSize": 0}}}
{"endpoint": {"name": "b", "metrics": {"waitingQueueSize": 0}}}
{"endpoint": {"name": "c", "metrics": {"waitingQueueSize": 0}}}
)";

std::string request_with(const std::string &id, const std::string &header, const std::string &value) {
    return R"({"request": {"id": ")" + id + R"(", "headers": {")" + header + R"(": ")" + value + "\"}}}\n";
}

}  // namespace

TEST_CASE("plughost run keeps a session on its endpoint through the real hooks (session_id)") {
    std::string stream = kThreeEndpoints;
    for (int i = 0; i < 9; ++i) stream += request_with("s" + std::to_string(i), "x-session-id", "s1");
    for (int i = 0; i < 6; ++i)
        stream += request_with("t" + std::to_string(i), "x-session-id", "other-" + std::to_string(i));
    const auto picked = run_with_sessions(R"({"strategy": "session_id"})", stream);
    REQUIRE(picked.size() == 15);
    // pre_request bound s1 to its first endpoint; the pending picks there never outweigh 10.
    for (int i = 1; i < 9; ++i) CHECK(picked[static_cast<std::size_t>(i)] == picked[0]);
    // Fresh sessions have no preference: the queue scorer spreads them over the other two.
    for (int i = 9; i < 15; ++i) CHECK(picked[static_cast<std::size_t>(i)] != picked[0]);
}

TEST_CASE("plughost run sends a request carrying an endpoint token to that endpoint (encoded_endpoint_header)") {
    std::string stream = kThreeEndpoints;
    for (int i = 0; i < 4; ++i) stream += request_with("r" + std::to_string(i), "x-session-token", "Yg==");  // "b"
    stream += request_with("garbage", "x-session-token", "not base64!");
    const auto picked = run_with_sessions("{}", stream);
    CHECK(picked == std::vector<std::string>{"b", "b", "b", "b", picked[4]});
    CHECK(picked[4] != "b");  // no preference, and b has 4 pending picks
}

TEST_CASE("plughost run accepts the client header the scorer sets when a response starts") {
    TempDir dir, plugins;
    for (const auto &path : {paths::plugin_session_affinity_scorer, paths::plugin_max_score_picker})
        copy_to(path, plugins / std::filesystem::path(path).filename().string());
    write_file(dir / "config.json",
               R"({"policy": {"minStability": "alpha"}, "featureGates": {"SessionAffinityScorer": true},
        "plugins": [{"type": "session-affinity-scorer"}, {"type": "max-score-picker"}]})");
    const std::string stream = R"({"endpoint": {"name": "a"}}
{"request": {"id": "r0"}}
{"response": {"id": "r0", "event": "started"}}
{"response": {"id": "r0", "event": "complete", "status": 200}}
)";
    const auto r = run_plughost(
        {"run", "--config", (dir / "config.json").string(), "--plugin-dir", plugins.path().string()}, stream);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(contains(r.err, "responses: started 1, complete 1"));
    CHECK(!contains(r.err, "refused the session header"));  // the plugin warns when set_header fails
    CHECK(contains(r.err, "faults     0"));
}
