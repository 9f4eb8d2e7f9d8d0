#include "plan/preflight.hpp"

#include "common/json_document.hpp"
#include "common/suggest.hpp"
#include "plan/upstream.hpp"

#include <plughost/detail/json_kind.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace plughost::host {
namespace {

// Reads an operator-given tombstone or maturity file into the policy.
template <class Reader, class Target>
void add_data_file(const std::optional<std::string> &flag, const std::optional<std::string> &from_config,
                   const std::filesystem::path &config_dir, const std::string &config_path, Reader read, Target &into,
                   std::vector<Issue> &errors, std::optional<std::string> &io_error) {
    if (!flag && !from_config) return;
    std::filesystem::path file = flag ? *flag : *from_config;
    if (!flag && file.is_relative()) file = config_dir / file;  // config paths are relative to the config
    std::string unreadable;
    auto doc = load_json_document(file, unreadable);
    if (!doc) {
        if (flag) io_error = unreadable;
        else
            errors.push_back({config_path, Code::io_error, unreadable,
                              "fix the path (relative paths start at the config's directory)"});
        return;
    }
    if (doc->problem) {
        doc->problem->path = flag ? doc->problem->path : config_path;
        errors.push_back(*doc->problem);
        return;
    }
    for (Issue &issue : read(doc->value, file.string(), into)) {
        issue.message = file.string() + " at " + (issue.path.empty() ? "/" : issue.path) + ": " + issue.message;
        issue.path = flag ? "" : config_path;
        errors.push_back(std::move(issue));
    }
}

std::vector<std::string> declared_types(const std::vector<Candidate> &candidates) {
    std::set<std::string> types;
    for (const Candidate &c : candidates)
        if (auto t = c.declared_type()) types.insert(*t);
    return {types.begin(), types.end()};
}

// Each provider the operator chose must be a file of the plugin directory declaring that type:
// a choice naming nothing would otherwise refuse every file of the type with no visible cause.
void check_providers(const Policy &policy, const std::vector<Candidate> &candidates, std::vector<Issue> &errors) {
    for (const auto &[type, choice] : policy.providers) {
        const Candidate *file = nullptr;
        for (const Candidate &c : candidates)
            if (c.file.path.filename() == choice.file) file = &c;
        const std::string at = choice.source == "policy.providers" ? child("/policy/providers", type) : "";
        const std::string where =
            choice.source == "policy.providers" ? "" : "--provider " + type + "=" + choice.file + ": ";
        const std::string hint = "name the file that provides \"" + type +
                                 "\" (`plughost list` shows each file's type), or drop this choice";
        if (!file) {
            errors.push_back({at, Code::invalid_value,
                              where + "\"" + choice.file + "\" is not a plugin file in the plugin directory", hint});
        } else if (const auto declared = file->declared_type(); declared != type) {
            errors.push_back({at, Code::invalid_value,
                              where + file->file.path.string() + " declares plugin type " +
                                  (declared ? "\"" + *declared + "\"" : "none that could be read") + ", not \"" + type +
                                  "\"",
                              hint});
        }
    }
}

std::string reasons_text(const Candidate &c) {
    std::string out;
    for (const Reason &r : c.reasons)
        out += (out.empty() ? "" : "; ") + std::string("[") + std::string(to_string(r.code)) + "] " + r.message;
    return out;
}

void check_parameters(const PluginConfig &p, const Manifest &m, std::vector<Issue> &errors) {
    std::vector<std::string> names;
    for (const auto &spec : m.parameters) names.push_back(spec.name);
    for (const auto &kv : p.parameters) {
        const std::string at = child(child(p.path, "parameters"), kv.key());
        const ParameterSpec *spec = m.find_parameter(kv.key());
        if (!spec) {
            errors.push_back(
                {at, Code::unknown_parameter,
                 "plugin type \"" + m.type + "\" has no parameter \"" + std::string(kv.key()) + "\"" +
                     did_you_mean(kv.key(), names),
                 names.empty() ? "it takes no parameters"
                               : "its parameters are " + quoted_list(names) + "; `plughost inspect` describes them"});
        } else if (!plughost::detail::matches(spec->type, kv.value())) {
            errors.push_back({at, Code::parameter_type,
                              "parameter \"" + spec->name + "\" of \"" + m.type + "\" expects " +
                                  std::string(to_string(spec->type)) + ", found " + describe(kv.value()),
                              spec->name + ": " + spec->description});
        } else if (auto problem = parameter_violation(*spec, kv.value())) {
            errors.push_back({at, Code::parameter_range,
                              "parameter \"" + spec->name + "\" of \"" + m.type + "\" " + *problem,
                              spec->name + ": " + spec->description});
        }
    }
    for (const ParameterSpec &spec : m.parameters)
        if (spec.required && !p.parameters.contains(spec.name))
            errors.push_back({child(p.path, "parameters"), Code::missing_parameter,
                              "plugin \"" + p.name + "\" (" + m.type + ") needs parameter \"" + spec.name + "\" (" +
                                  std::string(to_string(spec.type)) + "), which the config does not give",
                              "add \"" + spec.name + "\" to its \"parameters\": " + spec.description});
}

class Planner {
public:
    Planner(Preflight &pf) : pf_(pf) {}

