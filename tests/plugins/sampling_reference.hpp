// The random pickers' documented drawing procedure (docs/plugins.md), written again from the
// documentation so the tests can predict a seeded decision without the plugins' code.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace plughost::test::plugin_tests {

/// What a picker seeded like `engine` picks for `totals` (k picks at most).
inline std::vector<std::size_t> reference_draw(std::mt19937_64 &engine, const std::vector<double> &totals,
                                               std::size_t k) {
    const std::size_t n = totals.size();
    std::vector<double> w(n, 0.0);
    double largest = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (std::isfinite(totals[i]) && totals[i] > 0) w[i] = totals[i];
        largest = std::max(largest, w[i]);
    }
    if (largest > 0)
        for (double &x : w) x /= largest;
    std::vector<bool> taken(n, false);
    std::vector<std::size_t> out;
    while (out.size() < std::min(k, n)) {
        double total = 0;
        for (std::size_t i = 0; i < n; ++i)
            if (!taken[i]) total += w[i];
        std::size_t chosen = n;
        if (total > 0) {
            const double u = static_cast<double>(engine() >> 11) / 9007199254740992.0;  // 2^53
            double running = 0;
            for (std::size_t i = 0; i < n && chosen == n; ++i) {
                if (taken[i] || w[i] == 0) continue;
                running += w[i];
                if (running > u * total) chosen = i;
            }
            for (std::size_t i = n; chosen == n && i-- > 0;)
                if (!taken[i] && w[i] > 0) chosen = i;
        } else {
            const std::uint64_t remaining = n - out.size();
            const std::uint64_t reject_below = (UINT64_MAX - remaining + 1) % remaining;  // 2^64 mod remaining
            std::uint64_t x = engine();
            while (x < reject_below) x = engine();
            std::uint64_t j = x % remaining;
            for (std::size_t i = 0; i < n && chosen == n; ++i) {
                if (taken[i]) continue;
                if (j == 0) chosen = i;
                else --j;
            }
        }
        taken[chosen] = true;
        out.push_back(chosen);
    }
    return out;
}

}  // namespace plughost::test::plugin_tests
