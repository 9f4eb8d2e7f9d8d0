#include "cli/commands.hpp"

#include "cli/report.hpp"
#include "common/json.hpp"

namespace plughost::cli {

int run_gates(const GatesOptions &options) {
    const auto pf = start(options.flags, host::ConfigSource::none, false);
    if (!pf) return kExitUsage;
    const host::FeatureGates gates(host::manifests_of(pf->candidates), pf->policy->gates);
    log_issues(pf->errors);
    return emit(options.output == Output::json ? host::to_json(host::gates_json(gates, pf->policy->tombstones)) + '\n'
                                               : host::gates_table(gates, pf->policy->tombstones),
                pf->errors.empty() ? kExitOk : kExitProblems);
}

}  // namespace plughost::cli
