#include "admission/lock.hpp"

#include "common/json.hpp"
#include "common/json_document.hpp"

#include <boost/json/string.hpp>

namespace plughost::host {
namespace {

bool is_sha256_hex(std::string_view text) {
    return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// One required string member of a lock entry.
std::optional<std::string> entry_string(const boost::json::object &o, std::string_view key, const std::string &at,
                                        std::vector<Issue> &issues) {
    const auto *v = o.if_contains(key);
    if (!v) {
        issues.push_back({child(at, key), Code::missing_field, "\"" + std::string(key) + "\" is required",
                          "regenerate the lock with `plughost lock`"});
        return std::nullopt;
    }
    if (!v->is_string()) {
        issues.push_back(wrong_type(child(at, key), "a string", *v));
        return std::nullopt;
    }
    return std::string(v->get_string());
}

}  // namespace

std::vector<Issue> read_lock(const boost::json::value &document, const std::string &source, PluginLock &into) {
    std::vector<Issue> issues;
    into.source = source;
    if (!document.is_object()) {
        issues.push_back(wrong_type("", "an object {\"lockVersion\": 1, \"plugins\": {...}}", document));
        return issues;
    }
    const auto &root = document.get_object();
    check_keys(root, "", {"lockVersion", "plugins"}, issues);
    const auto *lock_version = root.if_contains("lockVersion");
    if (!lock_version) {
        issues.push_back({"/lockVersion", Code::missing_field, "\"lockVersion\" is required",
                          "regenerate the lock with `plughost lock`"});
    } else if (!lock_version->is_int64() || lock_version->get_int64() != kLockVersion) {
        issues.push_back({"/lockVersion", Code::unsupported_version,
                          "lock version " + to_json(*lock_version) + " is not supported; this host reads version " +
                              std::to_string(kLockVersion),
                          "regenerate the lock with this host's `plughost lock`"});
    }
    const auto *plugins = root.if_contains("plugins");
    if (!plugins) {
        issues.push_back(
            {"/plugins", Code::missing_field, "\"plugins\" is required", "regenerate the lock with `plughost lock`"});
        return issues;
    }
    if (!plugins->is_object()) {
        issues.push_back(wrong_type("/plugins", "an object mapping file names to their pins", *plugins));
        return issues;
    }
    for (const auto &kv : plugins->get_object()) {
        const std::string at = child("/plugins", kv.key());
        const std::string name(kv.key());
        if (name.empty() || name.find('/') != std::string::npos || !name.ends_with(".so")) {
            issues.push_back({at, Code::invalid_value, "\"" + name + "\" is not a plugin file name",
                              "keys are file names in the plugin directory, such as \"queue-scorer.so\""});
            continue;
        }
        if (!kv.value().is_object()) {
            issues.push_back(wrong_type(at, "an object", kv.value()));
            continue;
        }
        const auto &o = kv.value().get_object();
        check_keys(o, at, {"type", "version", "stability", "abiVersion", "sha256"}, issues);
        const auto type = entry_string(o, "type", at, issues);
        const auto version = entry_string(o, "version", at, issues);
        const auto tier = entry_string(o, "stability", at, issues);
        const auto abi = entry_string(o, "abiVersion", at, issues);
        const auto hash = entry_string(o, "sha256", at, issues);
        if (!type || !version || !tier || !abi || !hash) continue;
        const auto stability = parse_stability(*tier);
        if (!stability) {
            issues.push_back({child(at, "stability"), Code::invalid_value, "\"" + *tier + "\" is not a stability tier",
                              "use one of \"dev\", \"alpha\", \"beta\", \"stable\""});
            continue;
        }
        if (!is_sha256_hex(*hash)) {
            issues.push_back({child(at, "sha256"), Code::invalid_value,
                              "\"" + *hash + "\" is not a SHA-256 digest (64 lowercase hex digits)",
                              "regenerate the lock with `plughost lock`, or compute it with sha256sum"});
            continue;
        }
        into.files[name] = LockEntry{*type, *version, *stability, *abi, *hash};
    }
    return issues;
}

boost::json::object lock_json(const std::vector<Candidate> &candidates) {
    boost::json::object plugins;
    for (const Candidate &c : candidates) {
        const Manifest *m = c.manifest();
        if (!c.admitted() || !m || c.sha256.empty()) continue;
        boost::json::object entry;
        entry["type"] = m->type;
        entry["version"] = m->version.str();
        entry["stability"] = std::string(to_string(m->stability));
        entry["abiVersion"] = m->abi_version.str();
        entry["sha256"] = c.sha256;
        plugins[c.file.path.filename().string()] = std::move(entry);
    }
    boost::json::object doc;
    doc["lockVersion"] = kLockVersion;
    doc["plugins"] = std::move(plugins);
    return doc;
}

Rule lock_rule(std::shared_ptr<const PluginLock> lock) {
    return [lock](std::vector<Candidate> &candidates) {
        // Only files admitted so far are hashed: a refused file is never copied.
        snapshot_and_hash(candidates);
        const std::string regenerate = "if the change is intended, regenerate the lock (plughost lock > " +
                                       lock->source + ") and review the difference";
        for (Candidate &c : candidates) {
            const Manifest *m = c.manifest();
            if (!c.admitted() || !m) continue;
            const std::string name = c.file.path.filename().string();
            const std::string where = c.file.path.string() + ": ";
            const auto it = lock->files.find(name);
            if (it == lock->files.end()) {
                c.reject(Code::not_in_lock, where + "is not in the lock file " + lock->source +
                                                ", which pins every plugin this host may run; remove the file, or "
                                                "add it: plughost lock > " +
                                                lock->source + " (review the difference before deploying it)");
                continue;
            }
            const LockEntry &pinned = it->second;
            if (pinned.type != m->type)
                c.reject(Code::lock_type_mismatch, where + "declares plugin type \"" + m->type + "\", but the lock " +
                                                       lock->source + " pins type \"" + pinned.type +
                                                       "\" for this file name; " + regenerate);
            if (pinned.stability != m->stability)
                c.reject(Code::lock_tier_changed,
                         where + "tier changed from " + std::string(to_string(pinned.stability)) + " (in the lock " +
                             lock->source + ") to " + std::string(to_string(m->stability)) + " (version " +
                             pinned.version + " -> " + m->version.str() + "); " + regenerate);
            if (c.sha256.empty()) continue;  // could not be copied: refused with that reason already
            if (pinned.sha256 != c.sha256)
                c.reject(Code::lock_hash_mismatch, where + "its content (SHA-256 " + c.sha256 + ", version " +
                                                       m->version.str() + ") differs from the lock " + lock->source +
                                                       " (SHA-256 " + pinned.sha256 + ", version " + pinned.version +
                                                       "); " + regenerate);
        }
    };
}

}  // namespace plughost::host
