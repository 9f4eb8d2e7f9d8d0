#include "utilization_filter.hpp"

PLUGHOST_PLUGIN(plughost::plugins::UtilizationFilter, plughost::plugins::kUtilizationFilterManifest)
