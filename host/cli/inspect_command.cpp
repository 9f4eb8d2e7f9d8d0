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
    std::vector<host::PluginFile> files;
    files.push_back(host::read_plugin_file(options.file, false));
    const auto candidates = host::admit(std::move(files), host::foundation_rules());
    const host::Candidate &c = candidates.front();
    return emit(options.output == Output::json ? host::to_json(host::inspect_json(c)) + '\n' : host::inspect_table(c),
                c.admitted() ? kExitOk : kExitProblems);
}

}  // namespace plughost::cli
