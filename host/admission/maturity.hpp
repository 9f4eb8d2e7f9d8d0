// The maturity list: a reviewable file pinning the expected tier of each known plugin type,
// so that a tier change is a visible, reviewed decision rather than a line in a manifest.
#pragma once

#include "common/diagnostic.hpp"
#include "inspect/manifest.hpp"

#include <boost/json/value.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace plughost::host {

struct MaturityPin {
    Stability stability;
    std::string source;
};

struct MaturityList {
    std::map<std::string, MaturityPin, std::less<>> pins;

    const MaturityPin *find(std::string_view type) const;
};

/// Adds the pins of a document {"plugins": {"type": "tier", ...}} to `into`; a later document
/// overrides an earlier one for the same type.
std::vector<Issue> read_maturity(const boost::json::value &document, const std::string &source, MaturityList &into);

/// The maturity list shipped with this host for the in-tree plugins.
const MaturityList &bundled_maturity();

}  // namespace plughost::host
