// The decision output: whole lines only, every write error caught, a flush a signal handler can do.
#include "run/output_sink.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

using namespace plughost::host;
using namespace plughost::test;

namespace {

struct TempFile {
    TempDir dir;
    std::filesystem::path path = dir / "out";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    TempFile() { REQUIRE(fd >= 0); }
    ~TempFile() { ::close(fd); }
    std::string text() const { return read_file(path); }
};

std::string line_of(std::size_t size, char fill) { return std::string(size - 1, fill) + "\n"; }

// Reads a pipe to its end on a thread, slowly, so that the writer finds it full.
struct SlowReader {
    int fd;
    std::string got;
    std::thread thread{[this] {
        char buf[4096];
        while (true) {
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n <= 0) break;
            got.append(buf, static_cast<std::size_t>(n));
            if (got.size() < 8192) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }};
    explicit SlowReader(int read_end) : fd(read_end) {}
};

}  // namespace

TEST_CASE("lines wait in the buffer until it fills or is flushed, a line longer than the buffer goes alone") {
    TempFile f;
    OutputSink sink(f.fd, "the file", 16);
    CHECK(sink.append("abc\n"));
    CHECK(sink.append("def\n"));
    CHECK(sink.append("ghi\n"));
    CHECK(f.text().empty());          // buffered
    CHECK(sink.append("jklmnop\n"));  // does not fit: the three lines go first
    CHECK(f.text() == "abc\ndef\nghi\n");
    const std::string long_line = line_of(40, 'x');
    CHECK(sink.append(long_line));  // the buffered line first, then this one on its own
    CHECK(f.text() == "abc\ndef\nghi\njklmnop\n" + long_line);
    CHECK(sink.append("end\n"));
    CHECK(sink.flush());
    CHECK(f.text() == "abc\ndef\nghi\njklmnop\n" + long_line + "end\n");
    CHECK(sink.lines_written() == 6);
    CHECK(!sink.failed());
}

TEST_CASE("a failed write is kept, stops the sink and is described: /dev/full") {
    const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
    REQUIRE(full >= 0);
    OutputSink sink(full, "standard output (/dev/full)");
    CHECK(sink.append("a\n"));
    CHECK(!sink.flush());
    CHECK(sink.failed());
    CHECK(sink.error() == ENOSPC);
    CHECK(sink.lines_written() == 0);
    CHECK(!sink.append("b\n"));
    CHECK(!sink.flush());
    CHECK(sink.error() == ENOSPC);
    CHECK(sink.failure_message() ==
          "cannot write decisions to standard output (/dev/full): No space left on device; 0 output lines were "
          "written whole before the failure, and the run stopped there");
    ::close(full);
}

TEST_CASE("a regular file that fills up part-way is cut back to its last whole line (RLIMIT_FSIZE, EFBIG)") {
    TempFile f;
    rlimit saved{};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
    auto *const previous = ::signal(SIGXFSZ, SIG_IGN);
    rlimit small = saved;
    small.rlim_cur = 100;  // the soft limit only: raised back below
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    OutputSink sink(f.fd, "the file", 1024);
    for (int i = 0; i < 10; ++i) CHECK(sink.append(line_of(30, static_cast<char>('a' + i))));
    const bool flushed = sink.flush();
    ::setrlimit(RLIMIT_FSIZE, &saved);
    ::signal(SIGXFSZ, previous);
    CHECK(!flushed);
    CHECK(sink.error() == EFBIG);
    CHECK(sink.lines_written() == 3);
    CHECK(sink.cut_back());
    CHECK(!sink.torn());
    CHECK(f.text() == line_of(30, 'a') + line_of(30, 'b') + line_of(30, 'c'));
    CHECK(::lseek(f.fd, 0, SEEK_CUR) == 90);
    CHECK(sink.failure_message().find("File too large; 3 output lines") != std::string::npos);
    CHECK(sink.failure_message().find("the incomplete last line was cut off") != std::string::npos);
}

TEST_CASE("a non-blocking output that is full is waited for (poll): every line arrives, in order") {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
    SlowReader reader(fds[0]);
    std::string expected;
    {
        OutputSink sink(fds[1], "the pipe");
        for (int i = 0; i < 2000; ++i) {
            const std::string line = std::to_string(i) + ":" + std::string(200, 'z') + "\n";
            expected += line;
            REQUIRE(sink.append(line));
        }
        CHECK(sink.flush());
        CHECK(sink.lines_written() == 2000);
    }
    ::close(fds[1]);
    reader.thread.join();
    ::close(fds[0]);
    CHECK(reader.got == expected);
}

TEST_CASE("an output whose reader is gone fails with EPIPE") {
    ::signal(SIGPIPE, SIG_IGN);
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    ::close(fds[0]);
    OutputSink sink(fds[1], "the pipe");
    CHECK(sink.append("a\n"));
    CHECK(!sink.flush());
    CHECK(sink.error() == EPIPE);
    CHECK(!sink.torn());
    ::close(fds[1]);
}

TEST_CASE("emergency_flush writes the whole lines still buffered") {
    TempFile f;
    OutputSink sink(f.fd, "the file");
    CHECK(sink.append("one\n"));
    CHECK(sink.flush());
    CHECK(sink.append("two\n"));
    CHECK(sink.append("three\n"));
    CHECK(sink.emergency_flush() == 2);
    CHECK(f.text() == "one\ntwo\nthree\n");
    CHECK(sink.emergency_flush() == 0);  // nothing twice
    CHECK(f.text() == "one\ntwo\nthree\n");
}

namespace {
int g_hook_fd = -1;
void hook(int signal) noexcept {  // "hook NN\n", async-signal-safe
    const char text[] = {
        'h', 'o', 'o', 'k', ' ', static_cast<char>('0' + signal / 10), static_cast<char>('0' + signal % 10), '\n'};
    (void)!::write(g_hook_fd, text, sizeof text);
}
}  // namespace

TEST_CASE("a fatal signal writes the buffered lines, calls the hook, then the process dies of that signal") {
    for (const int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) {
        CAPTURE(sig);
        int fds[2];
        REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            ::close(fds[0]);
            const rlimit no_core{0, 0};
            ::setrlimit(RLIMIT_CORE, &no_core);
            g_hook_fd = fds[1];
            OutputSink sink(fds[1], "the pipe");
            FatalSignalFlush flush(sink, hook);
            sink.append("decided 1\n");
            sink.append("decided 2\n");
            ::raise(sig);
            ::_exit(0);  // not reached
        }
        ::close(fds[1]);
        std::string got;
        char buf[256];
        for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
        ::close(fds[0]);
        int status = 0;
        REQUIRE(::waitpid(child, &status, 0) == child);
        CHECK(WIFSIGNALED(status));
        CHECK(WTERMSIG(status) == sig);
        CHECK(got == "decided 1\ndecided 2\nhook " + std::string(sig < 10 ? "0" : "") + std::to_string(sig) + "\n");
    }
}
