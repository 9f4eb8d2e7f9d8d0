// Configs as the upstream endpoint picker (llm-d-router) writes them: every plugin type it
// registers, with what plughost does about it, and the reading of its config sections.
#pragma once

#include "plan/config.hpp"

#include <boost/json/object.hpp>

#include <span>
#include <string_view>
#include <vector>

namespace plughost::host {

enum class UpstreamStatus {
    plugin,        ///< plughost ships (or will ship) an in-tree plugin of that type
    built_in,      ///< the host itself does it: the entry needs no plugin file
    not_provided,  ///< an upstream feature plughost does not provide
};

/// What a type is upstream: where it may be named (profiles, dataLayer, parsers...).
enum class UpstreamKind {
    filter,
    scorer,
    picker,
    profile_handler,
    decider,
    producer,
    request_control,  ///< admitters, screeners, request and response processors
    data_source,
    extractor,
    discovery,
    parser,
    flow_control,
    saturation_detector,
};

/// One upstream plugin type. The table is data: docs/upstream.md shows it row by row.
struct UpstreamType {
    std::string_view type;
    UpstreamStatus status;
    UpstreamKind kind;
    /// plugin and built-in: what plughost does. not-provided: why not, in one phrase.
    std::string_view what;
    /// not-provided: what to do instead.
    std::string_view instead = {};
    /// built-in: the upstream parameter names the entry may carry (space-separated); any other
    /// is an unknown-parameter error, as upstream decodes parameters strictly.
    std::string_view parameters = {};
};

/// Every type upstream registers (cmd/epp/runner/runner.go at the snapshot the digest read).
std::span<const UpstreamType> upstream_types();
const UpstreamType *find_upstream_type(std::string_view type);

std::string_view to_string(UpstreamStatus status);
std::string_view to_string(UpstreamKind kind);

/// The upstream apiVersions plughost reads besides its own.
inline constexpr std::string_view kUpstreamApiVersion = "llm-d.ai/v1alpha1";
inline constexpr std::string_view kDeprecatedUpstreamApiVersion = "inference.networking.x-k8s.io/v1alpha1";

/// The root keys read_upstream reads.
inline constexpr std::string_view kUpstreamSections[] = {"dataLayer", "flowControl", "requestHandler",
                                                         "saturationDetector", "parser"};

/// Reads the upstream parts of a config after read_config has read plugins and profiles:
/// entries of built-in and not-provided types leave `config.plugins` (into `config.built_ins`,
/// or with one upstream-feature error each), deciders are folded into their profile handler,
/// references to entries that left are dropped, and the upstream sections of `root` are read.
/// Errors go to `errors`, warnings to `config.warnings`.
void read_upstream(const boost::json::object &root, Config &config, std::vector<Issue> &errors);

}  // namespace plughost::host
