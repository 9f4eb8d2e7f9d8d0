// The worked example of docs/upstream.md: an upstream-style scorer ported to a plughost plugin.
//
// Upstream (Go) it would be a struct with a Score method over the candidate endpoints, a
// factory that decodes its parameters strictly, and a Register call in the runner. Here the
// class is the plugin, the manifest says what the Go registration said (type, role, stability,
// parameters), and PLUGHOST_PLUGIN exports it. The tests build it as a fixture and run it
// through the real host (tests/plan/test_upstream_config.cpp and tests/cli/test_cli_check.cpp).
#include <plughost/plugin.hpp>

#include <algorithm>
#include <cstdint>
#include <span>

namespace example {

using namespace plughost;

// Prefers endpoints with less work: running plus waiting requests, and the host's own picks
// since the last metrics update (which the metrics cannot show yet). An endpoint with
// maxRequests or more scores 0, an idle one 1.
class BusyEndpointScorer {
public:
    // Upstream's factory: func(name string, params *json.Decoder, handle Handle) (Plugin, error).
    // Params are checked against the manifest before this runs (unknown names, types); a value
    // out of range throws, and the host reports the message as create-failed.
    explicit BusyEndpointScorer(const Params &params)
        : max_requests_(params.get_in_range<std::int64_t>("maxRequests", 1, 1'000'000)) {}

    // Upstream's Score(ctx, cycleState, request, endpoints) map[Endpoint]float64: here one score
    // per endpoint, in the order given, each in [0, 1].
    void score(const Request &, Endpoints endpoints, std::span<double> scores) const {
        const double cap = static_cast<double>(max_requests_);
        for (std::size_t i = 0; i < endpoints.size(); ++i) {
            const Endpoint e = endpoints[i];
            const double work = static_cast<double>(e.running_requests()) + e.waiting_queue_size() + e.pending_picks();
            scores[i] = 1.0 - std::min(work, cap) / cap;
        }
    }

private:
    std::int64_t max_requests_;
};

inline constexpr Param kParams[] = {
    {"maxRequests", ParamType::integer, "64", "Running plus waiting requests at which an endpoint scores 0."},
};

// Upstream's plugin.Register("busy-endpoint-scorer", Beta, Factory), as data the host reads
// from the file without running it.
inline constexpr Manifest kManifest{
    .type = "busy-endpoint-scorer",
    .role = Role::scorer,
    .version = "1.0.0",
    .stability = Stability::beta,
    .description = "Prefers endpoints with fewer running, waiting and just-sent requests.",
    .parameters = kParams,
    .thread_safe = true,  // no state: calls share nothing
};

}  // namespace example

PLUGHOST_PLUGIN(example::BusyEndpointScorer, example::kManifest)
