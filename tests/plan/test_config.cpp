// Reading the operator's config: its shape, strictness, and every problem at once.
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
    CHECK(at(issues, "/apiVersion")->hint == "use \"plughost.io/v1\"");
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
