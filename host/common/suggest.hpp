// "Did you mean ...?" for names an operator typed.
//
// Bounded cost: a call compares `typed` only with candidates of a similar length, each with a
// distance computation that stops once the distance is sure to be too large, and names longer
// than kMaxSuggestedLength get no suggestion at all. Callers that may report thousands of
// mistakes in one document use a Suggester, which stops suggesting after a budget.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plughost::host {

/// Names longer than this (typed or candidate) are never suggested: nobody makes a typo in a
/// 200-character name, and the distance costs time in proportion to the length.
inline constexpr std::size_t kMaxSuggestedLength = 128;

/// Edit distance allowing adjacent transpositions (optimal string alignment), case-insensitive.
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The same distance when it is at most `max`, else nullopt; costs O(max * min(|a|, |b|)).
std::optional<std::size_t> edit_distance_within(std::string_view a, std::string_view b, std::size_t max);

/// The candidate closest to `typed`, when close enough to be a plausible typo (the first one
/// listed among equally close candidates).
std::optional<std::string> closest(std::string_view typed, const std::vector<std::string> &candidates);

/// " (did you mean \"x\"?)" or "" when nothing is close.
std::string did_you_mean(std::string_view typed, const std::vector<std::string> &candidates);

/// did_you_mean for the first `budget` names asked about, then "" without any work: a document
/// with 20,000 mistakes of one kind gets its first suggestions, in bounded time.
class Suggester {
public:
    explicit Suggester(std::size_t budget) : left_(budget) {}
    std::string did_you_mean(std::string_view typed, const std::vector<std::string> &candidates);
    /// How many suggestions were looked for (for tests).
    std::size_t used() const { return used_; }

private:
    std::size_t left_;
    std::size_t used_ = 0;
};

/// Suggestions per kind of mistake in one document (undefined references, unknown types).
inline constexpr std::size_t kSuggestionsPerKind = 100;

/// "a, b and c" (quoted), for messages listing what is allowed.
std::string quoted_list(const std::vector<std::string> &items);

}  // namespace plughost::host