    void run() {
        plan_instances();
        // A config read only in part (over a structural limit) would give an error for every
        // reference into the part not read: its too-large error says what to fix first.
        if (pf_.config.over_limit) return;
        for (std::size_t i = 0; i < pf_.instances.size(); ++i) instance_index_.emplace(pf_.instances[i].name, i);
        for (const PluginConfig &p : pf_.config.plugins) configured_names_.insert(p.name);
        if (pf_.config.profiles.empty()) plan_default_profile();
        else plan_profiles();
        default_pickers();
        plan_profile_handler();
        plan_attributes();
    }

private:
    void error(std::string path, Code code, std::string message, std::string hint) {
        pf_.errors.push_back({std::move(path), code, std::move(message), std::move(hint)});
    }

    // The files whose type could not be read at all (unreadable, not regular, links), named
    // with their reason: an unknown type may be declared by one of them.
    const std::string &unreadable_files() {
        if (unreadable_) return *unreadable_;
        std::string &out = unreadable_.emplace();
        std::size_t n = 0;
        for (const Candidate &c : pf_.candidates) {
            if (c.declared_type() || c.file.reasons.empty()) continue;
            const Code code = c.file.reasons.front().code;
            if (code != Code::io_error && code != Code::not_a_regular_file && code != Code::symbolic_link) continue;
            if (n++ < 3) out += (out.empty() ? "" : "; ") + c.file.reasons.front().message;
        }
        if (n > 3) out += "; and " + std::to_string(n - 3) + " more (see `plughost list`)";
        return out;
    }
    std::optional<std::string> unreadable_;  // computed once, on first need

    std::optional<std::size_t> admitted_candidate(const std::string &type) const {
        for (std::size_t i = 0; i < pf_.candidates.size(); ++i)
            if (pf_.candidates[i].admitted() && pf_.candidates[i].manifest()->type == type) return i;
        return std::nullopt;
    }

    void plan_instances() {
        std::map<std::string, std::string> names;  // name -> path of first use
        const auto known = declared_types(pf_.candidates);
        for (const PluginConfig &p : pf_.config.plugins) {
            if (p.type.empty() || !is_plugin_type_name(p.type)) continue;  // already reported
            const std::string type_at = child(p.path, "type");
            if (auto [it, fresh] = names.emplace(p.name, p.path); !fresh) {
                error(child(p.path, "name"), Code::duplicate_name,
                      "plugin name \"" + p.name + "\" is already used at " + it->second,
                      "give each plugin a unique \"name\" (it defaults to the type)");
                continue;
            }
            if (const Tombstone *t = pf_.policy->tombstones.find_plugin(p.type)) {
                error(type_at, Code::tombstoned_type, removal_text(*t, "plugin type"), replacement_hint(*t));
                continue;
            }
            std::vector<const Candidate *> providers;
            for (const Candidate &c : pf_.candidates)
                if (c.declared_type() == p.type) providers.push_back(&c);
            if (providers.empty()) {
                error(type_at, Code::unknown_type,
                      "no plugin file declares type \"" + p.type + "\"" + unknown_type_why(p.type, known),
                      unknown_type_hint(p.type));
                continue;
            }
            const auto index = admitted_candidate(p.type);
            if (!index) {
                refused_type(type_at, p.type, providers);
                continue;
            }
            const Candidate &c = pf_.candidates[*index];
            check_parameters(p, *c.manifest(), pf_.errors);
            for (const Reason &w : c.warnings) pf_.warnings.push_back({type_at, w.code, w.message, ""});
            pf_.instances.push_back({p.name, p.type, c.manifest()->role, p.parameters, p.path, *index, false, {}});
        }
    }

