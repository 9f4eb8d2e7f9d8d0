#include "admission/feature_gates.hpp"

#include "common/suggest.hpp"

#include <algorithm>

namespace plughost::host {

std::optional<std::string> parse_gate_flag(std::string_view text, GateSettings &into) {
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = text.find(',', start);
        std::string_view entry = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
        start = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
        while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
        while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
        if (entry.empty()) continue;
        const std::size_t eq = entry.find('=');
        if (eq == std::string_view::npos)
            return "--feature-gates: \"" + std::string(entry) + "\" has no value; write " + std::string(entry) +
                   "=true or " + std::string(entry) + "=false";
        const std::string name(entry.substr(0, eq));
        std::string value(entry.substr(eq + 1));
        std::transform(value.begin(), value.end(), value.begin(), [](unsigned char c) { return std::tolower(c); });
        if (name.empty()) return "--feature-gates: an entry has no gate name before '='";
        if (value != "true" && value != "false")
            return "--feature-gates: " + name + "=" + std::string(entry.substr(eq + 1)) +
                   " is not a boolean; use true or false";
        into[name] = {value == "true", "--feature-gates"};
    }
    return std::nullopt;
}

FeatureGates::FeatureGates(const std::vector<const Manifest *> &manifests, GateSettings settings)
    : settings_(std::move(settings)) {
    gates_.push_back({std::string(kAllAlpha),
                      std::nullopt,
                      false,
                      false,
                      {"plughost"},
                      "Sets the default of every alpha gate not set explicitly (not dev gates)."});
    gates_.push_back({std::string(kAllBeta),
                      std::nullopt,
                      false,
                      false,
                      {"plughost"},
                      "Sets the default of every beta gate not set explicitly."});
    gates_.push_back({std::string(kUpstreamFlowControlGate),
                      std::nullopt,
                      false,
                      false,
                      {"upstream"},
                      "Upstream's flow control (request queuing, fairness, priority bands). plughost does not provide "
                      "it: on is an error.",
                      true});
    gates_.push_back({std::string(kUpstreamHaGate),
                      std::nullopt,
                      true,
                      false,
                      {"upstream"},
                      "Upstream's datastore population on non-leader replicas. plughost has no leader election: "
                      "accepted and ignored.",
                      true});
    std::map<std::string, Gate> declared;
    for (const Manifest *m : manifests) {
        if (m->feature_gate.empty() || m->feature_gate == kAllAlpha || m->feature_gate == kAllBeta ||
            m->feature_gate == kUpstreamFlowControlGate || m->feature_gate == kUpstreamHaGate)
            continue;
        Gate &g = declared[m->feature_gate];
        if (g.name.empty()) {
            g.name = m->feature_gate;
            g.stability = m->stability;
        } else {
            g.stability = std::min(*g.stability, m->stability);
        }
        g.declared_by.push_back(m->type);
    }
    for (auto &[name, g] : declared) {
        g.default_value = *g.stability >= Stability::beta;
        g.locked = *g.stability == Stability::stable;
        g.description =
            "Gates plugin " + quoted_list(g.declared_by) + " (" + std::string(to_string(*g.stability)) + ").";
        gates_.push_back(std::move(g));
    }
}

const Gate *FeatureGates::find(std::string_view name) const {
    for (const Gate &g : gates_)
        if (g.name == name) return &g;
    return nullptr;
}

FeatureGates::Value FeatureGates::value(const Gate &gate) const {
    if (gate.locked) return {true, "stable gates are locked on"};
    if (const auto it = settings_.find(gate.name); it != settings_.end())
        return {it->second.value,
                "set to " + std::string(it->second.value ? "true" : "false") + " at " + it->second.where};
    if (gate.stability == Stability::alpha)
        if (const auto it = settings_.find(kAllAlpha); it != settings_.end())
            return {it->second.value,
                    "AllAlpha=" + std::string(it->second.value ? "true" : "false") + " at " + it->second.where};
    if (gate.stability == Stability::beta)
        if (const auto it = settings_.find(kAllBeta); it != settings_.end())
            return {it->second.value,
                    "AllBeta=" + std::string(it->second.value ? "true" : "false") + " at " + it->second.where};
    if (gate.upstream)
        return {gate.default_value, std::string("upstream's default (") + (gate.default_value ? "on" : "off") + ")"};
    if (!gate.stability) return {gate.default_value, "off unless set"};
    return {gate.default_value,
            std::string(to_string(*gate.stability)) + " gates default to " + (gate.default_value ? "on" : "off")};
}

void FeatureGates::check_upstream(const Gate &gate, const GateSetting &setting, std::vector<Issue> &errors,
                                  std::vector<Issue> &warnings) {
    if (gate.name == kUpstreamFlowControlGate && setting.value)
        errors.push_back({setting.where, Code::upstream_feature,
                          "flow control (the upstream gate flowControl) is an upstream feature plughost does not "
                          "provide: plughost queues no requests and has no fairness or priority bands; it decides "
                          "every request at once",
                          "remove flowControl from the feature gates (or set it to false); the flowControl "
                          "section's settings are then ignored, as upstream ignores them"});
    else if (gate.name == kUpstreamHaGate)
        warnings.push_back({setting.where, Code::upstream_ignored,
                            "haPopulateNonLeaderDatastore is ignored: plughost has no leader election, every "
                            "process keeps its own endpoint data",
                            "remove it"});
}

void FeatureGates::check(const Tombstones &tombstones, std::vector<Issue> &errors, std::vector<Issue> &warnings) const {
    std::vector<std::string> known;
    for (const Gate &g : gates_) known.push_back(g.name);
    for (const auto &[name, setting] : settings_) {
        const Gate *gate = find(name);
        if (const Tombstone *t = tombstones.find_gate(name); t && !gate) {
            errors.push_back({setting.where, Code::tombstoned_gate, removal_text(*t, "feature gate"),
                              replacement_hint(*t) + " (remove " + name + " from " + setting.where + ")"});
        } else if (gate && gate->upstream) {
            check_upstream(*gate, setting, errors, warnings);
        } else if (!gate) {
            errors.push_back({setting.where, Code::unknown_gate,
                              "unknown feature gate \"" + name + "\"" + did_you_mean(name, known),
                              "known gates are those the plugins in the plugin directory declare, plus AllAlpha and "
                              "AllBeta; run `plughost gates` to list them"});
        } else if (gate->locked && !setting.value) {
            errors.push_back({setting.where, Code::locked_gate,
                              "feature gate " + name + " belongs to stable plugin " + quoted_list(gate->declared_by) +
                                  " and is locked to true; it cannot be set to false",
                              "remove the setting; to stop using the plugin, remove it from the config's plugins"});
        } else if (gate->locked) {
            warnings.push_back({setting.where, Code::gate_locked_on,
                                "feature gate " + name + " is stable and locked to true; setting it does nothing",
                                "remove the setting"});
        }
    }
}

}  // namespace plughost::host
