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

    bool complete() const {
        for (const auto &i : instances)
            if (!i) return false;
        return true;
    }
};

/// Loads what the planned instances need (every admitted plugin when `load_all`, as the
/// pre-flight check does) and creates the instances, passing each its parameters with the
/// manifest's defaults filled in. A load failure turns the file's decision into a rejection
/// and is reported at every instance using it; a failing `create` is reported with the
/// instance's name and the plugin's own message. Problems go to pf.errors.
LiveInstances instantiate(Preflight &pf, bool load_all);

/// The planned profiles in the scheduler's terms.
std::vector<Scheduler::Profile> scheduler_profiles(const std::vector<PlannedProfile> &planned);

/// The parameters an instance is created with: the operator's, plus the manifest's defaults.
boost::json::object effective_parameters(const boost::json::object &given, const Manifest &manifest);

}  // namespace plughost::host
