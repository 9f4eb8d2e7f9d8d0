#include "load/plugin_loader.hpp"

#include "inspect/manifest_reader.hpp"

#include <boost/dll/shared_library.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace plughost::host {
namespace {

// The name the library gets in the link map. /proc/<pid>/fd/N (not /proc/self) with the
// descriptor kept open lets gdb find the file and its symbols.
std::string fd_path(int fd) { return "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd); }

// True when a loaded object is named exactly `name` in the link map.
bool in_link_map(const std::string &name) {
    struct Search {
        const std::string *name;
        bool found;
    } search{&name, false};
    ::dl_iterate_phdr(
        [](dl_phdr_info *info, std::size_t, void *data) {
            auto *s = static_cast<Search *>(data);
            if (info->dlpi_name && *s->name == info->dlpi_name) s->found = true;
            return s->found ? 1 : 0;
        },
        &search);
    return search.found;
}

// glibc finds an already loaded library by the name it was opened under before it looks at
// the file. A library that could not be unloaded (C++ unique symbols make that common) keeps
// its /proc/<pid>/fd/N name after its descriptor is gone, and a new file opened at the same
// number would silently resolve to the old library. Move to a number no library is named by.
bool ensure_unused_name(UniqueFd &fd) {
    for (int attempt = 0; attempt < 64; ++attempt) {
        if (!in_link_map(fd_path(fd.get()))) return true;
        const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, fd.get() + 1);
        if (moved < 0) return false;
        fd.reset(moved);
    }
    return false;
}

// `"good-scorer" 1.0.0`, from what could be read of a manifest.
std::string identity(const std::optional<std::string> &type, const std::optional<std::string> &version) {
    return (type ? "\"" + *type + "\"" : std::string("no type")) + " " + (version ? *version : "(no version)");
}

// The snapshot must still be the plugin admission judged: read with the same reader, with no
// problem of its own and a byte-identical manifest note. `snapshot.fd` is lent to the reader.
std::optional<Reason> check_same_plugin(const std::filesystem::path &path, Snapshot &snapshot,
                                        const Candidate &admitted) {
    PluginFile again = read_plugin_file(path, std::move(snapshot.fd), true);
    snapshot.fd = std::move(again.fd);
    const std::string who = path.string() + ": ";
    if (!again.reasons.empty()) {
        // The reader's message names the file and ends with advice for a file at rest; keep
        // what it found.
        std::string found = again.reasons.front().message;
        if (found.rfind(who, 0) == 0) found.erase(0, who.size());
        if (const auto cut = found.find("; "); cut != std::string::npos) found.resize(cut);
        return Reason{Code::file_changed, who + "was admitted, but the copy taken to load it is no longer a plugin (" +
                                              std::string(to_string(again.reasons.front().code)) + ": it " + found +
                                              "); " + kWriteByRenameAdvice};
    }
    if (!again.reading || again.manifest_json != admitted.file.manifest_json) {
        const Manifest &m = *admitted.manifest();
        const std::string was = identity(m.type, m.version.str());
        const std::string now =
            again.reading ? identity(again.reading->type, again.reading->version) : std::string("none");
        return Reason{Code::file_changed, who + "its manifest note changed after admission (admitted: " + was +
                                              "; now: " + (now == was ? now + ", other fields differ" : now) + "); " +
                                              kWriteByRenameAdvice};
    }
    return std::nullopt;
}

// The smallest entry the host accepts: one that holds every hook ABI 1.0 requires (`pick` is
// the last of them; `picked`, after it, is optional).
constexpr std::size_t kEntryMinSize = offsetof(plughost_plugin, pick) + sizeof(plughost_plugin::pick);

// The size of the object exported at `address` as the dynamic symbol table records it; 0 when
// the table does not say.
std::size_t exported_size(const void *address) {
    Dl_info info{};
    void *found = nullptr;  // dladdr1 stores a const ElfW(Sym) * here
    if (!::dladdr1(address, &info, &found, RTLD_DL_SYMENT) || !found || info.dli_saddr != address) return 0;
    return static_cast<std::size_t>(static_cast<const ElfW(Sym) *>(found)->st_size);
}

// Makes the host's own copy of the exported entry: the bytes its struct_size covers, zeros
// beyond, so a field the plugin was built without (an older minor) reads as NULL or 0 wherever
// the host looks, and no byte outside the plugin's object is ever read.
std::optional<Reason> copy_entry(const std::string &who, const void *exported, plughost_plugin &copy) {
    std::uint32_t declared = 0;
    std::memcpy(&declared, exported, sizeof declared);
    if (declared < kEntryMinSize)
        return Reason{Code::bad_entry, who + "its plughost_entry is " + std::to_string(declared) +
                                           " bytes (struct_size), too small for ABI 1.0: it needs at least " +
                                           std::to_string(kEntryMinSize) +
                                           " bytes, through the pick hook; rebuild it with the plughost SDK"};
    if (const std::size_t object = exported_size(exported); object && declared > object)
        return Reason{Code::bad_entry, who + "its plughost_entry says it is " + std::to_string(declared) +
                                           " bytes (struct_size) but the exported object is " + std::to_string(object) +
                                           " bytes; rebuild it with the plughost SDK, which sets struct_size"};
    copy = plughost_plugin{};
    std::memcpy(&copy, exported, std::min<std::size_t>(declared, sizeof copy));
    return std::nullopt;
}

// Why the entry's manifest is not the note's document, for an operator: the top-level fields
// that differ, or where the bytes part when the JSON is the same.
std::string manifest_difference(std::string_view entry_json, std::string_view note_json) {
    boost::json::error_code ec;
    const boost::json::value loaded = boost::json::parse(entry_json, ec);
    if (ec || !loaded.is_object()) return ": the entry's manifest is not a JSON object";
    const boost::json::value note = boost::json::parse(note_json);  // admission parsed it: an object
    const boost::json::object &noted = note.get_object();
    std::string fields;
    auto add = [&](std::string_view key) { fields += (fields.empty() ? "" : ", ") + std::string(key); };
    for (const auto &kv : noted) {
        const auto *other = loaded.get_object().if_contains(kv.key());
        if (!other || *other != kv.value()) add(kv.key());
    }
    for (const auto &kv : loaded.get_object())
        if (!noted.contains(kv.key())) add(kv.key());
    if (!fields.empty()) return " in " + fields;
    const auto parted = std::mismatch(entry_json.begin(), entry_json.end(), note_json.begin(), note_json.end());
    return " only in formatting (the same JSON, other bytes: first difference at offset " +
           std::to_string(parted.first - entry_json.begin()) + ")";
}

// The name of a hook the role requires and the entry lacks; nullptr when it has them all.
const char *missing_role_hook(Role role, const plughost_plugin &entry) {
    switch (role) {
    case Role::filter: return entry.filter ? nullptr : "filter";
    case Role::scorer: return entry.score ? nullptr : "score";
    case Role::picker: return entry.pick ? nullptr : "pick";
    case Role::profile_handler:
        return !entry.pick_profiles ? "pick_profiles" : !entry.process_results ? "process_results" : nullptr;
    case Role::producer: return entry.produce ? nullptr : "produce";
    case Role::observer:
        return entry.pre_request || entry.response_started || entry.response_complete
                   ? nullptr
                   : "pre_request, response_started or response_complete";
    }
    return "role";
}

// The host's copy of the entry, checked against the note admission judged.
std::optional<Reason> check_entry(const std::string &who, const plughost_plugin &entry, const Manifest &manifest,
                                  const std::string &note_json) {
    if (entry.abi_major != manifest.abi_version.major || entry.abi_minor != manifest.abi_version.minor ||
        entry.abi_patch != manifest.abi_version.patch)
        return Reason{Code::manifest_mismatch,
                      who + "its plughost_entry is built against ABI " + std::to_string(entry.abi_major) + "." +
                          std::to_string(entry.abi_minor) + "." + std::to_string(entry.abi_patch) +
                          " but its manifest note says " + manifest.abi_version.str() +
                          "; rebuild the plugin so both come from one declaration"};
    if (!entry.manifest_json.data)
        return Reason{Code::bad_entry, who + "its plughost_entry carries no manifest (manifest_json.data is NULL); "
                                             "rebuild it with the plughost SDK"};
    if (entry.manifest_json.size > kMaxManifestBytes)
        return Reason{Code::bad_entry, who + "its plughost_entry's manifest is " +
                                           std::to_string(entry.manifest_json.size) + " bytes; at most " +
                                           std::to_string(kMaxManifestBytes) +
                                           " are accepted; rebuild it with the plughost SDK"};
    // Byte for byte, as the ABI says: the SDK points both at the same bytes (the note's trailing
    // NULs, already dropped from note_json, are not part of the document).
    const std::string_view entry_json(entry.manifest_json.data, entry.manifest_json.size);
    if (entry_json != note_json)
        return Reason{Code::manifest_mismatch,
                      who + "the manifest compiled into plughost_entry differs from the ELF note" +
                          manifest_difference(entry_json, note_json) +
                          "; admission judged the note, so the plugin is refused: rebuild it so both come from "
                          "one declaration (PLUGHOST_PLUGIN or PLUGHOST_DECLARE_PLUGIN)"};
    if (!entry.create || !entry.destroy)
        return Reason{Code::bad_entry, who + "its plughost_entry has no " + (entry.create ? "destroy" : "create") +
                                           " function, which every plugin needs; rebuild it with the plughost SDK"};
    if (const char *missing = missing_role_hook(manifest.role, entry))
        return Reason{Code::bad_entry, who + "declares role " + std::string(to_string(manifest.role)) +
                                           " but its plughost_entry has no " + missing + " function"};
    return std::nullopt;
}

// What to do about a dlopen error, from glibc's wording of it. `text` names the plugin by its
// real path already; `file` is that path.
std::string load_failure_hint(const std::string &text, const std::string &file) {
    constexpr std::string_view kNotFound = ": cannot open shared object file";
    if (const auto at = text.find(kNotFound); at != std::string::npos) {
        const std::string library = text.substr(0, at);
        if (library == file)  // the copy itself could not be opened: a sandbox or a descriptor limit
            return "the host could not open its in-memory copy of the plugin; check the open-file limit "
                   "(ulimit -n) and that the sandbox allows /proc/<pid>/fd";
        return "the plugin depends on " + library +
               ", which the dynamic linker does not find. It looks in the plugin's absolute run path, the "
               "system library directories (ldconfig's cache) and LD_LIBRARY_PATH, never next to the plugin "
               "(plugins are loaded as /proc/<pid>/fd/N, so an $ORIGIN run path cannot work): install " +
               library +
               " where the dynamic linker finds it (its distribution package, or a system library directory "
               "followed by ldconfig), or link it statically into the plugin; `ldd " +
               file + "` lists the libraries that are not found";
    }
    if (text.find("undefined symbol: ") != std::string::npos)
        return "the plugin uses a symbol that nothing loaded defines: link the plugin against the library "
               "that defines it, so that library becomes a dependency loaded with the plugin (do not rely on "
               "the host's own symbols or libraries); linking with -Wl,-z,defs (plughost_add_plugin does) "
               "reports such a symbol when the plugin is built";
    if (text.find("version `") != std::string::npos && text.find("' not found") != std::string::npos)
        return "the plugin was built against a newer version of a system library (glibc, libstdc++...) than "
               "this machine has: build it on the oldest distribution it must run on, or upgrade the library "
               "here";
    if (text.find("wrong ELF class") != std::string::npos || text.find("invalid ELF header") != std::string::npos)
        return "a library the plugin depends on is not a 64-bit " + machine_name(host_machine()) +
               " shared object (the plugin itself was checked): install that library's build for this "
               "architecture";
    if (text.find("static TLS") != std::string::npos)
        return "the plugin, or a library it depends on, uses initial-exec thread-local storage, which a "
               "library loaded with dlopen cannot always get: build it with -fPIC and without "
               "-ftls-model=initial-exec";
    if (text.find("failed to map segment") != std::string::npos)
        return "the system refused to map the plugin's code executable (a sandbox, a security module, or "
               "vm.memfd_noexec): allow executable memory-file mappings for the host";
    return "fix what the message names and check the plugin's dependencies with `ldd " + file + "`";
}

}  // namespace

