#include "lora_affinity_scorer.hpp"

PLUGHOST_PLUGIN(plughost::plugins::LoraAffinityScorer, plughost::plugins::kLoraAffinityScorerManifest)
