// The plughost subcommands; each returns the process exit code.
#pragma once

#include "options.hpp"
#include "preflight.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace plughost::cli {

/// Policy flags shared by list, check, gates and run; each overrides the config.
struct PolicyFlags {
    std::optional<std::string> config;
    std::optional<std::string> min_stability;
    std::vector<std::string> feature_gates;  ///< each "A=true,B=false"; may be repeated
    bool reject_deprecated = false;
    std::vector<std::string> allow_past_removal;
    std::optional<std::string> tombstones;
    std::optional<std::string> maturity;
};

/// Turns flags into pre-flight inputs; returns an error text for malformed flags.
std::optional<std::string> to_inputs(const PolicyFlags &flags, const std::optional<std::string> &plugin_dir,
                                     host::ConfigSource when_no_config, host::PreflightInputs &out);

struct ListOptions {
    std::optional<std::string> plugin_dir;
    Output output = Output::table;
    PolicyFlags policy;
};
int run_list(const ListOptions &options);

struct InspectOptions {
    std::string file;
    Output output = Output::table;
};
int run_inspect(const InspectOptions &options);

struct CheckOptions {
    std::optional<std::string> plugin_dir;
    Output output = Output::table;
    PolicyFlags policy;
    bool instantiate = false;
};
int run_check(const CheckOptions &options);

struct GatesOptions {
    std::optional<std::string> plugin_dir;
    Output output = Output::table;
    PolicyFlags policy;
};
int run_gates(const GatesOptions &options);

struct RunOptions {
    std::optional<std::string> plugin_dir;
    PolicyFlags policy;
    std::optional<std::string> input;
    bool explain = false;
    std::optional<std::uint32_t> max_consecutive_faults;
};
int run_run(const RunOptions &options);

} // namespace plughost::cli
