#include "encode_filter.hpp"

PLUGHOST_PLUGIN(plughost::plugins::EncodeFilter, plughost::plugins::kEncodeFilterManifest)
