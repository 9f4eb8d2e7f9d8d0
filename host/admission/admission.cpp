#include "admission/admission.hpp"

#include "admission/content_hash.hpp"
#include "inspect/discovery.hpp"
#include "inspect/file_trust.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <map>

namespace plughost::host {

std::optional<std::string> Candidate::declared_type() const {
    if (const Manifest *m = manifest()) return m->type;
    if (file.reading && file.reading->type && is_plugin_type_name(*file.reading->type)) return file.reading->type;
    return std::nullopt;
}

namespace {

void file_problems(std::vector<Candidate> &candidates) {
    for (Candidate &c : candidates)
        for (const Reason &r : c.file.reasons) c.reasons.push_back(r);
}

void abi_compatible(std::vector<Candidate> &candidates) {
    const SemVer &host = host_abi_version();
    for (Candidate &c : candidates) {
        if (!c.file.reading || !c.file.reading->abi_version) continue;
        const SemVer &abi = *c.file.reading->abi_version;
        const std::string where = c.file.path.string() + ": manifest field abiVersion: ";
        if (abi.major != host.major)
            c.reject(Code::abi_major_mismatch,
                     where + "the plugin is built against plughost ABI " + abi.str() + ", this host implements ABI " +
                         host.str() + " (major " + std::to_string(abi.major) + " != " + std::to_string(host.major) +
                         "); rebuild the plugin with a plughost SDK of ABI " + std::to_string(host.major) + ".x");
        else if (abi.minor > host.minor)
            c.reject(Code::abi_minor_newer,
                     where + "the plugin is built against plughost ABI " + abi.str() + ", newer than this host's ABI " +
                         host.str() + " (minor " + std::to_string(abi.minor) + " > " + std::to_string(host.minor) +
                         "); upgrade plughost, or rebuild the plugin with an SDK of ABI " + std::to_string(host.major) +
                         "." + std::to_string(host.minor) + " or older");
    }
}

void manifest_valid(std::vector<Candidate> &candidates) {
    for (Candidate &c : candidates) {
        if (!c.file.reading) continue;
        for (const FieldError &e : c.file.reading->errors)
            c.reject(Code::bad_manifest, c.file.path.string() + ": manifest" +
                                             (e.field.empty() ? "" : " field " + e.field) + " " + e.message +
                                             "; fix the plugin's manifest declaration and rebuild it");
    }
}

void unique_types(std::vector<Candidate> &candidates) {
    std::map<std::string, std::vector<std::size_t>> by_type;
    for (std::size_t i = 0; i < candidates.size(); ++i)
        if (auto type = candidates[i].declared_type()) by_type[*type].push_back(i);
    for (const auto &[type, indexes] : by_type) {
        if (indexes.size() < 2) continue;
        for (std::size_t i : indexes) {
            // Name a few of the others, not all: a directory of 1,000 copies must not make a
            // report of a million names.
            constexpr std::size_t kNamed = 3;
            std::string others;
            std::size_t named = 0;
            for (std::size_t j : indexes)
                if (j != i && named++ < kNamed)
                    others += (others.empty() ? "" : ", ") + candidates[j].file.path.string();
            if (indexes.size() - 1 > kNamed)
                others += " and " + std::to_string(indexes.size() - 1 - kNamed) + " other files";
            candidates[i].reject(Code::duplicate_type,
                                 candidates[i].file.path.string() + ": declares plugin type \"" + type +
                                     "\", also declared by " + others +
                                     "; all of them are refused so the choice is "
                                     "never silent: remove all but one of them from the plugin directory");
        }
    }
}

}  // namespace

std::vector<Rule> foundation_rules() { return {file_problems, abi_compatible, manifest_valid, unique_types}; }

std::vector<Candidate> admit(std::vector<PluginFile> files, const std::vector<Rule> &rules) {
    std::vector<Candidate> candidates;
    candidates.reserve(files.size());
    for (PluginFile &f : files) candidates.push_back(Candidate{std::move(f), {}, {}, {}, {}});
    for (const Rule &rule : rules) rule(candidates);
    return candidates;
}

Admission admit_directory(const std::filesystem::path &dir, const std::vector<Rule> &rules, bool keep_open,
                          bool check_owner) {
    Admission out;
    Discovery found = discover_plugins(dir);
    if (found.error) {
        out.error = found.error;
        return out;
    }
    // A directory others can write makes every file in it untrusted: none of them is read.
    std::optional<Reason> unsafe_dir;
    struct stat st {};
    if (check_owner && ::stat(dir.c_str(), &st) == 0) unsafe_dir = untrusted_directory(dir, st, ::geteuid());
    std::vector<PluginFile> files;
    files.reserve(found.files.size());
    for (const auto &path : found.files) {
        if (unsafe_dir) {
            PluginFile file;
            file.path = path;
            file.reasons.push_back(*unsafe_dir);
            files.push_back(std::move(file));
        } else {
            files.push_back(read_plugin_file(path, keep_open, check_owner));
        }
    }
    out.candidates = admit(std::move(files), rules);
    for (Candidate &c : out.candidates)
        if (!c.admitted()) c.file.fd.reset();
    return out;
}

void snapshot_and_hash(std::vector<Candidate> &candidates) {
    for (Candidate &c : candidates) {
        if (!c.admitted() || c.snapshot || !c.file.fd) continue;
        SnapshotResult taken = snapshot_file(c.file.path, c.file.fd.get());
        if (taken.error) {
            c.reasons.push_back(std::move(*taken.error));
            continue;
        }
        std::string error;
        std::string digest = sha256_hex(taken.snapshot->fd.get(), taken.snapshot->size, error);
        if (digest.empty()) {
            c.reject(Code::io_error, c.file.path.string() + ": its in-memory copy could not be hashed (" + error + ")");
            continue;
        }
        c.sha256 = std::move(digest);
        c.snapshot = std::make_shared<const Snapshot>(std::move(*taken.snapshot));
    }
}

}  // namespace plughost::host
