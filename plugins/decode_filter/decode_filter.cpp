#include "decode_filter.hpp"

PLUGHOST_PLUGIN(plughost::plugins::DecodeFilter, plughost::plugins::kDecodeFilterManifest)
