#include "commands.hpp"

#include "instantiation.hpp"
#include "report.hpp"

#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

namespace plughost::cli {

int run_check(const CheckOptions &options) {
    host::PreflightInputs inputs;
    if (auto error = to_inputs(options.policy, options.plugin_dir, host::ConfigSource::none, inputs)) {
        spdlog::error("{}", *error);
        return kExitUsage;
    }
    inputs.keep_files_open = options.instantiate;
    host::Preflight pf = host::preflight(inputs);
    if (pf.io_error) {
        spdlog::error("{}", *pf.io_error);
        return kExitUsage;
    }
    if (options.instantiate && pf.ok()) {
        // Load and start everything, then stop it again: only the exit code and report remain.
        host::LiveInstances live = host::instantiate(pf, true);
        live.instances.clear();
    }
    if (options.output == Output::json) std::cout << boost::json::serialize(host::check_json(pf)) << '\n';
    else std::cout << host::check_table(pf);
    return pf.ok() ? kExitOk : kExitProblems;
}

} // namespace plughost::cli
