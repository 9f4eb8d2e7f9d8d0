#include "roles.hpp"

PLUGHOST_PLUGIN(plughost::bench::LoadProducer, plughost::bench::kLoadProducerManifest)
