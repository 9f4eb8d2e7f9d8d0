#include "cli/commands.hpp"

#include <spdlog/spdlog.h>

namespace plughost::cli {

std::optional<host::Preflight> start(const PreflightFlags &flags, host::ConfigSource when_no_config,
                                     bool keep_files_open) {
    host::PreflightInputs in;
    in.plugin_dir = plugin_dir(flags.plugin_dir);
    in.config_source = flags.config ? host::ConfigSource::file : when_no_config;
    if (flags.config) in.config_file = *flags.config;
    in.keep_files_open = keep_files_open;
    auto &o = in.overrides;
    if (flags.min_stability) o.min_stability = plughost::parse_stability(*flags.min_stability);
    for (const auto &text : flags.feature_gates)
        if (auto error = host::parse_gate_flag(text, o.feature_gates)) {
            spdlog::error("{}", *error);
            return std::nullopt;
        }
    if (flags.reject_deprecated) o.reject_deprecated = true;
    o.allow_past_removal = flags.allow_past_removal;
    o.tombstones_file = flags.tombstones;
    o.maturity_file = flags.maturity;
    o.lock_file = flags.lock;
    o.allow_unsafe_permissions = flags.allow_unsafe_permissions;
    if (auto error = parse_provider_flags(flags.providers, o.providers)) {
        spdlog::error("{}", *error);
        return std::nullopt;
    }
    host::Preflight pf = host::preflight(in);
    if (pf.io_error) {
        spdlog::error("{}", *pf.io_error);
        return std::nullopt;
    }
    host::add_config_findings(pf.config, pf.errors, pf.warnings);
    return pf;
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