    // No file of the type was admitted. Several files declaring it, none chosen, is one error
    // with the one fix; otherwise the reasons of the file that would provide it: the one the
    // operator chose, else the first.
    void refused_type(const std::string &type_at, const std::string &type,
                      const std::vector<const Candidate *> &providers) {
        std::vector<const Candidate *> colliding;
        for (const Candidate *c : providers)
            if (std::any_of(c->reasons.begin(), c->reasons.end(),
                            [](const Reason &r) { return r.code == Code::duplicate_type; }))
                colliding.push_back(c);
        if (!colliding.empty()) {
            std::string files;
            for (std::size_t i = 0; i < colliding.size() && i < 3; ++i)
                files += (files.empty() ? "" : ", ") + colliding[i]->file.path.filename().string();
            if (colliding.size() > 3) files += " and " + std::to_string(colliding.size() - 3) + " more";
            const std::string first = colliding.front()->file.path.filename().string();
            error(type_at, Code::duplicate_type,
                  "plugin type \"" + type + "\" is declared by " + std::to_string(colliding.size()) +
                      " files in the plugin directory (" + files + "), and none is chosen, so none of them is admitted",
                  "choose the file that provides it with policy.providers: {\"" + type + "\": \"" + first +
                      "\"} (or --provider " + type + "=" + first + "), or remove the others from the plugin directory");
            return;
        }
        const Candidate *shown = providers.front();
        if (const auto it = pf_.policy->providers.find(type); it != pf_.policy->providers.end())
            for (const Candidate *c : providers)
                if (c->file.path.filename() == it->second.file) shown = c;
        error(type_at, Code::plugin_refused,
              "plugin type \"" + type + "\" is refused by admission: " + reasons_text(*shown),
              "each reason above says what to change; `plughost list` shows every file's decision");
    }

    // Why no file declares a type: unreadable files, an in-tree plugin of upstream's type that
    // is not installed, or a typo (did-you-mean).
    std::string unknown_type_why(const std::string &type, const std::vector<std::string> &known) {
        if (const std::string &unread = unreadable_files(); !unread.empty())
            return "; but some files could not be read, and one of them may: " + unread;
        if (const UpstreamType *row = find_upstream_type(type); row && row->status == UpstreamStatus::plugin)
            return ": it is an in-tree plugin of plughost (upstream's type of that name), not installed in the "
                   "plugin directory";
        return type_suggestions_.did_you_mean(type, known);
    }

    std::string unknown_type_hint(const std::string &type) {
        if (!unreadable_files().empty()) return "fix what stops those files from being read, then check again";
        if (const UpstreamType *row = find_upstream_type(type); row && row->status == UpstreamStatus::plugin)
            return "install plughost's in-tree plugins (the build puts them in build/plugins) or put " + type +
                   ".so in the plugin directory; `plughost list` shows the types found there";
        return "`plughost list` shows the types found in the plugin directory; add the plugin's .so there";
    }

    std::optional<std::size_t> instance_named(const std::string &name) const {
        const auto it = instance_index_.find(name);
        return it == instance_index_.end() ? std::nullopt : std::optional(it->second);
    }

    bool configured_but_unusable(const std::string &name) const { return configured_names_.count(name) != 0; }

