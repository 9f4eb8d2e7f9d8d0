#include "cli/commands.hpp"

#include "cli/report.hpp"
#include "load/instantiation.hpp"
#include "run/output_sink.hpp"
#include "run/runner.hpp"
#include "run/stop_signals.hpp"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <iostream>

namespace plughost::cli {
namespace {

// main() puts /dev/null, opened the wrong way round, on a standard descriptor it found closed.
bool is_dev_null(int fd) {
    struct stat st {};
    struct stat null {};
    return ::fstat(fd, &st) == 0 && ::stat("/dev/null", &null) == 0 && S_ISCHR(st.st_mode) &&
           st.st_rdev == null.st_rdev;
}

int access_mode(int fd) {
    const int flags = ::fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : flags & O_ACCMODE;
}

// "standard output (/tmp/out.jsonl)": the path too when the descriptor has one.
std::string describe_descriptor(const std::string &what, int fd) {
    char link[PATH_MAX];
    const std::string proc = "/proc/self/fd/" + std::to_string(fd);
    const ssize_t n = ::readlink(proc.c_str(), link, sizeof link);
    if (n > 0 && link[0] == '/') return what + " (" + std::string(link, static_cast<std::size_t>(n)) + ")";
    return what;
}

// Why decisions cannot be written to standard output, if they cannot.
std::optional<std::string> stdout_problem() {
    const int mode = access_mode(STDOUT_FILENO);
    if (mode == O_WRONLY || mode == O_RDWR) return std::nullopt;
    if (is_dev_null(STDOUT_FILENO))
        return "standard output is closed: there is nowhere to write decisions; redirect it to a file or a pipe";
    return "standard output is open for reading only: decisions cannot be written to it; redirect it to a file or "
           "a pipe";
}

struct Input {
    int fd = STDIN_FILENO;
    host::UniqueFd file;
    std::string name = "standard input";
};

// Opens the event stream, refusing what cannot be one (a directory, a descriptor not open for
// reading) before the pre-flight. Logs why and returns false when it cannot.
bool open_input(const RunOptions &options, Input &input) {
    if (options.input && *options.input != "-") {
        input.name = "--input " + *options.input;
        input.file.reset(::open(options.input->c_str(), O_RDONLY | O_CLOEXEC));
        if (!input.file) {
            spdlog::error("cannot open {}: {}", input.name, std::strerror(errno));
            return false;
        }
        input.fd = input.file.get();
    } else if (access_mode(STDIN_FILENO) == O_WRONLY) {
        if (is_dev_null(STDIN_FILENO)) spdlog::error("standard input is closed; pass --input FILE");
        else spdlog::error("standard input is open for writing only; pass --input FILE or redirect the stream to it");
        return false;
    }
    struct stat st {};
    if (::fstat(input.fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        spdlog::error("{} is a directory; expected an event stream (JSON Lines){}", input.name,
                      input.file ? "" : "; pass --input FILE");
        return false;
    }
    return true;
}

// How the run ended, for the operator; the exit code.
int report_end(const host::RunSummary &summary, const host::OutputSink &output, const Input &input) {
    switch (summary.end) {
    case host::RunEnd::input_ended: return kExitOk;
    case host::RunEnd::output_failed: spdlog::error("{}", output.failure_message()); return kExitIo;
    case host::RunEnd::input_failed:
        spdlog::error("cannot read {}: {}; stopped after line {}, the decisions up to it were written", input.name,
                      std::strerror(summary.error), summary.lines);
        return kExitIo;
    case host::RunEnd::stopped:
        spdlog::warn("interrupted by {}: stopped after line {}, the decisions up to it were written",
                     host::signal_name(summary.signal), summary.lines);
        return kExitSignalBase + summary.signal;
    }
    return kExitIo;
}

}  // namespace

int run_run(const RunOptions &options) {
    if (const auto problem = stdout_problem()) {
        spdlog::error("{}", *problem);
        return kExitUsage;
    }
    Input input;
    if (!open_input(options, input)) return kExitUsage;

    auto started = start(options.flags, host::ConfigSource::built_in, true);
    if (!started) return kExitUsage;
    host::Preflight &pf = *started;
    spdlog::info("plughost {}: config {}, plugin directory {}, minimum stability {}", PLUGHOST_VERSION_STRING,
                 pf.config.source, pf.plugin_dir.string(), host::describe_min_stability(*pf.policy));
    host::log_decisions(pf.candidates, spdlog::level::info);
    for (const auto &w : pf.warnings)
        if (w.code != host::Code::deprecated)  // already logged with its plugin
            spdlog::warn("{}{} ({})", w.path.empty() ? "" : w.path + ": ", w.message, w.hint);
    // A plugin crashing the process (in create, or while deciding): the decisions made so far are
    // written before it dies, and the instance whose code crashed is named.
    host::OutputSink output(STDOUT_FILENO, describe_descriptor("standard output", STDOUT_FILENO));
    host::FatalSignalFlush crash_flush(output, host::name_crashed_instance);
    host::LiveInstances live;
    if (pf.ok()) {
        live = host::instantiate(pf, false);
        host::add_to_report(pf, live);
    }
    if (!pf.ok()) {
        spdlog::error("not starting: {} problem(s) with the config, the policy or the plugins", pf.errors.size());
        std::cerr << host::issues_table(pf.errors, "error");
        return kExitProblems;
    }
    std::vector<host::Instance *> instances;
    for (const auto &i : live.instances) instances.push_back(i.get());
    const std::uint32_t max_faults = options.max_consecutive_faults.value_or(pf.config.runtime.max_consecutive_faults);
    host::Scheduler scheduler(instances, host::scheduler_plan(pf), max_faults);
    for (const auto &p : scheduler.profiles()) {
        std::string stages;
        for (auto f : p.filters) stages += instances[f]->name() + " -> ";
        for (std::size_t k = 0; k < p.scorers.size(); ++k)
            stages +=
                (k ? " + " : "") + fmt::format("{:g}*", p.scorers[k].weight) + instances[p.scorers[k].instance]->name();
        spdlog::info("profile {}: {} -> {}", p.name, stages.empty() ? "(no scorer)" : stages,
                     instances[p.picker]->name());
    }

    host::StopSignals stop;
    host::Runner runner(scheduler, output, options.explain);
    host::LineReader reader(input.fd, host::kMaxEventLine, &stop);
    runner.run(reader);
    std::cerr << host::summary_text(runner.summary(), scheduler);
    return report_end(runner.summary(), output, input);
}

}  // namespace plughost::cli