LoadedPlugin::LoadedPlugin(std::filesystem::path path, Snapshot snapshot,
                           std::unique_ptr<boost::dll::shared_library> library, const plughost_plugin &entry,
                           Manifest manifest)
    : path_(std::move(path)), fd_(std::move(snapshot.fd)), size_(snapshot.size), library_(std::move(library)),
      entry_(entry), manifest_(std::move(manifest)) {}

LoadedPlugin::~LoadedPlugin() {
    const std::string name = fd_path(fd_.get());
    library_->unload();
    if (in_link_map(name)) {
        // Still mapped (e.g. it holds C++ unique symbols): keep the descriptor, so its name
        // can never be given to another file.
        spdlog::debug("{} stays mapped after unload; keeping descriptor {} open", path_.string(), fd_.get());
        (void)fd_.release();
    }
}

LoadResult load_plugin(const Candidate &candidate) {
    LoadResult out;
    const std::filesystem::path &path = candidate.file.path;
    const Manifest *manifest = candidate.manifest();
    // Refused after the plan was made (taking its in-memory copy failed, the probe quarantined it):
    // say why, not merely that it is not loadable.
    if (!candidate.admitted() && !candidate.reasons.empty()) {
        out.error = candidate.reasons.front();
        return out;
    }
    if (!candidate.admitted() || !manifest || (!candidate.file.fd && !candidate.snapshot)) {
        out.error = Reason{Code::load_failed, path.string() + ": was not admitted with an open descriptor; "
                                                              "only admitted plugins are loaded"};
        return out;
    }
    // From here on only the snapshot is read: the file on disk may change, the copy cannot.
    // Admission may have taken it already (to hash it for the lock): then load those very bytes.
    Snapshot snapshot;
    if (candidate.snapshot) {
        snapshot.fd.reset(::fcntl(candidate.snapshot->fd.get(), F_DUPFD_CLOEXEC, 0));
        snapshot.size = candidate.snapshot->size;
        if (!snapshot.fd) {
            out.error = Reason{Code::load_failed, path.string() + ": its in-memory copy could not be reopened (" +
                                                      std::strerror(errno) + "); raise the open-file limit"};
            return out;
        }
    } else {
        SnapshotResult taken = snapshot_file(path, candidate.file.fd.get());
        if (taken.error) {
            out.error = std::move(taken.error);
            return out;
        }
        snapshot = std::move(*taken.snapshot);
    }
    if (auto problem = check_same_plugin(path, snapshot, candidate)) {
        out.error = std::move(problem);
        return out;
    }
    if (!ensure_unused_name(snapshot.fd)) {
        out.error = Reason{Code::load_failed, path.string() + ": no free descriptor name to load it under"};
        return out;
    }
    const std::string name = fd_path(snapshot.fd.get());
    boost::dll::shared_library library;
    boost::dll::fs::error_code ec;
    ::dlerror();
    library.load(name, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
    if (ec || !library.is_loaded()) {
        const char *why = ::dlerror();
        std::string text = why ? why : ec.message();
        if (const auto at = text.find(name); at != std::string::npos) text.replace(at, name.size(), path.string());
        out.error = Reason{Code::load_failed,
                           path.string() + ": dlopen failed: " + text + "; " + load_failure_hint(text, path.string())};
        return out;
    }
    // The link map and gdb know the library as /proc/<pid>/fd/N, /proc/<pid>/maps as
    // /memfd:plughost:<file name> (deleted): this line ties both to the real path.
    spdlog::debug("loaded {} from its sealed in-memory copy ({} bytes) as {}", path.string(), snapshot.size, name);
    if (!library.has(PLUGHOST_ENTRY_SYMBOL)) {
        out.error = Reason{Code::missing_entry, path.string() + ": exports no \"" PLUGHOST_ENTRY_SYMBOL
                                                                "\" symbol; declare the plugin with PLUGHOST_PLUGIN "
                                                                "(C++) or PLUGHOST_DECLARE_PLUGIN (C) and export it"};
        return out;
    }
    const std::string who = path.string() + ": ";
    plughost_plugin entry{};
    if (auto problem = copy_entry(who, &library.get<const plughost_plugin>(PLUGHOST_ENTRY_SYMBOL), entry)) {
        out.error = std::move(problem);
        return out;
    }
    if (auto problem = check_entry(who, entry, *manifest, candidate.file.manifest_json)) {
        out.error = std::move(problem);
        return out;
    }
    out.plugin = std::make_shared<const LoadedPlugin>(
        path, std::move(snapshot), std::make_unique<boost::dll::shared_library>(std::move(library)), entry, *manifest);
    return out;
}

}  // namespace plughost::host
