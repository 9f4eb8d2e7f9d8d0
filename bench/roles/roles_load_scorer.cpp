#include "roles.hpp"

PLUGHOST_PLUGIN(plughost::bench::LoadScorer, plughost::bench::kLoadScorerManifest)
