#include "cli/commands.hpp"

#include "cli/report.hpp"
#include "common/json.hpp"
#include "load/instantiation.hpp"

namespace plughost::cli {

int run_check(const CheckOptions &options) {
    auto pf = start(options.flags, host::ConfigSource::none, options.instantiate);
    if (!pf) return kExitUsage;
    if (options.instantiate && pf->ok()) {
        // Load and start everything, then stop it again: only the exit code and report remain.
        host::LiveInstances live = host::instantiate(*pf, true);
        live.instances.clear();
        host::add_to_report(*pf, live);
    }
    return emit(options.output == Output::json ? host::to_json(host::check_json(*pf)) + '\n' : host::check_table(*pf),
                pf->ok() ? kExitOk : kExitProblems);
}

}  // namespace plughost::cli
