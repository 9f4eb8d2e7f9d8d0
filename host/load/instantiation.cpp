#include "load/instantiation.hpp"

#include "common/json.hpp"
#include "common/json_document.hpp"
#include "common/plugin_call.hpp"
#include "load/plugin_loader.hpp"

#include <plughost/rules.hpp>
#include <spdlog/spdlog.h>

#include <map>

namespace plughost::host {

boost::json::object effective_parameters(const boost::json::object &given, const Manifest &manifest) {
    return rules::with_parameter_defaults(given, manifest.parameters);  // the rule testing.hpp applies too
}

Scheduler::Plan scheduler_plan(const Preflight &pf) {
    Scheduler::Plan plan;
    for (const PlannedProfile &p : pf.profiles) {
        Scheduler::Profile profile{p.name, p.filters, {}, p.picker, {}, {}};
        for (const auto &[index, weight] : p.scorers) profile.scorers.push_back({index, weight});
        for (const auto &[index, weight] : p.shadows) profile.shadows.push_back({index, weight});
        plan.profiles.push_back(std::move(profile));
    }
    plan.profile_handler = pf.profile_handler;
    plan.producers = pf.producers;
    plan.attributes = pf.attributes;
    return plan;
}

std::string loading_label(const Candidate &candidate) {
    return "the plugin file " + candidate.file.path.string() + " of type \"" + candidate.manifest()->type +
           "\", while it was loaded (its constructors)";
}

LiveInstances instantiate(const Preflight &pf, bool load_all) {
    LiveInstances live;
    std::map<std::size_t, std::shared_ptr<const LoadedPlugin>> loaded;
    std::map<std::size_t, Reason> failed;
    auto load = [&](std::size_t index) {
        if (loaded.count(index) || failed.count(index)) return;
        const Candidate &c = pf.candidates[index];
        // Loading runs the library's constructors: plugin code, which a crash is attributed to.
        const std::string label = loading_label(c);
        const PluginCall running(label.c_str());
        LoadResult result = load_plugin(c);
        if (result.plugin) {
            spdlog::debug("loaded {} ({})", c.file.path.string(), c.manifest()->type);
            loaded[index] = std::move(result.plugin);
        } else {
            spdlog::error("{}", result.error->message);
            failed.emplace(index, *result.error);
            live.load_failures.emplace_back(index, *result.error);
        }
    };
    if (load_all) {
        for (std::size_t i = 0; i < pf.candidates.size(); ++i)
            if (pf.candidates[i].admitted()) load(i);
    }
    for (const PlannedInstance &planned : pf.instances) load(planned.candidate);
    for (const auto &[index, reason] : failed) {
        bool reported = false;
        for (const PlannedInstance &planned : pf.instances)
            if (planned.candidate == index) {
                live.errors.push_back(
                    {planned.path.empty() ? "" : child(planned.path, "type"), reason.code,
                     "plugin \"" + planned.name + "\" cannot be loaded: " + reason.message,
                     "fix or replace the plugin file; `plughost check --instantiate` repeats this test"});
                reported = true;
            }
        if (!reported) live.errors.push_back({"", reason.code, reason.message, "fix or remove the plugin file"});
    }

    for (const PlannedInstance &planned : pf.instances) {
        const auto it = loaded.find(planned.candidate);
        if (it == loaded.end()) {
            live.instances.emplace_back();
            continue;
        }
        const std::string parameters = to_json(effective_parameters(planned.parameters, it->second->manifest()));
        std::string error;
        auto instance = Instance::create(it->second, planned.name, parameters, error, planned.attributes);
        if (!instance)
            live.errors.push_back({planned.path, Code::create_failed,
                                   "plugin \"" + planned.name + "\" (" + planned.type + ") failed to start: " + error,
                                   "check its parameters; `plughost inspect` on its file describes them"});
        else spdlog::debug("created instance {} of {}", planned.name, planned.type);
        live.instances.push_back(std::move(instance));
    }
    return live;
}

}  // namespace plughost::host

namespace plughost::host {

void add_to_report(Preflight &pf, const LiveInstances &live) {
    for (const auto &[index, reason] : live.load_failures) pf.candidates[index].reasons.push_back(reason);
    pf.errors.insert(pf.errors.end(), live.errors.begin(), live.errors.end());
}

}  // namespace plughost::host
