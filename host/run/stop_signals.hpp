// SIGTERM and SIGINT as a request to stop `plughost run` gracefully.
#pragma once

namespace plughost::host {

/// While it lives, the first SIGTERM or SIGINT is recorded and wakes the line reader through a
/// self-pipe (a reader blocked waiting for input wakes up too); the run then ends after the line
/// in progress, writes its whole lines and its summary. The handler then puts both signals back to
/// their default action: a second one ends the process at once, for a run stuck writing to an
/// output nobody reads. One at a time; the destructor restores the previous handlers.
class StopSignals {
public:
    StopSignals();
    ~StopSignals();
    StopSignals(const StopSignals &) = delete;
    StopSignals &operator=(const StopSignals &) = delete;

    /// Readable once a stop signal came: poll it next to the input.
    int wake_fd() const;
    /// The first stop signal received; 0 while none came.
    int received() const;
};

}  // namespace plughost::host
