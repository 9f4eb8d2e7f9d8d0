// A private, immutable copy of an open plugin file, taken before it is loaded: a sealed memfd
// that nothing (the operator's `cp`, a truncation, the plugin's own author) can write, shrink or
// grow. The host re-reads the manifest from it, loads it, and hashes it, so all three see the same
// bytes, and no later write to the file on disk can reach the mapped library.
#pragma once

#include "common/diagnostic.hpp"
#include "common/unique_fd.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>

namespace plughost::host {

/// Largest plugin file copied, in bytes. The copy lives in memory (shmem) for as long as the
/// plugin is loaded, so a file that would need more is refused rather than copied.
inline constexpr std::uint64_t kMaxPluginFileBytes = 256ull * 1024 * 1024;

/// A sealed memfd holding the copy (seals: shrink, grow, write, seal). Read it with pread on
/// `fd`; it cannot change while it exists.
struct Snapshot {
    UniqueFd fd;
    std::uint64_t size = 0;
};

struct SnapshotResult {
    std::optional<Snapshot> snapshot;
    std::optional<Reason> error;  ///< set when no snapshot was made
};

/// Copies the regular file open on `fd` (named `path` in messages) into a new sealed memfd with
/// pread/write; the source is never mmapped, so a truncation during the copy cannot raise SIGBUS.
/// Errors: `too_large` above `max_bytes`; `file_changed` when the file shrank or was modified
/// during the copy; `io_error` when it cannot be read; `load_failed` when the memfd cannot be
/// made (memfd_create refused, out of memory). `fd`'s file offset is not used or moved.
SnapshotResult snapshot_file(const std::filesystem::path &path, int fd, std::uint64_t max_bytes = kMaxPluginFileBytes);

/// The text shared by every `file_changed` message: what happened and what to do.
inline constexpr const char *kWriteByRenameAdvice =
    "the file was modified while plughost was loading it, so it is refused (admission judged other "
    "bytes): retry, and replace plugin files by writing the new file under a temporary name in the same "
    "directory and renaming it over the old one (mv), never by writing into the file in place (cp, "
    "truncation)";

}  // namespace plughost::host
