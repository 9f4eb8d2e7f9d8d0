#include "cli/report.hpp"

#include "common/json.hpp"
#include "common/suggest.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

namespace plughost::host {
namespace {

boost::json::value optional_string(const std::optional<std::string> &s) {
    return s ? boost::json::value(*s) : boost::json::value(nullptr);
}

std::string cell(const std::optional<std::string> &s) { return s ? *s : "-"; }

// Text for a terminal: a file name, a manifest or a config may hold any byte, and a control
// character (an escape sequence, a newline) would take over the operator's terminal or forge a
// line of the report. Shown as \xNN, as in the log.
std::string shown(std::string_view text) { return sanitize_line(text, std::numeric_limits<std::size_t>::max()); }

std::string reason_line(std::string_view prefix, const Reason &r) {
    return std::string(prefix) + "[" + std::string(to_string(r.code)) + "] " + shown(r.message) + "\n";
}

}  // namespace

boost::json::array reasons_json(const std::vector<Reason> &reasons) {
    boost::json::array out;
    for (const Reason &r : reasons) out.push_back({{"code", to_string(r.code)}, {"message", r.message}});
    return out;
}

boost::json::object plugin_json(const Candidate &c) {
    const auto *reading = c.file.reading ? &*c.file.reading : nullptr;
    boost::json::object o;
    o["file"] = c.file.path.string();
    o["type"] = optional_string(c.declared_type());
    o["role"] = optional_string(reading ? reading->role : std::nullopt);
    o["version"] = optional_string(reading ? reading->version : std::nullopt);
    o["stability"] = optional_string(reading ? reading->stability : std::nullopt);
    o["decision"] = c.admitted() ? "admitted" : "rejected";
    o["reasons"] = reasons_json(c.reasons);
    o["warnings"] = reasons_json(c.warnings);
    return o;
}

boost::json::object list_json(const std::vector<Candidate> &candidates) {
    boost::json::array plugins;
    for (const Candidate &c : candidates) plugins.push_back(plugin_json(c));
    return {{"plugins", std::move(plugins)}};
}

std::string format_table(std::vector<std::vector<std::string>> rows) {
    for (auto &row : rows)
        for (auto &text : row) text = shown(text);
    std::vector<std::size_t> width;
    for (const auto &row : rows)
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], row[i].size());
        }
    std::string out;
    for (const auto &row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line.append(width[i] - row[i].size() + 2, ' ');
        }
        out += line + '\n';
    }
    return out;
}

std::string list_table(const std::vector<Candidate> &candidates) {
    if (candidates.empty()) return "no plugin files (*.so) found\n";
    std::string out;
    std::vector<std::vector<std::string>> rows{{"FILE", "TYPE", "ROLE", "VERSION", "STABILITY", "DECISION"}};
    for (const Candidate &c : candidates) {
        const auto *r = c.file.reading ? &*c.file.reading : nullptr;
        rows.push_back({c.file.path.filename().string(), cell(c.declared_type()), cell(r ? r->role : std::nullopt),
                        cell(r ? r->version : std::nullopt), cell(r ? r->stability : std::nullopt),
                        c.admitted() ? "admitted" : "rejected"});
    }
    out += format_table(rows);
    bool header = false;
    for (const Candidate &c : candidates) {
        if (c.reasons.empty() && c.warnings.empty()) continue;
        if (!header) out += "\n";
        header = true;
        for (const Reason &r : c.reasons) out += reason_line("  ", r);
        for (const Reason &r : c.warnings) out += reason_line("  warning ", r);
    }
    return out;
}

boost::json::object inspect_json(const Candidate &c) {
    boost::json::object o = plugin_json(c);
    // The document as found; when it is not JSON, its text.
    JsonParse manifest = parse_json(c.file.manifest_json, {kMaxManifestBytes, kMaxManifestDepth});
    if (c.file.manifest_json.empty()) o["manifest"] = nullptr;
    else if (manifest.error) o["manifest"] = c.file.manifest_json;
    else o["manifest"] = std::move(manifest.value);
    return o;
}

