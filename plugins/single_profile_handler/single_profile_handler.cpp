#include "single_profile_handler.hpp"

PLUGHOST_PLUGIN(plughost::plugins::SingleProfileHandler, plughost::plugins::kSingleProfileHandlerManifest)
