// The lifecycle policy's admission rules, on manifests in memory.
#include "admission/policy.hpp"
#include "manifests.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

using namespace plughost::host;
using namespace plughost::test;

namespace {

std::vector<Candidate> decide(const std::vector<std::string> &manifests, const Policy &policy) {
    auto rules = foundation_rules();
    for (auto &r : policy_rules(std::make_shared<Policy>(policy))) rules.push_back(r);
    return admit(in_memory(manifests), rules);
}

const Candidate &of(const std::vector<Candidate> &cs, const std::string &type) {
    for (const auto &c : cs)
        if (c.manifest() && c.manifest()->type == type) return c;
    FAIL("no candidate " << type);
    throw 0;
}

const Reason *reason(const Candidate &c, Code code) {
    for (const auto &r : c.reasons)
        if (r.code == code) return &r;
    return nullptr;
}

const Reason *warning(const Candidate &c, Code code) {
    for (const auto &r : c.warnings)
        if (r.code == code) return &r;
    return nullptr;
}

Policy with_gates(std::initializer_list<std::pair<const char *, bool>> gates, Stability min = Stability::beta) {
    Policy p;
    p.min_stability = min;
    p.min_stability_defaulted = false;
    p.min_stability_source = "/policy/minStability";
    for (const auto &[name, value] : gates) p.gates[name] = {value, std::string("/featureGates/") + name};
    return p;
}

}  // namespace

TEST_CASE("by default the minimum stability is beta: beta and stable run, alpha and dev do not") {
    const auto cs = decide({manifest_json("s", "stable"), manifest_json("b", "beta"),
                            manifest_json("a", "alpha", "AlphaGate"), manifest_json("d", "dev", "DevGate")},
                           Policy{});
    CHECK(of(cs, "s").admitted());
    CHECK(of(cs, "b").admitted());
    const Reason *alpha = reason(of(cs, "a"), Code::below_min_stability);
    REQUIRE(alpha);
    CHECK(contains(alpha->message, "plugin \"a\" is alpha, below the minimum stability beta (the default"));
    // Exactly which two settings to change.
    CHECK(contains(alpha->message,
                   "policy.minStability: \"alpha\" (or --min-stability=alpha) and "
                   "featureGates.AlphaGate: true (or --feature-gates=AlphaGate=true): both settings are needed"));
    CHECK(reason(of(cs, "a"), Code::gate_disabled));
    CHECK(reason(of(cs, "d"), Code::below_min_stability));
}

TEST_CASE("an alpha gate alone does not override the minimum stability") {
    const auto cs = decide({manifest_json("a", "alpha", "AlphaGate")}, with_gates({{"AlphaGate", true}}));
    const Reason *r = reason(of(cs, "a"), Code::below_min_stability);
    REQUIRE(r);
    CHECK(contains(r->message, "(set at /policy/minStability)"));
    CHECK(contains(r->message, "its gate AlphaGate is on, but a gate does not override the minimum stability"));
    CHECK(!reason(of(cs, "a"), Code::gate_disabled));
}

TEST_CASE("alpha needs both: the minimum lowered and the gate on") {
    const auto off = decide({manifest_json("a", "alpha", "AlphaGate")}, with_gates({}, Stability::alpha));
    CHECK(!reason(of(off, "a"), Code::below_min_stability));
    const Reason *r = reason(of(off, "a"), Code::gate_disabled);
    REQUIRE(r);
    CHECK(contains(r->message, "gated by AlphaGate, which is off (alpha gates default to off)"));
    CHECK(contains(r->message, "featureGates.AlphaGate: true"));

    const auto on =
        decide({manifest_json("a", "alpha", "AlphaGate")}, with_gates({{"AlphaGate", true}}, Stability::alpha));
    CHECK(of(on, "a").admitted());
}

TEST_CASE("AllAlpha turns alpha gates on by default but never dev gates, and an explicit setting wins") {
    const auto cs = decide({manifest_json("a", "alpha", "AlphaGate"), manifest_json("a2", "alpha", "OtherGate"),
                            manifest_json("d", "dev", "DevGate")},
                           with_gates({{"AllAlpha", true}, {"OtherGate", false}}, Stability::dev));
    CHECK(of(cs, "a").admitted());
    const Reason *other = reason(of(cs, "a2"), Code::gate_disabled);
    REQUIRE(other);
    CHECK(contains(other->message, "set to false at /featureGates/OtherGate"));
    const Reason *dev = reason(of(cs, "d"), Code::gate_disabled);
    REQUIRE(dev);
    CHECK(contains(dev->message, "AllAlpha does not enable dev gates"));
    const auto dev_on = decide({manifest_json("d", "dev", "DevGate")}, with_gates({{"DevGate", true}}, Stability::dev));
    CHECK(of(dev_on, "d").admitted());
}

TEST_CASE("beta gates default on, the gate or AllBeta can turn them off, explicit beats AllBeta") {
    CHECK(of(decide({manifest_json("b", "beta", "BetaGate")}, Policy{}), "b").admitted());
    CHECK(reason(of(decide({manifest_json("b", "beta", "BetaGate")}, with_gates({{"BetaGate", false}})), "b"),
                 Code::gate_disabled));
    const auto all_off = decide({manifest_json("b", "beta", "BetaGate"), manifest_json("c", "beta", "KeepGate")},
                                with_gates({{"AllBeta", false}, {"KeepGate", true}}));
    const Reason *r = reason(of(all_off, "b"), Code::gate_disabled);
    REQUIRE(r);
    CHECK(contains(r->message, "AllBeta=false at /featureGates/AllBeta"));
    CHECK(of(all_off, "c").admitted());
}