    void plan_profiles() {
        std::map<std::string, std::string> profile_names;
        std::vector<std::string> all_names;
        for (const PluginConfig &p : pf_.config.plugins) all_names.push_back(p.name);
        for (const ProfileConfig &cfg : pf_.config.profiles) {
            if (auto [it, fresh] = profile_names.emplace(cfg.name, cfg.path); !fresh && !cfg.name.empty())
                error(child(cfg.path, "name"), Code::duplicate_name,
                      "profile name \"" + cfg.name + "\" is already used at " + it->second,
                      "give each profile a unique name");
            PlannedProfile profile;
            profile.name = cfg.name;
            std::vector<std::size_t> pickers;
            std::set<std::string> refs_seen;
            for (const PluginRefConfig &ref : cfg.plugins) {
                if (ref.plugin_ref.empty()) continue;  // already reported
                const std::string ref_at = child(ref.path, "pluginRef");
                if (!refs_seen.insert(ref.plugin_ref).second) {
                    error(ref_at, Code::duplicate_plugin_ref,
                          "plugin \"" + ref.plugin_ref + "\" appears twice in profile \"" + cfg.name + "\"",
                          "list each plugin once; configure a second instance under another name to run it twice");
                    continue;
                }
                const auto index = instance_named(ref.plugin_ref);
                if (!index) {
                    incomplete_.insert(cfg.name);
                    if (!configured_but_unusable(ref.plugin_ref))
                        error(ref_at, Code::undefined_plugin_ref,
                              "no plugin named \"" + ref.plugin_ref + "\" is defined" +
                                  ref_suggestions_.did_you_mean(ref.plugin_ref, all_names),
                              "pluginRef names an entry of /plugins by its \"name\" (which defaults to its type)");
                    continue;
                }
                const PlannedInstance &inst = pf_.instances[*index];
                if (!in_profile(inst.role)) {
                    // Upstream ignores such a reference too: the plugin runs for every request.
                    pf_.warnings.push_back(
                        {ref_at, Code::not_a_profile_stage,
                         "\"" + inst.name + "\" is a " + std::string(to_string(inst.role)) +
                             ", not a profile stage: it runs for every request whatever the profile, so its place "
                             "in profile \"" +
                             cfg.name + "\" is ignored",
                         "remove the reference; keep the plugin in /plugins"});
                    continue;
                }
                used_.insert(*index);
                check_weight(ref, inst);
                if (ref.shadow) {
                    profile.shadows.emplace_back(*index, ref.weight.value_or(1.0));
                    continue;
                }
                switch (inst.role) {
                case Role::filter: profile.filters.push_back(*index); break;
                case Role::scorer: profile.scorers.emplace_back(*index, ref.weight.value_or(1.0)); break;
                default: pickers.push_back(*index); break;
                }
            }
            check_weight_sum(profile, cfg.path);
            if (pickers.size() > 1) {
                std::vector<std::string> names;
                for (auto i : pickers) names.push_back(pf_.instances[i].name);
                error(cfg.path, Code::multiple_pickers,
                      "profile \"" + cfg.name + "\" has " + std::to_string(pickers.size()) +
                          " pickers: " + quoted_list(names),
                      "keep exactly one picker per profile (run others in shadow: \"shadow\": true)");
                continue;
            }
            if (pickers.empty()) profile.picker_defaulted = true;
            else profile.picker = pickers.front();
            pf_.profiles.push_back(std::move(profile));
        }
        for (std::size_t i = 0; i < pf_.instances.size(); ++i)
            if (!used_.count(i) && in_profile(pf_.instances[i].role) && !pf_.instances[i].implicit)
                pf_.warnings.push_back({pf_.instances[i].path, Code::unused_plugin,
                                        "plugin \"" + pf_.instances[i].name + "\" is configured but used by no profile",
                                        "reference it from a scheduling profile, or remove it"});
    }

    void check_weight(const PluginRefConfig &ref, const PlannedInstance &inst) {
        // A bad weight is reported, and the plugin still counts in its role, so the profile is
        // not also said to lack a picker.
        if (ref.weight && inst.role != Role::scorer) {
            error(child(ref.path, "weight"), Code::weight_on_non_scorer,
                  "\"" + inst.name + "\" is a " + std::string(to_string(inst.role)) + "; only scorers take a weight",
                  "remove the weight");
        } else if (ref.weight && (!std::isfinite(*ref.weight) || *ref.weight < 0)) {
            error(child(ref.path, "weight"), Code::invalid_weight,
                  "weight must be a finite number >= 0, found " + fmt::format("{:g}", *ref.weight),
                  "a scorer's weight multiplies its score in [0, 1]; 0 disables it");
        }
    }

