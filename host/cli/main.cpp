// plughost: the command-line host. Data goes to stdout, logs to stderr.
#include "commands.hpp"
#include "options.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <sys/resource.h>

#include <iostream>
#include <map>

namespace {

void setup_logging(const std::string &level_flag) {
    auto logger = spdlog::stderr_color_mt("plughost");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::info);
    spdlog::cfg::load_env_levels();  // SPDLOG_LEVEL
    if (!level_flag.empty()) spdlog::set_level(spdlog::level::from_str(level_flag));
}

// Every admitted plugin keeps one descriptor open while it may be loaded; allow as many as the
// hard limit permits rather than the small default soft limit.
void raise_open_file_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
}

void add_output_option(CLI::App *cmd, plughost::cli::Output &out) {
    cmd->add_option("--output,-o", out, "Output format: table (default) or json")
        ->transform(CLI::CheckedTransformer(
            std::map<std::string, plughost::cli::Output>{{"table", plughost::cli::Output::table},
                                                         {"json", plughost::cli::Output::json}},
            CLI::ignore_case));
}

} // namespace

int main(int argc, char **argv) {
    using namespace plughost::cli;
    CLI::App app{"plughost: runs endpoint-picker plugins shipped as shared objects, admitted by policy "
                 "before any of their code runs.\n"
                 "Exit codes: 0 ok, 1 problems found (the report is still printed), 2 usage or I/O error."};
    app.set_version_flag("--version", PLUGHOST_VERSION_STRING);
    std::string log_level;
    app.add_option("--log-level", log_level, "trace, debug, info (default), warn, error, critical or off; "
                                             "SPDLOG_LEVEL is read too, this flag wins")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
    app.require_subcommand(1);
    app.fallthrough();

    ListOptions list;
    auto *list_cmd = app.add_subcommand("list", "Every plugin file found, its manifest summary and the decision on it "
                                                "(reads manifests only; loads nothing)");
    list_cmd->add_option("--plugin-dir", list.plugin_dir, "Directory of plugin .so files");
    add_output_option(list_cmd, list.output);

    InspectOptions inspect;
    auto *inspect_cmd = app.add_subcommand("inspect", "The full manifest of one plugin file, read without loading it");
    inspect_cmd->add_option("file", inspect.file, "Plugin .so file")->required();
    add_output_option(inspect_cmd, inspect.output);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        const int code = app.exit(e);
        return code == 0 ? kExitOk : kExitUsage;
    }
    setup_logging(log_level);
    raise_open_file_limit();

    try {
        if (*list_cmd) return run_list(list);
        if (*inspect_cmd) return run_inspect(inspect);
    } catch (const std::exception &e) {
        spdlog::critical("internal error: {}", e.what());
        return kExitUsage;
    }
    return kExitUsage;
}
