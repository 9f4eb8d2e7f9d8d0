// Loading an admitted plugin file: copy the inspected descriptor into a sealed in-memory
// snapshot, check the snapshot is still the plugin admission judged, dlopen the snapshot, resolve
// the entry, and check it against the note before any instance is made.
#pragma once

#include "admission/admission.hpp"
#include "common/diagnostic.hpp"
#include "common/unique_fd.hpp"
#include "inspect/manifest.hpp"
#include "load/snapshot.hpp"

#include <plughost/plugin.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace boost::dll {
class shared_library;
}

namespace plughost::host {

/// A loaded plugin library. Instances hold it through a shared_ptr, so it stays loaded while
/// any instance of it exists.
class LoadedPlugin {
public:
    /// `entry` is the host's own copy of the plugin's entry (see load_plugin).
    LoadedPlugin(std::filesystem::path path, Snapshot snapshot, std::unique_ptr<boost::dll::shared_library> library,
                 const plughost_plugin &entry, Manifest manifest);
    ~LoadedPlugin();
    LoadedPlugin(const LoadedPlugin &) = delete;
    LoadedPlugin &operator=(const LoadedPlugin &) = delete;

    const std::filesystem::path &path() const { return path_; }
    const Manifest &manifest() const { return manifest_; }
    /// The host's copy of the plugin's plughost_entry: the fields its struct_size covers, and
    /// NULL or 0 in every field beyond it. The host reads the entry only through this copy.
    const plughost_plugin &entry() const { return entry_; }
    /// The sealed in-memory copy the library was loaded from: exactly the bytes that were
    /// re-inspected and mapped, and will never change. Read it with pread (e.g. to hash it);
    /// do not close it.
    int snapshot_fd() const { return fd_.get(); }
    std::uint64_t snapshot_size() const { return size_; }

private:
    std::filesystem::path path_;
    UniqueFd fd_;  // the snapshot; open while the library is loaded (its link-map name is /proc/<pid>/fd/N)
    std::uint64_t size_;
    std::unique_ptr<boost::dll::shared_library> library_;  // Boost.DLL stays out of this header
    plughost_plugin entry_;
    Manifest manifest_;
};

struct LoadResult {
    std::shared_ptr<const LoadedPlugin> plugin;
    std::optional<Reason> error;  ///< set when loading failed; nothing stays loaded then
};

/// Loads an admitted candidate from a sealed snapshot of its open descriptor (borrowed: the
/// candidate keeps it), and copies its exported entry: min(struct_size, sizeof(plughost_plugin))
/// bytes into a zeroed plughost_plugin. Failures (the file changed since it was admitted:
/// `file_changed`; a file cut short: `truncated_elf`; dlopen errors such as unresolved symbols,
/// a missing entry, an entry too small for ABI 1.0 or larger than its object, a missing required
/// hook, an entry whose ABI version or manifest bytes differ from the note) come back as a
/// Reason, never as a crash.
LoadResult load_plugin(const Candidate &candidate);

}  // namespace plughost::host
