#include "report.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace plughost::host {
namespace {

boost::json::value optional_string(const std::optional<std::string> &s) {
    return s ? boost::json::value(*s) : boost::json::value(nullptr);
}

std::string cell(const std::optional<std::string> &s) { return s ? *s : "-"; }

} // namespace

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

std::string format_table(const std::vector<std::vector<std::string>> &rows) {
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
        for (const Reason &r : c.reasons) out += "  [" + std::string(to_string(r.code)) + "] " + r.message + "\n";
        for (const Reason &r : c.warnings) out += "  warning [" + std::string(to_string(r.code)) + "] " + r.message + "\n";
    }
    return out;
}

boost::json::object inspect_json(const Candidate &c) {
    boost::json::object o = plugin_json(c);
    boost::json::error_code ec;
    boost::json::value manifest = c.file.manifest_json.empty() ? nullptr : boost::json::parse(c.file.manifest_json, ec);
    o["manifest"] = ec ? boost::json::value(c.file.manifest_json) : std::move(manifest);
    return o;
}

std::string inspect_table(const Candidate &c) {
    std::string out = "file:         " + c.file.path.string() + "\n";
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
                prow.push_back({"  " + p.name, p.type,
                                p.default_value ? boost::json::serialize(*p.default_value) : "(none)", p.description});
            out += format_table(prow);
        }
    } else if (!c.file.manifest_json.empty()) {
        out += "manifest:     " + c.file.manifest_json + "\n";
    } else {
        out += "manifest:     (none found)\n";
    }
    out += std::string("decision:     ") + (c.admitted() ? "admitted" : "rejected") + "\n";
    for (const Reason &r : c.reasons) out += "  [" + std::string(to_string(r.code)) + "] " + r.message + "\n";
    for (const Reason &r : c.warnings) out += "  warning [" + std::string(to_string(r.code)) + "] " + r.message + "\n";
    return out;
}

} // namespace plughost::host
