#include "commands.hpp"

#include "report.hpp"

#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

namespace plughost::cli {

int run_gates(const GatesOptions &options) {
    host::PreflightInputs inputs;
    if (auto error = to_inputs(options.policy, options.plugin_dir, host::ConfigSource::none, inputs)) {
        spdlog::error("{}", *error);
        return kExitUsage;
    }
    const host::Preflight pf = host::preflight(inputs);
    if (pf.io_error) {
        spdlog::error("{}", *pf.io_error);
        return kExitUsage;
    }
    const host::FeatureGates gates(host::manifests_of(pf.candidates), pf.policy->gates);
    if (options.output == Output::json) std::cout << boost::json::serialize(host::gates_json(gates, pf.policy->tombstones)) << '\n';
    else std::cout << host::gates_table(gates, pf.policy->tombstones);
    for (const auto &e : pf.errors) spdlog::error("{}{}{}", e.path.empty() ? "" : e.path + ": ", e.message,
                                                  e.hint.empty() ? "" : " (" + e.hint + ")");
    return pf.errors.empty() ? kExitOk : kExitProblems;
}

} // namespace plughost::cli
