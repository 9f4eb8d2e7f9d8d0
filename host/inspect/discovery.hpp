// Finding plugin files: the `.so` files directly inside one directory.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace plughost::host {

struct Discovery {
    /// Sorted by file name (byte order), so every run sees the same order.
    std::vector<std::filesystem::path> files;
    /// Set when the directory itself cannot be listed; `files` is then empty.
    std::optional<std::string> error;
};

/// The entries of `dir` (not recursive) whose names end in ".so" and do not start with "."
/// (editors and copy tools leave hidden temporaries). Entries of any file type are returned:
/// a FIFO or directory named "x.so" is reported by the reader, not silently skipped.
Discovery discover_plugins(const std::filesystem::path &dir);

}  // namespace plughost::host
