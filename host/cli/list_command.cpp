#include "commands.hpp"

#include "report.hpp"

#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>

namespace plughost::cli {

int run_list(const ListOptions &options) {
    host::PreflightInputs inputs;
    if (auto error = to_inputs(options.policy, options.plugin_dir, host::ConfigSource::none, inputs)) {
        spdlog::error("{}", *error);
        return kExitUsage;
    }
    // list reports files and decisions; it plans no instances even when given a config.
    inputs.config_source = inputs.config_source == host::ConfigSource::file ? host::ConfigSource::file
                                                                            : host::ConfigSource::none;
    const host::Preflight pf = host::preflight(inputs);
    if (pf.io_error) {
        spdlog::error("{}", *pf.io_error);
        return kExitUsage;
    }
    for (const auto &c : pf.candidates) {
        const auto *m = c.manifest();
        spdlog::debug("{}: {} {}", c.file.path.string(), m ? std::string(host::to_string(m->stability)) : "-",
                      c.admitted() ? "admitted" : "rejected");
    }
    for (const auto &e : pf.errors) spdlog::error("{}{}{}", e.path.empty() ? "" : e.path + ": ", e.message,
                                                  e.hint.empty() ? "" : " (" + e.hint + ")");
    if (options.output == Output::json) {
        auto doc = host::list_json(pf.candidates);
        doc["minStability"] = host::min_stability_json(*pf.policy);
        std::cout << boost::json::serialize(doc) << '\n';
    } else {
        std::cout << "plugin directory:  " << inputs.plugin_dir.string() << "\n"
                  << "minimum stability: " << host::describe_min_stability(*pf.policy) << "\n\n"
                  << host::list_table(pf.candidates);
    }
    const bool all_admitted = std::all_of(pf.candidates.begin(), pf.candidates.end(),
                                          [](const auto &c) { return c.admitted(); });
    return all_admitted && pf.errors.empty() ? kExitOk : kExitProblems;
}

} // namespace plughost::cli