    void check_weight_sum(const PlannedProfile &profile, const std::string &path) {
        double weight_sum = 0;
        for (const auto &scorer : profile.scorers) weight_sum += scorer.second;
        for (const auto &shadow : profile.shadows) weight_sum += shadow.second;
        if (!(weight_sum <= kMaxWeightSum))  // also catches an overflow to infinity
            error(path, Code::invalid_weight,
                  "the scorer weights of profile \"" + profile.name + "\" add up to " +
                      fmt::format("{:g}", weight_sum) + ", more than " + fmt::format("{:g}", kMaxWeightSum) +
                      ": totals that large lose precision or overflow",
                  "weights are relative: divide them all by the same number");
    }

    // Like the upstream picker: every configured filter in order, every scorer at weight 1, and
    // the configured picker (the default picker when there is none).
    void plan_default_profile() {
        if (pf_.config.plugins.empty()) {
            for (const Issue &e : pf_.errors)
                if (e.path.rfind("/plugins", 0) == 0) return;  // already reported as malformed
            error("/plugins", Code::missing_field, "the config configures no plugins",
                  "add at least a picker, e.g. {\"type\": \"max-score-picker\"}");
            return;
        }
        PlannedProfile profile;
        profile.name = "default";
        profile.defaulted = true;
        std::vector<std::size_t> pickers;
        for (std::size_t i = 0; i < pf_.instances.size(); ++i) {
            switch (pf_.instances[i].role) {
            case Role::filter: profile.filters.push_back(i); break;
            case Role::scorer: profile.scorers.emplace_back(i, 1.0); break;
            case Role::picker: pickers.push_back(i); break;
            default: break;
            }
        }
        if (pickers.size() > 1) {
            error("/schedulingProfiles", Code::multiple_pickers,
                  "without schedulingProfiles, plughost builds one default profile, but " +
                      std::to_string(pickers.size()) + " pickers are configured",
                  "define schedulingProfiles, each naming one picker");
            return;
        }
        if (pickers.empty()) profile.picker_defaulted = true;
        else profile.picker = pickers.front();
        // A configured plugin that could not be planned (its error is reported) may be the
        // picker this profile lacks: not "no picker" on top of that.
        if (std::any_of(pf_.config.plugins.begin(), pf_.config.plugins.end(),
                        [&](const PluginConfig &p) { return !instance_named(p.name); }))
            incomplete_.insert(profile.name);
        pf_.profiles.push_back(std::move(profile));
    }

    // A profile without a picker gets the first configured picker, else max-score-picker with
    // its defaults (as upstream does), with a warning.
    void default_pickers() {
        std::optional<std::size_t> picker;
        for (std::size_t i = 0; i < pf_.instances.size() && !picker; ++i)
            if (pf_.instances[i].role == Role::picker) picker = i;
        for (PlannedProfile &profile : pf_.profiles) {
            if (!profile.picker_defaulted) continue;
            const std::string at = profile.defaulted ? "/plugins" : profile_path(profile.name);
            if (incomplete_.count(profile.name)) continue;  // its errors come first
            if (!picker) {
                const auto index = admitted_candidate("max-score-picker");
                if (!index) {
                    error(at, Code::no_picker,
                          "profile \"" + profile.name +
                              "\" has no picker, and max-score-picker, the default, is not available",
                          "add a picker to the profile, or put max-score-picker.so in the plugin directory");
                    return;
                }
                picker = add_implicit("max-score-picker", *index);
            }
            profile.picker = *picker;
            used_.insert(*picker);
            pf_.warnings.push_back(
                {at, Code::picker_defaulted,
                 "profile \"" + profile.name + "\" has no picker: it uses \"" + pf_.instances[*picker].name + "\"",
                 "name its picker in the profile to make the choice explicit"});
        }
    }

    std::string profile_path(const std::string &name) const {
        for (const ProfileConfig &cfg : pf_.config.profiles)
            if (cfg.name == name) return cfg.path;
        return "/schedulingProfiles";
    }

    // An instance plughost adds itself, of an admitted type, with the manifest's defaults.
    std::size_t add_implicit(const std::string &type, std::size_t candidate) {
        PlannedInstance inst;
        inst.name = type;
        inst.type = type;
        inst.role = pf_.candidates[candidate].manifest()->role;
        inst.candidate = candidate;
        inst.implicit = true;
        pf_.instances.push_back(std::move(inst));
        instance_index_.emplace(type, pf_.instances.size() - 1);
        return pf_.instances.size() - 1;
    }

