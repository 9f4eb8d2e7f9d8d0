#include "active_request_scorer.hpp"

PLUGHOST_PLUGIN(plughost::plugins::ActiveRequestScorer, plughost::plugins::kActiveRequestScorerManifest)
