#include "roles.hpp"

PLUGHOST_PLUGIN(plughost::bench::SingleHandler, plughost::bench::kSingleHandlerManifest)
