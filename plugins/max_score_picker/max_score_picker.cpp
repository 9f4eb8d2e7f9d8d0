#include "max_score_picker.hpp"

PLUGHOST_PLUGIN(plughost::plugins::MaxScorePicker, plughost::plugins::kMaxScorePickerManifest)
