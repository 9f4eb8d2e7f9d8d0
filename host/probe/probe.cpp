#include "probe/probe.hpp"

#include "common/json.hpp"
#include "load/instance.hpp"
#include "load/instantiation.hpp"
#include "load/plugin_loader.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace plughost::host {

std::string_view to_string(ProbeOutcome outcome) {
    switch (outcome) {
    case ProbeOutcome::passed: return "passed";
    case ProbeOutcome::crashed: return "crashed";
    case ProbeOutcome::exited: return "exited";
    case ProbeOutcome::timed_out: return "timed-out";
    case ProbeOutcome::failed: return "failed";
    }
    return "failed";
}

Code ProbeResult::code() const {
    switch (outcome) {
    case ProbeOutcome::crashed: return Code::probe_crashed;
    case ProbeOutcome::exited: return Code::probe_exited;
    case ProbeOutcome::timed_out: return Code::probe_timed_out;
    default: return Code::probe_failed;
    }
}

namespace {

// ---- The child ----------------------------------------------------------------------------
// It reports on a pipe, one line per event: "step TEXT" before each step, "fail TEXT" when a step
// fails, "ok" at the end. A line is written whole before the step runs, so the parent knows
// where a child that dies or hangs was.

void send(int fd, std::string_view kind, std::string text) {
    for (char &ch : text)
        if (ch == '\n' || ch == '\r') ch = ' ';
    std::string line = std::string(kind) + (text.empty() ? "" : " " + text) + "\n";
    std::size_t done = 0;
    while (done < line.size()) {
        const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

[[noreturn]] void fail(int fd, std::string text) {
    send(fd, "fail", std::move(text));
    ::_exit(3);
}

// One call of the instance's role on a synthetic request with two endpoints.
void call_role(int fd, const Instance &instance) {
    std::array<plughost_endpoint, 2> endpoints{};
    const char *names[] = {"probe-endpoint-a", "probe-endpoint-b"};
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
        plughost_endpoint &e = endpoints[i];
        e.struct_size = sizeof(plughost_endpoint);
        e.id = i + 1;
        e.name = {names[i], std::strlen(names[i])};
        e.address = {"127.0.0.1:8000", 14};
        e.waiting_queue_size = static_cast<std::uint32_t>(i * 3);
        e.running_requests = 1;
        e.kv_cache_usage_percent = 40.0 + 20.0 * static_cast<double>(i);
        e.kv_cache_usage = e.kv_cache_usage_percent / 100;
        e.max_active_loras = 4;
    }
    const plughost_endpoint *offered[] = {&endpoints[0], &endpoints[1]};
    plughost_request request{};
    request.struct_size = sizeof(plughost_request);
    request.id = {"plughost-probe", 14};
    request.model = {"probe-model", 11};
    request.prompt = {"plughost probe request", 22};
    std::array<char, 1024> buffer{};
    plughost_message message{buffer.data(), buffer.size(), 0};
    const plughost_plugin &entry = instance.entry();
    const std::string who = "\"" + instance.name() + "\"";
    plughost_status status = PLUGHOST_OK;
    std::array<std::size_t, 2> indexes{};
    std::size_t count = 0;
    switch (instance.manifest().role) {
    case Role::filter:
        send(fd, "step", "calling filter of " + who);
        indexes = {0, 1};
        status = entry.filter(instance.handle(), &request, offered, 2, indexes.data(), &count, &message);
        break;
    case Role::scorer: {
        send(fd, "step", "calling score of " + who);
        std::array<double, 2> scores{};
        status = entry.score(instance.handle(), &request, offered, 2, scores.data(), &message);
        break;
    }
    case Role::picker: {
        send(fd, "step", "calling pick of " + who);
        const std::array<double, 2> totals{0.25, 0.75};
        status = entry.pick(instance.handle(), &request, offered, totals.data(), 2, indexes.data(), &count, &message);
        break;
    }
    default: return;  // profile handlers, producers and observers: created and destroyed only
    }
    if (status != PLUGHOST_OK)
        fail(fd, to_string(instance.manifest().role).data() + std::string(" of ") + who + " failed: " +
                     sanitize_line(std::string_view(buffer.data(), std::min(message.size, buffer.size()))));
}

[[noreturn]] void child_main(int fd, const Candidate &admitted, const std::vector<ProbeInstance> &instances) {
    // Die of a fatal signal as a plugin would make the host die (the parent reads the signal),
    // and keep the plugin's output off the command's standard output.
    for (int s : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGPIPE}) ::signal(s, SIG_DFL);
    if (const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC); null >= 0) ::dup2(null, STDOUT_FILENO);
    send(fd, "step", "loading");
    LoadResult loaded = load_plugin(admitted);
    if (!loaded.plugin) fail(fd, loaded.error->message);
    const Manifest &manifest = loaded.plugin->manifest();
    for (const ProbeInstance &want : instances) {
        const std::string who = "\"" + want.name + "\"";
        send(fd, "step", "creating instance " + who);
        std::string error;
        auto instance =
            Instance::create(loaded.plugin, want.name, to_json(effective_parameters(want.parameters, manifest)), error);
        if (!instance) fail(fd, "create of instance " + who + " failed: " + error);
        call_role(fd, *instance);
        send(fd, "step", "destroying instance " + who);
        instance.reset();
    }
    send(fd, "step", "unloading");
    loaded.plugin.reset();
    send(fd, "ok", "");
    ::_exit(0);
}

