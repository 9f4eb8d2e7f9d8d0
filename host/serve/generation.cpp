#include "serve/generation.hpp"

#include <sys/stat.h>

namespace plughost::host {

std::optional<FileIdentity> file_identity(const std::filesystem::path &path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return FileIdentity{st.st_dev, st.st_ino, st.st_size,
                        static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

GenerationBuild build_generation(const PreflightInputs &inputs, std::uint64_t number,
                                 std::optional<std::uint32_t> max_consecutive_faults, const NewFilesHook &hook,
                                 std::set<FileIdentity> &loaded) {
    GenerationBuild out;
    auto gen = std::make_shared<Generation>();
    gen->number = number;
    gen->pf = preflight(inputs);
    Preflight &pf = gen->pf;
    if (pf.io_error) {
        out.errors.push_back({"", Code::io_error, *pf.io_error, ""});
        return out;
    }
    if (!pf.ok()) {
        out.errors = pf.errors;
        return out;
    }
    // Files never loaded by this process go through the hook (the child-process probe) first.
    std::vector<std::size_t> fresh;
    std::vector<std::optional<FileIdentity>> identities(pf.candidates.size());
    for (std::size_t i = 0; i < pf.candidates.size(); ++i) {
        if (!pf.candidates[i].admitted()) continue;
        identities[i] = file_identity(pf.candidates[i].file.path);
        if (!identities[i] || !loaded.count(*identities[i])) fresh.push_back(i);
    }
    if (hook && !fresh.empty()) {
        for (const auto &[index, why] : hook(pf, fresh)) {
            bool needed = false;
            for (const auto &inst : pf.instances) needed = needed || inst.candidate == index;
            Issue issue{pf.candidates[index].file.path.string(), Code::plugin_refused, "quarantined: " + why,
                        "fix the plugin, or remove it from the plugin directory"};
            (needed ? pf.errors : pf.warnings).push_back(issue);
        }
        if (!pf.ok()) {
            out.errors = pf.errors;
            return out;
        }
    }
    gen->live = instantiate(pf, false);
    add_to_report(pf, gen->live);
    if (!pf.ok()) {
        out.errors = pf.errors;
        return out;
    }
    for (const auto &inst : pf.instances)
        if (const auto &id = identities[inst.candidate]) loaded.insert(*id);
    std::vector<Instance *> instances;
    for (const auto &i : gen->live.instances) instances.push_back(i.get());
    gen->scheduler = std::make_unique<Scheduler>(
        instances, scheduler_plan(pf), max_consecutive_faults.value_or(pf.config.runtime.max_consecutive_faults));
    gen->applied = std::chrono::system_clock::now();
    out.generation = std::move(gen);
    return out;
}

}  // namespace plughost::host
