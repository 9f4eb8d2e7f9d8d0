#include "load/snapshot.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

namespace plughost::host {
namespace {

// Linux 6.3 added MFD_NOEXEC_SEAL (Debian 12's headers predate it): the memfd can never be
// execve()d. dlopen does not need that (mmap with PROT_EXEC is still allowed: checked on Linux
// 6.18 under vm.memfd_noexec = 0, 1 and 2), and it is the only flag that vm.memfd_noexec = 2
// accepts (MFD_EXEC is refused there with EACCES). Older kernels refuse the unknown flag with
// EINVAL, and then the memfd is made without it.
constexpr unsigned kMfdNoexecSeal = 0x0008U;

// memfd names are at most 249 bytes; the name only shows in /proc/<pid>/maps and fd listings.
constexpr std::size_t kMaxNameBytes = 200;

constexpr std::size_t kCopyChunk = 64 * 1024;

constexpr unsigned kSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;

std::string errno_text(int err) { return std::strerror(err); }

std::string mib(std::uint64_t bytes) { return std::to_string(bytes / (1024 * 1024)) + " MiB"; }

bool same_time(const timespec &a, const timespec &b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

UniqueFd make_memfd(const std::filesystem::path &path) {
    std::string name = "plughost:" + path.filename().string();
    if (name.size() > kMaxNameBytes) name.resize(kMaxNameBytes);
    int fd = ::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING | kMfdNoexecSeal);
    if (fd < 0 && errno == EINVAL) fd = ::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
    return UniqueFd(fd);
}

bool write_all(int fd, const char *data, std::size_t size) {
    while (size) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

SnapshotResult snapshot_file(const std::filesystem::path &path, int fd, std::uint64_t max_bytes) {
    SnapshotResult out;
    const std::string who = path.string() + ": ";
    auto fail = [&](Code code, std::string message) {
        out.error = Reason{code, who + std::move(message)};
        return std::move(out);
    };

    struct stat before {};
    if (::fstat(fd, &before) != 0)
        return fail(Code::io_error, "could not be examined before loading (fstat: " + errno_text(errno) + ")");
    if (!S_ISREG(before.st_mode)) return fail(Code::not_a_regular_file, "is no longer a regular file");
    const auto size = static_cast<std::uint64_t>(before.st_size);
    if (size > max_bytes)
        return fail(Code::too_large,
                    "is " + std::to_string(size) +
                        " bytes; plughost copies each plugin into memory before loading it "
                        "and accepts at most " +
                        std::to_string(max_bytes) + " bytes (" + mib(max_bytes) +
                        "): strip the plugin's debug information (strip --strip-debug; keep it in a separate file "
                        "that gdb finds by build ID) or build it smaller");

    UniqueFd copy = make_memfd(path);
    if (!copy)
        return fail(Code::load_failed,
                    "could not be copied into memory before loading (memfd_create: " + errno_text(errno) +
                        "); plughost loads plugins only from a private copy: "
                        "allow memfd_create (seccomp, sandbox) or raise the open-file limit");

    const std::unique_ptr<char[]> buffer(new char[kCopyChunk]);
    std::uint64_t done = 0;
    while (done < size) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kCopyChunk, size - done));
        const ssize_t n = ::pread(fd, buffer.get(), want, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return fail(Code::io_error, "could not be read at byte " + std::to_string(done) + " (" + errno_text(errno) +
                                            "); check the file and the disk");
        if (n == 0)
            return fail(Code::file_changed, "shrank from " + std::to_string(size) + " to " + std::to_string(done) +
                                                " bytes while it was being copied for loading; " +
                                                kWriteByRenameAdvice);
        if (!write_all(copy.get(), buffer.get(), static_cast<std::size_t>(n))) {
            const int err = errno;
            return fail(Code::load_failed,
                        "could not be copied into memory before loading (" + errno_text(err) + " after " +
                            std::to_string(done) + " bytes); " +
                            (err == EFBIG ? "the process's file-size limit (ulimit -f, RLIMIT_FSIZE) is below the "
                                            "plugin's " +
                                                std::to_string(size) + " bytes: raise it"
                                          : std::string("free memory and retry")));
        }
        done += static_cast<std::uint64_t>(n);
    }

    // A write into the file during the copy could leave a mix of old and new bytes in the copy;
    // writes update mtime and ctime (at the file system's timestamp granularity).
    struct stat after {};
    if (::fstat(fd, &after) != 0)
        return fail(Code::io_error, "could not be examined after copying (fstat: " + errno_text(errno) + ")");
    if (after.st_size != before.st_size || !same_time(after.st_mtim, before.st_mtim) ||
        !same_time(after.st_ctim, before.st_ctim))
        return fail(Code::file_changed,
                    std::string("changed while it was being copied for loading (") +
                        (after.st_size != before.st_size ? "its size went from " + std::to_string(before.st_size) +
                                                               " to " + std::to_string(after.st_size) + " bytes"
                                                         : std::string("its modification time moved")) +
                        "); " + kWriteByRenameAdvice);

    if (::fcntl(copy.get(), F_ADD_SEALS, kSeals) != 0)
        return fail(Code::load_failed,
                    "its in-memory copy could not be sealed (F_ADD_SEALS: " + errno_text(errno) + "); report this");
    out.snapshot = Snapshot{std::move(copy), size};
    return out;
}

}  // namespace plughost::host
