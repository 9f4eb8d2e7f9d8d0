#include "queue_scorer.hpp"

PLUGHOST_PLUGIN(plughost::plugins::QueueScorer, plughost::plugins::kQueueScorerManifest)
