// Admission: a decision per plugin file, made by a sequence of independent rules over what
// was read from the files. No plugin code runs here.
#pragma once

#include "common/diagnostic.hpp"
#include "inspect/manifest.hpp"
#include "inspect/manifest_reader.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace plughost::host {

/// One plugin file and the decision about it.
struct Candidate {
    PluginFile file;
    std::vector<Reason> reasons;   ///< why it is rejected; empty when admitted
    std::vector<Reason> warnings;  ///< admitted (or not) with these remarks

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

/// The rules every host applies: the file's own problems, ABI compatibility, a valid manifest,
/// and one file per plugin type. The lifecycle policy appends its rules after these.
std::vector<Rule> foundation_rules();

/// Runs `rules` in order over the files.
std::vector<Candidate> admit(std::vector<PluginFile> files, const std::vector<Rule> &rules);

/// Reads every file of `dir` and admits with `rules`. `keep_open` keeps the descriptors of
/// admitted files for loading; rejected files are always closed.
struct Admission {
    std::vector<Candidate> candidates;
    std::optional<std::string> error;  ///< the directory itself could not be read
};
Admission admit_directory(const std::filesystem::path &dir, const std::vector<Rule> &rules, bool keep_open);

}  // namespace plughost::host
