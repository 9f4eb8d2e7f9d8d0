#include "prefill_filter.hpp"

PLUGHOST_PLUGIN(plughost::plugins::PrefillFilter, plughost::plugins::kPrefillFilterManifest)
