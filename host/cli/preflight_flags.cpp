#include "cli/commands.hpp"

#include <spdlog/spdlog.h>

namespace plughost::cli {

std::optional<host::Preflight> start(const PreflightFlags &flags, host::ConfigSource when_no_config,
                                     bool keep_files_open) {
    host::PreflightInputs in;
    in.plugin_dir = plugin_dir(flags.plugin_dir);
    in.plugin_dir_given = plugin_dir_given(flags.plugin_dir);
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
    host::Preflight pf = host::preflight(in);
    if (pf.io_error) {
        spdlog::error("{}", *pf.io_error);
        return std::nullopt;
    }
    host::add_config_findings(pf.config, pf.errors, pf.warnings);
    return pf;
}

void log_issues(const std::vector<host::Issue> &issues) {
    for (const auto &e : issues)
        spdlog::error("{}{}{}", e.path.empty() ? "" : e.path + ": ", e.message,
                      e.hint.empty() ? "" : " (" + e.hint + ")");
}

}  // namespace plughost::cli
