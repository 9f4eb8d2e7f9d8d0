// "Did you mean ...?" for names an operator typed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plughost::host {

/// Edit distance allowing adjacent transpositions (optimal string alignment), case-insensitive.
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `typed`, when close enough to be a plausible typo.
std::optional<std::string> closest(std::string_view typed, const std::vector<std::string> &candidates);

/// " (did you mean \"x\"?)" or "" when nothing is close.
std::string did_you_mean(std::string_view typed, const std::vector<std::string> &candidates);

/// "a, b and c" (quoted), for messages listing what is allowed.
std::string quoted_list(const std::vector<std::string> &items);

}  // namespace plughost::host
