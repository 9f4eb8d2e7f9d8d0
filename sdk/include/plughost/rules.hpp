// The rules the host enforces on what a plugin's hooks return, stated once: the host's scheduler
// checks every result with these functions, and <plughost/testing.hpp> checks the results an
// author's test sees with the same ones, so a result a test accepts is one the host accepts.
// Each rule's text names the fault the host counts when it is broken (the `faults` of
// `plughost run`'s summary): bad-score or bad-index.
//
// Header-only; needs only the C++ standard library.
#ifndef PLUGHOST_RULES_HPP
#define PLUGHOST_RULES_HPP

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace plughost::rules {

inline constexpr const char *kScoreRule =
    "a scorer writes one score per endpoint offered, each a number in [0, 1] (NaN is not); otherwise the host "
    "counts a bad-score fault and ignores all of the scorer's scores for that request";
inline constexpr const char *kFilterRule =
    "a filter returns indexes of the endpoints it was offered, in strictly increasing order (sorted, none twice), "
    "each below the number offered; otherwise the host counts a bad-index fault and lets every endpoint through";
inline constexpr const char *kPickRule =
    "a picker picks at least one endpoint and at most the number offered, each an index below the number offered, "
    "none twice; otherwise the host counts a bad-index fault and the request is not decided";
inline constexpr const char *kProfileRule =
    "a profile handler's pick_profiles chooses profiles by index, each below the number of profiles, none twice, "
    "none that already ran; otherwise the host counts a bad-index fault";
inline constexpr const char *kPrimaryRule =
    "a profile handler's process_results names a profile (an index below the number of profiles) that ran: one "
    "that picked serves the request, one that failed fails it with that profile's error; naming a profile that "
    "did not run is a bad-index fault and the request is not decided";

inline constexpr const char *kAttributeRule =
    "a producer publishes, from its produce hook only, attributes its manifest produces, each number finite, each "
    "about one of the endpoints produce was given; otherwise put_attribute and put_numbers return "
    "PLUGHOST_INVALID_ARGUMENT (put_numbers stops at the first bad element, keeping those before it)";

/// A number the host publishes as an attribute's value: finite (so NaN can mean "absent" when
/// get_numbers reads).
inline bool valid_attribute_number(double value) noexcept { return std::isfinite(value); }

/// A score the host accepts: in [0, 1], not NaN (-0.0 counts as 0).
constexpr bool valid_score(double score) noexcept { return score >= 0.0 && score <= 1.0; }

/// The index of the first score the host refuses, or `n` when there is none.
inline std::size_t first_invalid_score(const double *scores, std::size_t n) noexcept {
    std::size_t i = 0;
    while (i < n && valid_score(scores[i])) ++i;
    return i;
}

/// A filter result the host accepts: `count` indexes, strictly increasing, each below `offered`.
inline bool valid_filter_result(const std::size_t *passed, std::size_t count, std::size_t offered) noexcept {
    if (count > offered) return false;
    for (std::size_t k = 0; k < count; ++k)
        if (passed[k] >= offered || (k > 0 && passed[k] <= passed[k - 1])) return false;
    return true;
}

/// Checks that indexes are each below a limit and none repeats. Keeps a stamp per index so a
/// check allocates nothing once the table has grown to the largest limit seen (reserve() grows it
/// ahead of time).
class DistinctIndexes {
public:
    void reserve(std::size_t limit) {
        if (seen_.size() < limit) seen_.resize(limit, 0);
    }
    bool operator()(const std::size_t *indexes, std::size_t count, std::size_t limit) {
        // The usual single pick (and a profile handler's empty last round), without a call.
        if (count <= 1) return count == 0 || indexes[0] < limit;
        return check(indexes, count, limit);
    }

private:
    // Out of line, so that the single pick's test above stays small enough to be inlined.
    [[gnu::noinline]] bool check(const std::size_t *indexes, std::size_t count, std::size_t limit) {
        for (std::size_t k = 0; k < count; ++k)
            if (indexes[k] >= limit) return false;
        if (count <= 16) {  // pairwise is cheaper than stamping for the usual few picks
            for (std::size_t k = 1; k < count; ++k)
                for (std::size_t j = 0; j < k; ++j)
                    if (indexes[j] == indexes[k]) return false;
            return true;
        }
        reserve(limit);
        if (++stamp_ == 0) {
            std::fill(seen_.begin(), seen_.end(), 0);
            stamp_ = 1;
        }
        for (std::size_t k = 0; k < count; ++k) {
            if (seen_[indexes[k]] == stamp_) return false;
            seen_[indexes[k]] = stamp_;
        }
        return true;
    }

    std::vector<std::uint32_t> seen_;
    std::uint32_t stamp_ = 0;
};

/// A picker result the host accepts: 1 to `offered` distinct indexes, each below `offered`.
inline bool valid_picks(const std::size_t *picked, std::size_t count, std::size_t offered, DistinctIndexes &distinct) {
    return count >= 1 && count <= offered && distinct(picked, count, offered);
}

/// The parameters an instance is created with: the operator's (`given`), plus the default of
/// every declared parameter they do not give. `declared` is a range of parameter specs with
/// `name` and `default_value` (an optional JSON value); `Object` is a JSON object type with
/// contains() and operator[] (boost::json::object). The host and testing.hpp both fill defaults
/// with this.
template <class Object, class Specs> Object with_parameter_defaults(Object given, const Specs &declared) {
    for (const auto &spec : declared)
        if (spec.default_value && !given.contains(spec.name)) given[spec.name] = *spec.default_value;
    return given;
}

}  // namespace plughost::rules

#endif  // PLUGHOST_RULES_HPP
