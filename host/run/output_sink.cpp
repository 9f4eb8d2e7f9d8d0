#include "run/output_sink.hpp"

#include "common/plugin_call.hpp"

#include <fmt/format.h>

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace plughost::host {
namespace {

constexpr std::uint64_t kEndMask = 0xffffffffu;

// The bytes of `data[0, size)` after its last newline: the start of a line that was not finished.
std::size_t unfinished_tail(const char *data, std::size_t size) noexcept {
    std::size_t n = 0;
    while (n < size && data[size - 1 - n] != '\n') ++n;
    return n;
}

std::uint64_t count_lines(const char *data, std::size_t begin, std::size_t end) noexcept {
    std::uint64_t n = 0;
    for (std::size_t i = begin; i < end; ++i) n += data[i] == '\n';
    return n;
}

// Cuts a regular file back by the `tail` bytes of an unfinished line just written. Async-signal-safe.
bool cut_file_back(int fd, std::size_t tail) noexcept {
    const off_t end = ::lseek(fd, 0, SEEK_CUR);
    if (end < 0 || static_cast<std::uint64_t>(end) < tail) return false;
    const off_t good = end - static_cast<off_t>(tail);
    return ::ftruncate(fd, good) == 0 && ::lseek(fd, good, SEEK_SET) == good;
}

}  // namespace

OutputSink::OutputSink(int fd, std::string name, std::size_t capacity)
    : fd_(fd), name_(std::move(name)), capacity_(std::clamp<std::size_t>(capacity, 1, kEndMask)),
      buffer_(new char[capacity_]) {
    struct stat st {};
    regular_ = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

bool OutputSink::append(std::string_view line) {
    if (failed()) return false;
    const std::uint64_t pending = pending_.load(std::memory_order_relaxed);
    std::size_t end = pending & kEndMask;
    if (line.size() > capacity_ - end) {
        if (!flush()) return false;
        end = 0;
    }
    if (line.size() > capacity_) {  // written on its own, straight from the caller's memory
        if (!write_range(line.data(), 0, line.size(), false)) return false;
        ++lines_written_;
        return true;
    }
    std::memcpy(buffer_.get() + end, line.data(), line.size());
    // Published only now that the whole line is in: a signal handler never sees part of one.
    pending_.store(pack(pending >> 32, end + line.size()), std::memory_order_release);
    ++lines_buffered_;
    return true;
}

bool OutputSink::flush() {
    if (failed()) return false;
    const std::uint64_t pending = pending_.load(std::memory_order_relaxed);
    const std::size_t begin = pending >> 32, end = pending & kEndMask;
    if (begin < end && !write_range(buffer_.get(), begin, end, true)) return false;
    lines_written_ += lines_buffered_;
    lines_buffered_ = 0;
    pending_.store(0, std::memory_order_release);
    return true;
}

// Writes data[begin, end); `data` starts at a line boundary. On failure, remembers it and cuts a
// torn line back.
bool OutputSink::write_range(const char *data, std::size_t begin, std::size_t end, bool publish) {
    const Written w = write_out(data, end, begin, publish);
    if (w.error == 0) return true;
    fail(w.error, data, w.bytes);
    return false;
}

// Writes data[pos, size) with write(2), whatever the descriptor does: EINTR, EAGAIN (waits in
// poll), partial writes. Returns how far it got. Async-signal-safe.
OutputSink::Written OutputSink::write_out(const char *data, std::size_t size, std::size_t pos, bool publish) noexcept {
    while (pos < size) {
        const ssize_t n = ::write(fd_, data + pos, size - pos);
        if (n > 0) {
            pos += static_cast<std::size_t>(n);
            if (publish) pending_.store(pack(pos, size), std::memory_order_release);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd writable{fd_, POLLOUT, 0};
            if (::poll(&writable, 1, -1) < 0 && errno != EINTR) return {pos, errno};
            continue;
        }
        return {pos, n < 0 ? errno : EIO};  // write() returning 0 for a non-empty buffer: no progress possible
    }
    return {pos, 0};
}

void OutputSink::fail(int error, const char *data, std::size_t written) {
    lines_written_ += count_lines(data, 0, written);
    const std::size_t tail = unfinished_tail(data, written);
    if (tail > 0) {
        cut_back_ = regular_ && cut_file_back(fd_, tail);
        torn_ = !cut_back_;
    }
    error_.store(error, std::memory_order_relaxed);
}

std::string OutputSink::failure_message() const {
    std::string text = fmt::format(
        "cannot write decisions to {}: {}; {} output lines were written whole before the failure, and the run "
        "stopped there",
        name_, std::strerror(error()), lines_written_);
    if (cut_back_) text += "; the incomplete last line was cut off";
    if (torn_) text += "; the last line written is incomplete";
    return text;
}

std::uint64_t OutputSink::emergency_flush() noexcept {
    if (failed()) return 0;
    const std::uint64_t pending = pending_.load(std::memory_order_acquire);
    const std::size_t begin = pending >> 32, end = pending & kEndMask;
    if (begin >= end) return 0;
    const char *data = buffer_.get();
    const Written w = write_out(data, end, begin, true);
    if (w.error != 0) {
        const std::size_t tail = unfinished_tail(data, w.bytes);
        if (tail > 0 && regular_) cut_file_back(fd_, tail);
    }
    return count_lines(data, begin, w.bytes);
}

// ---- Fatal signals ---------------------------------------------------------------------------

namespace {

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
constexpr std::size_t kFatalCount = sizeof kFatalSignals / sizeof kFatalSignals[0];

std::atomic<OutputSink *> g_sink{nullptr};
std::atomic<FatalSignalHook> g_hook{nullptr};
std::atomic<bool> g_handling{false};
struct sigaction g_previous[kFatalCount];
// The handler's own stack: a plugin that overflows its stack leaves none to run it on.
alignas(16) char g_alternate_stack[64 * 1024];

const char *fatal_signal_name(int signal) noexcept {
    switch (signal) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    default: return "a fatal signal";
    }
}

// Message assembly without allocation, for the signal handler.
struct FixedText {
    char data[512];
    std::size_t size = 0;
    void add(const char *text) noexcept {
        while (*text && size < sizeof data) data[size++] = *text++;
    }
    void add(std::uint64_t n) noexcept {
        char digits[20];
        int k = 0;
        do digits[k++] = static_cast<char>('0' + n % 10);
        while ((n /= 10) != 0);
        while (k > 0 && size < sizeof data) data[size++] = digits[--k];
    }
    void write_to(int fd) const noexcept {
        std::size_t done = 0;
        while (done < size) {
            const ssize_t n = ::write(fd, data + done, size - done);
            if (n > 0) done += static_cast<std::size_t>(n);
            else if (n < 0 && errno == EINTR) continue;
            else return;
        }
    }
};

extern "C" void on_fatal_signal(int signal, siginfo_t *, void *) {
    // Only async-signal-safe calls from here on. A second thread crashing meanwhile waits for
    // the first to end the process.
    if (g_handling.exchange(true)) {
        for (;;) ::pause();
    }
    FixedText text;
    text.add("plughost: fatal signal ");
    text.add(fatal_signal_name(signal));
    if (OutputSink *sink = g_sink.load()) {
        const std::uint64_t lines = sink->emergency_flush();
        text.add("; wrote the ");
        text.add(lines);
        text.add(" output lines still buffered to ");
        text.add(sink->name().c_str());
        text.add(" before dying");
    }
    text.add("\n");
    text.write_to(STDERR_FILENO);
    if (FatalSignalHook hook = g_hook.load()) hook(signal);
    // Die of the signal as if nothing had caught it: blocked while this handler runs, the raised
    // signal is delivered when it returns (and a fault re-executed takes the default action too).
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    ::sigaction(signal, &default_action, nullptr);
    ::raise(signal);
}

// Installs the handlers (one FatalSignalFlush at a time).
void install_fatal_handlers(OutputSink *sink, FatalSignalHook hook) noexcept {
    stack_t current{};
    if (::sigaltstack(nullptr, &current) == 0 && (current.ss_flags & SS_DISABLE)) {
        stack_t alternate{};
        alternate.ss_sp = g_alternate_stack;
        alternate.ss_size = sizeof g_alternate_stack;
        ::sigaltstack(&alternate, nullptr);  // stays: harmless once this object is gone
    }
    g_sink.store(sink);
    g_hook.store(hook);
    struct sigaction action {};
    action.sa_sigaction = on_fatal_signal;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    // Every fatal signal is blocked while the handler runs: one raised inside it kills at once.
    sigemptyset(&action.sa_mask);
    for (int s : kFatalSignals) sigaddset(&action.sa_mask, s);
    for (std::size_t i = 0; i < kFatalCount; ++i) ::sigaction(kFatalSignals[i], &action, &g_previous[i]);
}

// write(2) of a whole NUL-terminated text, for the signal handler's hook (no length limit: a
// plugin's label may be long).
void write_text(const char *text) noexcept {
    const std::size_t size = std::strlen(text);
    std::size_t done = 0;
    while (done < size) {
        const ssize_t n = ::write(STDERR_FILENO, text + done, size - done);
        if (n > 0) done += static_cast<std::size_t>(n);
        else if (n < 0 && errno == EINTR) continue;
        else return;
    }
}

}  // namespace

void name_crashed_instance(int) noexcept {
    const char *who = PluginCall::current();
    if (!who) {
        write_text("plughost: the signal came from host code, not from inside a plugin\n");
        return;
    }
    write_text("plughost: the crash happened inside plugin code: ");
    write_text(who);
    write_text("; fix the plugin or remove it from the config\n");
}

FatalSignalFlush::FatalSignalFlush(OutputSink &sink, FatalSignalHook hook) { install_fatal_handlers(&sink, hook); }

FatalSignalFlush::FatalSignalFlush(FatalSignalHook hook) { install_fatal_handlers(nullptr, hook); }

FatalSignalFlush::~FatalSignalFlush() {
    for (std::size_t i = 0; i < kFatalCount; ++i) ::sigaction(kFatalSignals[i], &g_previous[i], nullptr);
    g_sink.store(nullptr);
    g_hook.store(nullptr);
}

}  // namespace plughost::host
