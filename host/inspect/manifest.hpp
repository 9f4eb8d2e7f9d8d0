// A plugin's manifest as the host understands it, and its strict validation from JSON.
#pragma once

#include "common/semver.hpp"

#include <plughost/vocabulary.hpp>

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plughost::host {

// The vocabulary is the SDK's (plughost/vocabulary.hpp), named here for the host's code.
using plughost::AttributeScope;
using plughost::AttributeType;
using plughost::ParamType;
using plughost::parse_role;
using plughost::parse_stability;
using plughost::Role;
using plughost::Stability;

struct ParameterSpec {
    std::string name;
    ParamType type = ParamType::string;
    std::optional<boost::json::value> default_value;
    std::string description;
};

/// An attribute a producer publishes (Since ABI 1.1).
struct ProducedAttribute {
    std::string name;
    AttributeScope scope = AttributeScope::endpoint;
    AttributeType type = AttributeType::number;
    std::string description;
};

/// An attribute a plugin reads; a required one must have a producer in the config.
struct ConsumedAttribute {
    std::string name;
    bool required = true;
    /// A plugin type the host instantiates (with its defaults) when the config has no producer
    /// of this attribute; empty when there is none.
    std::string default_producer;
};

struct Deprecation {
    SemVer since;
    SemVer removed_in;
    std::string message;
    std::vector<std::string> replacements;
};

/// A manifest that passed every check.
struct Manifest {
    std::string type;
    Role role = Role::scorer;
    SemVer version;
    SemVer abi_version;
    Stability stability = Stability::alpha;
    std::string feature_gate;  ///< empty when the plugin declares none
    std::string description;
    bool thread_safe = false;
    std::vector<ParameterSpec> parameters;
    std::optional<Deprecation> deprecation;
    std::vector<ProducedAttribute> produces;  ///< role producer only
    std::vector<ConsumedAttribute> consumes;

    const ParameterSpec *find_parameter(std::string_view name) const;
};

/// A problem with one manifest field, e.g. {"deprecation.message", "expected ..., found ..."}.
struct FieldError {
    std::string field;
    std::string message;
};

/// What could be read of a manifest document, even when it is invalid.
struct ManifestReading {
    /// The fields operators need to recognise a plugin, as written (when they are strings).
    std::optional<std::string> type, role, version, stability;
    /// The ABI version the plugin declares, when it parses as semver.
    std::optional<SemVer> abi_version;
    /// Set only when the document is valid for this host's ABI (no errors).
    std::optional<Manifest> manifest;
    /// Empty when the document is valid, or when its ABI major differs from the host's (the
    /// rest of the document is then not interpreted).
    std::vector<FieldError> errors;
};

/// Largest manifest document accepted, in bytes, and its deepest nesting.
inline constexpr std::size_t kMaxManifestBytes = 64 * 1024;
inline constexpr std::size_t kMaxManifestDepth = 16;

/// The ABI this host implements.
const SemVer &host_abi_version();

/// Parses and validates a manifest document against the schema of `host_abi`. Fields unknown
/// to this host are errors, except in a document built for a newer ABI minor (they are then
/// fields of that newer ABI, and the ABI rule rejects the plugin anyway).
ManifestReading read_manifest(std::string_view json, const SemVer &host_abi = host_abi_version());

/// Checks of names shared by manifests, configs and tombstones.
bool is_plugin_type_name(std::string_view s);
bool is_gate_name(std::string_view s);

}  // namespace plughost::host
