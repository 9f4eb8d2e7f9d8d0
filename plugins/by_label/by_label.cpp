#include "by_label.hpp"

PLUGHOST_PLUGIN(plughost::plugins::ByLabel, plughost::plugins::kByLabelManifest)
