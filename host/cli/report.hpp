// Rendering admission results for operators: JSON for scripts (a stable shape), tables for
// people.
#pragma once

#include "admission/admission.hpp"
#include "admission/feature_gates.hpp"
#include "plan/preflight.hpp"

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

boost::json::object issue_json(const Issue &issue);
boost::json::array issues_json(const std::vector<Issue> &issues);
std::string issues_table(const std::vector<Issue> &issues, std::string_view label);

/// {"value": "beta", "defaulted": true}
boost::json::object min_stability_json(const Policy &policy);

/// {"ok", "minStability", "plugins":[plugin_json...], "errors":[issue...], "warnings":[issue...],
///  "builtIns":[{"name", "type", "path", "what"}]}; an issue about a YAML config also has
///  "line" and "column".
boost::json::object check_json(const Preflight &pf);
std::string check_table(const Preflight &pf);

/// {"gates":[{"name","stability","default","locked","declaredBy","enabled","why","description"}],
///  "tombstoned":[{"name","removedIn","message","replacements"}]}
boost::json::object gates_json(const FeatureGates &gates, const Tombstones &tombstones);
std::string gates_table(const FeatureGates &gates, const Tombstones &tombstones);

/// The start-up log: one line per plugin file with its tier and decision (at `level`), and a
/// warning for each of its warnings (deprecations and the like).
void log_decisions(const std::vector<Candidate> &candidates, int level);

/// Lays out rows of cells in left-aligned columns separated by two spaces.
std::string format_table(std::vector<std::vector<std::string>> rows);

}  // namespace plughost::host
