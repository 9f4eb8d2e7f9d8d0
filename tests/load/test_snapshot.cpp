// The sealed in-memory copy a plugin is loaded from, and what it protects against through the
// real CLI: plugin files written in place (cp, truncation) at start-up and while `plughost run`
// is deciding.
#include "deployment.hpp"
#include "load/snapshot.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

using namespace plughost::host;
using namespace plughost::test;

namespace {

UniqueFd open_read(const std::filesystem::path &path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(fd);
    return fd;
}

ino_t inode_of(const std::filesystem::path &path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_ino;
}

std::string read_all(int fd, std::uint64_t size) {
    std::string bytes(size, '\0');
    REQUIRE(::pread(fd, bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size()));
    return bytes;
}

// queue-scorer's bytes with another version string: another build of the same plugin type.
std::string other_version_of_queue_scorer() {
    std::string bytes = read_file(paths::plugin_queue_scorer);
    REQUIRE(replace_all(bytes, "\"version\":\"1.0.0\"", "\"version\":\"1.0.1\"") >= 1);
    return bytes;
}

// A plugin directory with queue-scorer and max-score-picker, and a config that runs both.
struct QueueDeployment : Deployment {
    std::filesystem::path scorer = add(paths::plugin_queue_scorer, "queue-scorer.so");
    std::string config_path = config(R"({"plugins": [{"type": "queue-scorer"}, {"type": "max-score-picker"}],
        "policy": {"minStability": "stable"}})");

    QueueDeployment() { add(paths::plugin_max_score_picker, "max-score-picker.so"); }
    std::vector<std::string> args(const std::string &command) const { return Deployment::args(command, config_path); }
};

}  // namespace

TEST_CASE("a snapshot is a sealed copy of the whole file that later writes to the file never reach") {
    TempDir dir;
    const auto file = copy_to(paths::good_scorer, dir / "plugin.so");
    const std::string original = read_file(file);
    UniqueFd fd = open_read(file);
    REQUIRE(::lseek(fd.get(), 7, SEEK_SET) == 7);
    auto taken = snapshot_file(file, fd.get());
    REQUIRE_MESSAGE(taken.snapshot, taken.error->message);
    const Snapshot &s = *taken.snapshot;
    CHECK(s.size == original.size());
    CHECK(read_all(s.fd.get(), s.size) == original);
    CHECK(::lseek(fd.get(), 0, SEEK_CUR) == 7);  // the inspected descriptor's offset is not used
    constexpr int kSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;
    CHECK((::fcntl(s.fd.get(), F_GET_SEALS) & kSeals) == kSeals);  // plus F_SEAL_EXEC from MFD_NOEXEC_SEAL (6.3+)
    CHECK((::fcntl(s.fd.get(), F_GETFD) & FD_CLOEXEC) != 0);
    // Nobody can change it: not through its descriptor, not through /proc.
    CHECK(::pwrite(s.fd.get(), "x", 1, 0) == -1);
    CHECK(::ftruncate(s.fd.get(), 1) == -1);
    CHECK(::ftruncate(s.fd.get(), static_cast<off_t>(s.size) + 1) == -1);
    const std::string proc = "/proc/self/fd/" + std::to_string(s.fd.get());
    UniqueFd again(::open(proc.c_str(), O_WRONLY));
    if (again) CHECK(::write(again.get(), "x", 1) == -1);
    // The file on disk changes in place; the copy does not.
    overwrite_in_place(file, std::string(100, 'z'));
    CHECK(read_all(s.fd.get(), s.size) == original);
}

TEST_CASE("a snapshot of a file above the size limit is refused with too-large, naming size and limit") {
    TempDir dir;
    const auto file = copy_to(paths::good_scorer, dir / "big.so");
    UniqueFd fd = open_read(file);
    const auto size = std::filesystem::file_size(file);
    const auto taken = snapshot_file(file, fd.get(), size - 1);
    REQUIRE(taken.error);
    CHECK(!taken.snapshot);
    CHECK(taken.error->code == Code::too_large);
    const std::string &m = taken.error->message;
    CHECK_MESSAGE(contains(m, file.string() + ": is " + std::to_string(size) + " bytes;"), m);
    CHECK_MESSAGE(contains(m, "accepts at most " + std::to_string(size - 1) + " bytes"), m);
    CHECK_MESSAGE(contains(m, "strip --strip-debug"), m);
    CHECK(snapshot_file(file, fd.get(), size).snapshot);  // exactly at the limit is fine
}

