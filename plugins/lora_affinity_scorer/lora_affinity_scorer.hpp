// lora-affinity-scorer (beta): prefers endpoints that already run the requested LoRA adapter,
// then those with room to load it, then those where it is waiting to be loaded (upstream's rules).
#pragma once

#include <plughost/plugin.hpp>

#include <span>
#include <string_view>

namespace plughost::plugins {

class LoraAffinityScorer {
public:
    explicit LoraAffinityScorer(const Params &params)
        : capacity_score_(params.get_in_range<double>("capacityScore", 0.0, 1.0)) {}

    // The adapter is the request's lora, else its model: upstream names the adapter by the
    // (rewritten) model name, and a request without either is neutral to every endpoint.
    // First rule that holds: running 1; room to load one more adapter (running + waiting below
    // the maximum) capacityScore; waiting to be loaded 0.6; otherwise 0. Room comes before
    // waiting, as upstream orders them.
    void score(const Request &request, Endpoints endpoints, std::span<double> scores) const noexcept {
        const std::string_view adapter = request.lora().empty() ? request.model() : request.lora();
        for (std::size_t i = 0; i < endpoints.size(); ++i) {
            const Endpoint e = endpoints[i];
            if (adapter.empty() || e.has_lora(adapter)) scores[i] = 1.0;
            else if (e.active_lora_count() + e.waiting_lora_count() < e.max_active_loras()) scores[i] = capacity_score_;
            else if (e.has_waiting_lora(adapter)) scores[i] = kWaitingScore;
            else scores[i] = 0.0;
        }
    }

private:
    static constexpr double kWaitingScore = 0.6;
    double capacity_score_;
};

inline constexpr Param kLoraAffinityScorerParams[] = {
    {"capacityScore", ParamType::number, "0.8",
     "plughost's own: score (0-1) of an endpoint without the adapter running that can still load one (running plus "
     "waiting adapters below its maximum); upstream's fixed value is the default."},
};

inline constexpr Manifest kLoraAffinityScorerManifest{
    .type = "lora-affinity-scorer",
    .role = Role::scorer,
    .version = "1.0.0",
    .stability = Stability::beta,
    .feature_gate = "LoraAffinityScorer",
    .description = "Prefers endpoints running the request's LoRA adapter (its lora, else its model) (1), then those "
                   "with room to load it (capacityScore), then those where it waits to be loaded (0.6), else 0.",
    .parameters = kLoraAffinityScorerParams,
    .thread_safe = true,  // no state: calls share nothing
};

}  // namespace plughost::plugins
