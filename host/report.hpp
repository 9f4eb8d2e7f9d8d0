// Rendering admission results for operators: JSON for scripts (a stable shape), tables for
// people.
#pragma once

#include "admission.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <vector>

namespace plughost::host {

/// {"file", "type"|null, "role", "version", "stability", "decision", "reasons":[{"code","message"}],
///  "warnings":[...]}
boost::json::object plugin_json(const Candidate &candidate);

/// {"plugins":[plugin_json...]}
boost::json::object list_json(const std::vector<Candidate> &candidates);

/// One row per file, reasons and warnings indented under it.
std::string list_table(const std::vector<Candidate> &candidates);

/// plugin_json plus "manifest": the full manifest document (or null).
boost::json::object inspect_json(const Candidate &candidate);

/// Every manifest field, one per line, then the parameters and the decision.
std::string inspect_table(const Candidate &candidate);

boost::json::array reasons_json(const std::vector<Reason> &reasons);

/// Lays out rows of cells in left-aligned columns separated by two spaces.
std::string format_table(const std::vector<std::vector<std::string>> &rows);

} // namespace plughost::host