    void plan_profile_handler() {
        std::vector<std::size_t> handlers;
        for (std::size_t i = 0; i < pf_.instances.size(); ++i)
            if (pf_.instances[i].role == Role::profile_handler) handlers.push_back(i);
        if (handlers.size() > 1) {
            std::vector<std::string> names;
            for (auto i : handlers) names.push_back(pf_.instances[i].name);
            error(pf_.instances[handlers[1]].path, Code::multiple_profile_handlers,
                  "the config has " + std::to_string(handlers.size()) + " profile handlers: " + quoted_list(names),
                  "keep one: a profile handler chooses the profiles of every request");
            return;
        }
        if (!handlers.empty()) pf_.profile_handler = handlers.front();
    }

    // Producers and consumers of attributes: each attribute has one producer; a required one
    // without a producer in the config gets the consumer's default producer, as upstream does;
    // the producers run in an order where each runs after the producers of what it consumes.
    void plan_attributes() {
        std::map<std::string, std::size_t> produced_by;  // attribute -> instance
        std::map<std::string, std::int32_t> ids;
        auto manifest_of = [&](std::size_t i) { return pf_.candidates[pf_.instances[i].candidate].manifest(); };
        // Instances are appended while this runs (default producers): index, not iterators.
        for (std::size_t i = 0; i < pf_.instances.size(); ++i) {
            const Manifest &m = *manifest_of(i);
            for (const ProducedAttribute &a : m.produces) {
                if (auto [it, fresh] = produced_by.emplace(a.name, i); !fresh) {
                    error(type_path(i), Code::duplicate_attribute,
                          "attribute \"" + a.name + "\" is produced by both \"" + pf_.instances[it->second].name +
                              "\" and \"" + pf_.instances[i].name + "\"",
                          "keep one producer of each attribute");
                    continue;
                }
                ids.emplace(a.name, static_cast<std::int32_t>(pf_.attributes.size()));
                pf_.attributes.push_back({a.name, a.scope, a.type});
            }
            if (m.role == Role::producer) pf_.producers.push_back(i);
            for (const ConsumedAttribute &c : m.consumes) {
                if (produced_by.count(c.name) || provided_later(c.name, i)) continue;
                if (!c.required) {
                    pf_.warnings.push_back({type_path(i), Code::missing_producer,
                                            "plugin \"" + pf_.instances[i].name + "\" can use attribute \"" + c.name +
                                                "\", which no configured plugin produces: it does without",
                                            "configure a producer of it to give the plugin that data"});
                    continue;
                }
                const auto index = c.default_producer.empty() ? std::nullopt : admitted_candidate(c.default_producer);
                if (!index) {
                    error(type_path(i), Code::missing_producer,
                          "plugin \"" + pf_.instances[i].name + "\" needs attribute \"" + c.name +
                              "\", which no configured plugin produces" +
                              (c.default_producer.empty()
                                   ? std::string()
                                   : "; its default producer \"" + c.default_producer + "\" is not available"),
                          c.default_producer.empty()
                              ? "configure a plugin that produces it (`plughost inspect` shows what a plugin produces)"
                              : "configure a producer of it, or put " + c.default_producer +
                                    ".so in the plugin directory (admitted by the policy)");
                    continue;
                }
                if (instance_named(c.default_producer)) continue;  // added already, for another consumer
                add_implicit(c.default_producer, *index);
                pf_.warnings.push_back({type_path(i), Code::producer_defaulted,
                                        "plugin \"" + pf_.instances[i].name + "\" needs attribute \"" + c.name +
                                            "\": plughost adds its default producer \"" + c.default_producer +
                                            "\" with its default parameters",
                                        "configure the producer to choose its parameters"});
            }
        }
        for (std::size_t i = 0; i < pf_.instances.size(); ++i) {
            const Manifest &m = *manifest_of(i);
            for (const ProducedAttribute &a : m.produces)
                if (produced_by[a.name] == i) pf_.instances[i].attributes.push_back({a.name, ids[a.name], true});
            for (const ConsumedAttribute &c : m.consumes)
                if (const auto it = ids.find(c.name); it != ids.end())
                    pf_.instances[i].attributes.push_back({c.name, it->second, false});
        }
        order_producers(produced_by);
    }

