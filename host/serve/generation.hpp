// A generation: one admitted, planned and loaded set of plugin instances with its scheduler.
// `plughost serve` holds the serving generation in a shared_ptr; a request keeps the generation
// it was scheduled on until its response ends, so a reload never pulls instances from under a
// request in flight: the old generation's instances are destroyed, and their libraries unloaded,
// when its last request ends.
#pragma once

#include "load/instantiation.hpp"
#include "plan/preflight.hpp"
#include "schedule/scheduler.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace plughost::host {

struct Generation {
    std::uint64_t number = 0;
    Preflight pf;
    LiveInstances live;
    std::unique_ptr<Scheduler> scheduler;
    std::chrono::system_clock::time_point applied{};
};

/// A plugin file's identity: device, inode, size, modification time. A file replaced or
/// rewritten in place gets a new identity.
using FileIdentity = std::tuple<dev_t, ino_t, off_t, std::int64_t>;
std::optional<FileIdentity> file_identity(const std::filesystem::path &path);

/// THE HOOK POINT for probing plugin files in a child process before the serving process loads
/// them. Called with the admitted candidates (indexes into pf.candidates) whose identity this
/// process has never loaded, before anything is loaded. Returns the files to refuse, each with
/// the reason (quarantined: signal, exit status, time-out, message). A refused file that the
/// config needs makes the whole generation refused; the serving one stays. The default accepts
/// everything (no probe).
using NewFilesHook =
    std::function<std::vector<std::pair<std::size_t, std::string>>(Preflight &, const std::vector<std::size_t> &)>;

struct GenerationBuild {
    std::shared_ptr<Generation> generation;  ///< null when refused
    std::vector<Issue> errors;               ///< why it was refused
};

/// Pre-flight, the new-files hook, loading and instantiation: the same checks as `check
/// --instantiate`. `loaded` holds the identities loaded before; the new ones are added when the
/// generation is built.
GenerationBuild build_generation(const PreflightInputs &inputs, std::uint64_t number,
                                 std::optional<std::uint32_t> max_consecutive_faults, const NewFilesHook &hook,
                                 std::set<FileIdentity> &loaded);

}  // namespace plughost::host
