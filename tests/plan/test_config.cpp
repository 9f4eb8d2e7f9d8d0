// Reading the operator's config: its shape, strictness, and every problem at once.
#include "common/json.hpp"
#include "common/json_document.hpp"
#include "plan/config.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

using namespace plughost::host;
using namespace plughost::test;

namespace {

Config read(const std::string &text, std::vector<Issue> &issues) {
    const auto doc = parse_json_document(text, "config.json");
    REQUIRE_MESSAGE(!doc.problem, doc.problem->message);
    return read_config(doc.value, "config.json", issues);
}

const Issue *at(const std::vector<Issue> &issues, const std::string &path) {
    for (const auto &i : issues)
        if (i.path == path) return &i;
    return nullptr;
}

std::string dump(const std::vector<Issue> &issues) {
    std::string s;
    for (const auto &i : issues) s += i.path + " [" + std::string(to_string(i.code)) + "] " + i.message + "\n";
    return s;
}

}  // namespace

TEST_CASE("a complete config is read into every field") {
    std::vector<Issue> issues;
    const Config c = read(R"({
      "apiVersion": "plughost.io/v1", "kind": "EndpointPickerConfig",
      "policy": {"minStability": "alpha", "rejectDeprecated": true, "allowPastRemoval": ["old-scorer"],
                 "tombstonesFile": "t.json", "maturityFile": "m.json"},
      "featureGates": {"PrefixCacheScorer": true, "KvHeadroomFilter": false},
      "plugins": [{"type": "queue-scorer", "name": "queue", "parameters": {"maxQueueSize": 8}},
                  {"type": "max-score-picker"}],
      "schedulingProfiles": [{"name": "default", "plugins": [{"pluginRef": "queue", "weight": 2.5},
                                                            {"pluginRef": "max-score-picker"}]}],
      "runtime": {"maxConsecutiveFaults": 3}})",
                          issues);
    CHECK_MESSAGE(issues.empty(), dump(issues));
    CHECK(c.policy.min_stability == Stability::alpha);
    CHECK(c.policy.reject_deprecated == true);
    CHECK(c.policy.allow_past_removal == std::vector<std::string>{"old-scorer"});
    CHECK(c.policy.tombstones_file == "t.json");
    CHECK(c.feature_gates.at("PrefixCacheScorer").value);
    CHECK(c.feature_gates.at("PrefixCacheScorer").where == "/featureGates/PrefixCacheScorer");
    CHECK(!c.feature_gates.at("KvHeadroomFilter").value);
    REQUIRE(c.plugins.size() == 2);
    CHECK(c.plugins[0].name == "queue");
    CHECK(c.plugins[0].parameters.at("maxQueueSize").as_int64() == 8);
    CHECK(c.plugins[1].name == "max-score-picker");  // the name defaults to the type
    CHECK(c.plugins[1].path == "/plugins/1");
    REQUIRE(c.profiles.size() == 1);
    CHECK(c.profiles[0].plugins[0].weight == 2.5);
    CHECK(!c.profiles[0].plugins[1].weight);
    CHECK(c.profiles[0].plugins[1].path == "/schedulingProfiles/0/plugins/1");
    CHECK(c.runtime.max_consecutive_faults == 3);
}

TEST_CASE("feature gates also in the upstream list form") {
    std::vector<Issue> issues;
    const Config c = read(R"({"featureGates": ["PrefixCacheScorer", "AllAlpha"]})", issues);
    CHECK(issues.empty());
    CHECK(c.feature_gates.at("AllAlpha").value);
    CHECK(c.feature_gates.at("AllAlpha").where == "/featureGates/1");
}

