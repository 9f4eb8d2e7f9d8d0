// Admission: a decision per plugin file, made by a sequence of independent rules over what
// was read from the files. No plugin code runs here.
#pragma once

#include "common/diagnostic.hpp"
#include "inspect/manifest.hpp"
#include "inspect/manifest_reader.hpp"
#include "load/snapshot.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace plughost::host {

/// One plugin file and the decision about it.
struct Candidate {
    PluginFile file;
    std::vector<Reason> reasons;   ///< why it is rejected; empty when admitted
    std::vector<Reason> warnings;  ///< admitted (or not) with these remarks
    /// The sealed in-memory copy of the file, when admission took one (to hash it for the lock or
    /// the probe): the loader then loads exactly these bytes, not a new copy.
    std::shared_ptr<const Snapshot> snapshot;
    std::string sha256;  ///< of `snapshot`, lowercase hex; empty when no snapshot was taken

    bool admitted() const { return reasons.empty(); }
    /// The validated manifest, when the file has one.
    const Manifest *manifest() const {
        return file.reading && file.reading->manifest ? &*file.reading->manifest : nullptr;
    }
    /// The plugin type the file declares, even when its manifest is otherwise invalid.
    std::optional<std::string> declared_type() const;
    void reject(Code code, std::string message) { reasons.push_back({code, std::move(message)}); }
    void warn(Code code, std::string message) { warnings.push_back({code, std::move(message)}); }
};

/// A rule sees every candidate at once, so it can relate files to each other; it only ever
/// adds reasons and warnings.
using Rule = std::function<void(std::vector<Candidate> &)>;

/// The rules about each file on its own: its problems, ABI compatibility, a valid manifest.
std::vector<Rule> file_rules();

/// Who provides a plugin type that several files declare (docs/operations.md, "Type collisions").
struct TypeProviders {
    struct Choice {
        std::string file;    ///< a file name in the plugin directory, e.g. "queue-scorer.so"
        std::string source;  ///< where the choice was made, for messages: "policy.providers"
    };
    /// The operator's choice by type (policy.providers, --provider): only that file may provide it.
    std::map<std::string, Choice, std::less<>> chosen;
    /// With a lock: the type it pins for each file name. A file the lock does not pin under the
    /// type it declares takes no part (the lock refuses it, so it can never run).
    std::optional<std::map<std::string, std::string, std::less<>>> locked;
};

/// One file per plugin type. Without a choice, every file declaring a type that another file
/// also declares is refused (`duplicate-type`), each naming the others and how to choose; with a
/// choice, the chosen file is admitted (a `provider-chosen` warning names the others) and every
/// other file declaring the type is refused (`provider-not-chosen`).
Rule unique_types(std::shared_ptr<const TypeProviders> providers);

/// file_rules() and unique_types() with no choice made: the rules every host applies. The
/// lifecycle policy's admission_rules() (admission/policy.hpp) use the operator's choice instead.
std::vector<Rule> foundation_rules();

/// Runs `rules` in order over the files.
std::vector<Candidate> admit(std::vector<PluginFile> files, const std::vector<Rule> &rules);

/// Reads every file of `dir` and admits with `rules`. `keep_open` keeps the descriptors of
/// admitted files for loading; rejected files are always closed. With `check_owner`, a directory
/// or file that others could write (inspect/file_trust.hpp) is refused before any file is read.
struct Admission {
    std::vector<Candidate> candidates;
    std::optional<std::string> error;  ///< the directory itself could not be read
};
Admission admit_directory(const std::filesystem::path &dir, const std::vector<Rule> &rules, bool keep_open,
                          bool check_owner = false);

/// Takes a sealed snapshot of every admitted candidate that has an open descriptor and no
/// snapshot yet, and hashes it (SHA-256). A file that cannot be copied is refused with the
/// snapshot's reason. Used by the lock and the probe.
void snapshot_and_hash(std::vector<Candidate> &candidates);

}  // namespace plughost::host
