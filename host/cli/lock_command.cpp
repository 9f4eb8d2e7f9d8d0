#include "cli/commands.hpp"

#include "admission/lock.hpp"
#include "cli/report.hpp"
#include "common/json.hpp"

#include <spdlog/spdlog.h>

namespace plughost::cli {
namespace {

// One plugin per line, so that a change to a lock file reviews as a one-line diff.
std::string lock_text(const boost::json::object &doc) {
    std::string out = "{\n  \"lockVersion\": " + host::to_json(doc.at("lockVersion")) + ",\n  \"plugins\": {";
    const auto &plugins = doc.at("plugins").get_object();
    bool first = true;
    for (const auto &kv : plugins) {
        out += std::string(first ? "\n" : ",\n") + "    " + host::to_json(boost::json::value(kv.key())) + ": " +
               host::to_json(kv.value());
        first = false;
    }
    out += plugins.empty() ? "}\n}\n" : "\n  }\n}\n";
    return out;
}

}  // namespace

int run_lock(const LockOptions &options) {
    auto pf = start(options.flags, host::ConfigSource::none, true);
    if (!pf) return kExitUsage;
    if (!pf->errors.empty()) {
        log_issues(pf->errors);
        spdlog::error("no lock written: fix the problems above first");
        return kExitProblems;
    }
    // The hash is taken from the sealed in-memory copy, the bytes a host would load.
    host::snapshot_and_hash(pf->candidates);
    std::size_t pinned = 0;
    for (const auto &c : pf->candidates) {
        if (c.admitted()) {
            ++pinned;
            continue;
        }
        for (const auto &r : c.reasons) spdlog::warn("not locked: [{}] {}", host::to_string(r.code), r.message);
    }
    spdlog::info("locked {} plugin file(s) of {} in {}", pinned, pf->candidates.size(), pf->plugin_dir.string());
    return emit(lock_text(host::lock_json(pf->candidates)), kExitOk);
}

}  // namespace plughost::cli
