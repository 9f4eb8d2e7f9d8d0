#include "kv_cache_utilization_scorer.hpp"

PLUGHOST_PLUGIN(plughost::plugins::KvCacheUtilizationScorer, plughost::plugins::kKvCacheUtilizationScorerManifest)
