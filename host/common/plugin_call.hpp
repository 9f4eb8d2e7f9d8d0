// Which plugin instance the current thread is running code of. Set around every call into a
// plugin (create, destroy, each role and hook), and read by the fatal-signal handler, so that a
// crash inside plugin code names the plugin and the instance.
#pragma once

namespace plughost::host {

class PluginCall {
public:
    /// `who` describes the instance (`instance "q" of plugin "queue-scorer" 1.0.0 (file ...)`);
    /// it must outlive the call.
    explicit PluginCall(const char *who) noexcept : previous_(current_) { current_ = who; }
    ~PluginCall() { current_ = previous_; }
    PluginCall(const PluginCall &) = delete;
    PluginCall &operator=(const PluginCall &) = delete;

    /// The instance whose code this thread is running, or nullptr when it runs host code. Only a
    /// read of a thread-local pointer: async-signal-safe.
    static const char *current() noexcept {
        if (current_) return current_;
        const char *const *running = watched_ ? *watched_ : nullptr;
        return running ? *running : nullptr;
    }

    /// While a Watch lives, current() reads the label `*slot` points to when no PluginCall is
    /// active on the thread: a caller making many plugin calls in a row (the scheduler, for each
    /// request) marks each one with a plain store into the slot of the address of the instance's
    /// label (one register store when the label is the first member of what the caller holds),
    /// and of nullptr after it, instead of setting and restoring the thread-local around every
    /// call.
    class Watch {
    public:
        explicit Watch(const char *const *const *slot) noexcept : previous_(watched_) { watched_ = slot; }
        ~Watch() { watched_ = previous_; }
        Watch(const Watch &) = delete;
        Watch &operator=(const Watch &) = delete;

    private:
        const char *const *const *previous_;
    };

private:
    // Initial-exec: the variable lives in the static TLS block, so reading it in a signal handler
    // never allocates.
    __attribute__((tls_model("initial-exec"))) static inline constinit thread_local const char *current_ = nullptr;
    __attribute__((tls_model("initial-exec"))) static inline constinit thread_local const char *const *const *watched_ =
        nullptr;
    const char *previous_;
};

}  // namespace plughost::host
