// The plughost subcommands; each returns the process exit code.
#pragma once

#include "cli/options.hpp"
#include "plan/preflight.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace plughost::cli {

/// Flags shared by list, check, gates and run: where the plugins and the config are, and the
/// policy settings that override the config's.
struct PreflightFlags {
    std::optional<std::string> plugin_dir;
    std::optional<std::string> config;
    std::optional<std::string> min_stability;
    std::vector<std::string> feature_gates;  ///< each "A=true,B=false"; may be repeated
    bool reject_deprecated = false;
    std::vector<std::string> allow_past_removal;
    std::optional<std::string> tombstones;
    std::optional<std::string> maturity;
};

/// Runs the pre-flight the flags describe. Returns nullopt, having logged why, when the flags are
/// malformed or an input cannot be read: the caller exits with kExitUsage.
std::optional<host::Preflight> start(const PreflightFlags &flags, host::ConfigSource when_no_config,
                                     bool keep_files_open);

/// Logs each issue as an error line.
void log_issues(const std::vector<host::Issue> &issues);

struct ListOptions {
    PreflightFlags flags;
    Output output = Output::table;
};
int run_list(const ListOptions &options);

struct InspectOptions {
    std::string file;
    Output output = Output::table;
};
int run_inspect(const InspectOptions &options);

struct CheckOptions {
    PreflightFlags flags;
    Output output = Output::table;
    bool instantiate = false;
};
int run_check(const CheckOptions &options);

struct GatesOptions {
    PreflightFlags flags;
    Output output = Output::table;
};
int run_gates(const GatesOptions &options);

struct RunOptions {
    PreflightFlags flags;
    std::optional<std::string> input;
    bool explain = false;
    std::optional<std::uint32_t> max_consecutive_faults;
};
int run_run(const RunOptions &options);

struct ServeOptions {
    PreflightFlags flags;  ///< flags.config is required
    std::optional<std::string> listen;
    std::optional<std::uint32_t> threads;
};
int run_serve(const ServeOptions &options);

}  // namespace plughost::cli
