// plughost run as a real process, on the bundled example stream and on hostile input.
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <thread>

using namespace plughost::test;

TEST_CASE("run plays the bundled example with the built-in defaults: one decision per request") {
    const auto stream = paths::source_dir + "/examples/stream.jsonl";
    const auto r = run_plughost({"run", "--input", stream});
    CHECK(r.exit_code == 0);
    std::size_t requests = 0;
    for (const auto &l : lines(read_file(stream))) requests += contains(l, "{\"request\"") ? 1 : 0;
    const auto out = lines(r.out);
    CHECK(out.size() == requests);
    std::set<std::string> ids;
    for (const auto &l : out) {
        const auto v = parse_json(l);
        REQUIRE_MESSAGE(v.as_object().contains("picked"), l);
        ids.insert(std::string(v.at("id").as_string()));
    }
    CHECK(ids.size() == requests);
    CHECK(contains(r.err, "plughost run summary"));
    CHECK(contains(r.err, "hit rate"));
    // The start-up log: one line per plugin file with tier and decision, a warning per deprecation.
    CHECK(contains(r.err, "plugin queue-scorer 1.0.0 [stable] admitted"));
    CHECK(contains(r.err, "plugin kv-headroom-filter 1.0.0 [alpha] rejected (below-min-stability, gate-disabled)"));
    CHECK(contains(r.err, "[deprecated]"));
    CHECK(contains(r.err, "minStability is not set, so it defaults to beta"));
}

TEST_CASE("run reads standard input and answers every request line, even when malformed") {
    const std::string input = R"({"endpoint": {"name": "a", "metrics": {"waitingQueueSize": 1}}}
{"request": {"id": "1", "prompt": "x"}}
{"request": {"id": "2", "prompt": 5}}
garbage
{"request": {"id": "3"}}
)";
    const auto r = run_plughost({"run", "--explain"}, input);
    CHECK(r.exit_code == 0);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 4);
    CHECK(parse_json(out[0]).at("explain").at("scorers").as_array().size() >= 2);
    CHECK(parse_json(out[1]).at("id") == "2");
    CHECK(parse_json(out[1]).at("line") == 3);
    CHECK(parse_json(out[2]).at("error").at("code") == "not-json");
    CHECK(parse_json(out[3]).at("picked").at(0) == "a");
}

TEST_CASE("run refuses a number beyond the range of a double with its position, and goes on") {
    const std::string input = "{\"endpoint\": {\"name\": \"a\", \"metrics\": {\"waitingQueueSize\": 1e400}}}\n"
                              "{\"endpoint\": {\"name\": \"a\"}}\n"
                              "{\"request\": {\"id\": \"1\"}}\n";
    const auto r = run_plughost({"run"}, input);
    CHECK(r.exit_code == 0);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 2);
    CHECK(parse_json(out[0]).at("line") == 1);
    CHECK(parse_json(out[0]).at("error").at("code") == "not-json");
    CHECK(contains(std::string(parse_json(out[0]).at("error").at("message").as_string()),
                   "a number beyond the range of a double (about 1.8e308) ending at column"));
    CHECK(parse_json(out[1]).at("picked").at(0) == "a");
}

TEST_CASE("faulty plugins are counted, disabled loudly, and the run goes on") {
    TempDir dir, plugins;
    copy_to(paths::plugin_queue_scorer, plugins / "queue-scorer.so");
    copy_to(paths::plugin_max_score_picker, plugins / "max-score-picker.so");
    copy_to(paths::scorer_error_status, plugins / "error-scorer.so");
    write_file(dir / "c.json", R"({"plugins": [{"type": "error-scorer", "name": "broken"}, {"type": "queue-scorer"},
        {"type": "max-score-picker"}], "runtime": {"maxConsecutiveFaults": 3}})");
    std::string input = "{\"endpoint\": {\"name\": \"a\"}}\n";
    for (int i = 0; i < 10; ++i) input += "{\"request\": {\"id\": \"r" + std::to_string(i) + "\"}}\n";
    const auto r =
        run_plughost({"run", "--config", (dir / "c.json").string(), "--plugin-dir", plugins.path().string()}, input);
    CHECK(r.exit_code == 0);
    CHECK(lines(r.out).size() == 10);
    CHECK(contains(r.err, "[broken]"));
    CHECK(contains(r.err, "DISABLED after 3 consecutive faults"));
    CHECK(contains(r.err, "calls        3  faults     3"));
    const auto flag = run_plughost({"run", "--config", (dir / "c.json").string(), "--plugin-dir",
                                    plugins.path().string(), "--max-consecutive-faults", "7"},
                                   input);
    CHECK(contains(flag.err, "DISABLED after 7 consecutive faults"));
}