TEST_CASE("feature gates in every upstream form: name, name=value with Go's booleans, and the object form") {
    std::vector<Issue> issues;
    const Config c = read(R"({"featureGates": ["A", "B=true", "C=false", "D=T", "E=1", "F=0", "G=f", "H=FALSE",
                                              "I= True ", "J=TRUE", "K=t"]})",
                          issues);
    CHECK_MESSAGE(issues.empty(), dump(issues));
    for (const char *on : {"A", "B", "D", "E", "I", "J", "K"}) CHECK_MESSAGE(c.feature_gates.at(on).value, on);
    for (const char *off : {"C", "F", "G", "H"}) CHECK_MESSAGE(!c.feature_gates.at(off).value, off);
    CHECK(c.feature_gates.at("C").where == "/featureGates/2");

    std::vector<Issue> later;
    CHECK(!read(R"({"featureGates": ["A=true", "A=false"]})", later).feature_gates.at("A").value);  // later wins

    std::vector<Issue> bad;
    read(R"({"featureGates": ["A=yes", "=true", "B=2", "C=on", 5]})", bad);
    for (const char *path : {"/featureGates/0", "/featureGates/1", "/featureGates/2", "/featureGates/3"}) {
        const Issue *i = at(bad, path);
        REQUIRE_MESSAGE(i, path << "\n" << dump(bad));
        CHECK(i->code == Code::invalid_value);
        CHECK(contains(i->hint, "\"Name=false\""));
    }
    CHECK(contains(at(bad, "/featureGates/1")->message, "no gate name"));
    CHECK(contains(at(bad, "/featureGates/0")->message, "not a boolean"));
    CHECK(at(bad, "/featureGates/4")->code == Code::wrong_type);

    std::vector<Issue> object;
    const Config o = read(R"({"featureGates": {"A": true, "flowControl": false}})", object);
    CHECK(object.empty());
    CHECK(!o.feature_gates.at("flowControl").value);
    CHECK(o.feature_gates.at("flowControl").where == "/featureGates/flowControl");
}

TEST_CASE("apiVersion: plughost's, upstream's, and upstream's deprecated one with a warning") {
    for (const char *api : {"plughost.io/v1", "llm-d.ai/v1alpha1"}) {
        std::vector<Issue> issues;
        const Config c =
            read(std::string(R"({"apiVersion": ")") + api + R"(", "kind": "EndpointPickerConfig"})", issues);
        CHECK_MESSAGE(issues.empty(), api << dump(issues));
        CHECK(c.warnings.empty());
    }
    std::vector<Issue> issues;
    const Config old =
        read(R"({"apiVersion": "inference.networking.x-k8s.io/v1alpha1", "kind": "EndpointPickerConfig"})", issues);
    CHECK(issues.empty());
    REQUIRE(old.warnings.size() == 1);
    CHECK(old.warnings[0].path == "/apiVersion");
    CHECK(old.warnings[0].code == Code::deprecated);
    CHECK(contains(old.warnings[0].message, "deprecated upstream"));
    CHECK(contains(old.warnings[0].hint, "llm-d.ai/v1alpha1"));

    std::vector<Issue> other;
    read(R"({"apiVersion": "llm-d.ai/v1beta9"})", other);
    REQUIRE(other.size() == 1);
    CHECK(other[0].code == Code::unsupported_version);
    CHECK(contains(other[0].hint, "llm-d.ai/v1alpha1"));
}

TEST_CASE("a profile's plugin reference may run in shadow") {
    std::vector<Issue> issues;
    const Config c = read(R"({"plugins": [{"type": "queue-scorer"}, {"type": "max-score-picker"}],
        "schedulingProfiles": [{"name": "p", "plugins": [{"pluginRef": "queue-scorer", "shadow": true},
                                                         {"pluginRef": "max-score-picker", "shadow": false}]}]})",
                          issues);
    CHECK_MESSAGE(issues.empty(), dump(issues));
    CHECK(c.profiles[0].plugins[0].shadow);
    CHECK(!c.profiles[0].plugins[1].shadow);
    std::vector<Issue> bad;
    read(R"({"schedulingProfiles": [{"name": "p", "plugins": [{"pluginRef": "a", "shadow": "yes"}]}]})", bad);
    REQUIRE(at(bad, "/schedulingProfiles/0/plugins/0/shadow"));
    CHECK(at(bad, "/schedulingProfiles/0/plugins/0/shadow")->code == Code::wrong_type);
}

namespace {

// The fields of a Config that the JSON and YAML forms of one config must agree on.
std::string summary(const Config &c) {
    std::string s;
    for (const auto &[name, g] : c.feature_gates)
        s += "gate " + name + "=" + (g.value ? "1" : "0") + " " + g.where + "\n";
    for (const auto &p : c.plugins)
        s += "plugin " + p.name + " " + p.type + " " + p.path + " " + to_json(p.parameters) + "\n";
    for (const auto &p : c.profiles) {
        s += "profile " + p.name + " " + p.path + "\n";
        for (const auto &r : p.plugins)
            s += "  ref " + r.plugin_ref + " " + (r.weight ? std::to_string(*r.weight) : "-") +
                 (r.shadow ? " shadow" : "") + " " + r.path + "\n";
    }
    for (const auto &b : c.built_ins) s += "built-in " + b.name + " " + b.type + " " + b.path + "\n";
    s += "policy " + std::string(c.policy.min_stability ? to_string(*c.policy.min_stability) : "-") + "\n";
    s += "faults " + std::to_string(c.runtime.max_consecutive_faults) + "\n";
    return s;
}

}  // namespace

