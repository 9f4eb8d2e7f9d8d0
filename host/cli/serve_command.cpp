#include "cli/commands.hpp"

#include "cli/quarantine.hpp"
#include "cli/report.hpp"
#include "common/json.hpp"
#include "run/output_sink.hpp"
#include "serve/server.hpp"

#include <spdlog/spdlog.h>

#include <iostream>

namespace plughost::cli {

int run_serve(const ServeOptions &options) {
    // The same pre-flight as `check` (and `run`), from the same flags; the server rebuilds it from
    // these inputs on every reload.
    auto started = start(options.flags, host::ConfigSource::file, true);
    if (!started) return kExitUsage;
    host::ServeOptions so;
    // The directory start() admitted (flag, environment, the config's pluginDir, default) is the
    // one watched and reloaded; a pluginDir changed later applies at the next start.
    so.inputs.plugin_dir = started->plugin_dir;
    so.inputs.config_source = host::ConfigSource::file;
    so.inputs.config_file = *options.flags.config;
    so.inputs.keep_files_open = true;
    {
        // start() already turned the flags into overrides; keep them for every generation.
        host::PreflightInputs in;
        auto &o = in.overrides;
        if (options.flags.min_stability) o.min_stability = plughost::parse_stability(*options.flags.min_stability);
        for (const auto &text : options.flags.feature_gates) host::parse_gate_flag(text, o.feature_gates);
        if (options.flags.reject_deprecated) o.reject_deprecated = true;
        o.allow_past_removal = options.flags.allow_past_removal;
        o.tombstones_file = options.flags.tombstones;
        o.maturity_file = options.flags.maturity;
        parse_provider_flags(options.flags.providers, o.providers);  // checked by start()
        so.inputs.overrides = std::move(in.overrides);
    }
    if (!options.no_probe) {
        // Every plugin file this process has not loaded yet is first loaded and exercised in a
        // child process; one that crashes, hangs or fails there is quarantined, never loaded here.
        const auto state_file = probe_state_file(options.flags.probe_state);
        const auto limit = std::chrono::milliseconds(options.probe_timeout_ms);
        so.new_files_hook = [state_file, limit](host::Preflight &pf, const std::vector<std::size_t> &fresh) {
            return probe_new_files(pf, fresh, state_file, limit);
        };
    }
    so.listen = options.listen;
    so.threads = options.threads;
    so.admission_report = [](const host::Preflight &pf) {
        auto doc = host::list_json(pf.candidates);
        doc["minStability"] = host::min_stability_json(*pf.policy);
        return doc;
    };
    so.on_listening = [](const std::string &where) { std::cout << "listening " << where << std::endl; };
    host::log_decisions(started->candidates, spdlog::level::info);
    // A plugin that crashes the server (loading, create, a role or a hook, on any thread) is
    // named, as in `run`. The probe's children put the default actions back.
    const host::FatalSignalFlush crash_report(host::name_crashed_instance);
    host::Server server(std::move(so));
    if (const auto errors = server.start(); !errors.empty()) {
        spdlog::error("not starting: {} problem(s) with the config, the policy or the plugins", errors.size());
        std::cerr << host::issues_table(errors, "error");
        return kExitProblems;
    }
    server.run();
    return kExitOk;
}

}  // namespace plughost::cli
