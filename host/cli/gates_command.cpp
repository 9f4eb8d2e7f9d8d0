#include "cli/commands.hpp"

#include "cli/report.hpp"
#include "common/json.hpp"

#include <iostream>

namespace plughost::cli {

int run_gates(const GatesOptions &options) {
    const auto pf = start(options.flags, host::ConfigSource::none, false);
    if (!pf) return kExitUsage;
    const host::FeatureGates gates(host::manifests_of(pf->candidates), pf->policy->gates);
    if (options.output == Output::json)
        std::cout << host::to_json(host::gates_json(gates, pf->policy->tombstones)) << '\n';
    else std::cout << host::gates_table(gates, pf->policy->tombstones);
    log_issues(pf->errors);
    return pf->errors.empty() ? kExitOk : kExitProblems;
}

}  // namespace plughost::cli