TEST_CASE("the YAML and the JSON of one config read the same") {
    const std::string json = R"({
      "apiVersion": "llm-d.ai/v1alpha1", "kind": "EndpointPickerConfig",
      "policy": {"minStability": "alpha"},
      "featureGates": ["PrefixCacheScorer", "KvHeadroomFilter=false"],
      "plugins": [{"type": "queue-scorer", "name": "queue", "parameters": {"maxQueueSize": 8, "ratio": 0.5,
                                                                          "label": "a: b", "on": true, "none": null}},
                  {"type": "metrics-data-source"},
                  {"type": "max-score-picker"}],
      "schedulingProfiles": [{"name": "default", "plugins": [{"pluginRef": "queue", "weight": 2.5, "shadow": true},
                                                            {"pluginRef": "max-score-picker"}]}],
      "runtime": {"maxConsecutiveFaults": 3}})";
    const std::string yaml = R"(# the same config, as upstream writes it
apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
policy:
  minStability: alpha
featureGates:
- PrefixCacheScorer
- KvHeadroomFilter=false
plugins:
- type: queue-scorer
  name: queue
  parameters:
    maxQueueSize: 8
    ratio: 0.5
    label: "a: b"
    "on": true
    none: ~
- type: metrics-data-source
- type: max-score-picker
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: queue
    weight: 2.5
    shadow: true
  - {pluginRef: max-score-picker}
runtime: {maxConsecutiveFaults: 3}
)";
    const auto json_doc = parse_json_document(json, "c.json");
    const auto yaml_doc = parse_json_document(yaml, "c.yaml");
    REQUIRE(!json_doc.problem);
    REQUIRE_MESSAGE(!yaml_doc.problem, yaml_doc.problem->message);
    CHECK(json_doc.format == DocumentFormat::json);
    CHECK(yaml_doc.format == DocumentFormat::yaml);
    CHECK(static_cast<const boost::json::value &>(json_doc.value) ==
          static_cast<const boost::json::value &>(yaml_doc.value));
    std::vector<Issue> json_issues, yaml_issues;
    const Config from_json = read_config(json_doc.value, "c.json", json_issues);
    const Config from_yaml = read_config(yaml_doc.value, "c.yaml", yaml_issues);
    CHECK_MESSAGE(json_issues.empty(), dump(json_issues));
    CHECK_MESSAGE(yaml_issues.empty(), dump(yaml_issues));
    CHECK(summary(from_json) == summary(from_yaml));
    CHECK(contains(summary(from_yaml), "built-in metrics-data-source"));
    CHECK(!from_json.positions);
    CHECK(from_yaml.positions);
}

TEST_CASE("every issue about a YAML config names its line and column, and keeps its pointer") {
    const auto doc = parse_json_document(R"(apiVersion: plughost.io/v1
kind: Deployment
featureGates: [A=maybe]
plugins:
- type: queue-scorer
  paramters: {}
- name: x
- type: precise-prefix-cache-producer
schedulingProfiles:
- name: p
  plugins:
  - pluginRef: queue-scorer
    weight: heavy
dataLayer:
  sources:
  - pluginRef: nowhere
  injectDefault: true
)",
                                         "c.yaml");
    REQUIRE_MESSAGE(!doc.problem, doc.problem->message);
    std::vector<Issue> issues;
    const Config c = read_config(doc.value, "c.yaml", issues);
    const auto position = [&](const char *path) {
        const Issue *i = at(issues, path);
        REQUIRE_MESSAGE(i, path << "\n" << dump(issues));
        CHECK_MESSAGE(
            contains(i->message, "(line " + std::to_string(i->line) + ", column " + std::to_string(i->column) + ")"),
            i->message);
        return std::to_string(i->line) + ":" + std::to_string(i->column);
    };
    CHECK(position("/kind") == "2:7");
    CHECK(position("/featureGates/0") == "3:16");
    CHECK(position("/plugins/0/paramters") == "6:3");  // an unknown field: its key
    CHECK(position("/plugins/1/type") == "7:3");       // a missing field: its object
    CHECK(position("/plugins/2/type") == "8:9");       // upstream-feature
    CHECK(position("/schedulingProfiles/0/plugins/0/weight") == "13:13");
    CHECK(position("/dataLayer/sources/0/pluginRef") == "16:16");
    CHECK(position("/dataLayer/injectDefault") == "17:3");
    for (const Issue &i : issues) CHECK_MESSAGE(i.line != 0, i.path << " " << i.message);
    CHECK(c.positions);

    // Issues made later (by the planner) are located through the config's map.
    std::vector<Issue> later{{"/plugins/0/type", Code::unknown_type, "no plugin file declares type", ""}};
    std::vector<Issue> warnings;
    add_config_findings(c, later, warnings);
    CHECK(later[0].line == 5);
    CHECK(later[0].column == 9);
}

