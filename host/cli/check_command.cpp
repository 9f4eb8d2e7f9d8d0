#include "cli/commands.hpp"

#include "cli/quarantine.hpp"
#include "cli/report.hpp"
#include "common/json.hpp"
#include "load/instantiation.hpp"
#include "run/output_sink.hpp"

namespace plughost::cli {

int run_check(const CheckOptions &options) {
    auto pf = start(options.flags, host::ConfigSource::none, true);
    if (!pf) return kExitUsage;
    const auto state_file = probe_state_file(options.flags.probe_state);
    if (options.probe) {
        // Before --instantiate: a file that crashes its child must never be loaded here.
        if (!probe_admitted(*pf, state_file, options.reprobe, std::chrono::milliseconds(options.probe_timeout_ms)))
            return kExitUsage;
    } else if (!apply_probe_state(*pf, state_file)) {
        return kExitUsage;
    }
    if (options.instantiate && pf->ok()) {
        // Load and start everything, then stop it again: only the exit code and report remain. A
        // plugin that crashes the process meanwhile is named, as in `run`.
        const host::FatalSignalFlush crash_report(host::name_crashed_instance);
        host::LiveInstances live = host::instantiate(*pf, true);
        live.instances.clear();
        host::add_to_report(*pf, live);
    }
    return emit(options.output == Output::json ? host::to_json(host::check_json(*pf)) + '\n' : host::check_table(*pf),
                pf->ok() ? kExitOk : kExitProblems);
}

}  // namespace plughost::cli
