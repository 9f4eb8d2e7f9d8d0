#include "commands.hpp"

#include "admission.hpp"
#include "report.hpp"

#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>

namespace plughost::cli {

int run_list(const ListOptions &options) {
    const auto dir = plugin_dir(options.plugin_dir);
    auto admission = host::admit_directory(dir, host::foundation_rules(), false);
    if (admission.error) {
        spdlog::error("{}", *admission.error);
        return kExitUsage;
    }
    for (const auto &c : admission.candidates)
        spdlog::debug("{}: {}", c.file.path.string(), c.admitted() ? "admitted" : "rejected");
    if (options.output == Output::json) std::cout << boost::json::serialize(host::list_json(admission.candidates)) << '\n';
    else std::cout << "plugin directory: " << dir.string() << "\n\n" << host::list_table(admission.candidates);
    const bool all_admitted = std::all_of(admission.candidates.begin(), admission.candidates.end(),
                                          [](const auto &c) { return c.admitted(); });
    return all_admitted ? kExitOk : kExitProblems;
}

} // namespace plughost::cli
