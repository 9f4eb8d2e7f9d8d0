// The probe: a plugin file run once in a child process before the host trusts it with its own.
// The child loads the file from the very bytes admission judged (the candidate's sealed
// snapshot, or its inspected descriptor), creates each instance, calls its role once on a
// synthetic request, destroys it, and exits. A child that dies by a signal, exits on its own,
// fails a step or outlives the time limit gets the file quarantined, with the reason.
//
// The serving process calls probe() on a file it has not loaded before; ProbeState remembers the
// results by file identity and content hash, so a restart does not probe unchanged files again.
#pragma once

#include "admission/admission.hpp"
#include "common/diagnostic.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace plughost::host {

/// One instance to create in the child: its name and its parameters (defaults are filled in
/// from the manifest, as the host does).
struct ProbeInstance {
    std::string name;
    boost::json::object parameters;
};

enum class ProbeOutcome {
    passed,     ///< every step succeeded
    crashed,    ///< the child died by a signal (SIGSEGV, SIGABRT from abort(), ...): probe-crashed
    exited,     ///< the child exited on its own, with a status, before finishing: probe-exited
    timed_out,  ///< the child was still running at the time limit and was killed: probe-timed-out
    failed,     ///< a step failed with a message (load refused, create failed, a role call failed): probe-failed
};

std::string_view to_string(ProbeOutcome outcome);

struct ProbeResult {
    ProbeOutcome outcome = ProbeOutcome::passed;
    std::string step;     ///< the step the child was at: "loading", "creating instance \"x\"", "calling score of \"x\""
    std::string reason;   ///< for operators: what happened (signal name, exit status, time-out, message) at which step
    int signal = 0;       ///< crashed: the signal
    int exit_status = 0;  ///< exited: the status
    bool passed() const { return outcome == ProbeOutcome::passed; }
    /// The refusal code of a failed probe (probe-crashed, probe-exited, probe-timed-out, probe-failed).
    Code code() const;
};

/// The default time limit of one probe (all of its steps together).
inline constexpr std::chrono::milliseconds kDefaultProbeLimit{5000};

/// Probes an admitted candidate (it needs its snapshot or its open descriptor) in a child
/// process: load (which runs the library's constructors and checks its entry), then for each of
/// `instances` (none: load and unload only): create, one call of its role on a synthetic request
/// with two endpoints (filter, scorer and picker; other roles are created and destroyed only),
/// destroy; then unload.
/// Blocks for at most about `limit`. Never throws; a fork that fails is a `failed` result.
/// The child is a fork() of the caller: in a multi-threaded server, call it while no other thread
/// can hold a lock the child needs (the child allocates, logs through spdlog and calls dlopen;
/// glibc makes malloc and dlopen safe after fork, spdlog's own mutexes are not).
ProbeResult probe(const Candidate &admitted, const std::vector<ProbeInstance> &instances,
                  std::chrono::milliseconds limit = kDefaultProbeLimit);

}  // namespace plughost::host