TEST_CASE("run refuses to start on config or policy errors, before reading input, and bad paths exit 2") {
    TempDir dir;
    write_file(dir / "c.json", R"({"plugins": [{"type": "queue-scorr"}]})");
    const auto bad = run_plughost({"run", "--config", (dir / "c.json").string()}, "{\"request\": {\"id\": \"1\"}}\n");
    CHECK(bad.exit_code == 1);
    CHECK(bad.out.empty());
    CHECK(contains(bad.err, "did you mean \"queue-scorer\""));
    CHECK(run_plughost({"run", "--input", (dir / "absent.jsonl").string()}).exit_code == 2);
    CHECK(run_plughost({"run", "--max-consecutive-faults", "0"}).exit_code == 2);
}

namespace {

// An endpoint, then `count` requests r0, r1, ...
std::string requests(int count, const std::string &prefix = "r") {
    std::string text = "{\"endpoint\": {\"name\": \"a\", \"metrics\": {\"waitingQueueSize\": 1}}}\n";
    for (int i = 0; i < count; ++i) text += "{\"request\": {\"id\": \"" + prefix + std::to_string(i) + "\"}}\n";
    return text;
}

// Every line of `out` is a JSON decision and the text ends with a newline: no torn line.
void check_whole_lines(const std::string &out) {
    if (out.empty()) return;
    CHECK(out.back() == '\n');
    for (const auto &l : lines(out)) CHECK_MESSAGE(parse_json(l).as_object().contains("picked"), l);
}

int open_or_fail(const std::string &path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
    REQUIRE_MESSAGE(fd >= 0, path << ": " << std::strerror(errno));
    return fd;
}

}  // namespace

TEST_CASE("run to /dev/full reports the write error, names the output, and exits 3") {
    const int full = open_or_fail("/dev/full", O_WRONLY);
    ProcessOptions o;
    o.out = StdStream::from(full);
    const auto r = run_plughost_with({"run"}, requests(5), o);
    ::close(full);
    CHECK(r.exit_code == 3);
    CHECK(contains(r.err, "cannot write decisions to standard output (/dev/full): No space left on device"));
    CHECK(contains(r.err, "0 output lines were written whole"));
    CHECK(contains(r.err, "plughost run summary"));
    CHECK(contains(r.err, "stopped early: writing the output failed"));
}

TEST_CASE("run to a regular file that reaches RLIMIT_FSIZE reports EFBIG, leaves no torn line, and exits 3") {
    TempDir dir;
    const auto path = (dir / "out.jsonl").string();
    const int file = open_or_fail(path, O_WRONLY | O_CREAT | O_TRUNC);
    // The limit applies to every file the process writes, the sealed in-memory copies of its
    // plugins too: it must hold the largest plugin, and the decisions must not fit in it.
    std::uintmax_t largest = 0;
    for (const auto &e : std::filesystem::directory_iterator(paths::plugin_dir))
        if (e.path().extension() == ".so") largest = std::max(largest, e.file_size());
    const std::uintmax_t limit = largest + 4096;
    ProcessOptions o;
    o.out = StdStream::from(file);
    o.limits = {{RLIMIT_FSIZE, limit}};
    const std::string prefix(1000, 'x');  // ~1 KB per decision line
    const auto r = run_plughost_with({"run"}, requests(static_cast<int>(limit / 1000) + 100, prefix), o);
    ::close(file);
    CHECK(r.signal == 0);  // not killed by SIGXFSZ
    CHECK_MESSAGE(r.exit_code == 3, r.err);
    CHECK(contains(r.err, "cannot write decisions to standard output (" + path + "): File too large"));
    const std::string written = read_file(path);
    CHECK(!written.empty());
    CHECK(written.size() <= limit);
    check_whole_lines(written);
    CHECK(contains(r.err, std::to_string(lines(written).size()) + " output lines were written whole"));
    CHECK(contains(r.err, "the incomplete last line was cut off"));
}

TEST_CASE("run with standard output closed refuses to start and exits 2") {
    ProcessOptions o;
    o.out = StdStream::closed();
    const auto r = run_plughost_with({"run"}, requests(3), o);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "standard output is closed"));
    CHECK(!contains(r.err, "admitted"));  // before the pre-flight
}

TEST_CASE("run to a pipe whose reader goes away reports EPIPE and exits 3") {
    Process p(plughost_argv({"run"}));
    p.write_input(requests(1));
    REQUIRE(lines(p.read_lines(1)).size() == 1);
    p.close_output();
    const auto r = p.finish(requests(10, "late"));
    CHECK(r.signal == 0);  // not killed by SIGPIPE
    CHECK(r.exit_code == 3);
    CHECK(contains(r.err, "cannot write decisions to standard output"));
    CHECK(contains(r.err, "Broken pipe"));
}

TEST_CASE("run to a non-blocking standard output that fills up waits for it: every decision arrives") {
    TempDir dir;
    write_file(dir / "s.jsonl", requests(3000));
    ProcessOptions o;
    o.nonblocking_out = true;
    Process p(plughost_argv({"run", "--explain", "--input", (dir / "s.jsonl").string()}), o);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let the pipe fill: the host meets EAGAIN
    const auto r = p.finish();
    CHECK(r.exit_code == 0);
    CHECK(lines(r.out).size() == 3000);
    check_whole_lines(r.out);
}

