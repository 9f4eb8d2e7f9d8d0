// Configs as upstream writes them: its plugin types (in-tree plugin, built in, not provided),
// deciders folded into their handler, saturation detectors, and its config sections. The
// configs here are written for these tests in upstream's format, as short as they can be.
#include "common/json_document.hpp"
#include "deployment.hpp"
#include "plan/config.hpp"
#include "plan/upstream.hpp"
#include "test_support.hpp"

#include <boost/json/parse.hpp>
#include <doctest/doctest.h>
#include <plughost/testing.hpp>

#include <algorithm>
#include <cmath>
#include <set>

using namespace plughost::host;
using namespace plughost::test;

namespace {

struct Read {
    Config config;
    std::vector<Issue> errors;

    const Issue *error(const std::string &path) const {
        for (const auto &i : errors)
            if (i.path == path) return &i;
        return nullptr;
    }
    const Issue *warning(const std::string &path) const {
        for (const auto &i : config.warnings)
            if (i.path == path) return &i;
        return nullptr;
    }
    std::size_t count(Code code) const {
        return static_cast<std::size_t>(
            std::count_if(errors.begin(), errors.end(), [&](const Issue &i) { return i.code == code; }));
    }
    const PluginConfig *plugin(const std::string &name) const {
        for (const auto &p : config.plugins)
            if (p.name == name) return &p;
        return nullptr;
    }
    const BuiltInConfig *built_in(const std::string &name) const {
        for (const auto &b : config.built_ins)
            if (b.name == name) return &b;
        return nullptr;
    }
    std::vector<std::string> refs(std::size_t profile = 0) const {
        std::vector<std::string> out;
        for (const auto &r : config.profiles.at(profile).plugins) out.push_back(r.plugin_ref);
        return out;
    }
    std::string all() const { return "errors:\n" + dump(errors) + "warnings:\n" + dump(config.warnings); }
};

Read read(const std::string &yaml) {
    const auto doc = parse_json_document(yaml, "c.yaml");
    REQUIRE_MESSAGE(!doc.problem, doc.problem->message);
    Read r;
    r.config = read_config(doc.value, "c.yaml", r.errors);
    return r;
}

const std::string kHeader = "apiVersion: llm-d.ai/v1alpha1\nkind: EndpointPickerConfig\n";

std::string docs_row(const UpstreamType &t) {
    const std::string what = t.status == UpstreamStatus::not_provided
                                 ? "not provided: " + std::string(t.what) + ". Instead: " + std::string(t.instead)
                                 : std::string(t.what);
    return "| `" + std::string(t.type) + "` | " + std::string(to_string(t.status)) + " | " +
           std::string(to_string(t.kind)) + " | " + what + " |";
}

}  // namespace

TEST_CASE("the table holds every upstream type once, with the status the project decided") {
    const auto types = upstream_types();
    CHECK(types.size() == 97);
    std::set<std::string_view> seen;
    for (const auto &t : types) {
        CAPTURE(t.type);
        CHECK(seen.insert(t.type).second);
        CHECK(is_plugin_type_name(t.type));
        CHECK(!t.what.empty());
        CHECK((t.status == UpstreamStatus::not_provided) == !t.instead.empty());
        CHECK(t.what.find('|') == std::string_view::npos);  // the docs table stays a table
        CHECK(find_upstream_type(t.type) == &t);
    }
    const auto status_of = [](std::string_view type) { return find_upstream_type(type)->status; };
    for (auto type : {"queue-scorer",           "kv-cache-utilization-scorer",
                      "prefix-cache-scorer",    "approx-prefix-cache-producer",
                      "lora-affinity-scorer",   "max-score-picker",
                      "random-picker",          "weighted-random-picker",
                      "single-profile-handler", "disagg-profile-handler",
                      "header-profile-handler", "decode-filter",
                      "prefill-filter",         "encode-filter",
                      "label-selector-filter",  "by-label",
                      "by-label-selector",      "session-affinity-scorer",
                      "active-request-scorer",  "no-hit-lru-scorer",
                      "load-aware-scorer",      "running-requests-size-scorer",
                      "utilization-filter"})
        CHECK_MESSAGE(status_of(type) == UpstreamStatus::plugin, type);
    for (auto type :
         {"metrics-data-source", "core-metrics-extractor", "openai-parser", "vllmhttp-parser", "passthrough-parser",
          "token-producer", "tokenizer", "inflight-load-producer", "utilization-detector", "concurrency-detector",
          "endpoint-notification-source", "prefix-based-pd-decider", "always-disagg-pd-decider"})
        CHECK_MESSAGE(status_of(type) == UpstreamStatus::built_in, type);
    std::size_t not_provided = 0;
    for (const auto &t : types) not_provided += t.status == UpstreamStatus::not_provided ? 1 : 0;
    CHECK(not_provided == 97 - 23 - 13);
    CHECK(!find_upstream_type("no-such-type"));
}

