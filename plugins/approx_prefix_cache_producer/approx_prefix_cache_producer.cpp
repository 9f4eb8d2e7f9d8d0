#include "approx_prefix_cache_producer.hpp"

PLUGHOST_PLUGIN(plughost::plugins::ApproxPrefixCacheProducer, plughost::plugins::kApproxPrefixCacheProducerManifest)