// ---- The parent ---------------------------------------------------------------------------

std::string signal_text(int signal) {
    const char *abbrev = ::sigabbrev_np(signal);
    return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(signal);
}

struct ChildReport {
    std::string step = "starting";
    std::optional<std::string> failure;
    bool ok = false;
};

void take_lines(std::string &pending, ChildReport &report) {
    for (std::size_t end; (end = pending.find('\n')) != std::string::npos; pending.erase(0, end + 1)) {
        const std::string line = pending.substr(0, end);
        if (line.rfind("step ", 0) == 0) report.step = line.substr(5);
        else if (line.rfind("fail ", 0) == 0) report.failure = line.substr(5);
        else if (line == "ok") report.ok = true;
    }
}

}  // namespace

ProbeResult probe(const Candidate &admitted, const std::vector<ProbeInstance> &instances,
                  std::chrono::milliseconds limit) {
    ProbeResult result;
    const std::string file = admitted.file.path.string();
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        result.outcome = ProbeOutcome::failed;
        result.step = "starting";
        result.reason = file + ": the probe could not start (pipe: " + std::strerror(errno) + ")";
        return result;
    }
    // Anything buffered now would be written twice, once by the child.
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(pipe_fds[0]);
        ::setpgid(0, 0);  // its own group: a plugin's children are killed with it
        child_main(pipe_fds[1], admitted, instances);
    }
    ::close(pipe_fds[1]);
    const UniqueFd from_child(pipe_fds[0]);
    if (pid < 0) {
        result.outcome = ProbeOutcome::failed;
        result.step = "starting";
        result.reason = file + ": the probe could not start (fork: " + std::strerror(errno) + ")";
        return result;
    }
    ::setpgid(pid, pid);

    ChildReport report;
    std::string pending;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    bool timed_out = false;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{from_child.get(), POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) continue;
        char buffer[4096];
        const ssize_t n = ::read(from_child.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // end of file: the child is gone (or closed the pipe)
        pending.append(buffer, static_cast<std::size_t>(n));
        if (pending.size() > 64 * 1024) pending.erase(0, pending.size() - 64 * 1024);
        take_lines(pending, report);
    }
    int status = 0;
    if (timed_out) {
        ::kill(-pid, SIGKILL);
        ::kill(pid, SIGKILL);
    } else {
        // The pipe closed: the child is exiting; wait for it, still within the limit.
        for (;;) {
            const pid_t done = ::waitpid(pid, &status, WNOHANG);
            if (done == pid) break;
            if (done < 0 && errno != EINTR) break;
            if (std::chrono::steady_clock::now() >= deadline) {
                timed_out = true;
                ::kill(-pid, SIGKILL);
                ::kill(pid, SIGKILL);
                break;
            }
            ::usleep(1000);
        }
    }
    if (timed_out)
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    ::kill(-pid, SIGKILL);  // whatever the plugin started in its group

    result.step = report.step;
    const std::string at = " while " + report.step;
    if (timed_out) {
        result.outcome = ProbeOutcome::timed_out;
        result.reason = file + ": the probe timed out after " + std::to_string(limit.count()) + " ms" + at +
                        " (the child was killed)";
    } else if (WIFSIGNALED(status)) {
        result.outcome = ProbeOutcome::crashed;
        result.signal = WTERMSIG(status);
        result.reason = file + ": the probe crashed with " + signal_text(result.signal) + at;
    } else if (report.failure) {
        result.outcome = ProbeOutcome::failed;
        result.reason = *report.failure;
        if (result.reason.rfind(file, 0) != 0) result.reason = file + ": " + result.reason;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !report.ok) {
        result.outcome = ProbeOutcome::exited;
        result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        result.reason = file + ": the probe's child exited with status " + std::to_string(result.exit_status) + at +
                        " (the plugin ended the process)";
    }
    return result;
}

}  // namespace plughost::host
