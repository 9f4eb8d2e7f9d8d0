// The label filters: decode-filter, prefill-filter, encode-filter (the llm-d.ai/role label),
// by-label and label-selector-filter. The tables are upstream llm-d-router's unit-test cases,
// each citing its file under pkg/epp/framework/plugins/scheduling/filter/bylabel/.
#include "plugin_test_helpers.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;
using Names = std::vector<std::string>;

// The names of the endpoints the filter kept, in order; the call must succeed.
Names kept(pt::PluginInstance &filter, const pt::EndpointSet &endpoints,
           const pt::RequestData &request = pt::RequestData()) {
    const auto passed = filter.filter(request, endpoints);
    REQUIRE_MESSAGE(passed.ok(), passed.message);
    Names names;
    for (std::size_t i : passed.value) names.emplace_back(endpoints.name(i));
    return names;
}

Names sorted(Names n) {
    std::sort(n.begin(), n.end());
    return n;
}

// The fixture of upstream's filter_test.go and selector_test.go (namespaces dropped: plughost
// endpoint names are unique without them); no-tier-pod is filter_test.go's only.
pt::EndpointSet label_fixture(bool with_no_tier) {
    std::vector<pt::EndpointSpec> specs{
        {.name = "nginx-1",
         .address = "10.0.0.1:8000",
         .labels = {{"app", "nginx"}, {"version", "v1.0"}, {"tier", "frontend"}}},
        {.name = "nginx-2", .labels = {{"app", "nginx"}, {"version", "v1.1"}, {"tier", "frontend"}}},
        {.name = "coredns-1", .labels = {{"app", "coredns"}, {"tier", "system"}}},
        {.name = "redis-1", .labels = {{"app", "redis"}, {"tier", "backend"}, {"deprecated", "true"}}},
        {.name = "web-1", .labels = {{"app", "web"}, {"tier", "frontend"}, {"environment", "production"}}},
    };
    if (with_no_tier) specs.push_back({.name = "no-tier-pod", .labels = {{"app", "unknown"}}});
    return pt::EndpointSet(specs);
}

pt::EndpointSpec role(std::string name, std::string value) {
    return {.name = std::move(name), .labels = {{"llm-d.ai/role", std::move(value)}}};
}

}  // namespace

TEST_CASE("role filters declare beta filters with no parameters") {
    for (const auto &[path, type, gate] : {std::tuple{paths::plugin_decode_filter, "decode-filter", "DecodeFilter"},
                                           std::tuple{paths::plugin_prefill_filter, "prefill-filter", "PrefillFilter"},
                                           std::tuple{paths::plugin_encode_filter, "encode-filter", "EncodeFilter"}}) {
        pt::PluginLibrary lib(path);
        const auto m = host_manifest(lib);
        CHECK(m.type == type);
        CHECK(m.role == host::Role::filter);
        CHECK(m.stability == host::Stability::beta);
        CHECK(m.feature_gate == gate);
        CHECK(m.thread_safe);
        CHECK(m.parameters.empty());
        check_rejected(lib, R"({"label": "x"})", "unknown parameter 'label'; this plugin takes no parameters");
    }
}

// Upstream roles_test.go (TestDecodeRoleFilter): decode roles pass, and so do endpoints without
// the role label (decode is what an unlabelled pool does).
TEST_CASE("decode-filter keeps decode-capable roles and unlabelled endpoints (upstream roles_test.go)") {
    pt::PluginLibrary lib(paths::plugin_decode_filter);
    auto filter = make(lib);
    pt::EndpointSet endpoints{role("decode-pod", "decode"),
                              role("prefill-pod", "prefill"),
                              role("pd-pod", "prefill-decode"),
                              role("both-pod", "both"),
                              role("epd-pod", "encode-prefill-decode"),
                              role("encode-pod", "encode"),
                              role("ep-pod", "encode-prefill"),
                              {.name = "no-label-pod", .labels = {{"app", "vllm"}}},
                              {.name = "empty-labels-pod"}};
    CHECK(kept(*filter, endpoints) ==
          Names{"decode-pod", "pd-pod", "both-pod", "epd-pod", "no-label-pod", "empty-labels-pod"});
}

