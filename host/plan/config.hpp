// The operator's config: a strict JSON or YAML document shaped like the upstream endpoint
// picker's config (apiVersion, kind, plugins, schedulingProfiles, featureGates and the upstream
// sections) plus plughost's policy. Every problem is reported, each located by a JSON Pointer
// and, in a YAML document, by its line and column.
#pragma once

#include "admission/feature_gates.hpp"
#include "common/diagnostic.hpp"
#include "common/json_document.hpp"
#include "common/source_map.hpp"
#include "inspect/manifest.hpp"
#include "plan/serve_config.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace plughost::host {

inline constexpr std::string_view kConfigApiVersion = "plughost.io/v1";
inline constexpr std::string_view kConfigKind = "EndpointPickerConfig";

// Structural limits, far above any real config, so that the work of checking one is bounded
// (documented in operations.md). Beyond one, a too-large issue at the list's pointer; only the
// first elements are read.
inline constexpr std::size_t kMaxConfigPlugins = 1000;
inline constexpr std::size_t kMaxConfigProfiles = 1000;
inline constexpr std::size_t kMaxPluginRefsPerProfile = 1000;

struct PolicyConfig {
    std::optional<Stability> min_stability;
    std::optional<bool> reject_deprecated;
    std::vector<std::string> allow_past_removal;
    std::optional<std::string> tombstones_file;
    std::optional<std::string> maturity_file;
    std::optional<std::string> lock_file;
    std::optional<bool> allow_unsafe_permissions;
    /// policy.providers: the file chosen for a plugin type that several files declare, by type.
    std::map<std::string, std::string> providers;
};

struct PluginConfig {
    std::string type;
    std::string name;  ///< defaults to the type
    boost::json::object parameters;
    std::string path;  ///< "/plugins/3"
};

struct PluginRefConfig {
    std::string plugin_ref;
    std::optional<double> weight;
    /// Run in shadow: called on real requests, its result never changes the decision
    /// (`"shadow": true`).
    bool shadow = false;
    std::string path;  ///< "/schedulingProfiles/0/plugins/2"
};

struct ProfileConfig {
    std::string name;
    std::vector<PluginRefConfig> plugins;
    std::string path;
};

/// An upstream plugin entry the host covers itself, so it needs no plugin file (a metrics data
/// source, a parser, a decider folded into its profile handler...). It is not in
/// Config::plugins, and its name stays taken.
struct BuiltInConfig {
    std::string name;
    std::string type;
    std::string path;  ///< "/plugins/3"
    std::string what;  ///< what plughost does instead
};

struct RuntimeConfig {
    /// Consecutive faults after which a plugin instance is disabled.
    std::uint32_t max_consecutive_faults = 5;
};

struct Config {
    std::string source;  ///< the file, or "the built-in default config"
    PolicyConfig policy;
    GateSettings feature_gates;
    std::vector<PluginConfig> plugins;
    std::vector<ProfileConfig> profiles;
    std::vector<BuiltInConfig> built_ins;
    RuntimeConfig runtime;
    /// What reading found worth a warning (a deprecated apiVersion, an upstream setting plughost
    /// ignores): read_config's `issues` are errors.
    std::vector<Issue> warnings;
    /// Where each node of a YAML config is; null for JSON.
    std::shared_ptr<const SourceMap> positions;
    /// "pluginDir": the plugin directory when neither --plugin-dir nor $PLUGHOST_PLUGIN_DIR is
    /// given; relative to the config's directory (resolved by preflight()).
    std::optional<std::string> plugin_dir;
    /// `plughost serve`'s settings and endpoints (other commands ignore them).
    ServeSettings serve;
    std::vector<EndpointConfig> endpoints;
    /// A list was longer than its structural limit and was read only in part: the checks across
    /// the config (references, pickers) would report what is only missing from the part read.
    bool over_limit = false;
};

/// Reads a config document. Problems go to `issues`; what could be read is still returned, so
/// later checks report their findings too.
Config read_config(const boost::json::value &document, std::string source, std::vector<Issue> &issues);
/// The same for a document read from a file: every issue about a YAML document also names the
/// line and column of its node.
Config read_config(const DocumentValue &document, std::string source, std::vector<Issue> &issues);

/// Completes a pre-flight's findings with what only the config knows: its warnings, and the
/// line and column of every issue at a path into a YAML config (made after reading, by the
/// planner or the gate checks).
void add_config_findings(const Config &config, std::vector<Issue> &errors, std::vector<Issue> &warnings);

/// A name discovery reads as a plugin file ("queue-scorer.so": ends in .so, not hidden, no '/').
bool is_plugin_file_name(std::string_view s);

/// The config used when none is given: the stable and beta in-tree scorers and max-score-picker.
const boost::json::value &default_config_document();

}  // namespace plughost::host
