// Helpers shared by the test files: temporary directories, byte-level file surgery, running
// the real plughost binary, and the paths of the built fixtures.
#pragma once

#include "fixture_paths.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace plughost::test {

/// A fresh directory, removed with its contents when the object goes away.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    const std::filesystem::path &path() const { return path_; }
    std::filesystem::path operator/(const std::string &name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

std::string read_file(const std::filesystem::path &path);
void write_file(const std::filesystem::path &path, const std::string &content);
/// Copies `from` to `to` (overwriting) and returns `to`.
std::filesystem::path copy_to(const std::filesystem::path &from, const std::filesystem::path &to);
/// Overwrites bytes at `offset`.
void patch_bytes(const std::filesystem::path &path, std::uint64_t offset, const std::vector<std::uint8_t> &bytes);
void truncate_to(const std::filesystem::path &path, std::uint64_t size);

/// Rewrites a file in place, as `cp new old` does: the same inode, opened with O_TRUNC, then
/// written in chunks of `chunk` bytes, sleeping `pause` after each chunk but the last (a slow
/// copy, whose partly written file others can read meanwhile).
void overwrite_in_place(const std::filesystem::path &path, const std::string &content, std::size_t chunk = 128 * 1024,
                        std::chrono::microseconds pause = {});
/// Replaces every occurrence of `from` in `content` by `to` (same length); returns how many.
std::size_t replace_all(std::string &content, const std::string &from, const std::string &to);

struct ProcessResult {
    int exit_code = -1;  ///< -1 when killed by a signal or the timeout
    int signal = 0;      ///< the signal that killed the process, 0 when it exited
    std::string out;
    std::string err;
    bool timed_out = false;
};

/// What a child's standard descriptor is: a pipe to the test (the default), closed, or a
/// descriptor of the test's duplicated onto it (a file, /dev/full, a terminal...).
struct StdStream {
    enum class Kind { pipe, closed, descriptor };
    Kind kind = Kind::pipe;
    int fd = -1;
    static StdStream closed() { return {Kind::closed, -1}; }
    static StdStream from(int fd) { return {Kind::descriptor, fd}; }
};

/// How a child process is started.
struct ProcessOptions {
    std::vector<std::pair<std::string, std::string>> env;  ///< added to (or replacing) this environment
    std::chrono::seconds timeout = std::chrono::seconds(60);
    StdStream in, out, err;
    bool nonblocking_in = false;   ///< O_NONBLOCK on the child's stdin pipe (a pipe only)
    bool nonblocking_out = false;  ///< O_NONBLOCK on the child's stdout pipe (a pipe only)
    /// setrlimit(resource, {value, value}) in the child before exec (e.g. RLIMIT_FSIZE).
    std::vector<std::pair<int, std::uint64_t>> limits;
};

/// A running child, for tests that talk to it: write its stdin, read its stdout as it comes,
/// signal it. Signal dispositions and the signal mask are reset to the defaults in the child.
class Process {
public:
    Process(const std::vector<std::string> &argv, const ProcessOptions &options = {});
    ~Process();  ///< kills and reaps a child still running
    Process(const Process &) = delete;
    Process &operator=(const Process &) = delete;

    int pid() const { return pid_; }
    /// Writes all of `text` to the child's stdin (a pipe).
    void write_input(const std::string &text);
    void close_input();
    /// Closes the read end of the child's stdout pipe: the child's next write gets EPIPE.
    void close_output();
    /// Reads stdout (and drains stderr) until stdout holds `count` lines or the timeout passes;
    /// returns all of stdout read so far.
    const std::string &read_lines(std::size_t count, std::chrono::seconds timeout = std::chrono::seconds(30));
    void send(int signal);
    /// Writes `input`, closes stdin, reads stdout and stderr to their end and reaps the child.
    ProcessResult finish(const std::string &input = {});
    /// Reads stdout and stderr to their end and reaps the child; stdin stays as it is until then.
    ProcessResult wait();

private:
    bool pump(int timeout_ms, const std::string *input, std::size_t *written);
    int pid_ = -1;
    int in_ = -1, out_ = -1, err_ = -1;
    std::chrono::steady_clock::time_point deadline_;
    ProcessResult result_;
};

/// Runs a program with arguments (no shell), feeding `input` on stdin, with extra environment
/// variables; kills it after `timeout`.
ProcessResult run(const std::vector<std::string> &argv, const std::string &input = {},
                  const std::vector<std::pair<std::string, std::string>> &env = {},
                  std::chrono::seconds timeout = std::chrono::seconds(60));
ProcessResult run_with(const std::vector<std::string> &argv, const std::string &input, const ProcessOptions &options);

/// Runs the real plughost binary.
ProcessResult run_plughost(const std::vector<std::string> &args, const std::string &input = {},
                           const std::vector<std::pair<std::string, std::string>> &env = {});
ProcessResult run_plughost_with(const std::vector<std::string> &args, const std::string &input,
                                const ProcessOptions &options);
/// The argv that runs the real plughost binary with `args`.
std::vector<std::string> plughost_argv(const std::vector<std::string> &args);

/// Parses JSON, failing the current test with the text when it does not parse.
boost::json::value parse_json(const std::string &text);

/// Each line of `text` (without the newline).
std::vector<std::string> lines(const std::string &text);

/// How many representable doubles lie between `a` and `b` (0 when equal; both finite).
std::uint64_t ulps_apart(double a, double b);

/// True when `haystack` contains `needle`.
inline bool contains(const std::string &haystack, const std::string &needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace plughost::test
