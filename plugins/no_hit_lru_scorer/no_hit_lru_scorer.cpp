#include "no_hit_lru_scorer.hpp"

PLUGHOST_PLUGIN(plughost::plugins::NoHitLruScorer, plughost::plugins::kNoHitLruScorerManifest)
