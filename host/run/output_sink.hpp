// Where `plughost run` writes its decisions: whole lines only, every write error caught.
//
// Lines are appended to a fixed buffer and written with write(2) when the buffer fills or on
// flush(), retrying after EINTR, waiting with poll() after EAGAIN, going on after partial writes.
// The first failed write stops the sink and is remembered; a regular file is then cut back to the
// end of its last whole line, so a reader never sees a torn line. The buffer is never reallocated
// and its state is one atomic word, so a fatal-signal handler can write out the lines already
// made with async-signal-safe calls only (FatalSignalFlush).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace plughost::host {

class OutputSink {
public:
    /// Writes to `fd` (not owned); `name` names the output in messages ("standard output").
    OutputSink(int fd, std::string name, std::size_t capacity = 64 * 1024);
    OutputSink(const OutputSink &) = delete;
    OutputSink &operator=(const OutputSink &) = delete;

    /// Appends one line, which ends with '\n'. Writes the buffer first when the line does not fit;
    /// a line longer than the whole buffer is written on its own. False once the output failed.
    bool append(std::string_view line);
    /// Writes every buffered line. False once the output failed.
    bool flush();

    bool failed() const { return error_.load(std::memory_order_relaxed) != 0; }
    /// errno of the first failed write; 0 while none failed.
    int error() const { return error_.load(std::memory_order_relaxed); }
    /// Lines that reached the output whole.
    std::uint64_t lines_written() const { return lines_written_; }
    /// After a failure: the output was a regular file and its incomplete last line was cut off.
    bool cut_back() const { return cut_back_; }
    /// After a failure: the output ends with part of a line (not a regular file, or it could not
    /// be cut back).
    bool torn() const { return torn_; }
    const std::string &name() const { return name_; }
    /// For operators: what failed, why, how much was written.
    std::string failure_message() const;

    /// Writes the lines appended but not yet written; for a fatal-signal handler, so only
    /// async-signal-safe calls. Returns the number of lines it wrote. A crash in another thread
    /// in the middle of flush() may write part of that flush twice.
    std::uint64_t emergency_flush() noexcept;

private:
    struct Written {
        std::size_t bytes;
        int error;
    };
    static std::uint64_t pack(std::size_t begin, std::size_t end) { return std::uint64_t{begin} << 32 | end; }
    bool write_range(const char *data, std::size_t begin, std::size_t end, bool publish);
    Written write_out(const char *data, std::size_t size, std::size_t begin, bool publish) noexcept;
    void fail(int error, const char *data, std::size_t written);

    int fd_;
    std::string name_;
    bool regular_ = false;
    std::size_t capacity_;
    std::unique_ptr<char[]> buffer_;
    /// [begin, end) of the buffer not written yet, as begin << 32 | end: one word a signal
    /// handler reads whole. `end` only grows by whole lines.
    std::atomic<std::uint64_t> pending_{0};
    std::atomic<int> error_{0};
    std::uint64_t lines_buffered_ = 0;
    std::uint64_t lines_written_ = 0;
    bool cut_back_ = false;
    bool torn_ = false;
    static_assert(std::atomic<std::uint64_t>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
                  "the signal handler needs lock-free atomics");
};

/// Called by the fatal-signal handler after the flush, before the process dies of the signal.
/// It must be async-signal-safe. This is where a crash is to be attributed to the plugin
/// instance that was running.
using FatalSignalHook = void (*)(int signal) noexcept;

/// The hook of every command that runs plugin code in its own process: names the plugin instance
/// (or the plugin file being loaded) whose code the crashing thread was running, as PluginCall
/// marks it, or says that the signal came from host code. Async-signal-safe.
void name_crashed_instance(int signal) noexcept;

/// While it lives, SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT first write the lines `sink`
/// holds (if there is one), report the signal on stderr and call the hook, then take their
/// default action (the process dies of the signal, as it would have). The handlers run on an
/// alternate stack, so a plugin's stack overflow is caught too. One at a time; the destructor
/// restores the handlers that were there before.
class FatalSignalFlush {
public:
    explicit FatalSignalFlush(OutputSink &sink, FatalSignalHook hook = nullptr);
    /// For a command with no output to save: reports the signal and calls the hook only.
    explicit FatalSignalFlush(FatalSignalHook hook);
    ~FatalSignalFlush();
    FatalSignalFlush(const FatalSignalFlush &) = delete;
    FatalSignalFlush &operator=(const FatalSignalFlush &) = delete;
};

}  // namespace plughost::host
