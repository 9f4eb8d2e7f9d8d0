#include "common/semver.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

namespace plughost::host {
namespace {

bool is_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::uint64_t> parse_number(std::string_view s) {
    if (!is_digits(s) || (s.size() > 1 && s[0] == '0')) return std::nullopt;
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return value;
}

// Identifiers of a prerelease or build part: non-empty, [0-9A-Za-z-].
bool valid_identifiers(std::string_view s, bool no_leading_zero) {
    if (s.empty()) return false;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = s.find('.', start);
        const std::string_view id = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
        if (id.empty()) return false;
        for (char c : id)
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-')) return false;
        if (no_leading_zero && is_digits(id) && id.size() > 1 && id[0] == '0') return false;
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

std::vector<std::string_view> split_dots(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = s.find('.', start);
        out.push_back(s.substr(start, dot == std::string_view::npos ? s.npos : dot - start));
        if (dot == std::string_view::npos) return out;
        start = dot + 1;
    }
}

}  // namespace

std::optional<SemVer> SemVer::parse(std::string_view text) {
    SemVer v;
    if (const auto plus = text.find('+'); plus != std::string_view::npos) {
        v.build = std::string(text.substr(plus + 1));
        if (!valid_identifiers(v.build, false)) return std::nullopt;
        text = text.substr(0, plus);
    }
    if (const auto dash = text.find('-'); dash != std::string_view::npos) {
        v.prerelease = std::string(text.substr(dash + 1));
        if (!valid_identifiers(v.prerelease, true)) return std::nullopt;
        text = text.substr(0, dash);
    }
    // MAJOR.MINOR.PATCH, cut at the two dots (no vector: manifests are read by the thousand).
    const std::size_t dot1 = text.find('.');
    const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : text.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos) return std::nullopt;
    const auto major = parse_number(text.substr(0, dot1));
    const auto minor = parse_number(text.substr(dot1 + 1, dot2 - dot1 - 1));
    const auto patch = parse_number(text.substr(dot2 + 1));  // a third dot makes it no number
    if (!major || !minor || !patch) return std::nullopt;
    v.major = *major;
    v.minor = *minor;
    v.patch = *patch;
    return v;
}

std::string SemVer::str() const {
    std::string out = std::to_string(major) + '.' + std::to_string(minor) + '.' + std::to_string(patch);
    if (!prerelease.empty()) out += '-' + prerelease;
    if (!build.empty()) out += '+' + build;
    return out;
}

std::strong_ordering operator<=>(const SemVer &a, const SemVer &b) {
    if (auto c = a.major <=> b.major; c != 0) return c;
    if (auto c = a.minor <=> b.minor; c != 0) return c;
    if (auto c = a.patch <=> b.patch; c != 0) return c;
    if (a.prerelease.empty() || b.prerelease.empty())
        return a.prerelease.empty() <=> b.prerelease.empty();  // a release sorts after its prereleases
    const auto x = split_dots(a.prerelease);
    const auto y = split_dots(b.prerelease);
    for (std::size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
        const bool xn = is_digits(x[i]);
        const bool yn = is_digits(y[i]);
        if (xn && yn) {
            if (x[i].size() != y[i].size()) return x[i].size() <=> y[i].size();
            if (auto c = x[i].compare(y[i]) <=> 0; c != 0) return c;
        } else if (xn != yn) {
            return xn ? std::strong_ordering::less : std::strong_ordering::greater;
        } else if (auto c = x[i].compare(y[i]) <=> 0; c != 0) {
            return c;
        }
    }
    return x.size() <=> y.size();
}

}  // namespace plughost::host
