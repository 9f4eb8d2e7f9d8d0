#include "cli/commands.hpp"

#include "common/json_document.hpp"
#include "inspect/manifest_reader.hpp"

#include <spdlog/spdlog.h>

namespace plughost::cli {

bool policy_overrides(const PreflightFlags &flags, host::PolicyOverrides &o) {
    if (flags.min_stability) o.min_stability = plughost::parse_stability(*flags.min_stability);
    for (const auto &text : flags.feature_gates)
        if (auto error = host::parse_gate_flag(text, o.feature_gates)) {
            spdlog::error("{}", *error);
            return false;
        }
    if (flags.reject_deprecated) o.reject_deprecated = true;
    o.allow_past_removal = flags.allow_past_removal;
    o.tombstones_file = flags.tombstones;
    o.maturity_file = flags.maturity;
    o.lock_file = flags.lock;
    o.allow_unsafe_permissions = flags.allow_unsafe_permissions;
    if (auto error = parse_provider_flags(flags.providers, o.providers)) {
        spdlog::error("{}", *error);
        return false;
    }
    return true;
}

std::optional<host::Preflight> start(const PreflightFlags &flags, host::ConfigSource when_no_config,
                                     bool keep_files_open) {
    host::PreflightInputs in;
    in.plugin_dir = plugin_dir(flags.plugin_dir);
    in.plugin_dir_given = plugin_dir_given(flags.plugin_dir);
    in.config_source = flags.config ? host::ConfigSource::file : when_no_config;
    if (flags.config) in.config_file = *flags.config;
    in.keep_files_open = keep_files_open;
    if (!policy_overrides(flags, in.overrides)) return std::nullopt;
    host::Preflight pf = host::preflight(in);
    if (pf.io_error) {
        spdlog::error("{}", *pf.io_error);
        return std::nullopt;
    }
    host::add_config_findings(pf.config, pf.errors, pf.warnings);
    return pf;
}

bool policy_given(const PreflightFlags &flags) {
    return flags.config || flags.min_stability || !flags.feature_gates.empty() || flags.reject_deprecated ||
           !flags.allow_past_removal.empty() || flags.tombstones || flags.maturity;
}

std::shared_ptr<host::Policy> policy_for_one_file(const PreflightFlags &flags) {
    host::PolicyOverrides overrides;
    if (!policy_overrides(flags, overrides)) return nullptr;
    host::Config config;
    config.source = "no config";
    std::filesystem::path config_dir = ".";
    std::vector<host::Issue> errors, warnings;
    if (flags.config) {
        std::string unreadable;
        auto doc = host::load_json_document(*flags.config, unreadable);
        if (!doc) {
            spdlog::error("config: {}", unreadable);
            return nullptr;
        }
        config_dir = std::filesystem::path(*flags.config).parent_path();
        if (doc->problem) errors.push_back(*doc->problem);
        else config = host::read_config(doc->value, *flags.config, errors);
    }
    std::optional<std::string> io_error;
    auto policy = host::make_policy(config, config_dir, overrides, errors, warnings, io_error);
    if (io_error) {
        spdlog::error("{}", *io_error);
        return nullptr;
    }
    host::add_config_findings(config, errors, warnings);
    if (!errors.empty()) {
        log_issues(errors);
        spdlog::error("{}: the config has errors (above), so it is no policy to admit a plugin under; `plughost "
                      "check --config {}` reports them too",
                      *flags.config, *flags.config);
        return nullptr;
    }
    for (const auto &w : warnings)
        spdlog::warn("{}{}{}", w.path.empty() ? "" : w.path + ": ", w.message,
                     w.hint.empty() ? "" : " (" + w.hint + ")");
    // The lock pins the operator's installed files by hash; a file being built is not one of them.
    policy->lock.reset();
    return policy;
}

host::Candidate admit_one_file(const std::string &file, const std::shared_ptr<const host::Policy> &policy,
                               bool keep_open) {
    std::vector<host::PluginFile> files;
    files.push_back(host::read_plugin_file(file, keep_open));
    const auto rules = policy ? host::admission_rules(policy) : host::foundation_rules();
    return std::move(host::admit(std::move(files), rules).front());
}

std::optional<std::string> parse_provider_flags(const std::vector<std::string> &values,
                                                std::map<std::string, std::string> &into) {
    for (const std::string &value : values) {
        const auto eq = value.find('=');
        const std::string type = value.substr(0, eq), file = eq == std::string::npos ? "" : value.substr(eq + 1);
        if (eq == std::string::npos || !host::is_plugin_type_name(type) || !host::is_plugin_file_name(file))
            return "--provider " + value +
                   ": expected TYPE=FILE, a plugin type and a file name in the plugin directory, such as "
                   "--provider queue-scorer=queue-scorer.so";
        into[type] = file;
    }
    return std::nullopt;
}

void log_issues(const std::vector<host::Issue> &issues) {
    for (const auto &e : issues)
        spdlog::error("{}{}{}", e.path.empty() ? "" : e.path + ": ", e.message,
                      e.hint.empty() ? "" : " (" + e.hint + ")");
}

}  // namespace plughost::cli
