// Feature gates: which gates exist (declared by the discovered plugins, plus the host's own
// meta-gates), what each is set to and by whom, and what the settings get wrong.
#pragma once

#include "admission/tombstones.hpp"
#include "common/diagnostic.hpp"
#include "inspect/manifest.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plughost::host {

/// One operator setting of a gate, and where it was made: a JSON Pointer into the config
/// ("/featureGates/Name") or the flag ("--feature-gates").
struct GateSetting {
    bool value = false;
    std::string where;
};
using GateSettings = std::map<std::string, GateSetting, std::less<>>;

/// Parses the Kubernetes flag syntax "A=true,B=false" into `into` (later wins); returns an
/// error text for a malformed entry.
std::optional<std::string> parse_gate_flag(std::string_view text, GateSettings &into);

/// The host's meta-gates, as in Kubernetes: they set the default of every alpha (AllAlpha) or
/// beta (AllBeta) gate that is not set explicitly. They never apply to dev gates.
inline constexpr std::string_view kAllAlpha = "AllAlpha";
inline constexpr std::string_view kAllBeta = "AllBeta";

struct Gate {
    std::string name;
    std::optional<Stability> stability;  ///< nullopt for the host's own gates
    bool default_value = false;
    bool locked = false;                   ///< stable gates are locked on
    std::vector<std::string> declared_by;  ///< plugin types, "plughost" for the host's gates, "upstream"
    std::string description;
    /// One of the upstream endpoint picker's gates, read so that its configs load as they are:
    /// flowControl (on: an upstream-feature error) and haPopulateNonLeaderDatastore (ignored).
    bool upstream = false;
};

/// The upstream endpoint picker's gates.
inline constexpr std::string_view kUpstreamFlowControlGate = "flowControl";
inline constexpr std::string_view kUpstreamHaGate = "haPopulateNonLeaderDatastore";

class FeatureGates {
public:
    /// Known gates are those the manifests declare plus AllAlpha, AllBeta and the upstream
    /// endpoint picker's gates (flowControl, haPopulateNonLeaderDatastore). A gate declared by
    /// plugins of different tiers takes the lowest tier (the plugins are refused separately).
    FeatureGates(const std::vector<const Manifest *> &manifests, GateSettings settings);

    const std::vector<Gate> &gates() const { return gates_; }
    const Gate *find(std::string_view name) const;
    const GateSettings &settings() const { return settings_; }

    struct Value {
        bool enabled;
        std::string why;  ///< "default for beta gates", "set at /featureGates/X", "AllAlpha=true (--feature-gates)"
    };
    /// The effective value of a known gate.
    Value value(const Gate &gate) const;

    /// Settings that cannot be applied (unknown gate with a did-you-mean, removed gate with its
    /// migration guidance, a stable gate set to false, flowControl turned on) and settings worth a
    /// warning (a stable gate set to true, which does nothing; haPopulateNonLeaderDatastore).
    void check(const Tombstones &tombstones, std::vector<Issue> &errors, std::vector<Issue> &warnings) const;

private:
    static void check_upstream(const Gate &gate, const GateSetting &setting, std::vector<Issue> &errors,
                               std::vector<Issue> &warnings);

    std::vector<Gate> gates_;
    GateSettings settings_;
};

}  // namespace plughost::host
