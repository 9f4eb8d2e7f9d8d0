// Semantic versions (semver.org 2.0.0): parsing, ordering, printing.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace plughost::host {

struct SemVer {
    std::uint64_t major = 0;
    std::uint64_t minor = 0;
    std::uint64_t patch = 0;
    std::string prerelease;  ///< without the leading '-'; empty for a release
    std::string build;       ///< without the leading '+'; ignored by ordering

    /// Parses "MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]"; nullopt when the text is not semver.
    static std::optional<SemVer> parse(std::string_view text);

    std::string str() const;

    /// Precedence as semver defines it: build metadata is ignored, a prerelease sorts first.
    friend std::strong_ordering operator<=>(const SemVer &a, const SemVer &b);
    friend bool operator==(const SemVer &a, const SemVer &b) { return (a <=> b) == 0; }
};

}  // namespace plughost::host
