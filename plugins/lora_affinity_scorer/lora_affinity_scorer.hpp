// lora-affinity-scorer (beta): prefers endpoints that already serve the requested LoRA adapter.
#pragma once

#include <plughost/plugin.hpp>

#include <span>
#include <string_view>

namespace plughost::plugins {

class LoraAffinityScorer {
public:
    explicit LoraAffinityScorer(const Params &params)
        : capacity_score_(params.get_in_range<double>("capacityScore", 0.0, 1.0)) {}

    void score(const Request &request, Endpoints endpoints, std::span<double> scores) const noexcept {
        const std::string_view lora = request.lora();
        for (std::size_t i = 0; i < endpoints.size(); ++i) {
            const Endpoint e = endpoints[i];
            if (lora.empty() || e.has_lora(lora)) scores[i] = 1.0;
            else if (e.active_lora_count() < e.max_active_loras()) scores[i] = capacity_score_;
            else scores[i] = 0.0;
        }
    }

private:
    double capacity_score_;
};

inline constexpr Param kLoraAffinityScorerParams[] = {
    {"capacityScore", ParamType::number, "0.5",
     "Score (0-1) of an endpoint without the adapter that can still load one (fewer active adapters than its "
     "maximum)."},
};

inline constexpr Manifest kLoraAffinityScorerManifest{
    .type = "lora-affinity-scorer",
    .role = Role::scorer,
    .version = "1.0.0",
    .stability = Stability::beta,
    .feature_gate = "LoraAffinityScorer",
    .description = "Prefers endpoints with the requested LoRA adapter active (1), then those with room to load it "
                   "(capacityScore), then the rest (0); 1 for all when no adapter is requested.",
    .parameters = kLoraAffinityScorerParams,
    .thread_safe = true,  // no state: calls share nothing
};

}  // namespace plughost::plugins