TEST_CASE("a stable plugin's gate is locked on: setting it false changes nothing here (it is a config error)") {
    const auto cs = decide({manifest_json("s", "stable", "StableGate")}, with_gates({{"StableGate", false}}));
    CHECK(of(cs, "s").admitted());
}

TEST_CASE("deprecated plugins are admitted with a warning carrying the message, removal and replacements") {
    const std::string dep = ",\"deprecated\":true,\"deprecation\":{\"since\":\"0.9.0\",\"removedIn\":\"9.0.0\","
                            "\"message\":\"Split in two.\",\"replacements\":[\"x-scorer\",\"y-scorer\"]}";
    const auto warned = decide({manifest_json("old", "beta", "", "scorer", dep)}, Policy{});
    CHECK(of(warned, "old").admitted());
    const Reason *w = warning(of(warned, "old"), Code::deprecated);
    REQUIRE(w);
    CHECK(contains(w->message, "is deprecated since 0.9.0 and is removed in 9.0.0 of this plugin: Split in two. "
                               "(replace it with \"x-scorer\" and \"y-scorer\")"));

    Policy strict;
    strict.reject_deprecated = true;
    const auto refused = decide({manifest_json("old", "beta", "", "scorer", dep)}, strict);
    const Reason *r = reason(of(refused, "old"), Code::deprecated);
    REQUIRE(r);
    CHECK(contains(r->message, "refused because policy.rejectDeprecated is true"));
}

TEST_CASE("at or past its own removedIn version a plugin is refused unless the operator allows it, loudly") {
    // manifest_json's plugins are version 1.0.0: the scale of since and removedIn.
    const std::string dep = ",\"deprecated\":true,\"deprecation\":{\"since\":\"0.5.0\",\"removedIn\":\"1.0.0\","
                            "\"message\":\"Gone.\",\"replacements\":[]}";
    Policy p;
    const auto past = decide({manifest_json("old", "beta", "", "scorer", dep)}, p);
    const Reason *r = reason(of(past, "old"), Code::past_removal);
    REQUIRE(r);
    CHECK(contains(r->message, "is removed in 1.0.0 of this plugin"));
    CHECK(contains(r->message, "this file is version 1.0.0, at or past that removal"));
    CHECK(contains(r->message, "policy.allowPastRemoval: [\"old\"]"));

    p.allow_past_removal.insert("old");
    const auto allowed = decide({manifest_json("old", "beta", "", "scorer", dep)}, p);
    CHECK(of(allowed, "old").admitted());
    CHECK(warning(of(allowed, "old"), Code::past_removal_allowed));

    // Before its removedIn it is only deprecated, whatever this host's own version is.
    const std::string later = ",\"deprecated\":true,\"deprecation\":{\"since\":\"0.5.0\",\"removedIn\":\"1.1.0\","
                              "\"message\":\"Gone.\",\"replacements\":[]}";
    const auto warned = decide({manifest_json("old", "beta", "", "scorer", later)}, Policy{});
    CHECK(of(warned, "old").admitted());
    CHECK(warning(of(warned, "old"), Code::deprecated));
}

TEST_CASE("a file declaring a tombstoned type is refused with the migration guidance") {
    const auto cs = decide({manifest_json("queue-kv-blend-scorer", "stable")}, Policy{});
    const Reason *r = reason(of(cs, "queue-kv-blend-scorer"), Code::tombstoned);
    REQUIRE(r);
    CHECK(contains(r->message, "plugin type \"queue-kv-blend-scorer\" was removed in plughost 1.0.0"));
    CHECK(contains(r->message, "replace it with \"queue-scorer\" and \"kv-cache-utilization-scorer\""));

    const auto gate = decide({manifest_json("g", "beta", "QueueKvBlendScorer")}, Policy{});
    CHECK(reason(of(gate, "g"), Code::tombstoned));
}

TEST_CASE("the maturity list: a regression is refused, a promotion is reported, unlisted types are not judged") {
    Policy p;
    p.maturity.pins["pinned"] = {Stability::stable, "test-maturity.json"};
    p.maturity.pins["promoted"] = {Stability::beta, "test-maturity.json"};
    const auto cs = decide(
        {manifest_json("pinned", "beta"), manifest_json("promoted", "stable"), manifest_json("free", "beta")}, p);
    const Reason *r = reason(of(cs, "pinned"), Code::maturity_regression);
    REQUIRE(r);
    CHECK(
        contains(r->message, "declares stability beta, but the maturity list (test-maturity.json) pins it at stable"));
    CHECK(of(cs, "promoted").admitted());
    CHECK(warning(of(cs, "promoted"), Code::maturity_mismatch));
    CHECK(of(cs, "free").admitted());
    CHECK(of(cs, "free").warnings.empty());
}

TEST_CASE("one gate shared by plugins of different tiers refuses them all, and a plugin may not take a meta-gate") {
    const auto cs = decide({manifest_json("a", "alpha", "Shared"), manifest_json("b", "beta", "Shared"),
                            manifest_json("c", "beta", "AllBeta")},
                           with_gates({{"Shared", true}}, Stability::alpha));
    const Reason *r = reason(of(cs, "b"), Code::gate_tier_conflict);
    REQUIRE(r);
    CHECK(contains(r->message, "a (alpha), b (beta)"));
    CHECK(reason(of(cs, "a"), Code::gate_tier_conflict));
    CHECK(reason(of(cs, "c"), Code::gate_tier_conflict));
}

TEST_CASE("policy rules leave files without a valid manifest to the foundation rules") {
    const auto cs = decide({"{not json"}, Policy{});
    REQUIRE(cs.size() == 1);
    REQUIRE(cs[0].reasons.size() == 1);
    CHECK(cs[0].reasons[0].code == Code::bad_manifest);
}
