// The plughost subcommands; each returns the process exit code.
#pragma once

#include "cli/options.hpp"
#include "plan/preflight.hpp"

#include <cstdint>
#include <map>
#include <memory>
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
    std::optional<std::string> lock;
    bool allow_unsafe_permissions = false;
    std::vector<std::string> providers;      ///< each "TYPE=FILE" (--provider); may be repeated
    std::optional<std::string> probe_state;  ///< list and check show quarantined files from it
};

/// Runs the pre-flight the flags describe. Returns nullopt, having logged why, when the flags are
/// malformed or an input cannot be read: the caller exits with kExitUsage.
std::optional<host::Preflight> start(const PreflightFlags &flags, host::ConfigSource when_no_config,
                                     bool keep_files_open);

/// The policy settings of the flags as command-line overrides; false, having logged why, when a
/// --feature-gates value is malformed.
bool policy_overrides(const PreflightFlags &flags, host::PolicyOverrides &overrides);

/// Whether any policy flag (--config, --min-stability, --feature-gates, --reject-deprecated,
/// --allow-past-removal, --tombstones, --maturity) is given.
bool policy_given(const PreflightFlags &flags);

/// The operator's policy for admitting one plugin file (inspect, test-plugin): the config's
/// policy and featureGates, then the flags, built by the same code as list and check
/// (host::make_policy). The lock is left out: it pins installed files, not the one being tested.
/// Null, having logged why, when a flag or the config is unusable or the config has errors.
std::shared_ptr<host::Policy> policy_for_one_file(const PreflightFlags &flags);

/// Admits one file by the foundation rules and, when `policy` is not null, its rules, as list
/// admits each file of the plugin directory (without the file-ownership check, which is about an
/// installation, not a plugin).
host::Candidate admit_one_file(const std::string &file, const std::shared_ptr<const host::Policy> &policy,
                               bool keep_open);
/// Reads --provider values ("queue-scorer=queue-scorer.so") into `into`; the error for the first
/// malformed one, naming it and the expected form.
std::optional<std::string> parse_provider_flags(const std::vector<std::string> &values,
                                                std::map<std::string, std::string> &into);

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
    /// With any policy flag, the decision is under that policy (policy_for_one_file); without,
    /// by the foundation rules only (is this a plugin file this host can read and load).
    PreflightFlags policy;
};
int run_inspect(const InspectOptions &options);

struct CheckOptions {
    PreflightFlags flags;
    Output output = Output::table;
    bool instantiate = false;
    bool probe = false;    ///< probe admitted files in a child process (probe/probe.hpp)
    bool reprobe = false;  ///< probe again even when the state remembers a result
    std::uint32_t probe_timeout_ms = 5000;
};
int run_check(const CheckOptions &options);

struct GatesOptions {
    PreflightFlags flags;
    Output output = Output::table;
};
int run_gates(const GatesOptions &options);

struct LockOptions {
    PreflightFlags flags;
};
/// Writes the lock document for the admitted plugin files to standard output.
int run_lock(const LockOptions &options);

struct RunOptions {
    PreflightFlags flags;
    std::optional<std::string> input;
    bool explain = false;
    std::optional<std::uint32_t> max_consecutive_faults;
};
int run_run(const RunOptions &options);

struct TestPluginOptions {
    std::string file;
    std::string parameters = "{}";
    /// With any policy flag, admission is under that policy (policy_for_one_file); without, every
    /// tier and the plugin's own feature gate are allowed.
    PreflightFlags policy;
};
/// Drives one plugin file through admission, the loader, create and one call of each of its
/// hooks, checking results by the scheduler's rules (plughost_add_plugin_test runs it).
int run_test_plugin(const TestPluginOptions &options);

struct NewPluginOptions {
    std::string name;
    std::string role;
    std::string lang = "c++";
    std::optional<std::string> dir;
};
/// Writes a plugin project (CMakeLists.txt, source, unit test, README) that builds and passes its
/// tests as is against the installed SDK.
int run_new_plugin(const NewPluginOptions &options);
struct ServeOptions {
    PreflightFlags flags;  ///< flags.config is required
    std::optional<std::string> listen;
    std::optional<std::uint32_t> threads;
    bool no_probe = false;  ///< load new plugin files without probing them first
    std::uint32_t probe_timeout_ms = 5000;
};
int run_serve(const ServeOptions &options);

}  // namespace plughost::cli