TEST_CASE("docs/upstream.md shows every row of the table") {
    const std::string docs = read_file(paths::source_dir + "/docs/upstream.md");
    for (const auto &t : upstream_types()) {
        const std::string row = docs_row(t);
        CHECK_MESSAGE(contains(docs, row), "missing or different in docs/upstream.md:\n" << row);
    }
}

TEST_CASE("a type of each status: kept for the planner, built in, or one upstream-feature error") {
    const Read r = read(kHeader + R"(plugins:
- type: queue-scorer
- type: metrics-data-source
  parameters: {scheme: https, path: /metrics}
- type: openai-parser
- type: precise-prefix-cache-producer
  parameters: {tokenProcessorConfig: {blockSize: 64}}
- type: my-own-scorer
- type: max-score-picker
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: queue-scorer
  - pluginRef: openai-parser
  - pluginRef: precise-prefix-cache-producer
    weight: 3
  - pluginRef: my-own-scorer
  - pluginRef: max-score-picker
)");
    // Exactly one error: the type plughost does not provide, at its type, saying why and what
    // to do; nothing about the reference to it, nor a did-you-mean.
    REQUIRE_MESSAGE(r.errors.size() == 1, r.all());
    const Issue &e = r.errors[0];
    CHECK(e.path == "/plugins/3/type");
    CHECK(e.code == Code::upstream_feature);
    CHECK(contains(e.message, "plugin type \"precise-prefix-cache-producer\" is an upstream feature plughost does "
                              "not provide: it needs the model servers' KV-cache event stream"));
    CHECK(!contains(e.message, "did you mean"));
    CHECK(contains(e.hint, "approx-prefix-cache-producer"));
    CHECK(e.line == 8);
    // In-tree plugin types, and types upstream does not know, stay for the planner.
    CHECK(r.plugin("queue-scorer"));
    CHECK(r.plugin("my-own-scorer"));
    CHECK(r.plugin("max-score-picker"));
    CHECK(r.config.plugins.size() == 3);
    // Built-in entries leave the plugins, recorded with what the host does instead.
    REQUIRE(r.built_in("metrics-data-source"));
    CHECK(r.built_in("metrics-data-source")->path == "/plugins/1");
    CHECK(contains(r.built_in("metrics-data-source")->what, "built in"));
    CHECK(r.built_in("openai-parser"));
    CHECK(!r.built_in("precise-prefix-cache-producer"));
    // References to entries that left are dropped: the parser is no stage, the producer refused.
    CHECK(r.refs() == std::vector<std::string>{"queue-scorer", "my-own-scorer", "max-score-picker"});
}

TEST_CASE("built-in entries: their upstream parameters are checked by name, their names stay taken") {
    const Read r = read(kHeader + R"(plugins:
- type: core-metrics-extractor
  parameters: {defaultEngin: sglang}
- type: endpoint-notification-source
  parameters: {x: 1}
- type: queue-scorer
  name: core-metrics-extractor
- type: openai-parser
  name: parser
- type: passthrough-parser
  name: parser
)");
    const Issue *typo = r.error("/plugins/0/parameters/defaultEngin");
    REQUIRE_MESSAGE(typo, r.all());
    CHECK(typo->code == Code::unknown_parameter);
    CHECK(contains(typo->message, "did you mean \"defaultEngine\""));
    CHECK(r.error("/plugins/1/parameters/x")->hint == "it takes no parameters");
    CHECK(r.error("/plugins/2/name")->code == Code::duplicate_name);  // a kept entry named like a built-in one
    CHECK(r.error("/plugins/4/name")->code == Code::duplicate_name);  // two built-in entries
    CHECK(r.count(Code::duplicate_name) == 2);
}

