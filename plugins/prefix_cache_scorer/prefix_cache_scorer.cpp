#include "prefix_cache_scorer.hpp"

PLUGHOST_PLUGIN(plughost::plugins::PrefixCacheScorer, plughost::plugins::kPrefixCacheScorerManifest)
