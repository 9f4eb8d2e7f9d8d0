#include "kv_headroom_filter.hpp"

PLUGHOST_PLUGIN(plughost::plugins::KvHeadroomFilter, plughost::plugins::kKvHeadroomFilterManifest)