TEST_CASE("token-producer: built in without a backend, one upstream-feature error with one") {
    const Read estimate = read(kHeader + "plugins:\n- type: token-producer\n- type: tokenizer\n  name: old\n");
    CHECK_MESSAGE(estimate.errors.empty(), estimate.all());
    CHECK(estimate.built_in("token-producer"));
    CHECK(estimate.built_in("old"));
    const Read vllm = read(kHeader + R"(plugins:
- type: token-producer
  parameters:
    modelName: some/model
    vllm: {url: "http://localhost:8000"}
)");
    REQUIRE_MESSAGE(vllm.errors.size() == 1, vllm.all());
    CHECK(vllm.errors[0].path == "/plugins/0/parameters/vllm");
    CHECK(vllm.errors[0].code == Code::upstream_feature);
    CHECK(contains(vllm.errors[0].message, "tokenizer service"));
    CHECK(!vllm.built_in("token-producer"));
}

TEST_CASE("deciders are folded into the disagg-profile-handler that names them, in both forms") {
    const Read r = read(kHeader + R"(plugins:
- type: prefix-based-pd-decider
  parameters: {nonCachedTokens: 16}
- type: always-disagg-pd-decider
  name: always
- type: disagg-profile-handler
  parameters:
    deciders: {prefill: prefix-based-pd-decider}
- type: disagg-profile-handler
  name: flat
  parameters: {prefillDeciderPluginName: always, decodeProfile: decode}
- type: always-disagg-pd-decider
  name: unused
schedulingProfiles:
- name: decode
  plugins: [{pluginRef: always}]
)");
    CHECK_MESSAGE(r.errors.empty(), r.all());
    const PluginConfig *nested = r.plugin("disagg-profile-handler");
    REQUIRE(nested);
    CHECK(nested->parameters.at("deciders").at("prefill") ==
          boost::json::parse(R"({"type": "prefix-based-pd-decider", "parameters": {"nonCachedTokens": 16}})"));
    const PluginConfig *flat = r.plugin("flat");
    REQUIRE(flat);
    CHECK(flat->parameters.at("prefillDeciderPluginName") ==
          boost::json::parse(R"({"type": "always-disagg-pd-decider", "parameters": {}})"));
    CHECK(flat->parameters.at("decodeProfile") == "decode");
    CHECK(!r.plugin("always"));
    CHECK(contains(r.built_in("prefix-based-pd-decider")->what, "\"disagg-profile-handler\" (deciders.prefill)"));
    CHECK(contains(r.built_in("always")->what, "\"flat\" (prefillDeciderPluginName)"));
    // A decider is no profile stage: its reference goes (the planner then defaults the picker).
    CHECK(r.refs().empty());
    // A decider named by nobody is never used: a warning.
    REQUIRE(r.warning("/plugins/4"));
    CHECK(r.warning("/plugins/4")->code == Code::unused_plugin);
    CHECK(r.config.warnings.size() == 1);
}

TEST_CASE("decider references that cannot be folded are errors at the handler's parameter") {
    const Read r = read(kHeader + R"(plugins:
- type: queue-scorer
- type: prefix-based-pd-decider
  parameters: {nonCachedTokens: -1, promptTokens: "8"}
- type: always-disagg-multimodal-decider
- type: disagg-profile-handler
  parameters:
    deciders: {prefill: prefix-based-pd-decidr, encode: always-disagg-multimodal-decider}
- type: disagg-profile-handler
  name: second
  parameters:
    deciders: {prefill: queue-scorer}
- type: pd-profile-handler
  parameters: {deciderPluginName: prefix-based-pd-decider}
)");
    const Issue *undefined = r.error("/plugins/3/parameters/deciders/prefill");
    REQUIRE_MESSAGE(undefined, r.all());
    CHECK(undefined->code == Code::undefined_plugin_ref);
    CHECK(contains(undefined->message, "did you mean \"prefix-based-pd-decider\""));
    CHECK(r.error("/plugins/4/parameters/deciders/prefill")->code == Code::invalid_value);
    CHECK(contains(r.error("/plugins/4/parameters/deciders/prefill")->message, "not a decider"));
    // The multimodal decider and the deprecated pd-profile-handler: one error each, at their type.
    CHECK(r.error("/plugins/2/type")->code == Code::upstream_feature);
    CHECK(r.error("/plugins/5/type")->code == Code::upstream_feature);
    CHECK(!r.error("/plugins/3/parameters/deciders/encode"));
    CHECK(r.error("/plugins/1/parameters/nonCachedTokens")->code == Code::parameter_type);
    CHECK(r.error("/plugins/1/parameters/promptTokens")->code == Code::parameter_type);
    CHECK_MESSAGE(r.errors.size() == 6, r.all());
    CHECK(!r.warning("/plugins/1"));  // named by the pd-profile-handler: not unused
}

