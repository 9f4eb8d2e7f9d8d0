// measure_command: runs a command with its stdout sent to /dev/null and reports the child's wall
// time and peak resident set size (ru_maxrss from wait4, so only that child is counted).
//
// Usage: measure_command [--repeat N] -- program [args...]
// Prints one line per run, then, with --repeat N > 1, the minimum and the median of each figure.
// Exits 2 on a usage error or when the command cannot be started; the command's own exit status
// is printed, not propagated (plughost list exits 1 when a plugin is rejected, which is data).
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

extern char **environ;

namespace {

struct Measurement {
    double wall_ms;
    long max_rss_kib;
    int status;
};

int usage() {
    std::fprintf(stderr, "usage: measure_command [--repeat N] -- program [args...]\n");
    return 2;
}

double now_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

bool run_once(char **argv, Measurement &out) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    const double start = now_ms();
    const int err = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (err != 0) {
        std::fprintf(stderr, "measure_command: cannot run %s: %s\n", argv[0], std::strerror(err));
        return false;
    }
    int status = 0;
    rusage usage{};
    while (::wait4(pid, &status, 0, &usage) < 0) {
        if (errno != EINTR) {
            std::fprintf(stderr, "measure_command: wait4: %s\n", std::strerror(errno));
            return false;
        }
    }
    out = {now_ms() - start, usage.ru_maxrss, status};
    return true;
}

std::string describe_status(int status) {
    if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "status " + std::to_string(status);
}

template <typename T> T median(std::vector<T> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char **argv) {
    long repeat = 1;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg == "--repeat" && i + 1 < argc) {
            char *end = nullptr;
            repeat = std::strtol(argv[++i], &end, 10);
            if (*end || repeat < 1) return usage();
        } else {
            return usage();
        }
    }
    if (i >= argc) return usage();

    std::vector<Measurement> runs;
    for (long r = 0; r < repeat; ++r) {
        Measurement m{};
        if (!run_once(argv + i, m)) return 2;
        std::printf("run %ld: wall %.1f ms, peak RSS %ld KiB (%.1f MiB), %s\n", r + 1, m.wall_ms, m.max_rss_kib,
                    static_cast<double>(m.max_rss_kib) / 1024.0, describe_status(m.status).c_str());
        runs.push_back(m);
    }
    if (runs.size() > 1) {
        std::vector<double> wall;
        std::vector<long> rss;
        for (const Measurement &m : runs) {
            wall.push_back(m.wall_ms);
            rss.push_back(m.max_rss_kib);
        }
        std::printf("wall ms: min %.1f, median %.1f\n", *std::min_element(wall.begin(), wall.end()), median(wall));
        std::printf("peak RSS KiB: min %ld, median %ld (median %.1f MiB)\n", *std::min_element(rss.begin(), rss.end()),
                    median(rss), static_cast<double>(median(rss)) / 1024.0);
    }
    return 0;
}
