// Helpers shared by the test files: temporary directories, byte-level file surgery, running
// the real plughost binary, and the paths of the built fixtures.
#pragma once

#include "fixture_paths.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <sys/types.h>
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
    std::string out;
    std::string err;
    bool timed_out = false;
    int term_signal = 0;  ///< the signal that ended it, 0 when it exited (or when killed at the timeout)
};

/// Runs a program with arguments (no shell), feeding `input` on stdin, with extra environment
/// variables; kills it after `timeout`.
ProcessResult run(const std::vector<std::string> &argv, const std::string &input = {},
                  const std::vector<std::pair<std::string, std::string>> &env = {},
                  std::chrono::seconds timeout = std::chrono::seconds(60));

/// Runs the real plughost binary.
ProcessResult run_plughost(const std::vector<std::string> &args, const std::string &input = {},
                           const std::vector<std::pair<std::string, std::string>> &env = {});

/// A program running with pipes on its standard input, output and error, driven line by line
/// (e.g. `plughost run` fed events while the test changes its plugin files). Its standard error
/// is collected all along, so it never blocks on a full pipe. Destroying it kills it if it runs.
class StreamingProcess {
public:
    explicit StreamingProcess(const std::vector<std::string> &argv);
    ~StreamingProcess();
    StreamingProcess(const StreamingProcess &) = delete;
    StreamingProcess &operator=(const StreamingProcess &) = delete;

    /// Writes to its standard input; false when it cannot (it exited) or after `timeout`.
    bool write(const std::string &text, std::chrono::milliseconds timeout = std::chrono::seconds(30));
    /// Its next line of standard output (without the newline); nullopt at the end of its output
    /// or after `timeout`.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout = std::chrono::seconds(30));
    /// Closes its standard input (the end of the stream).
    void close_input();
    /// Closes its input, reads the rest of its output until it exits (killing it after
    /// `timeout`), and returns everything: `out` holds only what read_line did not return.
    ProcessResult wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));

private:
    // Polls its pipes once (and stdin for writing when `want_write`); false on timeout.
    bool pump(std::chrono::steady_clock::time_point deadline, bool want_write);
    pid_t pid_ = -1;
    int in_ = -1, out_ = -1, err_ = -1;
    std::string out_buffer_, err_text_;
    bool exited_ = false;
    ProcessResult result_;
};

/// Parses JSON, failing the current test with the text when it does not parse.
boost::json::value parse_json(const std::string &text);

/// Each line of `text` (without the newline).
std::vector<std::string> lines(const std::string &text);

/// True when `haystack` contains `needle`.
inline bool contains(const std::string &haystack, const std::string &needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace plughost::test