TEST_CASE("prefill-filter keeps prefill-capable roles and drops unlabelled endpoints (upstream roles_test.go)") {
    pt::PluginLibrary lib(paths::plugin_prefill_filter);
    auto filter = make(lib);
    pt::EndpointSet endpoints{role("decode-pod", "decode"),
                              role("prefill-pod", "prefill"),
                              role("pd-pod", "prefill-decode"),
                              role("both-pod", "both"),
                              role("epd-pod", "encode-prefill-decode"),
                              role("encode-pod", "encode"),
                              role("ep-pod", "encode-prefill"),
                              {.name = "no-label-pod", .labels = {{"app", "vllm"}}}};
    CHECK(kept(*filter, endpoints) == Names{"prefill-pod", "pd-pod", "both-pod", "epd-pod", "ep-pod"});
}

TEST_CASE("encode-filter keeps encode-capable roles and drops unlabelled endpoints (upstream roles_test.go)") {
    pt::PluginLibrary lib(paths::plugin_encode_filter);
    auto filter = make(lib);
    pt::EndpointSet endpoints{role("decode-pod", "decode"),
                              role("prefill-pod", "prefill"),
                              role("encode-pod", "encode"),
                              role("ep-pod", "encode-prefill"),
                              role("epd-pod", "encode-prefill-decode"),
                              {.name = "no-label-pod", .labels = {{"app", "vllm"}}}};
    CHECK(kept(*filter, endpoints) == Names{"encode-pod", "ep-pod", "epd-pod"});
}

TEST_CASE("role filters compare the role value exactly and pass nothing from nothing") {
    pt::PluginLibrary decode_lib(paths::plugin_decode_filter);
    auto decode = make(decode_lib);
    // A label that is there but empty or differently spelled is not a decode role, and is not
    // "without the label" either.
    pt::EndpointSet odd{role("empty", ""), role("upper", "Decode"), role("spaced", " decode")};
    CHECK(kept(*decode, odd).empty());
    pt::EndpointSet none{};
    CHECK(kept(*decode, none).empty());
}

TEST_CASE("by-label declares a deprecated beta filter with upstream's parameters") {
    pt::PluginLibrary lib(paths::plugin_by_label);
    const auto m = host_manifest(lib);
    CHECK(m.type == "by-label");
    CHECK(m.role == host::Role::filter);
    CHECK(m.stability == host::Stability::beta);
    CHECK(m.deprecation.has_value());
    REQUIRE(m.parameters.size() == 3);
    CHECK(default_of(m, "label") == "");
    CHECK(default_of(m, "validValues") == "[]");
    CHECK(default_of(m, "allowsNoLabel") == "false");
}

// Upstream filter_test.go (TestByLabelFactory).
TEST_CASE("by-label accepts upstream's valid parameters and refuses the invalid ones (upstream filter_test.go)") {
    pt::PluginLibrary lib(paths::plugin_by_label);
    make(lib, R"({"label": "llm-d.ai/role", "allowsNoLabel": false, "validValues": ["prefill"]})");
    make(lib, R"({"label": "llm-d.ai/role", "allowsNoLabel": true, "validValues": []})");
    make(lib, R"({"label": "llm-d.ai/role", "allowsNoLabel": true, "validValues": ["decode", "both"]})");
    check_rejected(lib, R"({"label": "", "allowsNoLabel": true})", "parameter 'label' must not be empty");
    check_rejected(lib, R"({"allowsNoLabel": true, "validValues": ["a"]})", "parameter 'label' is required");
    check_rejected(lib, R"({"label": "role", "allowsNoLabel": false, "validValues": []})",
                   "either 'validValues' must be non-empty or 'allowsNoLabel' must be true");
    check_rejected(lib, R"({"label": "role", "allowsNoLabel": false})",
                   "either 'validValues' must be non-empty or 'allowsNoLabel' must be true");
    CHECK(lib.create("bad", R"({"label": "role", )").status == PLUGHOST_INVALID_ARGUMENT);  // malformed JSON
    CHECK(lib.create("bad", R"({"label": "role", "validValues": "prefill"})").status == PLUGHOST_INVALID_ARGUMENT);
    CHECK(lib.create("bad", R"({"label": "role", "allowsNoLabel": "true", "validValues": ["a"]})").status ==
          PLUGHOST_INVALID_ARGUMENT);
    check_rejected(lib, R"({"label": "role", "validValues": [1]})",
                   "parameter 'validValues': expected an array of strings, found 1");
}

