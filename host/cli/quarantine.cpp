#include "cli/quarantine.hpp"

#include "common/json_document.hpp"
#include "probe/probe_state.hpp"

#include <spdlog/spdlog.h>

namespace plughost::cli {

std::filesystem::path probe_state_file(const std::optional<std::string> &flag) {
    return flag ? std::filesystem::path(*flag) : host::default_probe_state_file();
}

namespace {

// The instances the config plans on candidate `i`, as the probe creates them.
std::vector<host::ProbeInstance> planned_instances(const host::Preflight &pf, std::size_t i) {
    std::vector<host::ProbeInstance> instances;
    for (const auto &planned : pf.instances)
        if (planned.candidate == i) instances.push_back({planned.name, planned.parameters});
    return instances;
}

// One error per instance the config plans on quarantined candidate `i`.
void report_quarantined(host::Preflight &pf, std::size_t i, const host::ProbeResult &result) {
    for (const auto &planned : pf.instances)
        if (planned.candidate == i)
            pf.errors.push_back({planned.path.empty() ? "" : host::child(planned.path, "type"), result.code(),
                                 "plugin \"" + planned.name + "\" is quarantined: " + result.reason,
                                 "fix or replace the plugin file; `plughost check --probe --reprobe` retries"});
}

}  // namespace

bool apply_probe_state(host::Preflight &pf, const std::filesystem::path &state_file) {
    host::ProbeState state;
    if (auto error = state.load(state_file)) {
        spdlog::error("{}", *error);
        return false;
    }
    if (state.records().empty()) return true;
    host::snapshot_and_hash(pf.candidates);
    for (std::size_t i = 0; i < pf.candidates.size(); ++i) {
        host::Candidate &c = pf.candidates[i];
        if (!c.admitted()) continue;
        const host::ProbeRecord *r = state.find(c, nullptr);
        if (!r || r->result.passed()) continue;
        host::quarantine(c, *r, state_file);
        report_quarantined(pf, i, r->result);
    }
    return true;
}

bool probe_admitted(host::Preflight &pf, const std::filesystem::path &state_file, bool reprobe,
                    std::chrono::milliseconds limit) {
    host::ProbeState state;
    if (auto error = state.load(state_file)) {
        spdlog::error("{}", *error);
        return false;
    }
    host::snapshot_and_hash(pf.candidates);
    for (std::size_t i = 0; i < pf.candidates.size(); ++i) {
        host::Candidate &c = pf.candidates[i];
        if (!c.admitted()) continue;
        const auto instances = planned_instances(pf, i);
        const std::string digest = host::instances_digest(instances);
        const host::ProbeRecord *known = reprobe ? nullptr : state.find(c, &digest);
        host::ProbeResult result;
        if (known) {
            result = known->result;
            spdlog::debug("{}: probed before ({}), not again", c.file.path.string(), host::to_string(result.outcome));
        } else {
            result = host::probe(c, instances, limit);
            state.remember(c, digest, result);
            if (result.passed()) spdlog::info("{}: probe passed", c.file.path.string());
            else spdlog::error("{}", result.reason);
        }
        if (result.passed()) continue;
        const host::ProbeRecord *record = state.find(c, &digest);
        host::quarantine(c, *record, state_file);
        report_quarantined(pf, i, result);
    }
    if (auto error = state.save(state_file)) {
        spdlog::error("{}", *error);
        return false;
    }
    return true;
}

std::vector<std::pair<std::size_t, std::string>> probe_new_files(host::Preflight &pf,
                                                                 const std::vector<std::size_t> &fresh,
                                                                 const std::filesystem::path &state_file,
                                                                 std::chrono::milliseconds limit) {
    std::vector<std::pair<std::size_t, std::string>> refused;
    host::ProbeState state;
    if (auto error = state.load(state_file)) spdlog::warn("{} (probing as if it were empty)", *error);
    host::snapshot_and_hash(pf.candidates);
    for (std::size_t i : fresh) {
        host::Candidate &c = pf.candidates[i];
        if (!c.admitted()) continue;
        const auto instances = planned_instances(pf, i);
        const std::string digest = host::instances_digest(instances);
        host::ProbeResult result;
        if (const host::ProbeRecord *known = state.find(c, &digest)) {
            result = known->result;
        } else {
            result = host::probe(c, instances, limit);
            state.remember(c, digest, result);
            if (result.passed()) spdlog::info("{}: probe passed", c.file.path.string());
            else spdlog::error("{}", result.reason);
        }
        if (!result.passed()) refused.emplace_back(i, result.reason);
    }
    if (auto error = state.save(state_file)) spdlog::warn("{}", *error);
    return refused;
}

}  // namespace plughost::cli
