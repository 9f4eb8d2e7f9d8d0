// plughost: the command-line host. Data goes to stdout, logs to stderr.
#include "cli/commands.hpp"
#include "cli/options.hpp"

#include "common/shown_sink.hpp"
#include "common/suggest.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>

namespace {

void setup_logging(const std::string &level_flag) {
    // Every message goes through ShownSink: file names, manifests and requests are not trusted.
    auto logger = std::make_shared<spdlog::logger>(
        "plughost",
        std::make_shared<plughost::host::ShownSink>(std::make_shared<spdlog::sinks::stderr_color_sink_mt>()));
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::info);
    spdlog::cfg::load_env_levels();  // SPDLOG_LEVEL
    if (!level_flag.empty()) spdlog::set_level(spdlog::level::from_str(level_flag));
}

// A closed standard descriptor would be taken by the next open(): `run` would read a plugin file
// as its event stream, or write decisions into one. Each closed one gets /dev/null opened the
// wrong way round (standard input for writing only, standard output and error for reading only),
// so any use of it fails with EBADF, which is reported, instead of reaching another file.
bool occupy_closed_standard_descriptors() {
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
        const int placeholder = ::open("/dev/null", fd == STDIN_FILENO ? O_WRONLY : O_RDONLY);
        if (placeholder < 0) return false;
        if (placeholder != fd) {  // not the lowest free number: cannot happen, lower ones are open
            ::dup2(placeholder, fd);
            ::close(placeholder);
        }
    }
    return true;
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

