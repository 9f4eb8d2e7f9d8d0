#include "common/suggest.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>

using namespace plughost::host;

TEST_CASE("edit distance counts insertions, deletions, substitutions and transpositions") {
    CHECK(edit_distance("queue-scorer", "queue-scorer") == 0);
    CHECK(edit_distance("queue-scorer", "queue-scorre") == 1);
    CHECK(edit_distance("queue-scorer", "queue-score") == 1);
    CHECK(edit_distance("queue-scorer", "QUEUE-SCORER") == 0);
    CHECK(edit_distance("abc", "xyz") == 3);
    CHECK(edit_distance("", "abc") == 3);
}

TEST_CASE("did-you-mean proposes only plausible typos") {
    const std::vector<std::string> types{"queue-scorer", "kv-cache-utilization-scorer", "max-score-picker"};
    CHECK(did_you_mean("queue-scorr", types) == " (did you mean \"queue-scorer\"?)");
    CHECK(did_you_mean("max-scor-picker", types) == " (did you mean \"max-score-picker\"?)");
    CHECK(did_you_mean("totally-different", types).empty());
    CHECK(did_you_mean("x", {}).empty());
    CHECK(quoted_list({"a", "b", "c"}) == "\"a\", \"b\" and \"c\"");
}

namespace {

// The textbook table, with no band and no early exit, to check the fast one against.
std::size_t reference_distance(std::string_view a, std::string_view b) {
    auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i)
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]))
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

}  // namespace

TEST_CASE("the banded distance agrees with the full table, within its cut-off") {
    std::mt19937 rng(11);
    auto word = [&] {
        std::string w;
        for (auto n = rng() % 12; n > 0; --n) w += static_cast<char>('a' + rng() % 4);
        return w;
    };
    for (int k = 0; k < 3000; ++k) {
        const std::string a = word(), b = word();
        const std::size_t expected = reference_distance(a, b);
        CHECK_MESSAGE(edit_distance(a, b) == expected, a << " / " << b);
        for (std::size_t max = 0; max <= 6; ++max) {
            const auto within = edit_distance_within(a, b, max);
            if (expected <= max) CHECK_MESSAGE(within == expected, a << " / " << b << " max " << max);
            else CHECK_MESSAGE(!within, a << " / " << b << " max " << max);
        }
    }
}

TEST_CASE("did-you-mean skips names of another length and names too long to be typos") {
    const std::vector<std::string> names{"queue-scorer", std::string(5000, 'q'), "queue"};
    CHECK(did_you_mean("queue-scorr", names) == " (did you mean \"queue-scorer\"?)");
    CHECK(did_you_mean("queu", names) == " (did you mean \"queue\"?)");
    CHECK(did_you_mean(std::string(4999, 'q'), names).empty());
    std::string long_typo(200, 'a');  // not `std::string(200, 'a') + "b"`: GCC 12's -Warray-bounds
    long_typo += 'b';                 // misfires on it (bug 105651)
    CHECK(did_you_mean(long_typo, {std::string(201, 'a')}).empty());
    // The first of equally close names wins.
    CHECK(did_you_mean("ab", {"xb", "ax"}) == " (did you mean \"xb\"?)");
    CHECK(did_you_mean("queue", {"QUEUE", "queue"}) == " (did you mean \"QUEUE\"?)");
}

TEST_CASE("a Suggester suggests for the first names only, then does no work") {
    const std::vector<std::string> names{"queue-scorer"};
    Suggester s(2);
    CHECK(!s.did_you_mean("queue-scorr", names).empty());
    CHECK(s.did_you_mean("zzz", names).empty());
    CHECK(s.did_you_mean("queue-scorr", names).empty());  // budget spent
    CHECK(s.used() == 2);
}
