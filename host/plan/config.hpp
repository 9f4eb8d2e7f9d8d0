// The operator's config: a strict JSON document shaped like the upstream endpoint picker's
// config (apiVersion, kind, plugins, schedulingProfiles, featureGates) plus plughost's policy.
// Every problem is reported, each located by a JSON Pointer.
#pragma once

#include "admission/feature_gates.hpp"
#include "common/diagnostic.hpp"
#include "inspect/manifest.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <vector>

namespace plughost::host {

inline constexpr std::string_view kConfigApiVersion = "plughost.io/v1";
inline constexpr std::string_view kConfigKind = "EndpointPickerConfig";

struct PolicyConfig {
    std::optional<Stability> min_stability;
    std::optional<bool> reject_deprecated;
    std::vector<std::string> allow_past_removal;
    std::optional<std::string> tombstones_file;
    std::optional<std::string> maturity_file;
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
    std::string path;  ///< "/schedulingProfiles/0/plugins/2"
};

struct ProfileConfig {
    std::string name;
    std::vector<PluginRefConfig> plugins;
    std::string path;
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
    RuntimeConfig runtime;
};

/// Reads a config document. Problems go to `issues`; what could be read is still returned, so
/// later checks report their findings too.
Config read_config(const boost::json::value &document, std::string source, std::vector<Issue> &issues);

/// The config used when none is given: the stable and beta in-tree scorers and max-score-picker.
const boost::json::value &default_config_document();

}  // namespace plughost::host
