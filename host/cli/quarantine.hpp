// The probe on the command line: `check --probe` runs it, `list` and `check` show what the state
// file remembers (quarantined files, why, how to retry).
#pragma once

#include "plan/preflight.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

namespace plughost::cli {

/// The state file: the flag, else the default (probe/probe_state.hpp).
std::filesystem::path probe_state_file(const std::optional<std::string> &flag);

/// Refuses every admitted candidate whose remembered probe failed (files are hashed to be found;
/// nothing is probed). Returns false, having logged why, when the state file cannot be read.
bool apply_probe_state(host::Preflight &pf, const std::filesystem::path &state_file);

/// Probes every admitted file the plan uses with its configured instances, and every other
/// admitted file by loading it only; a result remembered for the same file, content and
/// instances is reused unless `reprobe`. Failed files are refused (and each instance using one
/// gets an error); the state file is updated. Returns false when the state cannot be written.
bool probe_admitted(host::Preflight &pf, const std::filesystem::path &state_file, bool reprobe,
                    std::chrono::milliseconds limit);

/// For `plughost serve`: probes the admitted files a new generation would load for the first
/// time (indexes into pf.candidates), or takes the remembered result; returns the ones to refuse,
/// with the reason. Results are remembered in `state_file`.
std::vector<std::pair<std::size_t, std::string>> probe_new_files(host::Preflight &pf,
                                                                 const std::vector<std::size_t> &fresh,
                                                                 const std::filesystem::path &state_file,
                                                                 std::chrono::milliseconds limit);

}  // namespace plughost::cli
