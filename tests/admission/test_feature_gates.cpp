#include "admission/feature_gates.hpp"
#include "manifests.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

using namespace plughost::host;
using namespace plughost::test;

namespace {

struct Fixture {
    std::vector<PluginFile> files =
        in_memory({manifest_json("a", "alpha", "AlphaGate"), manifest_json("b", "beta", "BetaGate"),
                   manifest_json("s", "stable", "StableGate"), manifest_json("d", "dev", "DevGate"),
                   manifest_json("a2", "alpha", "AlphaGate")});
    std::vector<const Manifest *> manifests() const {
        std::vector<const Manifest *> out;
        for (const auto &f : files) out.push_back(&*f.reading->manifest);
        return out;
    }
};

GateSettings settings(std::initializer_list<std::pair<const char *, bool>> gates) {
    GateSettings s;
    for (const auto &[name, value] : gates) s[name] = {value, std::string("/featureGates/") + name};
    return s;
}

}  // namespace

TEST_CASE("the --feature-gates flag takes Kubernetes syntax") {
    GateSettings s;
    CHECK(!parse_gate_flag("A=true, B=false,C=TRUE,,", s));
    CHECK(s.at("A").value);
    CHECK(!s.at("B").value);
    CHECK(s.at("C").value);
    CHECK(s.at("A").where == "--feature-gates");
    CHECK(contains(*parse_gate_flag("A", s), "\"A\" has no value; write A=true or A=false"));
    CHECK(contains(*parse_gate_flag("A=yes", s), "A=yes is not a boolean"));
    CHECK(contains(*parse_gate_flag("=true", s), "no gate name"));
}

TEST_CASE("known gates: the plugins' plus AllAlpha and AllBeta, with tier defaults and locks") {
    Fixture f;
    FeatureGates gates(f.manifests(), {});
    REQUIRE(gates.find("AlphaGate"));
    CHECK(gates.find("AlphaGate")->declared_by == std::vector<std::string>{"a", "a2"});
    CHECK(!gates.find("AlphaGate")->default_value);
    CHECK(gates.find("BetaGate")->default_value);
    CHECK(gates.find("StableGate")->locked);
    CHECK(gates.find("AllAlpha"));
    CHECK(gates.find("AllBeta"));
    CHECK(!gates.find("Nope"));
    CHECK(!gates.value(*gates.find("DevGate")).enabled);
    CHECK(gates.value(*gates.find("StableGate")).enabled);
}

TEST_CASE("values: explicit setting, then the meta-gate of the tier, then the tier default") {
    Fixture f;
    FeatureGates gates(f.manifests(), settings({{"AllAlpha", true}, {"AllBeta", false}, {"BetaGate", true}}));
    CHECK(gates.value(*gates.find("AlphaGate")).enabled);
    CHECK(contains(gates.value(*gates.find("AlphaGate")).why, "AllAlpha=true"));
    CHECK(gates.value(*gates.find("BetaGate")).enabled);
    CHECK(!gates.value(*gates.find("DevGate")).enabled);
}

TEST_CASE("settings that cannot apply are errors saying where they were set") {
    Fixture f;
    GateSettings s = settings({{"AlphaGte", true}, {"StableGate", false}, {"QueueKvBlendScorer", true}});
    s["Zzz"] = {true, "--feature-gates"};
    s["BetaGate"] = {true, "/featureGates/BetaGate"};
    FeatureGates gates(f.manifests(), s);
    std::vector<Issue> errors, warnings;
    gates.check(bundled_tombstones(), errors, warnings);
    auto find = [&](Code code) -> const Issue * {
        for (const auto &e : errors)
            if (e.code == code) return &e;
        return nullptr;
    };
    const Issue *unknown = find(Code::unknown_gate);
    REQUIRE(unknown);
    CHECK(unknown->path == "/featureGates/AlphaGte");
    CHECK(contains(unknown->message, "unknown feature gate \"AlphaGte\" (did you mean \"AlphaGate\"?)"));
    const Issue *locked = find(Code::locked_gate);
    REQUIRE(locked);
    CHECK(contains(locked->message, "locked to true"));
    const Issue *removed = find(Code::tombstoned_gate);
    REQUIRE(removed);
    CHECK(removed->path == "/featureGates/QueueKvBlendScorer");
    CHECK(contains(removed->message, "feature gate \"QueueKvBlendScorer\" was removed in plughost 1.0.0"));
    bool flag_error = false;
    for (const auto &e : errors)
        flag_error = flag_error || (e.path == "--feature-gates" && e.code == Code::unknown_gate);
    CHECK(flag_error);
    CHECK(errors.size() == 4);
    CHECK(warnings.empty());

    std::vector<Issue> e2, w2;
    FeatureGates(f.manifests(), settings({{"StableGate", true}})).check(bundled_tombstones(), e2, w2);
    CHECK(e2.empty());
    REQUIRE(w2.size() == 1);
    CHECK(w2[0].code == Code::gate_locked_on);
}

TEST_CASE("upstream's gates are known: flowControl on is one upstream-feature error, the HA gate is ignored") {
    Fixture f;
    FeatureGates off(f.manifests(), settings({{"flowControl", false}, {"haPopulateNonLeaderDatastore", false}}));
    REQUIRE(off.find("flowControl"));
    CHECK(off.find("flowControl")->upstream);
    CHECK(off.find("flowControl")->declared_by == std::vector<std::string>{"upstream"});
    CHECK(!off.find("flowControl")->default_value);
    CHECK(off.find("haPopulateNonLeaderDatastore")->default_value);
    std::vector<Issue> errors, warnings;
    off.check(bundled_tombstones(), errors, warnings);
    CHECK(errors.empty());  // known: never unknown-gate
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].code == Code::upstream_ignored);
    CHECK(warnings[0].path == "/featureGates/haPopulateNonLeaderDatastore");

    GateSettings on;
    on["flowControl"] = {true, "--feature-gates"};
    std::vector<Issue> e2, w2;
    FeatureGates(f.manifests(), on).check(bundled_tombstones(), e2, w2);
    REQUIRE(e2.size() == 1);
    CHECK(e2[0].code == Code::upstream_feature);
    CHECK(e2[0].path == "--feature-gates");
    CHECK(contains(e2[0].message, "flow control (the upstream gate flowControl) is an upstream feature plughost does "
                                  "not provide"));
    CHECK(contains(e2[0].hint, "remove flowControl"));
    CHECK(w2.empty());
    // AllAlpha and AllBeta do not reach them; their value is upstream's default.
    FeatureGates all(f.manifests(), settings({{"AllAlpha", true}, {"AllBeta", false}}));
    CHECK(!all.value(*all.find("flowControl")).enabled);
    CHECK(all.value(*all.find("haPopulateNonLeaderDatastore")).enabled);
    CHECK(contains(all.value(*all.find("flowControl")).why, "upstream's default"));
}