TEST_CASE("saturation detectors: built in as detectors, utilization-filter as profile filters") {
    const Read r = read(kHeader + R"(plugins:
- type: utilization-detector
  parameters: {queueDepthThreshold: 5, kvCacheUtilThreshold: 0.8, headroom: 0.1, metricsStalenessThreshold: 200ms}
- type: concurrency-detector
  parameters: {maxConcurrency: 10, headroom: 0.25}
- type: utilization-detector
  name: unused-detector
- type: max-score-picker
schedulingProfiles:
- name: default
  plugins: [{pluginRef: utilization-detector}, {pluginRef: concurrency-detector}, {pluginRef: max-score-picker}]
flowControl:
  saturationDetector: {pluginRef: unused-detector}
)");
    CHECK_MESSAGE(r.errors.empty(), r.all());
    const PluginConfig *u = r.plugin("utilization-detector");
    REQUIRE(u);
    CHECK(u->type == "utilization-filter");
    // queue < 5 * 1.1 keeps queues up to 5; KV-cache use < 0.88 keeps up to the double below 0.88.
    CHECK(u->parameters.at("conditions").at(0) == boost::json::parse(R"({"metric": "waiting-queue", "maxValue": 5})"));
    CHECK(u->parameters.at("conditions").at(1).at("metric") == "kv-cache-utilization");
    CHECK(u->parameters.at("conditions").at(1).at("maxValue").as_double() == std::nextafter(0.8 * 1.1, 0.0));
    CHECK(u->parameters.at("fallbackOnEmpty") == true);
    const PluginConfig *c = r.plugin("concurrency-detector");
    REQUIRE(c);
    CHECK(c->type == "utilization-filter");
    // requests < int(10 * 1.25) = 12 keeps up to 11, and no fallback.
    CHECK(c->parameters == boost::json::parse(R"({"conditions": [{"metric": "active-requests", "maxValue": 11}],
                                                  "fallbackOnEmpty": false})"));
    CHECK(contains(r.built_in("utilization-detector")->what, "planned as utilization-filter"));
    CHECK(!r.plugin("unused-detector"));
    CHECK(contains(r.built_in("unused-detector")->what, "nothing to detect"));
    CHECK(r.refs() == std::vector<std::string>{"utilization-detector", "concurrency-detector", "max-score-picker"});

    // Without profiles, upstream's default profile holds every filter: the detector too.
    const Read no_profiles = read(kHeader + "plugins:\n- type: utilization-detector\n");
    CHECK(no_profiles.plugin("utilization-detector")->type == "utilization-filter");

    const Read bad = read(kHeader + R"(plugins:
- type: concurrency-detector
  parameters: {concurrencyMode: tokens}
- type: utilization-detector
  parameters: {queueDepthThreshold: 0, kvCacheUtilThreshold: 1.5, headroom: -1, staleness: 1}
)");
    CHECK(bad.error("/plugins/0/parameters/concurrencyMode")->code == Code::upstream_feature);
    CHECK(!bad.plugin("concurrency-detector"));
    for (const char *p : {"/plugins/1/parameters/queueDepthThreshold", "/plugins/1/parameters/kvCacheUtilThreshold",
                          "/plugins/1/parameters/headroom"})
        CHECK_MESSAGE(bad.error(p)->code == Code::invalid_value, p);
    CHECK(bad.error("/plugins/1/parameters/staleness")->code == Code::unknown_parameter);
    CHECK_MESSAGE(bad.errors.size() == 5, bad.all());
}

