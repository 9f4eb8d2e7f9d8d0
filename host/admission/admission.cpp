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

// Whether a file declaring `type` takes part in deciding who provides it: with a lock, only the
// files it pins under that type do (the lock refuses any other, so it can never run).
bool takes_part(const TypeProviders &p, const Candidate &c, const std::string &type) {
    if (!p.locked) return true;
    const auto it = p.locked->find(c.file.path.filename().string());
    return it != p.locked->end() && it->second == type;
}

// "a.so, b.so, c.so and 2 other files": the files of `indexes` but `except` (one of them), a few
// named and the rest counted (a directory of 1,000 copies must not make a report of a million
// names, nor take time growing as its square).
std::string some_files(const std::vector<Candidate> &candidates, const std::vector<std::size_t> &indexes,
                       std::size_t except) {
    constexpr std::size_t kNamed = 3;
    std::string out;
    std::size_t named = 0;
    for (std::size_t k = 0; k < indexes.size() && named < kNamed; ++k)
        if (indexes[k] != except) {
            out += (out.empty() ? "" : ", ") + candidates[indexes[k]].file.path.string();
            ++named;
        }
    const std::size_t others = indexes.size() - 1;
    if (others > kNamed) out += " and " + std::to_string(others - kNamed) + " other files";
    return out;
}

std::string choose_hint(const std::string &type, const std::string &file) {
    return "policy.providers: {\"" + type + "\": \"" + file + "\"} (or --provider " + type + "=" + file + ")";
}

// No choice made: every file declaring the type is refused, each naming the others and the two
// ways out, so that which code runs is never decided by directory order.
void refuse_all(std::vector<Candidate> &candidates, const std::string &type, const std::vector<std::size_t> &indexes) {
    for (std::size_t i : indexes) {
        Candidate &c = candidates[i];
        c.reject(Code::duplicate_type,
                 c.file.path.string() + ": declares plugin type \"" + type + "\", as do " +
                     some_files(candidates, indexes, i) +
                     "; a type has one provider and none is chosen, so all of them are refused: choose this "
                     "file with " +
                     choose_hint(type, c.file.path.filename().string()) +
                     ", or remove the others from the plugin directory");
    }
}

// The operator chose `file` for the type: it alone may provide it.
void apply_choice(std::vector<Candidate> &candidates, const std::string &type, const std::vector<std::size_t> &indexes,
                  const TypeProviders::Choice &choice) {
    std::optional<std::size_t> chosen;
    for (std::size_t i : indexes)
        if (candidates[i].file.path.filename() == choice.file) chosen = i;
    for (std::size_t i : indexes) {
        Candidate &c = candidates[i];
        const std::string name = c.file.path.filename().string();
        if (chosen == i) {
            if (indexes.size() > 1)
                c.warn(Code::provider_chosen, c.file.path.string() + ": provides plugin type \"" + type +
                                                  "\", chosen by " + choice.source + " over " +
                                                  some_files(candidates, indexes, i) + " (refused)");
            continue;
        }
        const std::string given = chosen ? candidates[*chosen].file.path.string()
                                         : "\"" + choice.file + "\", but no file of that name declares it here";
        c.reject(Code::provider_not_chosen, c.file.path.string() + ": declares plugin type \"" + type + "\", which " +
                                                choice.source + " gives to " + given +
                                                ": this file is not used; remove it, or choose it with " +
                                                choose_hint(type, name));
    }
}

}  // namespace

Rule unique_types(std::shared_ptr<const TypeProviders> providers) {
    return [providers](std::vector<Candidate> &candidates) {
        std::map<std::string, std::vector<std::size_t>> by_type;
        for (std::size_t i = 0; i < candidates.size(); ++i)
            if (auto type = candidates[i].declared_type(); type && takes_part(*providers, candidates[i], *type))
                by_type[*type].push_back(i);
        for (const auto &[type, indexes] : by_type) {
            if (const auto it = providers->chosen.find(type); it != providers->chosen.end())
                apply_choice(candidates, type, indexes, it->second);
            else if (indexes.size() > 1) refuse_all(candidates, type, indexes);
        }
    };
}

std::vector<Rule> file_rules() { return {file_problems, abi_compatible, manifest_valid}; }

std::vector<Rule> foundation_rules() {
    auto rules = file_rules();
    rules.push_back(unique_types(std::make_shared<const TypeProviders>()));
    return rules;
}

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
