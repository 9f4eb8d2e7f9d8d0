// Pre-flight: everything up to admission, without loading any plugin code. Reads the config,
// builds the policy (config, then command-line overrides), admits the plugin directory, checks
// the gate settings, and plans the configured instances and scheduling profiles. Every problem
// is collected, never only the first.
#pragma once

#include "admission/admission.hpp"
#include "admission/policy.hpp"
#include "plan/config.hpp"
#include "schedule/cycle.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace plughost::host {

/// Policy settings given on the command line; each overrides the config's.
struct PolicyOverrides {
    std::optional<Stability> min_stability;
    GateSettings feature_gates;
    std::optional<bool> reject_deprecated;
    std::vector<std::string> allow_past_removal;
    std::optional<std::string> tombstones_file;
    std::optional<std::string> maturity_file;
    std::optional<std::string> lock_file;
    bool allow_unsafe_permissions = false;
    std::map<std::string, std::string> providers;  ///< --provider TYPE=FILE, over policy.providers
};

enum class ConfigSource {
    none,      ///< policy defaults only, no instances planned (list, gates without --config)
    built_in,  ///< the built-in default config (run without --config)
    file,      ///< the operator's file
};

struct PreflightInputs {
    std::filesystem::path plugin_dir;
    /// False when `plugin_dir` is only the default (no --plugin-dir, no $PLUGHOST_PLUGIN_DIR): then
    /// the config's "pluginDir", when it has one, wins over it.
    bool plugin_dir_given = true;
    ConfigSource config_source = ConfigSource::none;
    std::filesystem::path config_file;
    PolicyOverrides overrides;
    bool keep_files_open = false;  ///< keep admitted files open for loading
};

/// The largest sum of the scorer weights of one profile: a total score is at most this, so
/// totals and sums over them stay finite and precise.
inline constexpr double kMaxWeightSum = 1e9;

/// One plugin instance the config asks for.
struct PlannedInstance {
    std::string name;
    std::string type;
    Role role = Role::scorer;
    boost::json::object parameters;
    std::string path;           ///< where the config declares it ("" when implicit)
    std::size_t candidate = 0;  ///< index of the admitted file providing the type
    bool implicit = false;      ///< added by plughost: a default picker or a default producer
    /// The ids of the attributes its manifest produces and consumes (ids index Preflight::attributes).
    std::vector<DeclaredAttribute> attributes;
};

/// A scheduling profile with every reference resolved to an index into the instances.
struct PlannedProfile {
    std::string name;
    std::vector<std::size_t> filters;
    std::vector<std::pair<std::size_t, double>> scorers;  ///< instance, weight
    std::size_t picker = 0;
    std::vector<std::pair<std::size_t, double>> shadows;  ///< instance (filter, scorer or picker), weight
    bool defaulted = false;                               ///< built because the config has no schedulingProfiles
    bool picker_defaulted = false;                        ///< the config gave it no picker
};

struct Preflight {
    /// Set when an input could not be read at all (plugin directory, config file, a file named
    /// by a flag): a usage problem, exit code 2.
    std::optional<std::string> io_error;
    Config config;
    /// The plugin directory admitted: --plugin-dir, $PLUGHOST_PLUGIN_DIR, the config's
    /// "pluginDir", the default (in that order).
    std::filesystem::path plugin_dir;
    std::shared_ptr<Policy> policy;
    std::vector<Candidate> candidates;
    std::vector<PlannedInstance> instances;
    std::vector<PlannedProfile> profiles;
    /// The instance choosing the profiles of each request (role profile-handler), if any.
    std::optional<std::size_t> profile_handler;
    /// The producers, in the order they run: each after the producers of what it consumes.
    std::vector<std::size_t> producers;
    /// Every attribute a producer publishes; an attribute's id is its index.
    std::vector<AttributeSpec> attributes;
    std::vector<Issue> errors;
    std::vector<Issue> warnings;

    bool ok() const { return !io_error && errors.empty(); }
};

Preflight preflight(const PreflightInputs &inputs);

/// The policy of a config with command-line overrides applied. Tombstone and maturity files are
/// read here: problems with files the config names go to `errors`; files named by a flag that
/// cannot be read set `io_error`.
std::shared_ptr<Policy> make_policy(const Config &config, const std::filesystem::path &config_dir,
                                    const PolicyOverrides &overrides, std::vector<Issue> &errors,
                                    std::vector<Issue> &warnings, std::optional<std::string> &io_error);

}  // namespace plughost::host
