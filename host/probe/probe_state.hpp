// What the probe found, remembered across restarts in a small JSON file, so an unchanged file is
// not probed again and a changed one is. A record is found by the file's identity (device and
// inode) and its content (SHA-256), and the instances it was probed with (a digest of their names
// and parameters): a rename, a copy, a new build or a new config probes again.
//
// Format: {"probeStateVersion": 1, "records": [{"file", "device", "inode", "sha256",
//          "instances", "outcome", "code", "step", "reason"}]}
#pragma once

#include "admission/admission.hpp"
#include "probe/probe.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace plughost::host {

struct ProbeRecord {
    std::string file;
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::string sha256;
    std::string instances;  ///< digest of the probed instances (names and parameters)
    ProbeResult result;
};

class ProbeState {
public:
    /// Reads the state file; a missing file is an empty state. Returns an error text when the
    /// file exists but cannot be read or is not a state file (then the state is empty).
    std::optional<std::string> load(const std::filesystem::path &file);
    /// Writes the state file (a new file renamed over the old one). Returns an error text on
    /// failure.
    std::optional<std::string> save(const std::filesystem::path &file) const;

    /// The result for this file (identity and hash; the candidate must have been hashed) and,
    /// when given, these instances. Null when the file was not probed as it is now.
    const ProbeRecord *find(const Candidate &candidate, const std::string *instances_digest) const;
    /// Remembers a result, replacing the earlier one for the same file identity.
    void remember(const Candidate &candidate, const std::string &instances_digest, const ProbeResult &result);

    const std::vector<ProbeRecord> &records() const { return records_; }

private:
    std::vector<ProbeRecord> records_;
};

/// The digest ProbeRecord::instances holds for `instances`.
std::string instances_digest(const std::vector<ProbeInstance> &instances);

/// The state file: --probe-state, else $PLUGHOST_PROBE_STATE, else
/// ${XDG_STATE_HOME:-$HOME/.local/state}/plughost/probe-state.json.
std::filesystem::path default_probe_state_file();

/// Refuses a candidate with a remembered failed probe: the reason, and how to retry.
void quarantine(Candidate &candidate, const ProbeRecord &record, const std::filesystem::path &state_file);

}  // namespace plughost::host