TEST_CASE("unknown fields are errors with a did-you-mean, at every level") {
    std::vector<Issue> issues;
    read(R"({"plugin": [], "policy": {"minStabilty": "beta"}, "plugins": [{"type": "a", "paramters": {}}],
             "schedulingProfiles": [{"name": "p", "plugins": [{"pluginref": "a", "weigth": 1}]}]})",
         issues);
    const Issue *top = at(issues, "/plugin");
    REQUIRE_MESSAGE(top, dump(issues));
    CHECK(top->code == Code::unknown_field);
    CHECK(contains(top->message, "(did you mean \"plugins\"?)"));
    CHECK(contains(at(issues, "/policy/minStabilty")->message, "did you mean \"minStability\""));
    CHECK(contains(at(issues, "/plugins/0/paramters")->message, "did you mean \"parameters\""));
    CHECK(contains(at(issues, "/schedulingProfiles/0/plugins/0/pluginref")->message, "did you mean \"pluginRef\""));
    CHECK(contains(at(issues, "/schedulingProfiles/0/plugins/0/weigth")->message, "did you mean \"weight\""));
    CHECK(at(issues, "/schedulingProfiles/0/plugins/0/pluginRef")->code == Code::missing_field);
}

TEST_CASE("wrong types everywhere: every one reported with its path") {
    std::vector<Issue> issues;
    read(R"({"apiVersion": "v2", "kind": "Deployment", "policy": {"minStability": "gold", "rejectDeprecated": "yes",
             "allowPastRemoval": "x"}, "featureGates": {"A": "on"}, "plugins": [{"type": 5, "name": "",
             "parameters": [1]}, "queue-scorer", {"name": "x"}], "schedulingProfiles": {"name": "p"},
             "runtime": {"maxConsecutiveFaults": 0}})",
         issues);
    for (const char *path :
         {"/apiVersion", "/kind", "/policy/minStability", "/policy/rejectDeprecated", "/policy/allowPastRemoval",
          "/featureGates/A", "/plugins/0/type", "/plugins/0/name", "/plugins/0/parameters", "/plugins/1",
          "/plugins/2/type", "/schedulingProfiles", "/runtime/maxConsecutiveFaults"})
        CHECK_MESSAGE(at(issues, path), path << "\n" << dump(issues));
    CHECK(at(issues, "/plugins/0/parameters")->code == Code::parameters_not_object);
    CHECK(at(issues, "/apiVersion")->code == Code::unsupported_version);
    CHECK(contains(at(issues, "/apiVersion")->hint, "use \"plughost.io/v1\""));
    CHECK(contains(at(issues, "/policy/minStability")->message, "\"gold\" is not a stability tier"));
    CHECK(contains(at(issues, "/plugins/1")->message, "found string \"queue-scorer\""));
}

TEST_CASE("a config that is not an object, and the built-in default config") {
    std::vector<Issue> issues;
    read("[1, 2]", issues);
    REQUIRE(issues.size() == 1);
    CHECK(issues[0].path == "");
    CHECK(issues[0].code == Code::wrong_type);

    std::vector<Issue> none;
    const Config d = read_config(default_config_document(), "default", none);
    CHECK(none.empty());
    CHECK(d.plugins.size() >= 2);
    CHECK(d.profiles.empty());
}

