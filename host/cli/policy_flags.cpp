#include "commands.hpp"

namespace plughost::cli {

std::optional<std::string> to_inputs(const PolicyFlags &flags, const std::optional<std::string> &plugin_dir_flag,
                                     host::ConfigSource when_no_config, host::PreflightInputs &out) {
    out.plugin_dir = plugin_dir(plugin_dir_flag);
    if (flags.config) {
        out.config_source = host::ConfigSource::file;
        out.config_file = *flags.config;
    } else {
        out.config_source = when_no_config;
    }
    auto &o = out.overrides;
    if (flags.min_stability) o.min_stability = host::parse_stability(*flags.min_stability);
    for (const auto &text : flags.feature_gates)
        if (auto error = host::parse_gate_flag(text, o.feature_gates)) return error;
    if (flags.reject_deprecated) o.reject_deprecated = true;
    o.allow_past_removal = flags.allow_past_removal;
    o.tombstones_file = flags.tombstones;
    o.maturity_file = flags.maturity;
    return std::nullopt;
}

} // namespace plughost::cli