TEST_CASE("a snapshot of an empty file is empty, and a descriptor that is not a regular file is refused") {
    TempDir dir;
    write_file(dir / "empty.so", "");
    UniqueFd fd = open_read(dir / "empty.so");
    const auto empty = snapshot_file(dir / "empty.so", fd.get());
    REQUIRE(empty.snapshot);
    CHECK(empty.snapshot->size == 0);

    UniqueFd directory(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(directory);
    const auto refused = snapshot_file(dir.path(), directory.get());
    REQUIRE(refused.error);
    CHECK(refused.error->code == Code::not_a_regular_file);
}

TEST_CASE("plughost run keeps deciding while a loaded plugin file is overwritten in place and truncated") {
    QueueDeployment d;
    Process run(plughost_argv(d.args("run")));
    run.write_input(R"({"endpoint": {"name": "a", "metrics": {"waitingQueueSize": 1}}})"
                    "\n"
                    R"({"endpoint": {"name": "b", "metrics": {"waitingQueueSize": 9}}})"
                    "\n");
    std::size_t id = 0;
    // One request; its decision must come back, picking the endpoint with the shorter queue.
    auto decide = [&](const std::string &after) {
        const std::string request = "r" + std::to_string(++id);
        run.write_input("{\"request\": {\"id\": \"" + request + "\"}}\n");
        const auto out = lines(run.read_lines(id));
        if (out.size() < id) {
            const auto end = run.finish();
            FAIL("no decision for " << request << " after " << after << "; the host ended with exit code "
                                    << end.exit_code << ", signal " << end.signal << ":\n"
                                    << end.err);
        }
        const std::string &line = out[id - 1];
        const auto v = parse_json(line);
        REQUIRE_MESSAGE(v.as_object().contains("picked"), line);
        CHECK(v.at("id").as_string() == request.c_str());
        CHECK_MESSAGE(v.at("picked").at(0) == "a", line);
    };
    decide("start-up");
    const ino_t inode = inode_of(d.scorer);
    overwrite_in_place(d.scorer, other_version_of_queue_scorer());
    decide("overwriting queue-scorer.so with another version");
    truncate_to(d.scorer, std::filesystem::file_size(d.scorer) / 2);
    decide("cutting queue-scorer.so to half");
    truncate_to(d.scorer, 0);
    decide("truncating queue-scorer.so to 0 bytes");
    overwrite_in_place(d.scorer, read_file(paths::plugin_kv_cache_utilization_scorer));
    decide("overwriting queue-scorer.so with another plugin");
    truncate_to(d.scorer, 0);
    decide("truncating it again");
    CHECK(inode_of(d.scorer) == inode);  // every change hit the loaded file itself

    const auto end = run.finish();
    CHECK(end.signal == 0);
    CHECK(!end.timed_out);
    CHECK_MESSAGE(end.exit_code == 0, end.err);
    CHECK_MESSAGE(contains(end.err, "plughost run summary"), end.err);
    CHECK_MESSAGE(contains(end.err, "requests 6, decided 6"), end.err);
}

TEST_CASE("starting while a plugin file is rewritten in place: every run admits or refuses it, none dies") {
    // The operator's `cp new.so plugins/queue-scorer.so` (truncate, then write in chunks) and
    // `truncate`, racing the host's start-up over and over: two versions in turn, a cut to half,
    // with pauses of random length so that some runs read a complete file and see it change
    // between admission and loading.
    QueueDeployment d;
    const std::string versions[2] = {read_file(paths::plugin_queue_scorer), other_version_of_queue_scorer()};
    std::atomic<bool> stop{false};
    std::atomic<int> rewrites{0};
    std::thread writer([&] {
        std::minstd_rand random(7);
        for (int i = 0; !stop; ++i) {
            if (i % 3 == 2) truncate_to(d.scorer, versions[0].size() / 2);
            else overwrite_in_place(d.scorer, versions[i % 3], 16 * 1024, std::chrono::microseconds(random() % 200));
            ++rewrites;
            std::this_thread::sleep_for(std::chrono::microseconds(random() % 4000));
        }
    });
    // Every way the race may refuse the plugin, each with its code: the file read mid-copy at
    // admission (no such type, or refused), or changed or cut short between admission and load.
    const std::set<std::string> refusals{"unknown-type", "plugin-refused", "file-changed", "truncated-elf"};
    constexpr int kRounds = 30;
    int admitted = 0;
    std::map<std::string, int> refused;
    std::vector<std::string> failures;
    for (int round = 0; round < kRounds; ++round) {
        auto args = d.args("check");
        args.push_back("--instantiate");
        const auto r = run_plughost(args);
        if (r.signal != 0 || r.timed_out || (r.exit_code != 0 && r.exit_code != 1)) {
            failures.push_back("round " + std::to_string(round) + ": exit code " + std::to_string(r.exit_code) +
                               ", signal " + std::to_string(r.signal) + (r.timed_out ? ", timed out" : "") + "\n" +
                               r.err);
            continue;
        }
        if (r.exit_code == 0) {
            ++admitted;
            continue;
        }
        bool coded = false;
        for (const auto &l : lines(r.out)) {
            if (l.rfind("error [", 0) != 0) continue;
            const std::string code = l.substr(7, l.find(']') - 7);
            if (!refusals.count(code)) failures.push_back("round " + std::to_string(round) + ": " + l);
            ++refused[code];
            coded = true;
        }
        if (!coded) failures.push_back("round " + std::to_string(round) + ": exit code 1 without an error:\n" + r.out);
    }
    stop = true;
    writer.join();
    for (const auto &f : failures) FAIL_CHECK(f);
    std::string counts;
    for (const auto &[code, n] : refused) counts += " " + code + " " + std::to_string(n);
    MESSAGE(kRounds << " runs against " << rewrites.load() << " changes of the file: " << admitted
                    << " admitted and loaded; refused:" << counts);
}

TEST_CASE("plugins load where vm.memfd_noexec = 2 forbids executable memfds") {
    // Linux 6.3+: with vm.memfd_noexec = 2 (per PID namespace), memfd_create refuses MFD_EXEC and
    // makes every memfd MFD_NOEXEC_SEAL. That forbids execve of the memfd, not mmap with
    // PROT_EXEC, so dlopen of the copy still works. Set in a new user + PID namespace.
    const std::string unshare = "/usr/bin/unshare";
    if (::access(unshare.c_str(), X_OK) != 0 || ::access("/proc/sys/vm/memfd_noexec", F_OK) != 0) {
        MESSAGE("not checked: no unshare, or a kernel without vm.memfd_noexec (before 6.3)");
        return;
    }
    QueueDeployment d;
    const std::string command = "echo 2 > /proc/sys/vm/memfd_noexec && [ \"$(cat /proc/sys/vm/memfd_noexec)\" = 2 ] "
                                "|| exit 97; exec \"$0\" --log-level debug \"$@\"";
    std::vector<std::string> argv{unshare,   "--user", "--map-root-user", "--pid",        "--fork", "--mount-proc",
                                  "/bin/sh", "-c",     command,           paths::plughost};
    for (auto &a : d.args("check")) argv.push_back(a);
    argv.push_back("--instantiate");
    const auto r = run(argv);
    if (r.exit_code == 97 || contains(r.err, "unshare:")) {
        MESSAGE("not checked: no user namespaces here, or vm.memfd_noexec cannot be set in one: " << r.err);
        return;
    }
    CHECK_MESSAGE(r.exit_code == 0, r.out << r.err);
    CHECK_MESSAGE(contains(r.err, "queue-scorer.so from its sealed in-memory copy"), r.err);
}