namespace {

std::string plugins_json(std::size_t count) {
    std::string s = "[";
    for (std::size_t i = 0; i < count; ++i)
        s += (i ? ",{\"type\": \"t\", \"name\": \"p" : "{\"type\": \"t\", \"name\": \"p") + std::to_string(i) + "\"}";
    return s + "]";
}

std::string refs_json(std::size_t count) {
    std::string s = "[";
    for (std::size_t i = 0; i < count; ++i)
        s += (i ? ",{\"pluginRef\": \"p" : "{\"pluginRef\": \"p") + std::to_string(i) + "\"}";
    return s + "]";
}

std::size_t count_code(const std::vector<Issue> &issues, Code code) {
    std::size_t n = 0;
    for (const auto &i : issues) n += i.code == code ? 1 : 0;
    return n;
}

}  // namespace

TEST_CASE("structural limits: plugins, profiles and references per profile, each reported once at its pointer") {
    std::vector<Issue> issues;
    std::string profiles = "[";
    for (std::size_t i = 0; i < 1001; ++i)
        profiles += (i ? "," : "") + std::string(R"({"name": "s)") + std::to_string(i) + R"(", "plugins": []})";
    profiles += "]";
    const Config c =
        read(R"({"plugins": )" + plugins_json(1001) + R"(, "schedulingProfiles": )" + profiles + "}", issues);
    CHECK_MESSAGE(count_code(issues, Code::too_large) == 2, dump(issues));
    const Issue *plugins = at(issues, "/plugins");
    REQUIRE(plugins);
    CHECK(plugins->code == Code::too_large);
    CHECK(contains(plugins->message, "1001 plugins"));
    CHECK(contains(plugins->message, "the limit is 1000"));
    CHECK(!plugins->hint.empty());
    const Issue *profile_list = at(issues, "/schedulingProfiles");
    REQUIRE(profile_list);
    CHECK(contains(profile_list->message, "1001 scheduling profiles"));
    CHECK(contains(profile_list->message, "the limit is 1000"));
    CHECK(c.plugins.size() <= 1000);
    CHECK(c.profiles.size() <= 1000);

    std::vector<Issue> ref_issues;
    read(R"({"plugins": [{"type": "t", "name": "p0"}], "schedulingProfiles": [{"name": "s", "plugins": )" +
             refs_json(20000) + "}]}",
         ref_issues);
    REQUIRE_MESSAGE(ref_issues.size() == 1, dump(ref_issues));
    CHECK(ref_issues[0].path == "/schedulingProfiles/0/plugins");
    CHECK(ref_issues[0].code == Code::too_large);
    CHECK(contains(ref_issues[0].message, "20000 plugin references"));
    CHECK(contains(ref_issues[0].message, "the limit is 1000"));

    std::vector<Issue> at_limit;
    read(R"({"plugins": )" + plugins_json(1000) + R"(, "schedulingProfiles": [{"name": "s", "plugins": )" +
             refs_json(1000) + "}]}",
         at_limit);
    CHECK_MESSAGE(at_limit.empty(), dump(at_limit));
}

TEST_CASE("a profile entry's \"shadow\" is read (a boolean, default false), and a non-boolean is an error") {
    std::vector<Issue> issues;
    const Config c = read(R"({"plugins": [{"type": "queue-scorer"}, {"type": "max-score-picker"}],
      "schedulingProfiles": [{"name": "default", "plugins": [{"pluginRef": "queue-scorer", "weight": 3, "shadow": true},
          {"pluginRef": "max-score-picker", "shadow": false}]}]})",
                          issues);
    CHECK_MESSAGE(issues.empty(), dump(issues));
    REQUIRE(c.profiles.size() == 1);
    CHECK(c.profiles[0].plugins[0].shadow);
    CHECK(c.profiles[0].plugins[0].weight == 3);
    CHECK(!c.profiles[0].plugins[1].shadow);

    issues.clear();
    read(R"({"schedulingProfiles": [{"name": "p", "plugins": [{"pluginRef": "x", "shadow": "yes"}]}]})", issues);
    const Issue *bad = at(issues, "/schedulingProfiles/0/plugins/0/shadow");
    REQUIRE_MESSAGE(bad, dump(issues));
    CHECK(bad->code == Code::wrong_type);
}
