// Reads a plugin file's manifest straight from its bytes, without loading it: bounded preads
// of the ELF header, the program headers and the PT_NOTE segments, nothing else (section
// headers are never needed, so a plugin with them stripped still works).
#pragma once

#include "common/diagnostic.hpp"
#include "common/unique_fd.hpp"
#include "inspect/manifest.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace plughost::host {

/// What reading one file found. The descriptor stays open (when asked for), so a plugin that
/// is admitted is later loaded from the very file that was checked.
struct PluginFile {
    std::filesystem::path path;
    UniqueFd fd;
    /// The manifest document from the note (trailing NULs removed); empty when none was found.
    std::string manifest_json;
    /// Set when a manifest note was found.
    std::optional<ManifestReading> reading;
    /// Problems with the file itself (not a regular file, not ELF, foreign architecture, no or
    /// several manifest notes, ...). The manifest's own problems are in `reading`.
    std::vector<Reason> reasons;
};

/// Opens `path` (O_NOFOLLOW|O_NONBLOCK, fstat before any read) and reads its manifest note.
/// Never throws for bad files: every problem becomes a Reason. With `check_owner`, a file that
/// others could write (inspect/file_trust.hpp) is refused from that fstat, before any read.
PluginFile read_plugin_file(const std::filesystem::path &path, bool keep_open, bool check_owner = false);

/// Same, for an already open descriptor (used by the fuzzer and by tests of hostile bytes).
PluginFile read_plugin_file(const std::filesystem::path &path, UniqueFd fd, bool keep_open);

/// Human name of an ELF e_machine value ("x86-64", "aarch64", or "machine 1234").
std::string machine_name(unsigned machine);

/// The e_machine value of the architecture this host was built for.
unsigned host_machine();

}  // namespace plughost::host
