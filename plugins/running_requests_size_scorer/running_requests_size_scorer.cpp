#include "running_requests_size_scorer.hpp"

PLUGHOST_PLUGIN(plughost::plugins::RunningRequestsSizeScorer, plughost::plugins::kRunningRequestsSizeScorerManifest)
