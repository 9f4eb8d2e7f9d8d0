#include "random_picker.hpp"

PLUGHOST_PLUGIN(plughost::plugins::RandomPicker, plughost::plugins::kRandomPickerManifest)
