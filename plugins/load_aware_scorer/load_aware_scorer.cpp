#include "load_aware_scorer.hpp"

PLUGHOST_PLUGIN(plughost::plugins::LoadAwareScorer, plughost::plugins::kLoadAwareScorerManifest)