TEST_CASE("dataLayer: built-in sources honoured, everything else one error with its own reason") {
    const Read ok = read(kHeader + R"(plugins:
- type: metrics-data-source
- type: core-metrics-extractor
- type: endpoint-notification-source
- type: inflight-load-producer
dataLayer:
  injectDefaults: true
  sources:
  - pluginRef: metrics-data-source
    extractors: [{pluginRef: core-metrics-extractor}]
  - pluginRef: endpoint-notification-source
    extractors: [{pluginRef: inflight-load-producer}]
)");
    CHECK_MESSAGE(ok.errors.empty(), ok.all());
    CHECK(ok.config.warnings.empty());

    const Read r = read(kHeader + R"(plugins:
- type: dcgm-data-source
- type: dcgm-extractor
- type: mock-metrics-source
- type: queue-scorer
- type: file-discovery
  parameters: {path: /etc/endpoints.yaml}
dataLayer:
  injectDefaults: false
  sources:
  - pluginRef: dcgm-data-source
    extractors: [{pluginRef: dcgm-extractor}]
  - pluginRef: mock-metrics-source
  - pluginRef: queue-scorer
    extractors: [core-metrics-extractor]
  - pluginRef: dcgm-data-sorce
  discovery: {pluginRef: file-discovery}
  peerDiscovery: {pluginRef: peers}
  crossReplicaSyncInterval: 1s
  crossReplicaSyncerPluginRef: syncer
)");
    // The DCGM pair and the discovery plugin: one error each, at their type; the references to
    // them add nothing.
    CHECK(r.error("/plugins/0/type")->code == Code::upstream_feature);
    CHECK(r.error("/plugins/1/type")->code == Code::upstream_feature);
    CHECK(r.error("/plugins/4/type")->code == Code::upstream_feature);
    CHECK(!r.error("/dataLayer/sources/0/pluginRef"));
    CHECK(!r.error("/dataLayer/discovery"));
    // A data-layer plugin of the operator's own: one error, at the reference, and its entry goes.
    const Issue *custom = r.error("/dataLayer/sources/1/pluginRef");
    REQUIRE_MESSAGE(custom, r.all());
    CHECK(custom->code == Code::upstream_feature);
    CHECK(contains(custom->message, "a data-layer plugin of your own (type mock-metrics-source)"));
    CHECK(!r.plugin("mock-metrics-source"));
    CHECK(r.error("/dataLayer/sources/2/pluginRef")->code == Code::invalid_value);
    CHECK(contains(r.error("/dataLayer/sources/2/pluginRef")->message, "a scorer (queue-scorer), not a data source"));
    CHECK(r.error("/dataLayer/sources/2/extractors/0")->code == Code::wrong_type);
    CHECK(contains(r.error("/dataLayer/sources/3/pluginRef")->message, "did you mean"));
    // Sharing state across replicas: three fields, one feature, one error.
    const Issue *peers = r.error("/dataLayer/peerDiscovery");
    REQUIRE(peers);
    CHECK(peers->code == Code::upstream_feature);
    CHECK(!r.error("/dataLayer/crossReplicaSyncInterval"));
    CHECK(!r.error("/dataLayer/crossReplicaSyncerPluginRef"));
    CHECK(r.warning("/dataLayer/injectDefaults")->code == Code::upstream_ignored);
    CHECK_MESSAGE(r.errors.size() == 8, r.all());

    const Read discovery = read(kHeader + "dataLayer:\n  discovery: {pluginRef: somewhere}\n");
    REQUIRE_MESSAGE(discovery.errors.size() == 1, discovery.all());
    CHECK(discovery.errors[0].path == "/dataLayer/discovery");
    CHECK(discovery.errors[0].code == Code::upstream_feature);
    CHECK(contains(discovery.errors[0].message, "plughost learns its endpoints from the event stream"));
}

