#include "session_affinity_scorer.hpp"

PLUGHOST_PLUGIN(plughost::plugins::SessionAffinityScorer, plughost::plugins::kSessionAffinityScorerManifest)