// Upstream filter_test.go (TestByLabelFiltering), compared as sets as upstream does.
TEST_CASE("by-label keeps the endpoints whose label has a valid value (upstream filter_test.go)") {
    pt::PluginLibrary lib(paths::plugin_by_label);
    const auto endpoints = label_fixture(true);
    CHECK(sorted(kept(*make(lib, R"({"label": "app", "validValues": ["nginx"]})"), endpoints)) ==
          Names{"nginx-1", "nginx-2"});
    CHECK(kept(*make(lib, R"({"label": "version", "validValues": ["v1.0"]})"), endpoints) == Names{"nginx-1"});
    CHECK(kept(*make(lib, R"({"label": "tier", "allowsNoLabel": true})"), endpoints) == Names{"no-tier-pod"});
    CHECK(sorted(kept(*make(lib, R"({"label": "tier", "validValues": ["frontend", "backend", "system"]})"),
                      endpoints)) == sorted({"nginx-1", "nginx-2", "coredns-1", "redis-1", "web-1"}));
}

TEST_CASE("by-label reads an absent label as the empty value, as upstream") {
    pt::PluginLibrary lib(paths::plugin_by_label);
    pt::EndpointSet endpoints{
        {.name = "bare"}, {.name = "empty", .labels = {{"tier", ""}}}, {.name = "set", .labels = {{"tier", "x"}}}};
    CHECK(kept(*make(lib, R"({"label": "tier", "validValues": [""]})"), endpoints) == Names{"bare", "empty"});
}

TEST_CASE("label-selector-filter declares a beta filter with matchLabels and matchExpressions") {
    pt::PluginLibrary lib(paths::plugin_label_selector_filter);
    const auto m = host_manifest(lib);
    CHECK(m.type == "label-selector-filter");
    CHECK(m.stability == host::Stability::beta);
    CHECK(!m.deprecation);
    CHECK(default_of(m, "matchLabels") == "{}");
    CHECK(default_of(m, "matchExpressions") == "[]");
}

// Upstream selector_test.go (TestSelectorFactory).
TEST_CASE(
    "label-selector-filter accepts upstream's selectors and refuses the invalid ones (upstream selector_test.go)") {
    pt::PluginLibrary lib(paths::plugin_label_selector_filter);
    make(lib, R"({"matchLabels": {"app": "nginx", "version": "v1.0"}})");
    make(lib, R"({"matchLabels": {"app": "nginx"}, "matchExpressions": [
        {"key": "tier", "operator": "In", "values": ["frontend", "backend"]},
        {"key": "deprecated", "operator": "DoesNotExist"}]})");
    make(lib, "{}");
    make(lib, R"({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["system"]}]})");
    make(lib, R"({"matchExpressions": [{"key": "app", "operator": "Exists"}]})");
    CHECK(lib.create("bad", R"({"matchLabels": {"app": "nginx")").status == PLUGHOST_INVALID_ARGUMENT);
    check_rejected(lib, R"({"matchExpressions": [{"key": "app", "operator": "InvalidOperator", "values": ["x"]}]})",
                   "parameter 'matchExpressions' [0]: \"InvalidOperator\" is not a valid label selector operator; "
                   "use In, NotIn, Exists or DoesNotExist");
    // As Kubernetes validates a selector: In/NotIn need values, Exists/DoesNotExist take none.
    check_rejected(lib, R"({"matchExpressions": [{"key": "app", "operator": "In", "values": []}]})",
                   "parameter 'matchExpressions' [0]: operator In needs at least one value");
    check_rejected(lib, R"({"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["x"]}]})",
                   "parameter 'matchExpressions' [0]: operator Exists takes no values");
    check_rejected(lib, R"({"matchLabels": {"app": 1}})",
                   "parameter 'matchLabels': the value of \"app\" must be a string, found 1");
    check_rejected(lib, R"({"matchExpressions": [{"key": "app", "operator": "Exists", "value": []}]})",
                   "parameter 'matchExpressions' [0]: unknown field \"value\"; known fields: key, operator, values");
}

