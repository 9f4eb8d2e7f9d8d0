#include "admission/policy.hpp"

#include "common/suggest.hpp"

#include <map>

namespace plughost::host {

std::vector<const Manifest *> manifests_of(const std::vector<Candidate> &candidates) {
    std::vector<const Manifest *> out;
    for (const Candidate &c : candidates)
        if (const Manifest *m = c.manifest()) out.push_back(m);
    return out;
}

std::string describe_min_stability(const Policy &p) {
    const std::string tier(to_string(p.min_stability));
    if (p.min_stability_defaulted)
        return tier + " (the default; set policy.minStability or --min-stability to decide it)";
    return tier + " (set at " + p.min_stability_source + ")";
}

namespace {

std::string who(const Candidate &c, const Manifest &m) { return c.file.path.string() + ": plugin \"" + m.type + "\""; }

std::string gate_flag(const std::string &gate) {
    return "featureGates." + gate + ": true (or --feature-gates=" + gate + "=true)";
}

std::string min_flag(Stability tier) {
    const std::string t(to_string(tier));
    return "policy.minStability: \"" + t + "\" (or --min-stability=" + t + ")";
}

// Applies `check` to every candidate with a valid manifest.
template <class F> Rule for_each_manifest(F check) {
    return [check](std::vector<Candidate> &candidates) {
        for (Candidate &c : candidates)
            if (const Manifest *m = c.manifest()) check(c, *m);
    };
}

Rule tombstoned_types(std::shared_ptr<const Policy> p) {
    return for_each_manifest([p](Candidate &c, const Manifest &m) {
        if (const Tombstone *t = p->tombstones.find_plugin(m.type))
            c.reject(Code::tombstoned, c.file.path.string() + ": " + removal_text(*t, "plugin type") + " " +
                                           replacement_hint(*t) + ", and remove this file from the plugin directory");
        if (!m.feature_gate.empty())
            if (const Tombstone *t = p->tombstones.find_gate(m.feature_gate))
                c.reject(Code::tombstoned, who(c, m) + " declares " + removal_text(*t, "feature gate") + " " +
                                               replacement_hint(*t) + " in the plugin, or use a newer build of it");
    });
}

Rule maturity_pins(std::shared_ptr<const Policy> p) {
    return for_each_manifest([p](Candidate &c, const Manifest &m) {
        const MaturityPin *pin = p->maturity.find(m.type);
        if (!pin || pin->stability == m.stability) return;
        const std::string declared(to_string(m.stability)), pinned(to_string(pin->stability));
        if (m.stability < pin->stability)
            c.reject(Code::maturity_regression,
                     who(c, m) + " declares stability " + declared + ", but the maturity list (" + pin->source +
                         ") pins it at " + pinned + ": a regression is refused; use a build of the plugin that is " +
                         pinned + ", or change the maturity list if the downgrade is intended (a reviewed change)");
        else
            c.warn(Code::maturity_mismatch, who(c, m) + " declares stability " + declared +
                                                ", but the maturity list (" + pin->source + ") pins it at " + pinned +
                                                "; update the maturity list to record the promotion");
    });
}

Rule gate_tiers() {
    return [](std::vector<Candidate> &candidates) {
        std::map<std::string, std::vector<Candidate *>> by_gate;
        for (Candidate &c : candidates)
            if (const Manifest *m = c.manifest(); m && !m->feature_gate.empty()) by_gate[m->feature_gate].push_back(&c);
        for (auto &[gate, users] : by_gate) {
            const bool reserved = gate == kAllAlpha || gate == kAllBeta;
            bool mixed = false;
            for (Candidate *c : users)
                mixed = mixed || c->manifest()->stability != users.front()->manifest()->stability;
            if (!reserved && !mixed) continue;
            for (Candidate *c : users) {
                std::string tiers;
                for (Candidate *o : users)
                    tiers += (tiers.empty() ? "" : ", ") + o->manifest()->type + " (" +
                             std::string(to_string(o->manifest()->stability)) + ")";
                c->reject(Code::gate_tier_conflict,
                          reserved ? who(*c, *c->manifest()) + " declares the host's meta-gate " + gate +
                                         " as its own gate; rename the plugin's feature gate"
                                   : who(*c, *c->manifest()) + " shares feature gate " + gate +
                                         " with plugins of another tier: " + tiers +
                                         "; a gate has one tier, so give each tier its own gate");
            }
        }
    };
}

Rule stability_and_gates(std::shared_ptr<const Policy> p) {
    return [p](std::vector<Candidate> &candidates) {
        const FeatureGates gates(manifests_of(candidates), p->gates);
        for (Candidate &c : candidates) {
            const Manifest *m = c.manifest();
            if (!m) continue;
            const std::string tier(to_string(m->stability));
            const Gate *gate = m->feature_gate.empty() ? nullptr : gates.find(m->feature_gate);
            const auto value = gate ? gates.value(*gate) : FeatureGates::Value{true, ""};
            const bool below = m->stability < p->min_stability;
            if (below) {
                std::string todo = "to run it, set " + min_flag(m->stability);
                if (gate && !value.enabled) todo += " and " + gate_flag(gate->name) + ": both settings are needed";
                else if (gate)
                    todo += "; its gate " + gate->name + " is on, but a gate does not override the minimum stability";
                c.reject(Code::below_min_stability, who(c, *m) + " is " + tier + ", below the minimum stability " +
                                                        describe_min_stability(*p) + "; " + todo);
            }
            if (gate && !value.enabled) {
                std::string todo = "to run it, set " + gate_flag(gate->name);
                if (below) todo += " and " + min_flag(m->stability) + ": both settings are needed";
                if (m->stability == Stability::dev) todo += " (AllAlpha does not enable dev gates)";
                c.reject(Code::gate_disabled, who(c, *m) + " (" + tier + ") is gated by " + gate->name +
                                                  ", which is off (" + value.why + "); " + todo);
            }
        }
    };
}

// since and removedIn are versions of the plugin itself (the manifest's "version"), so a
// third-party plugin deprecates on its own release scale, whatever the host's version. Removal of
// a type across host releases is the tombstones' job (tombstoned_types).
Rule deprecation(std::shared_ptr<const Policy> p) {
    return for_each_manifest([p](Candidate &c, const Manifest &m) {
        if (!m.deprecation) return;
        const Deprecation &d = *m.deprecation;
        const std::string replacements =
            d.replacements.empty() ? "no replacement is named" : "replace it with " + quoted_list(d.replacements);
        const std::string notice = who(c, m) + " " + m.version.str() + " is deprecated since " + d.since.str() +
                                   " and is removed in " + d.removed_in.str() + " of this plugin: " + d.message + " (" +
                                   replacements + ")";
        if (m.version >= d.removed_in) {
            if (p->allow_past_removal.count(m.type))
                c.warn(Code::past_removal_allowed,
                       notice + "; this file is version " + m.version.str() +
                           ", at or past that removal, and runs only because policy.allowPastRemoval lists it: "
                           "migrate now");
            else
                c.reject(Code::past_removal, notice + "; this file is version " + m.version.str() +
                                                 ", at or past that removal: migrate, or allow "
                                                 "it for now with policy.allowPastRemoval: [\"" +
                                                 m.type + "\"]");
        } else if (p->reject_deprecated) {
            c.reject(Code::deprecated, notice + "; refused because policy.rejectDeprecated is true");
        } else {
            c.warn(Code::deprecated, notice);
        }
    });
}

}  // namespace

std::vector<Rule> policy_rules(std::shared_ptr<const Policy> policy) {
    std::vector<Rule> rules{tombstoned_types(policy), maturity_pins(policy), gate_tiers(), stability_and_gates(policy),
                            deprecation(policy)};
    // Last: only the files every other rule admitted are copied and hashed.
    if (policy->lock) rules.push_back(lock_rule(policy->lock));
    return rules;
}

std::vector<Rule> admission_rules(std::shared_ptr<const Policy> policy) {
    auto providers = std::make_shared<TypeProviders>();
    providers->chosen = policy->providers;
    if (policy->lock) {
        auto &locked = providers->locked.emplace();
        for (const auto &[file, entry] : policy->lock->files) locked[file] = entry.type;
    }
    std::vector<Rule> rules = file_rules();
    rules.push_back(unique_types(std::move(providers)));
    for (auto &rule : policy_rules(std::move(policy))) rules.push_back(std::move(rule));
    return rules;
}

}  // namespace plughost::host
