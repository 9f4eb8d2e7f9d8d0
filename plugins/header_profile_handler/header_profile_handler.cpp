#include "header_profile_handler.hpp"

PLUGHOST_PLUGIN(plughost::plugins::HeaderProfileHandler, plughost::plugins::kHeaderProfileHandlerManifest)
