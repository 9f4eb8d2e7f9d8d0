#include "cli/commands.hpp"

#include "cli/quarantine.hpp"
#include "cli/report.hpp"
#include "common/json.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace plughost::cli {

int run_list(const ListOptions &options) {
    // list reports files and decisions under the policy; it plans instances only to check a
    // config it was given.
    auto pf = start(options.flags, host::ConfigSource::none, true);
    if (!pf) return kExitUsage;
    if (!apply_probe_state(*pf, probe_state_file(options.flags.probe_state))) return kExitUsage;
    for (const auto &c : pf->candidates) {
        const auto *m = c.manifest();
        spdlog::debug("{}: {} {}", c.file.path.string(), m ? std::string(plughost::to_string(m->stability)) : "-",
                      c.admitted() ? "admitted" : "rejected");
    }
    log_issues(pf->errors);
    std::string report;
    if (options.output == Output::json) {
        auto doc = host::list_json(pf->candidates);
        doc["minStability"] = host::min_stability_json(*pf->policy);
        report = host::to_json(doc) + '\n';
    } else {
        report = "plugin directory:  " + pf->plugin_dir.string() + "\n" +
                 "minimum stability: " + host::describe_min_stability(*pf->policy) + "\n\n" +
                 host::list_table(pf->candidates);
    }
    const bool all_admitted =
        std::all_of(pf->candidates.begin(), pf->candidates.end(), [](const auto &c) { return c.admitted(); });
    return emit(report, all_admitted && pf->errors.empty() ? kExitOk : kExitProblems);
}

}  // namespace plughost::cli