TEST_CASE("run --input of a directory, or a directory as standard input, is refused before the pre-flight") {
    TempDir dir;
    const auto r = run_plughost({"run", "--input", dir.path().string()}, requests(1));
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "--input " + dir.path().string() + " is a directory"));
    CHECK(!contains(r.err, "admitted"));

    ProcessOptions o;
    o.in = StdStream::from(open_or_fail(dir.path().string(), O_RDONLY | O_DIRECTORY));
    const auto in = run_plughost_with({"run"}, "", o);
    ::close(o.in.fd);
    CHECK(in.exit_code == 2);
    CHECK(contains(in.err, "standard input is a directory"));
}

TEST_CASE("run with standard input closed says so and exits 2 instead of reading another file") {
    ProcessOptions o;
    o.in = StdStream::closed();
    const auto r = run_plughost_with({"run"}, "", o);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "standard input is closed; pass --input FILE"));
    CHECK(r.out.empty());
}

TEST_CASE("run on a non-blocking standard input waits for each line: every request is answered") {
    ProcessOptions o;
    o.nonblocking_in = true;
    Process p(plughost_argv({"run"}), o);
    const auto lines_in = lines(requests(5));
    for (const auto &l : lines_in) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the host finds the pipe empty
        p.write_input(l + "\n");
    }
    const auto r = p.finish();
    CHECK(r.exit_code == 0);
    CHECK(lines(r.out).size() == 5);
    check_whole_lines(r.out);
}

TEST_CASE("an input that fails part-way (EIO from a terminal) stops the run with an error, exit 3") {
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    REQUIRE(master >= 0);
    REQUIRE(::grantpt(master) == 0);
    REQUIRE(::unlockpt(master) == 0);
    const int terminal = open_or_fail(::ptsname(master), O_RDWR | O_NOCTTY);
    termios raw{};
    REQUIRE(::tcgetattr(terminal, &raw) == 0);
    ::cfmakeraw(&raw);
    REQUIRE(::tcsetattr(terminal, TCSANOW, &raw) == 0);
    ProcessOptions o;
    o.in = StdStream::from(master);  // what the terminal writes; EIO once it is closed
    Process p(plughost_argv({"run"}), o);
    ::close(master);
    const std::string text = requests(2);
    REQUIRE(::write(terminal, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    REQUIRE(lines(p.read_lines(2)).size() == 2);
    ::close(terminal);
    const auto r = p.wait();
    CHECK(r.exit_code == 3);
    CHECK(contains(r.err, "cannot read standard input: Input/output error"));
    CHECK(contains(r.err, "stopped early: reading the input failed"));
    CHECK(lines(r.out).size() == 2);
}

TEST_CASE("SIGTERM and SIGINT stop run gracefully: whole lines, the summary, exit 128 + the signal") {
    for (const int sig : {SIGTERM, SIGINT}) {
        CAPTURE(sig);
        Process p(plughost_argv({"run"}));
        p.write_input(requests(3));
        REQUIRE(lines(p.read_lines(3)).size() == 3);
        p.write_input("{\"request\": {\"id\": \"in-progress");  // a partial line: never an event
        p.send(sig);
        const auto r = p.wait();  // standard input is still open
        CHECK(r.exit_code == 128 + sig);
        CHECK(contains(r.err, "plughost run summary"));
        CHECK(contains(r.err, std::string("interrupted by ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT")));
        CHECK(lines(r.out).size() == 3);
        check_whole_lines(r.out);
    }
}

TEST_CASE("a plugin that crashes the process: the decisions made before it are written, then it dies of the signal") {
    TempDir dir, plugins;
    copy_to(paths::plugin_queue_scorer, plugins / "queue-scorer.so");
    copy_to(paths::plugin_max_score_picker, plugins / "max-score-picker.so");
    copy_to(paths::scorer_crash, plugins / "crash-scorer.so");
    write_file(dir / "c.json",
               R"({"plugins": [{"type": "crash-scorer"}, {"type": "queue-scorer"}, {"type": "max-score-picker"}]})");
    // All in one file: the decisions before the crash are still in the output buffer when it comes.
    write_file(dir / "s.jsonl",
               requests(50) + "{\"request\": {\"id\": \"boom\", \"prompt\": \"crash\"}}\n" + requests(10, "after"));
    ProcessOptions o;
    o.limits = {{RLIMIT_CORE, 0}};
    const auto r = run_plughost_with({"run", "--config", (dir / "c.json").string(), "--plugin-dir",
                                      plugins.path().string(), "--input", (dir / "s.jsonl").string()},
                                     "", o);
    CHECK(r.signal == SIGSEGV);
    CHECK(lines(r.out).size() == 50);
    check_whole_lines(r.out);
    CHECK(contains(r.err, "fatal signal SIGSEGV"));
    // The scheduler marks each call (PluginCall::Watch): the crash is blamed on the instance.
    CHECK(
        contains(r.err, "the crash happened inside plugin code: instance \"crash-scorer\" of plugin \"crash-scorer\""));
}