// The policy settings; the commands over a plugin directory take them with add_preflight_options,
// inspect and test-plugin (one file) with add_policy_options.
void add_policy_flags(CLI::App *cmd, plughost::cli::PreflightFlags &flags) {
    cmd->add_option("--min-stability", flags.min_stability,
                    "Lowest plugin tier admitted: dev, alpha, beta or stable (default beta; overrides the config)")
        ->check(CLI::IsMember({"dev", "alpha", "beta", "stable"}));
    cmd->add_option("--feature-gates", flags.feature_gates,
                    "Gate settings, Kubernetes syntax: A=true,B=false (overrides the config's featureGates)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_flag("--reject-deprecated", flags.reject_deprecated, "Refuse deprecated plugins instead of warning");
    cmd->add_option("--allow-past-removal", flags.allow_past_removal,
                    "Plugin type allowed to run although its own version reached its removedIn (repeatable)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_option("--provider", flags.providers,
                    "TYPE=FILE: the plugin file that provides TYPE when several files declare it (repeatable; "
                    "over policy.providers)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_option("--tombstones", flags.tombstones, "Extra tombstones file (JSON), added to the bundled one");
    cmd->add_option("--maturity", flags.maturity, "Extra maturity list (JSON), overriding the bundled pins");
}

void add_policy_options(CLI::App *cmd, plughost::cli::PreflightFlags &flags) {
    cmd->add_option("--config", flags.config,
                    "Operator config (JSON or YAML): the file is admitted under its policy and featureGates, as "
                    "`plughost list --config` would; without it, a policy flag applies the default policy plus "
                    "the flags");
    add_policy_flags(cmd, flags);
}

void add_preflight_options(CLI::App *cmd, plughost::cli::PreflightFlags &flags) {
    cmd->add_option("--plugin-dir", flags.plugin_dir, "Directory of plugin .so files");
    cmd->add_option("--config", flags.config, "Operator config (JSON)");
    add_policy_flags(cmd, flags);
    cmd->add_option("--lock", flags.lock,
                    "Lock file (from `plughost lock`): refuse plugin files it does not pin by name, SHA-256, type "
                    "and tier (overrides policy.lockFile)");
    cmd->add_flag("--allow-unsafe-permissions", flags.allow_unsafe_permissions,
                  "Development only: admit plugin files and directories that other users or the group can write, "
                  "or that another user owns (policy.allowUnsafePermissions)");
    cmd->add_option("--probe-state", flags.probe_state,
                    "Probe state file (default $PLUGHOST_PROBE_STATE, else "
                    "${XDG_STATE_HOME:-~/.local/state}/plughost/probe-state.json): quarantined files are refused");
}

}  // namespace

int main(int argc, char **argv) {
    using namespace plughost::cli;
    if (!occupy_closed_standard_descriptors()) {
        std::cerr << "plughost: a standard descriptor (0-2) is closed and /dev/null cannot be opened to hold its "
                     "place: "
                  << std::strerror(errno) << "\n";
        return kExitUsage;
    }
    CLI::App app{"plughost: runs endpoint-picker plugins shipped as shared objects, admitted by policy "
                 "before any of their code runs.\n"
                 "Exit codes: 0 ok; 1 problems found (the report is still printed); 2 usage error, or an input or "
                 "output that cannot be used (nothing was run); 3 writing the report failed, or run stopped part-way "
                 "because reading the input or writing the output failed (the output holds whole lines); 128+N run "
                 "stopped by signal N "
                 "(130 SIGINT, 143 SIGTERM) after finishing the line in progress."};
    app.set_version_flag("--version", PLUGHOST_VERSION_STRING);
    std::string log_level;
    app.add_option("--log-level", log_level,
                   "trace, debug, info (default), warn, error, critical or off; "
                   "SPDLOG_LEVEL is read too, this flag wins")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
    app.require_subcommand(1);
    app.fallthrough();

    ListOptions list;
    auto *list_cmd = app.add_subcommand("list", "Every plugin file found, its manifest summary and the decision on it "
                                                "under the policy (reads manifests only; loads nothing)");
    add_preflight_options(list_cmd, list.flags);
    add_output_option(list_cmd, list.output);

    InspectOptions inspect;
    auto *inspect_cmd = app.add_subcommand(
        "inspect", "The full manifest of one plugin file, read without loading it, and the decision on it: by the "
                   "foundation rules, or under the operator's policy when --config or a policy flag gives one");
    inspect_cmd->add_option("file", inspect.file, "Plugin .so file")->required();
    add_output_option(inspect_cmd, inspect.output);
    add_policy_options(inspect_cmd, inspect.policy);

    CheckOptions check;
    auto *check_cmd = app.add_subcommand("check", "Pre-flight check of a config against the plugin directory and the "
                                                  "policy, without running plugin code (unless --instantiate)");
    add_preflight_options(check_cmd, check.flags);
    check_cmd->get_option("--config")->required();
    check_cmd->add_flag("--instantiate", check.instantiate,
                        "Also load the admitted plugins and create and destroy each configured instance");
    check_cmd->add_flag("--probe", check.probe,
                        "Run each admitted plugin once in a child process (load, create each configured instance, "
                        "call its role, destroy) with a time limit; quarantine those that crash, exit, hang or fail");
    check_cmd->add_flag("--reprobe", check.reprobe, "With --probe: probe again files the probe state remembers");
    check_cmd
        ->add_option("--probe-timeout", check.probe_timeout_ms,
                     "With --probe: time limit per file, in ms (default 5000)")
        ->check(CLI::Range(1u, 600000u));
    add_output_option(check_cmd, check.output);

    GatesOptions gates;
    auto *gates_cmd =
        app.add_subcommand("gates", "Every known feature gate: tier, default, whether locked, which plugin "
                                    "declares it, its value under the policy; and removed gates");
    add_preflight_options(gates_cmd, gates.flags);
    add_output_option(gates_cmd, gates.output);

    LockOptions lock;
    auto *lock_cmd = app.add_subcommand(
        "lock", "Write a lock file (JSON, to standard output) pinning every admitted plugin file by name, type, "
                "version, tier, ABI and SHA-256; use it with --lock or policy.lockFile");
    add_preflight_options(lock_cmd, lock.flags);

    RunOptions run;
    auto *run_cmd =
        app.add_subcommand("run", "Schedule requests: read an event stream (JSON Lines) and write one decision "
                                  "per request; a summary goes to stderr");
    add_preflight_options(run_cmd, run.flags);
    run_cmd->get_option("--config")->description("Operator config (JSON); default: the built-in default config");
    run_cmd->add_option("--input,-i", run.input, "Event stream file (default: standard input)");
    run_cmd->add_flag("--explain", run.explain, "Add each filter's result and each scorer's scores to every decision");
    run_cmd
        ->add_option("--max-consecutive-faults", run.max_consecutive_faults,
                     "Disable a plugin instance after this many faults in a row (default: config, else 5)")
        ->check(CLI::Range(1u, 1000000u));

    TestPluginOptions test_plugin;
    auto *test_plugin_cmd = app.add_subcommand(
        "test-plugin", "For plugin authors: admit one plugin file (under the operator's policy when --config or a "
                       "policy flag gives one, else with every tier and its own gate allowed), load it as the host "
                       "does, create an instance and call each of its hooks once on a sample request, checking the "
                       "results by the host's rules (runs plugin code)");
    test_plugin_cmd->add_option("file", test_plugin.file, "Plugin .so file")->required();
    test_plugin_cmd->add_option("--parameters", test_plugin.parameters,
                                "The instance's parameters, a JSON object (default {}); the manifest's defaults "
                                "are filled in");
    add_policy_options(test_plugin_cmd, test_plugin.policy);

    NewPluginOptions new_plugin;
    auto *new_plugin_cmd = app.add_subcommand(
        "new-plugin", "For plugin authors: write a plugin project (CMakeLists.txt, source, unit test, README) that "
                      "builds and passes its tests as is against the installed SDK");
    new_plugin_cmd->add_option("name", new_plugin.name, "Plugin type, [a-z0-9-] (e.g. acme-queue-scorer)")->required();
    new_plugin_cmd
        ->add_option("--role", new_plugin.role, "filter, scorer, picker, profile-handler, producer or observer")
        ->required();
    new_plugin_cmd->add_option("--lang", new_plugin.lang, "c or c++ (default c++)");
    new_plugin_cmd->add_option("--dir", new_plugin.dir, "Directory to write (default: ./NAME); new or empty");
    ServeOptions serve;
    auto *serve_cmd = app.add_subcommand(
        "serve", "The live host: an OpenAI-compatible gateway and a pick API over a fleet of model servers, with "
                 "metrics scraped from them, plugins and config reloaded on change, Prometheus metrics");
    add_preflight_options(serve_cmd, serve.flags);
    serve_cmd->get_option("--config")->required();
    serve_cmd->add_option("--listen", serve.listen, "HOST:PORT to listen on (overrides serve.listen; port 0: any)");
    serve_cmd->add_option("--threads", serve.threads, "Worker threads (overrides serve.threads; default: cores)")
        ->check(CLI::Range(1u, 1024u));
    serve_cmd->add_flag("--no-probe", serve.no_probe,
                        "Load new plugin files without probing them in a child process first (default: probe)");
    serve_cmd->add_option("--probe-timeout", serve.probe_timeout_ms, "Probe time limit per file, in ms (default 5000)")
        ->check(CLI::Range(1u, 600000u));

    // A mistyped command would otherwise be reported as a missing one.
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--log-level") ++i;
        if (arg.empty() || arg[0] == '-') continue;
        std::vector<std::string> names;
        for (const auto *sub : app.get_subcommands({})) names.push_back(sub->get_name());
        if (std::find(names.begin(), names.end(), arg) == names.end()) {
            std::cerr
                << "plughost: unknown command \"" << arg << "\"" << plughost::host::did_you_mean(arg, names)
                << "; commands: list, inspect, check, gates, lock, run, serve, test-plugin, new-plugin (see --help)\n";
            return kExitUsage;
        }
        break;
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        const int code = app.exit(e);
        return code == 0 ? kExitOk : kExitUsage;
    }
    // Write errors are reported as errors, not signals: EPIPE instead of SIGPIPE, EFBIG instead
    // of SIGXFSZ (the sealed copies of plugins are files too, and a file-size limit must give a
    // precise refusal, not kill a `check`).
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGXFSZ, SIG_IGN);
    setup_logging(log_level);
    raise_open_file_limit();

    try {
        if (*list_cmd) return run_list(list);
        if (*inspect_cmd) return run_inspect(inspect);
        if (*check_cmd) return run_check(check);
        if (*gates_cmd) return run_gates(gates);
        if (*run_cmd) return run_run(run);
        if (*test_plugin_cmd) return run_test_plugin(test_plugin);
        if (*new_plugin_cmd) return run_new_plugin(new_plugin);
        if (*lock_cmd) return run_lock(lock);
        if (*serve_cmd) return run_serve(serve);
    } catch (const std::exception &e) {
        spdlog::critical("internal error: {}", e.what());
        return kExitUsage;
    }
    return kExitUsage;
}
