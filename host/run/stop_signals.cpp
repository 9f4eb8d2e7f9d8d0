#include "run/stop_signals.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace plughost::host {
namespace {

constexpr int kStopSignals[] = {SIGTERM, SIGINT};

std::atomic<int> g_received{0};
int g_wake[2] = {-1, -1};
struct sigaction g_previous[2];
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free atomic");

extern "C" void on_stop_signal(int signal) {
    const int saved_errno = errno;
    int none = 0;
    if (g_received.compare_exchange_strong(none, signal)) {
        const char byte = 0;
        (void)!::write(g_wake[1], &byte, 1);
        struct sigaction default_action {};
        default_action.sa_handler = SIG_DFL;
        sigemptyset(&default_action.sa_mask);
        for (int s : kStopSignals) ::sigaction(s, &default_action, nullptr);
    }
    errno = saved_errno;
}

}  // namespace

StopSignals::StopSignals() {
    if (::pipe2(g_wake, O_CLOEXEC | O_NONBLOCK) != 0)
        throw std::runtime_error(std::string("cannot create the stop-signal pipe: ") + std::strerror(errno));
    g_received.store(0);
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    for (int s : kStopSignals) sigaddset(&action.sa_mask, s);
    for (std::size_t i = 0; i < 2; ++i) ::sigaction(kStopSignals[i], &action, &g_previous[i]);
}

StopSignals::~StopSignals() {
    for (std::size_t i = 0; i < 2; ++i) ::sigaction(kStopSignals[i], &g_previous[i], nullptr);
    for (int &fd : g_wake) {
        ::close(fd);
        fd = -1;
    }
    g_received.store(0);
}

int StopSignals::wake_fd() const { return g_wake[0]; }

int StopSignals::received() const { return g_received.load(std::memory_order_relaxed); }

}  // namespace plughost::host
