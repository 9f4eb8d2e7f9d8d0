#include "common/suggest.hpp"

#include <algorithm>
#include <cctype>

namespace plughost::host {
namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::size_t difference(std::size_t a, std::size_t b) { return a > b ? a - b : b - a; }

}  // namespace

// The optimal-string-alignment table, computed only in the band |i - j| <= max: a cell outside
// it is at least |i - j| > max. Every row's minimum only grows (each cell comes from the row
// above, or two above through a transposition, plus one), so once a row is all above `max` the
// answer is too.
std::optional<std::size_t> edit_distance_within(std::string_view a, std::string_view b, std::size_t max) {
    const std::size_t n = a.size(), m = b.size();
    if (difference(n, m) > max) return std::nullopt;
    const std::size_t over = max + 1;  // any value above max; cells are clamped to it
    std::vector<std::size_t> prev2(m + 1, over), prev(m + 1, over), cur(m + 1, over);
    for (std::size_t j = 0; j <= std::min(m, max); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= n; ++i) {
        const std::size_t lo = i > max ? i - max : 1, hi = std::min(m, i + max);
        cur[0] = std::min(i, over);
        if (lo > 1) cur[lo - 1] = over;
        std::size_t row_min = cur[0];
        for (std::size_t j = lo; j <= hi; ++j) {
            const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            std::size_t d = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]))
                d = std::min(d, prev2[j - 2] + 1);
            cur[j] = std::min(d, over);
            row_min = std::min(row_min, cur[j]);
        }
        if (hi < m) cur[hi + 1] = over;  // read as "the row above" by the next row
        if (row_min > max) return std::nullopt;
        std::swap(prev2, prev);
        std::swap(prev, cur);
    }
    if (prev[m] > max) return std::nullopt;
    return prev[m];
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    return *edit_distance_within(a, b, std::max(a.size(), b.size()));
}

std::optional<std::string> closest(std::string_view typed, const std::vector<std::string> &candidates) {
    if (typed.size() > kMaxSuggestedLength) return std::nullopt;
    // A typo changes a few characters; allow about a third of the word, at least 2. Each match
    // lowers the cut-off, so later candidates must be strictly closer to replace it.
    std::size_t cutoff = std::max<std::size_t>(2, typed.size() / 3);
    std::optional<std::string> best;
    for (const auto &c : candidates) {
        if (c.size() > kMaxSuggestedLength || difference(c.size(), typed.size()) > cutoff) continue;
        if (const auto d = edit_distance_within(typed, c, cutoff)) {
            best = c;
            if (*d == 0) break;
            cutoff = *d - 1;
        }
    }
    return best;
}

std::string did_you_mean(std::string_view typed, const std::vector<std::string> &candidates) {
    const auto best = closest(typed, candidates);
    return best ? " (did you mean \"" + *best + "\"?)" : "";
}

std::string Suggester::did_you_mean(std::string_view typed, const std::vector<std::string> &candidates) {
    if (left_ == 0) return "";
    --left_;
    ++used_;
    return host::did_you_mean(typed, candidates);
}

std::string quoted_list(const std::vector<std::string> &items) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += i + 1 == items.size() ? " and " : ", ";
        out += "\"" + items[i] + "\"";
    }
    return out.empty() ? "(none)" : out;
}

}  // namespace plughost::host
