#include "cli/commands.hpp"

#include "cli/report.hpp"
#include "load/instantiation.hpp"
#include "run/runner.hpp"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

namespace plughost::cli {

int run_run(const RunOptions &options) {
    int input_fd = STDIN_FILENO;
    host::UniqueFd input_file;
    if (options.input && *options.input != "-") {
        input_file.reset(::open(options.input->c_str(), O_RDONLY | O_CLOEXEC));
        if (!input_file) {
            spdlog::error("cannot open --input {}: {}", *options.input, std::strerror(errno));
            return kExitUsage;
        }
        input_fd = input_file.get();
    }

    auto started = start(options.flags, host::ConfigSource::built_in, true);
    if (!started) return kExitUsage;
    host::Preflight &pf = *started;
    spdlog::info("plughost {}: config {}, plugin directory {}, minimum stability {}", PLUGHOST_VERSION_STRING,
                 pf.config.source, plugin_dir(options.flags.plugin_dir).string(),
                 host::describe_min_stability(*pf.policy));
    host::log_decisions(pf.candidates, spdlog::level::info);
    for (const auto &w : pf.warnings)
        if (w.code != host::Code::deprecated)  // already logged with its plugin
            spdlog::warn("{}{} ({})", w.path.empty() ? "" : w.path + ": ", w.message, w.hint);
    host::LiveInstances live;
    if (pf.ok()) live = host::instantiate(pf, false);
    if (!pf.ok()) {
        spdlog::error("not starting: {} problem(s) with the config, the policy or the plugins", pf.errors.size());
        std::cerr << host::issues_table(pf.errors, "error");
        return kExitProblems;
    }
    std::vector<host::Instance *> instances;
    for (const auto &i : live.instances) instances.push_back(i.get());
    const std::uint32_t max_faults = options.max_consecutive_faults.value_or(pf.config.runtime.max_consecutive_faults);
    host::Scheduler scheduler(instances, host::scheduler_profiles(pf.profiles), max_faults);
    for (const auto &p : scheduler.profiles()) {
        std::string stages;
        for (auto f : p.filters) stages += instances[f]->name() + " -> ";
        for (std::size_t k = 0; k < p.scorers.size(); ++k)
            stages +=
                (k ? " + " : "") + fmt::format("{:g}*", p.scorers[k].weight) + instances[p.scorers[k].instance]->name();
        spdlog::info("profile {}: {} -> {}", p.name, stages.empty() ? "(no scorer)" : stages,
                     instances[p.picker]->name());
    }

    static char out_buffer[1 << 16];
    std::setvbuf(stdout, out_buffer, _IOFBF, sizeof out_buffer);
    host::Runner runner(scheduler, stdout, options.explain);
    host::LineReader reader(input_fd, host::kMaxEventLine);
    runner.run(reader);
    std::cerr << host::summary_text(runner.summary(), scheduler);
    return kExitOk;
}

}  // namespace plughost::cli