std::string inspect_table(const Candidate &c) {
    std::string out = "file:         " + shown(c.file.path.string()) + "\n";
    if (const Manifest *m = c.manifest()) {
        std::vector<std::vector<std::string>> rows{
            {"type:", m->type},
            {"role:", std::string(to_string(m->role))},
            {"version:", m->version.str()},
            {"abiVersion:", m->abi_version.str()},
            {"stability:", std::string(to_string(m->stability))},
            {"featureGate:", m->feature_gate.empty() ? "(none)" : m->feature_gate},
            {"threadSafe:", m->thread_safe ? "true" : "false"},
            {"description:", m->description},
        };
        if (m->deprecation) {
            const Deprecation &d = *m->deprecation;
            std::string repl;
            for (const auto &r : d.replacements) repl += (repl.empty() ? "" : ", ") + r;
            rows.push_back({"deprecated:", "since " + d.since.str() + ", removed in " + d.removed_in.str()});
            rows.push_back({"  message:", d.message});
            rows.push_back({"  replacements:", repl.empty() ? "(none)" : repl});
        }
        out += format_table(rows);
        if (m->parameters.empty()) {
            out += "parameters:   (none)\n";
        } else {
            out += "parameters:\n";
            std::vector<std::vector<std::string>> prow{{"  NAME", "TYPE", "DEFAULT", "DESCRIPTION"}};
            for (const ParameterSpec &p : m->parameters)
                prow.push_back({"  " + p.name, std::string(to_string(p.type)),
                                p.default_value ? to_json(*p.default_value) : "(none)", p.description});
            out += format_table(prow);
        }
    } else if (!c.file.manifest_json.empty()) {
        out += "manifest:     " + shown(c.file.manifest_json) + "\n";
    } else {
        out += "manifest:     (none found)\n";
    }
    out += std::string("decision:     ") + (c.admitted() ? "admitted" : "rejected") + "\n";
    for (const Reason &r : c.reasons) out += reason_line("  ", r);
    for (const Reason &r : c.warnings) out += reason_line("  warning ", r);
    return out;
}

}  // namespace plughost::host

