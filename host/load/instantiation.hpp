// From a plan to live instances: load the admitted plugins the plan needs (from their
// inspected descriptors) and create each configured instance.
#pragma once

#include "load/instance.hpp"
#include "plan/preflight.hpp"
#include "schedule/scheduler.hpp"

#include <memory>
#include <vector>

namespace plughost::host {

struct LiveInstances {
    /// Parallel to Preflight::instances; null where loading or creation failed.
    std::vector<std::unique_ptr<Instance>> instances;
    /// Files that failed to load, by index into Preflight::candidates: admission accepted them,
    /// loading refused them.
    std::vector<std::pair<std::size_t, Reason>> load_failures;
    /// Every problem, as the pre-flight reports them: a load failure at each instance using the
    /// file, a failing `create` at its instance with the plugin's own message.
    std::vector<Issue> errors;

    bool complete() const {
        for (const auto &i : instances)
            if (!i) return false;
        return true;
    }
};

/// Loads what the planned instances need (every admitted plugin when `load_all`, as the
/// pre-flight check does) and creates the instances, passing each its parameters with the
/// manifest's defaults filled in. The pre-flight is only read; its problems come back in the
/// result (see add_to_report).
LiveInstances instantiate(const Preflight &pf, bool load_all);

/// What a crash while `candidate` is loaded (its constructors run) is attributed to, for
/// PluginCall: `the plugin file FILE of type "TYPE", while it was loaded (its constructors)`.
std::string loading_label(const Candidate &candidate);

/// Adds what instantiation found to the pre-flight's report: its errors, and each load failure
/// as a reason refusing that file.
void add_to_report(Preflight &pf, const LiveInstances &live);

/// The plan in the scheduler's terms: profiles, profile handler, producers, attributes.
Scheduler::Plan scheduler_plan(const Preflight &pf);

/// The parameters an instance is created with: the operator's, plus the manifest's defaults.
boost::json::object effective_parameters(const boost::json::object &given, const Manifest &manifest);

}  // namespace plughost::host
