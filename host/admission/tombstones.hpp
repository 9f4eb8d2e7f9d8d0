// Tombstones: what was removed (plugin types and feature gates), when, and what replaces it, so
// a config or plugin naming something removed gets migration guidance instead of "unknown".
#pragma once

#include "common/diagnostic.hpp"
#include "common/semver.hpp"

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace plughost::host {

struct Tombstone {
    std::string name;  ///< plugin type or gate name
    SemVer removed_in;
    std::string message;
    std::vector<std::string> replacements;  ///< one removed thing may be replaced by several
    std::string source;                     ///< the file it came from
};

struct Tombstones {
    std::vector<Tombstone> plugins;
    std::vector<Tombstone> gates;

    const Tombstone *find_plugin(std::string_view type) const;
    const Tombstone *find_gate(std::string_view name) const;
};

/// "plugin type \"x\" was removed in plughost 1.0.0: <message>"
std::string removal_text(const Tombstone &t, std::string_view kind);
/// "replace it with \"a\" and \"b\"" (or the message's own advice when there is no replacement).
std::string replacement_hint(const Tombstone &t);

/// Adds the tombstones of a document {"plugins":[...], "gates":[...]} to `into`; problems are
/// returned with JSON Pointers into the document. A name tombstoned twice keeps the first.
std::vector<Issue> read_tombstones(const boost::json::value &document, const std::string &source, Tombstones &into);

/// The tombstones shipped with this host for in-tree plugins.
const Tombstones &bundled_tombstones();

}  // namespace plughost::host
