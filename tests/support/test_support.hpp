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

struct ProcessResult {
    int exit_code = -1;  ///< -1 when killed by a signal or the timeout
    std::string out;
    std::string err;
    bool timed_out = false;
};

/// Runs a program with arguments (no shell), feeding `input` on stdin, with extra environment
/// variables; kills it after `timeout`.
ProcessResult run(const std::vector<std::string> &argv, const std::string &input = {},
                  const std::vector<std::pair<std::string, std::string>> &env = {},
                  std::chrono::seconds timeout = std::chrono::seconds(60));

/// Runs the real plughost binary.
ProcessResult run_plughost(const std::vector<std::string> &args, const std::string &input = {},
                           const std::vector<std::pair<std::string, std::string>> &env = {});

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
