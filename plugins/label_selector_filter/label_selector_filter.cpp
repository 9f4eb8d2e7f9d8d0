#include "label_selector_filter.hpp"

PLUGHOST_PLUGIN(plughost::plugins::LabelSelectorFilter, plughost::plugins::kLabelSelectorFilterManifest)