// Upstream selector_test.go (TestSelectorFiltering), compared as sets.
TEST_CASE("label-selector-filter applies Kubernetes selector semantics (upstream selector_test.go)") {
    pt::PluginLibrary lib(paths::plugin_label_selector_filter);
    const auto endpoints = label_fixture(false);
    const auto run = [&](const std::string &params) { return sorted(kept(*make(lib, params), endpoints)); };
    CHECK(run(R"({"matchLabels": {"app": "nginx"}})") == Names{"nginx-1", "nginx-2"});
    CHECK(run(R"({"matchLabels": {"app": "nginx", "version": "v1.0"}})") == Names{"nginx-1"});
    CHECK(run(R"({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend", "backend"]}]})") ==
          sorted({"nginx-1", "nginx-2", "redis-1", "web-1"}));
    CHECK(run(R"({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["system"]}]})") ==
          sorted({"nginx-1", "nginx-2", "redis-1", "web-1"}));
    CHECK(run(R"({"matchExpressions": [{"key": "deprecated", "operator": "Exists"}]})") == Names{"redis-1"});
    CHECK(run(R"({"matchExpressions": [{"key": "deprecated", "operator": "DoesNotExist"}]})") ==
          sorted({"nginx-1", "nginx-2", "coredns-1", "web-1"}));
    CHECK(
        run(R"({"matchLabels": {"tier": "frontend"}, "matchExpressions": [{"key": "environment", "operator": "Exists"}]})") ==
        Names{"web-1"});
    CHECK(run("{}") == sorted({"nginx-1", "nginx-2", "coredns-1", "redis-1", "web-1"}));
    CHECK(run(R"({"matchLabels": {"app": "nonexistent"}})").empty());
}

// Upstream selector_test.go (edge cases, the role selector and the LeaderWorkerSet example).
TEST_CASE(
    "label-selector-filter edge cases: no endpoints, no labels, roles, worker index (upstream selector_test.go)") {
    pt::PluginLibrary lib(paths::plugin_label_selector_filter);
    auto app_test = make(lib, R"({"matchLabels": {"app": "test"}})");
    pt::EndpointSet none{};
    CHECK(kept(*app_test, none).empty());
    pt::EndpointSet unlabelled{{.name = "nil-labels"}, {.name = "empty-labels"}};
    CHECK(kept(*app_test, unlabelled).empty());

    // No allowsNoLabel escape: an endpoint without the role does not match In.
    auto roles = make(
        lib,
        R"({"matchExpressions": [{"key": "llm-d.ai/role", "operator": "In", "values": ["decode", "prefill-decode"]}]})");
    pt::EndpointSet pods{role("decode-0", "decode"), role("encode-0", "encode"), {.name = "mystery-0"}};
    CHECK(kept(*roles, pods) == Names{"decode-0"});

    pt::EndpointSet leader{{.name = "leader", .labels = {{"leaderworkerset.sigs.k8s.io/worker-index", "0"}}}};
    CHECK(kept(*make(lib, R"({"matchLabels": {"leaderworkerset.sigs.k8s.io/worker-index": "0"}})"), leader) ==
          Names{"leader"});
    CHECK(
        kept(
            *make(
                lib,
                R"({"matchExpressions": [{"key": "leaderworkerset.sigs.k8s.io/worker-index", "operator": "NotIn", "values": ["0"]}]})"),
            leader)
            .empty());
    CHECK(
        kept(
            *make(
                lib,
                R"({"matchExpressions": [{"key": "leaderworkerset.sigs.k8s.io/worker-index", "operator": "DoesNotExist"}]})"),
            leader)
            .empty());
}
