#include "cli/commands.hpp"

#include "admission/admission.hpp"
#include "cli/report.hpp"
#include "common/json.hpp"

#include <spdlog/spdlog.h>

#include <system_error>

namespace plughost::cli {

int run_inspect(const InspectOptions &options) {
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::symlink_status(options.file, ec))) {
        spdlog::error("{}: no such file; pass the path of a plugin .so file", options.file);
        return kExitUsage;
    }
    // Under a policy, the decision `list` would make about this file in the plugin directory.
    std::shared_ptr<host::Policy> policy;
    if (policy_given(options.policy) && !(policy = policy_for_one_file(options.policy))) return kExitUsage;
    const host::Candidate c = admit_one_file(options.file, policy, false);
    if (options.output == Output::json) {
        boost::json::object report = host::inspect_json(c);
        if (policy) report["minStability"] = host::min_stability_json(*policy);
        return emit(host::to_json(report) + '\n', c.admitted() ? kExitOk : kExitProblems);
    }
    std::string table = host::inspect_table(c);
    table += policy ? "policy:       minStability " + host::describe_min_stability(*policy) + "\n"
                    : "policy:       none given, so the foundation rules only (--config or a policy flag applies "
                      "the operator's policy)\n";
    return emit(table, c.admitted() ? kExitOk : kExitProblems);
}

}  // namespace plughost::cli