namespace plughost::host {

boost::json::object issue_json(const Issue &issue) {
    boost::json::object o{
        {"path", issue.path}, {"code", to_string(issue.code)}, {"message", issue.message}, {"hint", issue.hint}};
    if (issue.line != 0) {  // a YAML config: where the node is
        o["line"] = issue.line;
        o["column"] = issue.column;
    }
    return o;
}

boost::json::array issues_json(const std::vector<Issue> &issues) {
    boost::json::array out;
    for (const Issue &i : issues) out.push_back(issue_json(i));
    return out;
}

std::string issues_table(const std::vector<Issue> &issues, std::string_view label) {
    std::string out;
    for (const Issue &i : issues) {
        out += std::string(label) + " [" + std::string(to_string(i.code)) + "] " +
               shown((i.path.empty() ? "" : i.path + ": ") + i.message) + "\n";
        if (!i.hint.empty()) out += "    hint: " + shown(i.hint) + "\n";
    }
    return out;
}

boost::json::object min_stability_json(const Policy &policy) {
    return {{"value", to_string(policy.min_stability)}, {"defaulted", policy.min_stability_defaulted}};
}

boost::json::object check_json(const Preflight &pf) {
    boost::json::object o;
    o["ok"] = pf.ok();
    o["minStability"] = min_stability_json(*pf.policy);
    o["plugins"] = list_json(pf.candidates).at("plugins");
    o["errors"] = issues_json(pf.errors);
    o["warnings"] = issues_json(pf.warnings);
    boost::json::array built_ins;
    for (const BuiltInConfig &b : pf.config.built_ins)
        built_ins.push_back({{"name", b.name}, {"type", b.type}, {"path", b.path}, {"what", b.what}});
    o["builtIns"] = std::move(built_ins);
    return o;
}

std::string check_table(const Preflight &pf) {
    std::string out = "config:            " + shown(pf.config.source) + "\n";
    out += "minimum stability: " + describe_min_stability(*pf.policy) + "\n\n";
    out += list_table(pf.candidates);
    if (!pf.profiles.empty()) {
        out += "\nscheduling profiles:\n";
        for (const PlannedProfile &p : pf.profiles) {
            std::string line = "  " + p.name + (p.defaulted ? " (default)" : "") + ": ";
            for (auto f : p.filters) line += pf.instances[f].name + " -> ";
            std::string scorers;
            for (const auto &[s, w] : p.scorers)
                scorers += (scorers.empty() ? "" : " + ") + fmt::format("{:g}", w) + "*" + pf.instances[s].name;
            // A profile left without a picker (its references or the default picker failed, as
            // the errors say) has no valid picker index.
            const bool has_picker = p.picker < pf.instances.size() && pf.instances[p.picker].role == Role::picker;
            line += (scorers.empty() ? "(no scorer)" : scorers) + " -> " +
                    (has_picker ? pf.instances[p.picker].name : std::string("(no picker)"));
            out += shown(line) + "\n";
        }
    }
    if (!pf.config.built_ins.empty()) {
        out += "\nbuilt in (upstream entries the host covers itself, no plugin file needed):\n";
        for (const BuiltInConfig &b : pf.config.built_ins)
            out += shown("  note: " + b.path + " \"" + b.name + "\" (" + b.type + "): " + b.what) + "\n";
    }
    if (!pf.errors.empty() || !pf.warnings.empty()) out += "\n";
    out += issues_table(pf.errors, "error");
    out += issues_table(pf.warnings, "warning");
    out += std::string("\n") + (pf.ok() ? "ok: the config can run with these plugins\n"
                                        : "not ok: " + std::to_string(pf.errors.size()) + " error(s)\n");
    return out;
}

boost::json::object gates_json(const FeatureGates &gates, const Tombstones &tombstones) {
    boost::json::array list;
    for (const Gate &g : gates.gates()) {
        const auto value = gates.value(g);
        boost::json::array by;
        for (const auto &d : g.declared_by) by.push_back(boost::json::value(d));
        list.push_back(
            {{"name", g.name},
             {"stability", g.stability ? boost::json::value(to_string(*g.stability)) : boost::json::value(nullptr)},
             {"default", g.default_value},
             {"locked", g.locked},
             {"declaredBy", std::move(by)},
             {"enabled", value.enabled},
             {"why", value.why},
             {"description", g.description}});
    }
    boost::json::array dead;
    for (const Tombstone &t : tombstones.gates) {
        boost::json::array repl;
        for (const auto &r : t.replacements) repl.push_back(boost::json::value(r));
        dead.push_back({{"name", t.name},
                        {"removedIn", t.removed_in.str()},
                        {"message", t.message},
                        {"replacements", std::move(repl)}});
    }
    return {{"gates", std::move(list)}, {"tombstoned", std::move(dead)}};
}

std::string gates_table(const FeatureGates &gates, const Tombstones &tombstones) {
    std::vector<std::vector<std::string>> rows{{"GATE", "TIER", "DEFAULT", "LOCKED", "ENABLED", "DECLARED BY"}};
    for (const Gate &g : gates.gates()) {
        std::string by;
        for (const auto &d : g.declared_by) by += (by.empty() ? "" : ", ") + d;
        rows.push_back({g.name,
                        g.stability  ? std::string(to_string(*g.stability))
                        : g.upstream ? "upstream"
                                     : "meta",
                        g.default_value ? "true" : "false", g.locked ? "locked" : "-",
                        gates.value(g).enabled ? "true" : "false", by});
    }
    std::string out = format_table(rows);
    out += "\nAllAlpha and AllBeta set the default of every alpha or beta gate not set explicitly (never dev gates).\n";
    out +=
        "flowControl and haPopulateNonLeaderDatastore are the upstream endpoint picker's gates, read so its configs\n"
        "load as they are: flowControl=true is an error (no flow control), the other is ignored.\n";
    out += "Set gates with featureGates in the config or --feature-gates=Name=true,Other=false.\n";
    if (!tombstones.gates.empty()) {
        out += "\nremoved gates:\n";
        for (const Tombstone &t : tombstones.gates)
            out += "  " + t.name + ": removed in " + t.removed_in.str() + ": " + t.message +
                   (t.replacements.empty() ? "" : " Replace with " + quoted_list(t.replacements) + ".") + "\n";
    }
    return out;
}

}  // namespace plughost::host

namespace plughost::host {

void log_decisions(const std::vector<Candidate> &candidates, int level) {
    const auto lvl = static_cast<spdlog::level::level_enum>(level);
    for (const Candidate &c : candidates) {
        std::string codes;
        for (const Reason &r : c.reasons) codes += (codes.empty() ? "" : ", ") + std::string(to_string(r.code));
        const std::string decision = c.admitted() ? "admitted" : "rejected (" + codes + ")";
        if (const Manifest *m = c.manifest())
            spdlog::log(lvl, "plugin {} {} [{}] {} from {}", m->type, m->version.str(), to_string(m->stability),
                        decision, c.file.path.string());
        else spdlog::log(lvl, "file {} {}", c.file.path.string(), decision);
        for (const Reason &w : c.warnings) spdlog::warn("[{}] {}", to_string(w.code), w.message);
    }
}

}  // namespace plughost::host