    // True when an instance after `consumer` produces `name` (checked in order, so the first
    // pass must not add a default producer the config configures further down).
    bool provided_later(const std::string &name, std::size_t consumer) const {
        for (std::size_t j = consumer + 1; j < pf_.instances.size(); ++j)
            for (const ProducedAttribute &a : pf_.candidates[pf_.instances[j].candidate].manifest()->produces)
                if (a.name == name) return true;
        return false;
    }

    // Depth-first topological order of the producers over "consumes what the other produces";
    // a cycle is an error naming it.
    void order_producers(const std::map<std::string, std::size_t> &produced_by) {
        std::vector<std::size_t> order;
        std::map<std::size_t, int> state;  // 1: on the current path, 2: done
        std::vector<std::size_t> path;
        bool cycle = false;
        std::function<void(std::size_t)> visit = [&](std::size_t p) {
            if (cycle || state[p] == 2) return;
            if (state[p] == 1) {
                std::string names;
                auto from = std::find(path.begin(), path.end(), p);
                for (auto it = from; it != path.end(); ++it) names += pf_.instances[*it].name + " -> ";
                error(type_path(p), Code::producer_cycle,
                      "producers consume each other's attributes in a cycle: " + names + pf_.instances[p].name,
                      "break the cycle: a producer cannot run after itself");
                cycle = true;
                return;
            }
            state[p] = 1;
            path.push_back(p);
            for (const ConsumedAttribute &c : pf_.candidates[pf_.instances[p].candidate].manifest()->consumes)
                if (const auto it = produced_by.find(c.name); it != produced_by.end() && it->second != p)
                    visit(it->second);
            path.pop_back();
            state[p] = 2;
            order.push_back(p);
        };
        for (std::size_t p : pf_.producers) visit(p);
        if (!cycle) pf_.producers = std::move(order);
    }

    std::string type_path(std::size_t instance) const {
        const std::string &path = pf_.instances[instance].path;
        return path.empty() ? "" : child(path, "type");
    }

    Preflight &pf_;
    // Hashed, as a config may hold thousands of references (a scan per reference was quadratic).
    std::unordered_map<std::string, std::size_t> instance_index_;  // planned instance by name
    std::unordered_set<std::string> configured_names_;             // every configured plugin name
    // Did-you-mean for the first mistakes of each kind only: 20,000 took 150 s.
    Suggester type_suggestions_{kSuggestionsPerKind};
    Suggester ref_suggestions_{kSuggestionsPerKind};
    std::set<std::size_t> used_;        // instances some profile references
    std::set<std::string> incomplete_;  // profiles with a reference that did not resolve
};

}  // namespace

std::shared_ptr<Policy> make_policy(const Config &config, const std::filesystem::path &config_dir,
                                    const PolicyOverrides &overrides, std::vector<Issue> &errors,
                                    std::vector<Issue> &warnings, std::optional<std::string> &io_error) {
    auto policy = std::make_shared<Policy>();
    if (overrides.min_stability) {
        policy->min_stability = *overrides.min_stability;
        policy->min_stability_defaulted = false;
        policy->min_stability_source = "--min-stability";
    } else if (config.policy.min_stability) {
        policy->min_stability = *config.policy.min_stability;
        policy->min_stability_defaulted = false;
        policy->min_stability_source = "/policy/minStability";
    } else {
        warnings.push_back({"/policy/minStability", Code::min_stability_defaulted,
                            "minStability is not set, so it defaults to beta: alpha and dev plugins are refused",
                            "set policy.minStability (or --min-stability) to make this an explicit decision"});
    }
    policy->gates = config.feature_gates;
    for (const auto &[name, setting] : overrides.feature_gates) policy->gates[name] = setting;
    policy->reject_deprecated = overrides.reject_deprecated.value_or(config.policy.reject_deprecated.value_or(false));
    for (const auto &t : config.policy.allow_past_removal) policy->allow_past_removal.insert(t);
    for (const auto &t : overrides.allow_past_removal) policy->allow_past_removal.insert(t);
    add_data_file(overrides.tombstones_file, config.policy.tombstones_file, config_dir, "/policy/tombstonesFile",
                  read_tombstones, policy->tombstones, errors, io_error);
    add_data_file(overrides.maturity_file, config.policy.maturity_file, config_dir, "/policy/maturityFile",
                  read_maturity, policy->maturity, errors, io_error);
    if (overrides.lock_file || config.policy.lock_file) {
        PluginLock lock;
        add_data_file(overrides.lock_file, config.policy.lock_file, config_dir, "/policy/lockFile", read_lock, lock,
                      errors, io_error);
        // A lock with errors (reported) still applies: its valid entries pin, every other file is
        // refused, so a broken lock never admits more than a good one.
        if (!io_error) policy->lock = std::make_shared<const PluginLock>(std::move(lock));
    }
    policy->check_owner =
        !(overrides.allow_unsafe_permissions || config.policy.allow_unsafe_permissions.value_or(false));
    for (const auto &[type, file] : config.policy.providers) policy->providers[type] = {file, "policy.providers"};
    for (const auto &[type, file] : overrides.providers) policy->providers[type] = {file, "--provider"};
    return policy;
}

