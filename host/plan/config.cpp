#include "plan/config.hpp"

#include "common/json_document.hpp"
#include "common/suggest.hpp"
#include "embedded_data.hpp"
#include "plan/upstream.hpp"

#include <algorithm>
#include <stdexcept>

namespace plughost::host {
namespace {

// How many elements of `list` to read: all, or the first `limit` after one too-large issue at
// `path` ("<owner> lists <n> <counted>; the limit is <limit>").
std::size_t within_limit(const boost::json::array &list, std::size_t limit, const std::string &path,
                         const std::string &owner, std::string_view counted, Config &config,
                         std::vector<Issue> &issues) {
    if (list.size() <= limit) return list.size();
    issues.push_back({path, Code::too_large,
                      owner + " lists " + std::to_string(list.size()) + " " + std::string(counted) + "; the limit is " +
                          std::to_string(limit),
                      "only the first " + std::to_string(limit) +
                          " were read, and the references between plugins and profiles were not checked: remove "
                          "the entries nothing needs"});
    config.over_limit = true;
    return limit;
}

}  // namespace

bool is_plugin_file_name(std::string_view s) {
    // What discovery reads (inspect/discovery.cpp): a name ending in .so, not hidden.
    return s.size() > 3 && s.size() <= 255 && s.front() != '.' && s.ends_with(".so") &&
           s.find('/') == std::string_view::npos &&
           std::none_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

namespace {

bool is_instance_name(std::string_view s) {
    if (s.empty() || s.size() > 128) return false;
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
    return true;
}

const boost::json::object *object_at(const boost::json::value &v, const std::string &path, std::string_view what,
                                     std::vector<Issue> &issues) {
    if (v.is_object()) return &v.get_object();
    issues.push_back(wrong_type(path, what, v));
    return nullptr;
}

std::optional<std::string> string_at(const boost::json::object &o, std::string_view key, const std::string &path,
                                     bool required, std::vector<Issue> &issues,
                                     std::string_view expected = "a string") {
    const auto *v = o.if_contains(key);
    if (!v) {
        if (required)
            issues.push_back({child(path, key), Code::missing_field,
                              "missing required field \"" + std::string(key) + "\"", "add it"});
        return std::nullopt;
    }
    if (!v->is_string()) {
        issues.push_back(wrong_type(child(path, key), expected, *v));
        return std::nullopt;
    }
    return std::string(v->get_string());
}

// policy.providers: {"queue-scorer": "queue-scorer.so"}, a plugin type to a file name in the
// plugin directory (no directory: the choice is among the files there).
void read_providers(const boost::json::object &policy, Config &config, std::vector<Issue> &issues) {
    const auto *v = policy.if_contains("providers");
    if (!v) return;
    if (!v->is_object()) {
        issues.push_back(wrong_type("/policy/providers", "an object mapping plugin types to file names", *v));
        return;
    }
    for (const auto &kv : v->get_object()) {
        const std::string at = child("/policy/providers", kv.key());
        if (!is_plugin_type_name(kv.key())) {
            issues.push_back({at, Code::invalid_value, "\"" + std::string(kv.key()) + "\" is not a plugin type",
                              "keys are plugin types ([a-z0-9-], 1-63 characters), such as \"queue-scorer\""});
            continue;
        }
        if (!kv.value().is_string() || !is_plugin_file_name(kv.value().get_string())) {
            issues.push_back(
                wrong_type(at, "a file name in the plugin directory, such as \"queue-scorer.so\"", kv.value()));
            continue;
        }
        config.policy.providers[std::string(kv.key())] = std::string(kv.value().get_string());
    }
}

void read_policy(const boost::json::value &v, Config &config, std::vector<Issue> &issues) {
    const auto *o = object_at(v, "/policy", "an object", issues);
    if (!o) return;
    check_keys(*o, "/policy",
               {"minStability", "rejectDeprecated", "allowPastRemoval", "tombstonesFile", "maturityFile", "lockFile",
                "allowUnsafePermissions", "providers"},
               issues);
    if (const auto tier = string_at(*o, "minStability", "/policy", false, issues)) {
        config.policy.min_stability = parse_stability(*tier);
        if (!config.policy.min_stability)
            issues.push_back(
                {"/policy/minStability", Code::invalid_value,
                 "\"" + *tier + "\" is not a stability tier" + did_you_mean(*tier, {"dev", "alpha", "beta", "stable"}),
                 "use one of \"dev\", \"alpha\", \"beta\", \"stable\""});
    }
    if (const auto *r = o->if_contains("rejectDeprecated")) {
        if (r->is_bool()) config.policy.reject_deprecated = r->get_bool();
        else issues.push_back(wrong_type("/policy/rejectDeprecated", "true or false", *r));
    }
    if (const auto *a = o->if_contains("allowPastRemoval")) {
        if (!a->is_array()) {
            issues.push_back(wrong_type("/policy/allowPastRemoval", "an array of plugin types", *a));
        } else {
            for (std::size_t i = 0; i < a->get_array().size(); ++i) {
                const auto &t = a->get_array()[i];
                if (t.is_string() && is_plugin_type_name(t.get_string()))
                    config.policy.allow_past_removal.emplace_back(t.get_string());
                else issues.push_back(wrong_type(child("/policy/allowPastRemoval", i), "a plugin type", t));
            }
        }
    }
    config.policy.tombstones_file = string_at(*o, "tombstonesFile", "/policy", false, issues, "a file path");
    config.policy.maturity_file = string_at(*o, "maturityFile", "/policy", false, issues, "a file path");
    config.policy.lock_file = string_at(*o, "lockFile", "/policy", false, issues, "a file path");
    if (const auto *u = o->if_contains("allowUnsafePermissions")) {
        if (u->is_bool()) config.policy.allow_unsafe_permissions = u->get_bool();
        else issues.push_back(wrong_type("/policy/allowUnsafePermissions", "true or false", *u));
    }
    read_providers(*o, config, issues);
}

// A gate's value in the upstream list form ("name=value"), read as Go's strconv.ParseBool
// reads it after lower-casing, as upstream does.
std::optional<bool> parse_gate_value(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    std::string v(text);
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
    if (v == "1" || v == "t" || v == "true") return true;
    if (v == "0" || v == "f" || v == "false") return false;
    return std::nullopt;
}

void read_gates(const boost::json::value &v, Config &config, std::vector<Issue> &issues) {
    if (v.is_object()) {
        for (const auto &kv : v.get_object()) {
            const std::string at = child("/featureGates", kv.key());
            if (kv.value().is_bool()) config.feature_gates[std::string(kv.key())] = {kv.value().get_bool(), at};
            else issues.push_back(wrong_type(at, "true or false", kv.value()));
        }
    } else if (v.is_array()) {  // the upstream list form: "name" (on), "name=true", "name=false"
        for (std::size_t i = 0; i < v.get_array().size(); ++i) {
            const auto &g = v.get_array()[i];
            const std::string at = child("/featureGates", i);
            if (!g.is_string()) {
                issues.push_back(wrong_type(at, "a gate name, \"name=true\" or \"name=false\"", g));
                continue;
            }
            const std::string_view entry = g.get_string();
            const std::size_t eq = entry.find('=');
            const std::string name(entry.substr(0, eq));
            std::optional<bool> value = true;
            if (eq != std::string_view::npos) value = parse_gate_value(entry.substr(eq + 1));
            if (name.empty() || !value) {
                issues.push_back({at, Code::invalid_value,
                                  "\"" + std::string(entry) + "\" is not a gate setting" +
                                      (name.empty() ? ": it has no gate name" : ": its value is not a boolean"),
                                  "write \"Name\", \"Name=true\" or \"Name=false\" (values as Go reads them: "
                                  "true, false, t, f, 1, 0, in any case)"});
                continue;
            }
            config.feature_gates[name] = {*value, at};
        }
    } else {
        issues.push_back(
            wrong_type("/featureGates", "an object {\"Gate\": true} or a list [\"Gate\", \"Other=false\"]", v));
    }
}

void read_plugins(const boost::json::value &v, Config &config, std::vector<Issue> &issues) {
    if (!v.is_array()) {
        issues.push_back(wrong_type("/plugins", "an array of plugins {type, name, parameters}", v));
        return;
    }
    const std::size_t count =
        within_limit(v.get_array(), kMaxConfigPlugins, "/plugins", "the config", "plugins", config, issues);
    for (std::size_t i = 0; i < count; ++i) {
        const std::string at = child("/plugins", i);
        const auto *o = object_at(v.get_array()[i], at, "an object {type, name, parameters}", issues);
        if (!o) continue;
        check_keys(*o, at, {"type", "name", "parameters"}, issues);
        PluginConfig p;
        p.path = at;
        const auto type = string_at(*o, "type", at, true, issues, "a plugin type");
        if (type && !is_plugin_type_name(*type)) {
            issues.push_back({child(at, "type"), Code::invalid_value, "\"" + *type + "\" is not a plugin type",
                              "plugin types are 1-63 characters of [a-z0-9-], e.g. \"queue-scorer\""});
        }
        p.type = type.value_or("");
        const auto name = string_at(*o, "name", at, false, issues, "an instance name");
        if (name && !is_instance_name(*name))
            issues.push_back({child(at, "name"), Code::invalid_value,
                              "instance names are 1-128 printable characters, found \"" + *name + "\"", ""});
        p.name = name.value_or(p.type);
        if (const auto *params = o->if_contains("parameters")) {
            if (params->is_object()) p.parameters = params->get_object();
            else
                issues.push_back(
                    {child(at, "parameters"), Code::parameters_not_object,
                     "parameters must be an object, found " + describe(*params),
                     "write them as {\"name\": value, ...}; run `plughost inspect` on the plugin to see them"});
        }
        config.plugins.push_back(std::move(p));
    }
}

void read_profiles(const boost::json::value &v, Config &config, std::vector<Issue> &issues) {
    if (!v.is_array()) {
        issues.push_back(wrong_type("/schedulingProfiles", "an array of profiles {name, plugins}", v));
        return;
    }
    const std::size_t count = within_limit(v.get_array(), kMaxConfigProfiles, "/schedulingProfiles", "the config",
                                           "scheduling profiles", config, issues);
    for (std::size_t i = 0; i < count; ++i) {
        const std::string at = child("/schedulingProfiles", i);
        const auto *o = object_at(v.get_array()[i], at, "an object {name, plugins}", issues);
        if (!o) continue;
        check_keys(*o, at, {"name", "plugins"}, issues);
        ProfileConfig profile;
        profile.path = at;
        profile.name = string_at(*o, "name", at, true, issues, "a profile name").value_or("");
        const auto *refs = o->if_contains("plugins");
        if (!refs) {
            issues.push_back({child(at, "plugins"), Code::missing_field, "missing required field \"plugins\"",
                              "list the profile's plugins as {\"pluginRef\": name, \"weight\": number}"});
        } else if (!refs->is_array()) {
            issues.push_back(wrong_type(child(at, "plugins"), "an array of {pluginRef, weight}", *refs));
        } else {
            const std::size_t refs_count =
                within_limit(refs->get_array(), kMaxPluginRefsPerProfile, child(at, "plugins"),
                             "profile \"" + profile.name + "\"", "plugin references", config, issues);
            for (std::size_t j = 0; j < refs_count; ++j) {
                const std::string ref_at = child(child(at, "plugins"), j);
                const auto *r = object_at(refs->get_array()[j], ref_at, "an object {pluginRef, weight}", issues);
                if (!r) continue;
                check_keys(*r, ref_at, {"pluginRef", "weight", "shadow"}, issues);
                PluginRefConfig ref;
                ref.path = ref_at;
                ref.plugin_ref = string_at(*r, "pluginRef", ref_at, true, issues, "a plugin name").value_or("");
                if (const auto *w = r->if_contains("weight")) {
                    if (!w->is_number()) issues.push_back(wrong_type(child(ref_at, "weight"), "a number", *w));
                    else ref.weight = w->to_number<double>();
                }
                if (const auto *sh = r->if_contains("shadow")) {
                    if (sh->is_bool()) ref.shadow = sh->get_bool();
                    else issues.push_back(wrong_type(child(ref_at, "shadow"), "true or false", *sh));
                }
                profile.plugins.push_back(std::move(ref));
            }
        }
        config.profiles.push_back(std::move(profile));
    }
}

void read_runtime(const boost::json::value &v, Config &config, std::vector<Issue> &issues) {
    const auto *o = object_at(v, "/runtime", "an object", issues);
    if (!o) return;
    check_keys(*o, "/runtime", {"maxConsecutiveFaults"}, issues);
    if (const auto *m = o->if_contains("maxConsecutiveFaults")) {
        if (m->is_int64() && m->get_int64() >= 1 && m->get_int64() <= 1'000'000)
            config.runtime.max_consecutive_faults = static_cast<std::uint32_t>(m->get_int64());
        else
            issues.push_back({"/runtime/maxConsecutiveFaults", Code::invalid_value,
                              "expected an integer from 1 to 1000000, found " + describe(*m), ""});
    }
}

void read_api_version(const boost::json::object &root, Config &config, std::vector<Issue> &issues) {
    const auto api = string_at(root, "apiVersion", "", false, issues);
    if (!api || *api == kConfigApiVersion || *api == kUpstreamApiVersion) return;
    if (*api == kDeprecatedUpstreamApiVersion) {
        config.warnings.push_back({"/apiVersion", Code::deprecated,
                                   "apiVersion \"" + *api + "\" is deprecated upstream; it is read as \"" +
                                       std::string(kUpstreamApiVersion) + "\"",
                                   "use \"" + std::string(kUpstreamApiVersion) + "\""});
        return;
    }
    issues.push_back(
        {"/apiVersion", Code::unsupported_version,
         "apiVersion \"" + *api + "\" is not supported by plughost " + std::string(PLUGHOST_VERSION_STRING),
         "use \"" + std::string(kConfigApiVersion) + "\" (or upstream's \"" + std::string(kUpstreamApiVersion) +
             "\")"});
}

}  // namespace

Config read_config(const boost::json::value &document, std::string source, std::vector<Issue> &issues) {
    Config config;
    config.source = std::move(source);
    const auto *root = object_at(document, "", "an object (the config: a JSON object or a YAML mapping)", issues);
    if (!root) return config;
    std::vector<std::string> keys = {"apiVersion",         "kind",    "policy", "featureGates", "plugins",
                                     "schedulingProfiles", "runtime", "serve",  "endpoints",    "pluginDir"};
    for (auto section : kUpstreamSections) keys.emplace_back(section);
    check_keys(*root, "", keys, issues);
    read_api_version(*root, config, issues);
    if (const auto kind = string_at(*root, "kind", "", false, issues); kind && *kind != kConfigKind)
        issues.push_back({"/kind", Code::invalid_value, "kind \"" + *kind + "\" is not a plughost config",
                          "use \"" + std::string(kConfigKind) + "\""});
    if (auto dir = string_at(*root, "pluginDir", "", false, issues, "a directory path")) {
        if (dir->empty())
            issues.push_back({"/pluginDir", Code::invalid_value, "expected a directory path, found an empty string",
                              "name the plugin directory (relative paths start at the config's directory), or "
                              "remove the key"});
        else config.plugin_dir = std::move(dir);
    }
    if (const auto *v = root->if_contains("policy")) read_policy(*v, config, issues);
    if (const auto *v = root->if_contains("featureGates")) read_gates(*v, config, issues);
    if (const auto *v = root->if_contains("plugins")) read_plugins(*v, config, issues);
    if (const auto *v = root->if_contains("schedulingProfiles")) read_profiles(*v, config, issues);
    if (const auto *v = root->if_contains("runtime")) read_runtime(*v, config, issues);
    read_upstream(*root, config, issues);
    if (const auto *v = root->if_contains("serve")) read_serve_settings(*v, config.serve, issues);
    if (const auto *v = root->if_contains("endpoints")) read_endpoint_list(*v, "/endpoints", config.endpoints, issues);
    return config;
}

Config read_config(const DocumentValue &document, std::string source, std::vector<Issue> &issues) {
    const std::size_t first = issues.size();
    Config config = read_config(static_cast<const boost::json::value &>(document), std::move(source), issues);
    config.positions = document.positions;
    if (config.positions) {
        for (std::size_t i = first; i < issues.size(); ++i) locate(issues[i], *config.positions);
        for (Issue &w : config.warnings) locate(w, *config.positions);
    }
    return config;
}

void add_config_findings(const Config &config, std::vector<Issue> &errors, std::vector<Issue> &warnings) {
    warnings.insert(warnings.end(), config.warnings.begin(), config.warnings.end());
    if (!config.positions) return;
    for (Issue &e : errors) locate(e, *config.positions);
    for (Issue &w : warnings) locate(w, *config.positions);
}

const boost::json::value &default_config_document() {
    static const boost::json::value doc = [] {
        auto parsed = parse_json_document(embedded::default_config_json, "the built-in default config");
        if (parsed.problem) throw std::logic_error("the built-in default config is invalid");  // caught by its test
        return parsed.value;
    }();
    return doc;
}

}  // namespace plughost::host
