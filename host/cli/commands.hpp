// The plughost subcommands; each returns the process exit code.
#pragma once

#include "options.hpp"

#include <optional>
#include <string>

namespace plughost::cli {

struct ListOptions {
    std::optional<std::string> plugin_dir;
    Output output = Output::table;
};
int run_list(const ListOptions &options);

struct InspectOptions {
    std::string file;
    Output output = Output::table;
};
int run_inspect(const InspectOptions &options);

} // namespace plughost::cli