Preflight preflight(const PreflightInputs &in) {
    Preflight pf;
    std::filesystem::path config_dir = ".";
    bool config_readable = true;  // false when the config text is not a usable document
    switch (in.config_source) {
    case ConfigSource::none: pf.config.source = "no config"; break;
    case ConfigSource::built_in:
        pf.config = read_config(default_config_document(), "the built-in default config", pf.errors);
        break;
    case ConfigSource::file: {
        std::string unreadable;
        auto doc = load_json_document(in.config_file, unreadable);
        if (!doc) {
            pf.io_error = "config: " + unreadable;
            return pf;
        }
        config_dir = in.config_file.parent_path();
        if (doc->problem) {
            pf.errors.push_back(*doc->problem);
            pf.config.source = in.config_file.string();
            config_readable = false;
        } else {
            pf.config = read_config(doc->value, in.config_file.string(), pf.errors);
            // Not an object: read_config said so, and there is nothing to plan from.
            config_readable = doc->value.is_object();
        }
        break;
    }
    }
    pf.policy = make_policy(pf.config, config_dir, in.overrides, pf.errors, pf.warnings, pf.io_error);
    if (pf.io_error) return pf;

    pf.plugin_dir = in.plugin_dir;
    if (!in.plugin_dir_given && pf.config.plugin_dir) {
        pf.plugin_dir = *pf.config.plugin_dir;
        if (pf.plugin_dir.is_relative()) pf.plugin_dir = config_dir / pf.plugin_dir;
        std::error_code ec;
        if (!std::filesystem::is_directory(pf.plugin_dir, ec)) {
            const bool exists = std::filesystem::exists(pf.plugin_dir, ec);
            pf.io_error = pf.config.source + ": /pluginDir: expected a directory of plugin files, found " +
                          (exists ? "\"" + pf.plugin_dir.string() + "\", which is not a directory"
                                  : "no directory at \"" + pf.plugin_dir.string() + "\"") +
                          " (\"" + *pf.config.plugin_dir +
                          "\"; a relative path starts at the config's directory); create it or fix pluginDir "
                          "(--plugin-dir or $PLUGHOST_PLUGIN_DIR override it)";
            return pf;
        }
    }

    const auto rules = admission_rules(pf.policy);
    // A lock hashes the admitted files from their open descriptors.
    auto admission =
        admit_directory(pf.plugin_dir, rules, in.keep_files_open || pf.policy->lock != nullptr, pf.policy->check_owner);
    if (admission.error) {
        pf.io_error = *admission.error;
        return pf;
    }
    pf.candidates = std::move(admission.candidates);
    check_providers(*pf.policy, pf.candidates, pf.errors);
    FeatureGates(manifests_of(pf.candidates), pf.policy->gates).check(pf.policy->tombstones, pf.errors, pf.warnings);
    // A config that could not be read has nothing to plan: its one error says why.
    if (in.config_source != ConfigSource::none && config_readable) Planner(pf).run();
    return pf;
}

}  // namespace plughost::host
