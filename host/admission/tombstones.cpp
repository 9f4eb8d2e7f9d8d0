#include "admission/tombstones.hpp"

#include "common/json_document.hpp"
#include "common/suggest.hpp"
#include "embedded_data.hpp"
#include "inspect/manifest.hpp"

#include <stdexcept>

namespace plughost::host {

const Tombstone *Tombstones::find_plugin(std::string_view type) const {
    for (const auto &t : plugins)
        if (t.name == type) return &t;
    return nullptr;
}

const Tombstone *Tombstones::find_gate(std::string_view name) const {
    for (const auto &t : gates)
        if (t.name == name) return &t;
    return nullptr;
}

std::string removal_text(const Tombstone &t, std::string_view kind) {
    return std::string(kind) + " \"" + t.name + "\" was removed in plughost " + t.removed_in.str() + ": " + t.message;
}

std::string replacement_hint(const Tombstone &t) {
    if (t.replacements.empty()) return "remove it from the configuration";
    return "replace it with " + quoted_list(t.replacements);
}

namespace {

void read_list(const boost::json::value &list, const std::string &path, bool gates, const std::string &source,
               std::vector<Tombstone> &into, std::vector<Issue> &issues) {
    if (!list.is_array()) {
        issues.push_back(wrong_type(path, "an array of tombstones", list));
        return;
    }
    const std::string name_key = gates ? "name" : "type";
    for (std::size_t i = 0; i < list.get_array().size(); ++i) {
        const auto &item = list.get_array()[i];
        const std::string at = child(path, i);
        if (!item.is_object()) {
            issues.push_back(wrong_type(at, "an object {" + name_key + ", removedIn, message, replacements}", item));
            continue;
        }
        const auto &o = item.get_object();
        check_keys(o, at, {name_key, "removedIn", "message", "replacements"}, issues);
        Tombstone t;
        t.source = source;
        const auto *name = o.if_contains(name_key);
        const bool name_ok = name && name->is_string() &&
                             (gates ? is_gate_name(name->get_string()) : is_plugin_type_name(name->get_string()));
        if (!name_ok) {
            issues.push_back(name ? wrong_type(child(at, name_key), gates ? "a gate name" : "a plugin type", *name)
                                  : Issue{child(at, name_key), Code::missing_field, "missing " + name_key, ""});
            continue;
        }
        t.name = std::string(name->get_string());
        const auto *removed = o.if_contains("removedIn");
        std::optional<SemVer> version;
        if (removed && removed->is_string()) version = SemVer::parse(removed->get_string());
        if (!version) {
            issues.push_back(removed ? wrong_type(child(at, "removedIn"), "a semantic version", *removed)
                                     : Issue{child(at, "removedIn"), Code::missing_field, "missing removedIn", ""});
            continue;
        }
        t.removed_in = *version;
        const auto *message = o.if_contains("message");
        if (!message || !message->is_string() || message->get_string().empty()) {
            issues.push_back(message ? wrong_type(child(at, "message"), "a non-empty migration message", *message)
                                     : Issue{child(at, "message"), Code::missing_field, "missing message", ""});
            continue;
        }
        t.message = std::string(message->get_string());
        if (const auto *repl = o.if_contains("replacements")) {
            if (!repl->is_array()) {
                issues.push_back(wrong_type(child(at, "replacements"), "an array of names", *repl));
                continue;
            }
            for (std::size_t j = 0; j < repl->get_array().size(); ++j) {
                const auto &r = repl->get_array()[j];
                if (r.is_string()) t.replacements.emplace_back(r.get_string());
                else issues.push_back(wrong_type(child(child(at, "replacements"), j), "a name", r));
            }
        }
        bool seen = false;
        for (const auto &existing : into) seen = seen || existing.name == t.name;
        if (!seen) into.push_back(std::move(t));
    }
}

}  // namespace

std::vector<Issue> read_tombstones(const boost::json::value &document, const std::string &source, Tombstones &into) {
    std::vector<Issue> issues;
    if (!document.is_object()) {
        issues.push_back(wrong_type("", "an object {\"plugins\": [...], \"gates\": [...]}", document));
        return issues;
    }
    const auto &o = document.get_object();
    check_keys(o, "", {"plugins", "gates"}, issues);
    if (const auto *p = o.if_contains("plugins")) read_list(*p, "/plugins", false, source, into.plugins, issues);
    if (const auto *g = o.if_contains("gates")) read_list(*g, "/gates", true, source, into.gates, issues);
    return issues;
}

const Tombstones &bundled_tombstones() {
    static const Tombstones bundled =
        read_bundled<Tombstones>(embedded::tombstones_json, "tombstones.json", read_tombstones);
    return bundled;
}

}  // namespace plughost::host