TEST_CASE("requestHandler and the deprecated parser section: built-in parsers, by name or by type") {
    const Read ok = read(kHeader + R"(plugins:
- type: passthrough-parser
  name: fallback
requestHandler:
  parsers: [{pluginRef: openai-parser}, {pluginRef: vllmhttp-parser}, {pluginRef: fallback}]
)");
    CHECK_MESSAGE(ok.errors.empty(), ok.all());

    const Read r = read(kHeader + R"(plugins:
- type: anthropic-parser
- type: queue-scorer
requestHandler:
  parsers:
  - pluginRef: anthropic-parser
  - pluginRef: vllmgrpc-parser
  - pluginRef: queue-scorer
  - pluginRef: my-parser
parser: {pluginRef: sglanghttp-parser}
)");
    CHECK(r.error("/plugins/0/type")->code == Code::upstream_feature);
    CHECK(!r.error("/requestHandler/parsers/0/pluginRef"));                                 // the entry has its error
    CHECK(r.error("/requestHandler/parsers/1/pluginRef")->code == Code::upstream_feature);  // a type
    CHECK(contains(r.error("/requestHandler/parsers/1/pluginRef")->message, "no gRPC"));
    CHECK(r.error("/requestHandler/parsers/2/pluginRef")->code == Code::invalid_value);
    CHECK(r.error("/requestHandler/parsers/3/pluginRef")->code == Code::undefined_plugin_ref);
    // The deprecated section is a warning, and unused when parsers are listed (as upstream).
    CHECK(r.warning("/parser")->code == Code::deprecated);
    CHECK(!r.error("/parser/pluginRef"));
    CHECK_MESSAGE(r.errors.size() == 4, r.all());

    const Read old = read(kHeader + "parser: {pluginRef: sglanghttp-parser}\n");
    CHECK(old.error("/parser/pluginRef")->code == Code::upstream_feature);
}

TEST_CASE("flowControl: the gate off ignores its settings as upstream does, on is one error at the gate") {
    const std::string section = R"(flowControl:
  maxBytes: 1Gi
  defaultRequestTTL: 60s
  priorityBands:
  - {priority: 100, fairnessPolicyRef: fair}
  saturationDetector: {pluginRef: utilization-detector}
plugins:
- type: round-robin-fairness-policy
  name: fair
)";
    const Read off = read(kHeader + section);
    CHECK_MESSAGE(off.errors.empty(), off.all());
    const Issue *ignored = off.warning("/flowControl");
    REQUIRE_MESSAGE(ignored, off.all());
    CHECK(ignored->code == Code::upstream_ignored);
    CHECK(contains(ignored->message, "\"maxBytes\", \"defaultRequestTTL\" and \"priorityBands\""));
    CHECK(off.warning("/plugins/0/type")->code == Code::upstream_ignored);  // an unused policy
    CHECK(!off.plugin("fair"));

    // With the gate on, the gate's error (made by the gate checks, where --feature-gates is seen
    // too) is the one error: nothing here.
    const Read on = read(kHeader + "featureGates: [flowControl]\n" + section);
    CHECK_MESSAGE(on.errors.empty(), on.all());
    CHECK(on.config.warnings.empty());
    CHECK(on.config.feature_gates.at("flowControl").value);

    const Read strict = read(kHeader + R"(flowControl:
  maxByte: 1
  defaultPriorityBand: {priority: high, orderingPolicy: fcfs}
  enableEviction: "yes"
  saturationDetector: {pluginRef: nothing-here, metricsStalenessThreshold: 150ms}
saturationDetector: {pluginRef: utilization-detector}
)");
    CHECK(contains(strict.error("/flowControl/maxByte")->message, "did you mean \"maxBytes\""));
    CHECK(strict.error("/flowControl/defaultPriorityBand/priority")->code == Code::wrong_type);
    CHECK(contains(strict.error("/flowControl/defaultPriorityBand/orderingPolicy")->message,
                   "did you mean \"orderingPolicyRef\""));
    CHECK(strict.error("/flowControl/enableEviction")->code == Code::wrong_type);
    CHECK(strict.error("/flowControl/saturationDetector/metricsStalenessThreshold")->code == Code::unknown_field);
    CHECK(strict.error("/flowControl/saturationDetector/pluginRef")->code == Code::undefined_plugin_ref);
    CHECK(strict.warning("/saturationDetector")->code == Code::deprecated);
    CHECK_MESSAGE(strict.errors.size() == 6, strict.all());

    // The deprecated top-level detector is used when flowControl names none; absent or empty
    // pluginRef is upstream's default.
    const Read top = read(kHeader + "saturationDetector: {pluginRef: queue-scorer}\nplugins: [{type: queue-scorer}]\n");
    CHECK(top.error("/saturationDetector/pluginRef")->code == Code::invalid_value);
    CHECK(read(kHeader + "flowControl: {saturationDetector: {}}\n").errors.empty());
}

