#include "weighted_random_picker.hpp"

PLUGHOST_PLUGIN(plughost::plugins::WeightedRandomPicker, plughost::plugins::kWeightedRandomPickerManifest)