TEST_CASE("unknown fields in upstream sections are errors with a did-you-mean, never an unrelated name") {
    const Read r = read(kHeader + R"(dataLayr: {}
requestHandler: {parser: []}
dataLayer: {source: []}
)");
    CHECK(contains(r.error("/dataLayr")->message, "did you mean \"dataLayer\""));
    CHECK(contains(r.error("/requestHandler/parser")->message, "did you mean \"parsers\""));
    CHECK(contains(r.error("/dataLayer/source")->message, "did you mean \"sources\""));
    CHECK_MESSAGE(r.errors.size() == 3, r.all());
}

TEST_CASE("a profile without a picker is left to the planner, which defaults it once (not the reader)") {
    const Read r = read(kHeader + "plugins: [{type: queue-scorer}]\n"
                                  "schedulingProfiles: [{name: a, plugins: [{pluginRef: queue-scorer}]}]\n");
    CHECK_MESSAGE(r.errors.empty(), r.all());
    CHECK(r.refs() == std::vector<std::string>{"queue-scorer"});
    CHECK(r.config.plugins.size() == 1);
}

TEST_CASE("by-label-selector, upstream's deprecated name, is read as label-selector-filter with a warning") {
    const Read r = read(kHeader + "plugins: [{type: by-label-selector, name: sel, parameters: {matchLabels: {a: b}}}]\n"
                                  "schedulingProfiles: [{name: a, plugins: [{pluginRef: sel}]}]\n");
    CHECK_MESSAGE(r.errors.empty(), r.all());
    REQUIRE(r.plugin("sel"));
    CHECK(r.plugin("sel")->type == "label-selector-filter");
    REQUIRE(r.warning("/plugins/0/type"));
    CHECK(r.warning("/plugins/0/type")->code == Code::deprecated);
    CHECK(r.refs() == std::vector<std::string>{"sel"});
}

TEST_CASE("the worked example of docs/upstream.md scores as the docs say, through its real C entry") {
    namespace t = plughost::testing;
    t::PluginLibrary lib(paths::busy_endpoint_scorer);
    auto made = lib.create("busy", R"({"maxRequests": 8})");
    REQUIRE_MESSAGE(made.ok(), made.message);
    t::EndpointSet endpoints{{.name = "idle"},
                             {.name = "half", .waiting_queue_size = 2, .running_requests = 2},
                             {.name = "full", .waiting_queue_size = 5, .running_requests = 5},
                             {.name = "just-sent", .pending_picks = 2}};
    const t::RequestData request({.id = "1", .prompt = "hello"});
    const auto scores = made.value->score(request, endpoints);
    REQUIRE(scores.ok());
    CHECK(scores.value == std::vector<double>{1.0, 0.5, 0.0, 0.75});
    CHECK(!lib.create("busy", R"({"maxRequests": 0})").ok());
}

TEST_CASE("a parameter naming a refused producer is no second error: the parameter goes, the entry's error stays") {
    const Read r = read(kHeader + R"(plugins:
- type: precise-prefix-cache-producer
  name: precise
- type: prefix-cache-scorer
  parameters: {prefixMatchInfoProducerName: precise, matchLengthWeight: 0.5}
- type: no-hit-lru-scorer
  parameters: {prefixMatchInfoProducerName: approx}
schedulingProfiles:
- name: default
  plugins: [{pluginRef: prefix-cache-scorer}, {pluginRef: no-hit-lru-scorer}]
)");
    REQUIRE_MESSAGE(r.errors.size() == 1, r.all());
    CHECK(r.errors[0].path == "/plugins/0/type");
    CHECK(r.errors[0].code == Code::upstream_feature);
    REQUIRE(r.plugin("prefix-cache-scorer"));
    CHECK(r.plugin("prefix-cache-scorer")->parameters == boost::json::parse(R"({"matchLengthWeight": 0.5})"));
    // A name that is not a refused entry is the plugin's to judge.
    CHECK(r.plugin("no-hit-lru-scorer")->parameters.at("prefixMatchInfoProducerName") == "approx");
}
