// Loading admitted plugins for real (dlopen of a sealed copy of the inspected descriptor), and
// every way it can fail without taking the host down.
#include "admission/admission.hpp"
#include "load/instance.hpp"
#include "load/plugin_loader.hpp"
#include "schedule/scheduler.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

using namespace plughost::host;
using namespace plughost::test;

namespace {

// Admits one file (copied into a fresh directory) and loads it.
struct Loaded {
    TempDir dir;
    Admission admission;
    LoadResult result;
};

std::unique_ptr<Loaded> admit_and_load(const std::filesystem::path &file, const std::string &as = "plugin.so") {
    auto l = std::make_unique<Loaded>();
    copy_to(file, l->dir / as);
    l->admission = admit_directory(l->dir.path(), foundation_rules(), true);
    REQUIRE(l->admission.candidates.size() == 1);
    REQUIRE_MESSAGE(l->admission.candidates[0].admitted(), l->admission.candidates[0].reasons[0].message);
    l->result = load_plugin(l->admission.candidates[0]);
    return l;
}

bool mapped(const void *address) {
    Dl_info info{};
    return ::dladdr(address, &info) != 0;
}

// Admits and loads a file that must be refused at load time; returns the reason.
Reason refusal_of(const std::filesystem::path &file) {
    auto l = admit_and_load(file);
    REQUIRE_MESSAGE(l->result.error, file.string() << " was loaded but should have been refused");
    CHECK(!l->result.plugin);
    CHECK(contains(l->result.error->message, (l->dir / "plugin.so").string() + ": "));
    return *l->result.error;
}

// Points $PLUGHOST_TEST_MARKER at a file for the life of the object.
struct MarkerFile {
    TempDir dir;
    std::filesystem::path path = dir / "marker.txt";
    MarkerFile() { REQUIRE(::setenv("PLUGHOST_TEST_MARKER", path.c_str(), 1) == 0); }
    ~MarkerFile() { ::unsetenv("PLUGHOST_TEST_MARKER"); }
    std::string text() const { return std::filesystem::exists(path) ? read_file(path) : std::string(); }
};

// The end of `pick`: the smallest entry that holds every hook ABI 1.0 requires.
constexpr std::size_t kEntryMinSize = offsetof(plughost_plugin, pick) + sizeof(plughost_plugin::pick);

}  // namespace

TEST_CASE("an admitted plugin loads, and its entry matches its note") {
    auto l = admit_and_load(paths::good_scorer);
    REQUIRE(!l->result.error);
    const auto &plugin = *l->result.plugin;
    CHECK(plugin.manifest().type == "good-scorer");
    CHECK(plugin.entry().abi_major == PLUGHOST_ABI_VERSION_MAJOR);
    CHECK(std::string_view(plugin.entry().manifest_json.data, plugin.entry().manifest_json.size).find("good-scorer") !=
          std::string_view::npos);
    CHECK(l->admission.candidates[0].file.fd);  // borrowed: the candidate keeps its descriptor
    CHECK(l->admission.candidates[0].file.fd.get() != plugin.snapshot_fd());  // the plugin holds its copy
}

TEST_CASE("an unresolved symbol: the load fails quoting dlerror, naming the file, nothing stays loaded") {
    auto l = admit_and_load(paths::unresolved_symbol, "needy.so");
    REQUIRE(l->result.error);
    CHECK(l->result.error->code == Code::load_failed);
    const std::string &m = l->result.error->message;
    CHECK(contains(m, "undefined symbol: plughost_fixture_symbol_nobody_defines"));
    CHECK(contains(m, (l->dir / "needy.so").string() + ": dlopen failed"));
    CHECK(!contains(m, "/proc/"));  // the operator sees the real path, not the descriptor's
    // The hint is for this error: link the plugin against the library that defines the symbol.
    CHECK(contains(m, "the plugin uses a symbol that nothing loaded defines: link the plugin against the library "
                      "that defines it"));
    CHECK(!contains(m, "cannot open shared object file"));
    CHECK(!l->result.plugin);
}

TEST_CASE("an entry whose manifest differs from the note is refused, naming the fields") {
    auto l = admit_and_load(paths::note_entry_mismatch);
    REQUIRE(l->result.error);
    CHECK(l->result.error->code == Code::manifest_mismatch);
    CHECK(contains(l->result.error->message, "differs from the ELF note in version, stability, featureGate"));
}

TEST_CASE("an entry whose manifest differs from the note only in whitespace is refused: byte for byte") {
    const Reason r = refusal_of(paths::entry_manifest_whitespace);
    CHECK(r.code == Code::manifest_mismatch);
    CHECK(
        contains(r.message, "the manifest compiled into plughost_entry differs from the ELF note only in formatting"));
    CHECK(contains(r.message, "first difference at offset 8"));
    CHECK(contains(r.message, "rebuild it so both come from one declaration"));
}

TEST_CASE("an entry too small to hold the hooks ABI 1.0 requires is refused, naming both sizes") {
    const Reason r = refusal_of(paths::entry_too_small);
    CHECK(r.code == Code::bad_entry);
    const std::size_t found = offsetof(plughost_plugin, destroy) + sizeof(plughost_plugin::destroy);
    CHECK_MESSAGE(contains(r.message, "its plughost_entry is " + std::to_string(found) +
                                          " bytes (struct_size), too small for ABI 1.0: it needs at least " +
                                          std::to_string(kEntryMinSize) + " bytes"),
                  r.message);
}

TEST_CASE("an entry whose struct_size is larger than its exported object is refused, nothing beyond it is read") {
    const Reason r = refusal_of(paths::entry_size_beyond_object);
    CHECK(r.code == Code::bad_entry);
    const std::size_t object = offsetof(plughost_plugin, destroy) + sizeof(plughost_plugin::destroy);
    CHECK_MESSAGE(contains(r.message, "its plughost_entry says it is " + std::to_string(sizeof(plughost_plugin)) +
                                          " bytes (struct_size) but the exported object is " + std::to_string(object) +
                                          " bytes"),
                  r.message);
}

TEST_CASE("an entry without create, without destroy or without a manifest is refused, naming what is missing") {
    const Reason no_create = refusal_of(paths::entry_without_create);
    CHECK(no_create.code == Code::bad_entry);
    CHECK_MESSAGE(contains(no_create.message, "its plughost_entry has no create function, which every plugin needs"),
                  no_create.message);
    const Reason no_destroy = refusal_of(paths::entry_without_destroy);
    CHECK(no_destroy.code == Code::bad_entry);
    CHECK_MESSAGE(contains(no_destroy.message, "its plughost_entry has no destroy function, which every plugin needs"),
                  no_destroy.message);
    const Reason no_manifest = refusal_of(paths::entry_without_manifest);
    CHECK(no_manifest.code == Code::bad_entry);
    CHECK_MESSAGE(contains(no_manifest.message, "its plughost_entry carries no manifest (manifest_json.data is NULL)"),
                  no_manifest.message);
}

TEST_CASE("an entry built against another ABI version than its note says is refused, naming both") {
    const Reason r = refusal_of(paths::entry_abi_version_mismatch);
    CHECK(r.code == Code::manifest_mismatch);
    const std::string entry_abi = std::to_string(PLUGHOST_ABI_VERSION_MAJOR) + "." +
                                  std::to_string(PLUGHOST_ABI_VERSION_MINOR + 1) + "." +
                                  std::to_string(PLUGHOST_ABI_VERSION_PATCH);
    CHECK_MESSAGE(contains(r.message, "its plughost_entry is built against ABI " + entry_abi +
                                          " but its manifest note says " PLUGHOST_ABI_VERSION_STRING),
                  r.message);
}

TEST_CASE("an entry that ends after pick is run, and the picked hook beyond its struct_size is never called") {
    MarkerFile marker;
    auto l = admit_and_load(paths::entry_ends_after_pick);
    REQUIRE_MESSAGE(!l->result.error, l->result.error->message);
    const plughost_plugin &entry = l->result.plugin->entry();
    CHECK(entry.struct_size == offsetof(plughost_plugin, picked));
    CHECK((entry.pick != nullptr));
    CHECK((entry.picked == nullptr));  // the host's copy: nothing beyond struct_size

    std::string error;
    auto instance = Instance::create(l->result.plugin, "picker", "{}", error);
    REQUIRE_MESSAGE(instance, error);
    Scheduler::Plan plan;
    plan.profiles.push_back({"default", {}, {}, 0, {}, {}});
    Scheduler scheduler({instance.get()}, plan, 1);
    CHECK(scheduler.profiles().at(0).observers.empty());
    plughost_endpoint a{}, b{};
    a.struct_size = b.struct_size = sizeof(plughost_endpoint);
    a.name = {"a", 1};
    b.name = {"b", 1};
    const plughost_endpoint *endpoints[] = {&a, &b};
    plughost_request request{};
    request.struct_size = sizeof request;
    for (int i = 0; i < 3; ++i) {
        const Decision d = scheduler.schedule(request, endpoints, 2, 0);
        REQUIRE_MESSAGE(!d.error, d.message);
        CHECK(d.picked.size() == 1);
        CHECK(d.picked[0] == &a);
    }
    CHECK(scheduler.instances().at(0).faults == 0);
    CHECK(!scheduler.instances().at(0).disabled);
    CHECK(marker.text().empty());
}

TEST_CASE("plughost check --instantiate and run: a refused entry is an error with its code, a short one runs") {
    TempDir dir, plugins;
    copy_to(paths::plugin_queue_scorer, plugins / "queue-scorer.so");
    copy_to(paths::plugin_max_score_picker, plugins / "max-score-picker.so");
    copy_to(paths::entry_too_small, plugins / "too-small.so");
    write_file(dir / "c.json", R"({"plugins": [{"type": "queue-scorer"}, {"type": "max-score-picker"}]})");
    const auto check = run_plughost({"check", "--instantiate", "--config", (dir / "c.json").string(), "--plugin-dir",
                                     plugins.path().string(), "-o", "json"});
    CHECK(check.exit_code == 1);
    const auto doc = parse_json(check.out);
    bool found = false;
    for (const auto &e : doc.at("errors").as_array()) {
        if (e.at("code") != "bad-entry") continue;
        const std::string message(e.at("message").as_string());
        CHECK(contains(message, (plugins / "too-small.so").string() + ": its plughost_entry is"));
        CHECK(contains(message, "too small for ABI 1.0"));
        found = true;
    }
    CHECK_MESSAGE(found, check.out);

    std::filesystem::remove(plugins / "too-small.so");
    copy_to(paths::entry_ends_after_pick, plugins / "short.so");
    write_file(dir / "c.json", R"({"plugins": [{"type": "queue-scorer"}, {"type": "ends-after-pick-picker"}]})");
    const std::string input = "{\"endpoint\": {\"name\": \"a\"}}\n{\"endpoint\": {\"name\": \"b\"}}\n"
                              "{\"request\": {\"id\": \"r1\"}}\n{\"request\": {\"id\": \"r2\"}}\n";
    const auto run =
        run_plughost({"run", "--config", (dir / "c.json").string(), "--plugin-dir", plugins.path().string()}, input,
                     {{"PLUGHOST_TEST_MARKER", (dir / "marker.txt").string()}});
    CHECK_MESSAGE(run.exit_code == 0, run.err);
    CHECK(lines(run.out).size() == 2);
    for (const auto &line : lines(run.out)) CHECK_MESSAGE(parse_json(line).as_object().contains("picked"), line);
    CHECK_MESSAGE(!contains(run.err, "fault ["), run.err);
    CHECK(!std::filesystem::exists(dir / "marker.txt"));
}

TEST_CASE("a missing entry symbol, and an entry without the role's function") {
    auto missing = admit_and_load(paths::missing_entry);
    REQUIRE(missing->result.error);
    CHECK(missing->result.error->code == Code::missing_entry);
    CHECK(contains(missing->result.error->message, "exports no \"plughost_entry\""));

    auto no_score = admit_and_load(paths::missing_role_function);
    REQUIRE(no_score->result.error);
    CHECK(no_score->result.error->code == Code::bad_entry);
    CHECK(
        contains(no_score->result.error->message, "declares role scorer but its plughost_entry has no score function"));
}

TEST_CASE("a stripped plugin with its section headers zeroed loads and runs") {
    TempDir tmp;
    const auto bare = copy_to(paths::stripped_scorer, tmp / "bare.so");
    const std::vector<std::uint8_t> zero8(8, 0), zero2(2, 0);
    patch_bytes(bare, offsetof(Elf64_Ehdr, e_shoff), zero8);
    patch_bytes(bare, offsetof(Elf64_Ehdr, e_shnum), zero2);
    patch_bytes(bare, offsetof(Elf64_Ehdr, e_shstrndx), zero2);
    auto l = admit_and_load(bare);
    REQUIRE(!l->result.error);
    std::string error;
    auto instance = Instance::create(l->result.plugin, "bare", "{}", error);
    REQUIRE_MESSAGE(instance, error);
    double score = -1;
    plughost_request request{};
    request.struct_size = sizeof request;
    plughost_endpoint endpoint{};
    endpoint.struct_size = sizeof endpoint;
    const plughost_endpoint *endpoints[] = {&endpoint};
    plughost_message message{nullptr, 0, 0};
    CHECK(instance->entry().score(instance->handle(), &request, endpoints, 1, &score, &message) == PLUGHOST_OK);
    CHECK(score == 0.5);
}

TEST_CASE("the file loaded is the file inspected, even if the path is replaced in between") {
    TempDir dir;
    copy_to(paths::good_scorer, dir / "plugin.so");
    auto admission = admit_directory(dir.path(), foundation_rules(), true);
    REQUIRE(admission.candidates.at(0).admitted());
    // Swap another plugin in under the same name after the check.
    copy_to(paths::plugin_queue_scorer, dir / "swap.tmp");
    std::filesystem::rename(dir / "swap.tmp", dir / "plugin.so");
    const auto result = load_plugin(admission.candidates[0]);
    REQUIRE(!result.error);
    const std::string_view json(result.plugin->entry().manifest_json.data, result.plugin->entry().manifest_json.size);
    CHECK(json.find("\"good-scorer\"") != std::string_view::npos);
}

TEST_CASE("a library stays loaded while any instance of it exists") {
    auto l = admit_and_load(paths::good_scorer);
    REQUIRE(l->result.plugin);
    // The host works on its own copy of the entry: the manifest bytes it points at are the library's.
    const void *entry = l->result.plugin->entry().manifest_json.data;
    std::string error;
    auto instance = Instance::create(std::move(l->result.plugin), "keep", "{}", error);
    REQUIRE(instance);
    CHECK(!l->result.plugin);
    CHECK(mapped(entry));  // only the instance holds it now
    instance.reset();
    CHECK(!mapped(entry));  // a C plugin without unique symbols really unloads
}

TEST_CASE("loading many plugins in turn never confuses one library for another") {
    // Descriptor numbers are reused; a library that stays mapped keeps its /proc/<pid>/fd/N name.
    for (int round = 0; round < 3; ++round)
        for (const auto &[path, type] :
             {std::pair{paths::plugin_queue_scorer, "queue-scorer"}, std::pair{paths::good_scorer, "good-scorer"},
              std::pair{paths::plugin_max_score_picker, "max-score-picker"}}) {
            auto l = admit_and_load(path);
            REQUIRE(l->result.plugin);
            const auto &e = l->result.plugin->entry();
            const std::string json(e.manifest_json.data, e.manifest_json.size);
            CHECK_MESSAGE(contains(json, std::string("\"type\":\"") + type + "\""), json);
        }
}

// ---- Plugin files written in place between admission and loading -----------------------------
// Admission keeps the descriptor of the file it read; operators replace plugins with `cp` or
// truncate them, which changes that very inode. Loading copies the file into a sealed memfd
// first, checks the copy is still the plugin that was admitted, and loads only the copy.

namespace {

// One good_scorer admitted from a fresh directory, its descriptor still open, not loaded yet.
struct Admitted {
    TempDir dir;
    std::filesystem::path file;
    Admission admission;
    std::uintmax_t inode = 0;

    Admitted() : file(dir / "good-scorer.so") {
        copy_to(paths::good_scorer, file);
        admission = admit_directory(dir.path(), foundation_rules(), true);
        REQUIRE(admission.candidates.size() == 1);
        REQUIRE(admission.candidates[0].admitted());
        REQUIRE(admission.candidates[0].file.fd);
        inode = inode_of(file);
    }
    Candidate &candidate() { return admission.candidates[0]; }
    static std::uintmax_t inode_of(const std::filesystem::path &p) {
        struct stat st {};
        REQUIRE(::stat(p.c_str(), &st) == 0);
        return st.st_ino;
    }
    // The operator's change must hit the inode admission read, not replace it.
    void check_same_inode() const { REQUIRE(inode_of(file) == inode); }
};

// good_scorer's bytes with another version string: another build of the same plugin type.
std::string other_version_of_good_scorer() {
    std::string bytes = read_file(paths::good_scorer);
    REQUIRE(replace_all(bytes, "\"version\":\"1.0.0\"", "\"version\":\"1.0.1\"") >= 1);
    return bytes;
}

double score_once(const std::shared_ptr<const LoadedPlugin> &plugin) {
    std::string error;
    auto instance = Instance::create(plugin, "s", "{}", error);
    REQUIRE_MESSAGE(instance, error);
    double score = -1;
    plughost_request request{};
    request.struct_size = sizeof request;
    plughost_endpoint endpoint{};
    endpoint.struct_size = sizeof endpoint;
    const plughost_endpoint *endpoints[] = {&endpoint};
    plughost_message message{nullptr, 0, 0};
    REQUIRE(instance->entry().score(instance->handle(), &request, endpoints, 1, &score, &message) == PLUGHOST_OK);
    return score;
}

}  // namespace

TEST_CASE("a plugin file truncated to 0 bytes after admission is refused as file-changed, no crash") {
    Admitted a;
    truncate_to(a.file, 0);
    a.check_same_inode();
    const auto result = load_plugin(a.candidate());
    REQUIRE(result.error);
    CHECK(!result.plugin);
    CHECK(result.error->code == Code::file_changed);
    const std::string &m = result.error->message;
    CHECK_MESSAGE(contains(m, a.file.string() + ": was admitted, but the copy taken to load it is no longer a plugin"),
                  m);
    CHECK_MESSAGE(contains(m, "not-elf"), m);
    CHECK_MESSAGE(contains(m, "modified while plughost was loading it"), m);
    CHECK_MESSAGE(contains(m, "renaming it over the old one (mv)"), m);
}

TEST_CASE("a plugin file cut to half its size after admission is refused as file-changed, no SIGBUS") {
    // The manifest note is near the start of the file and survives the cut; its loadable
    // segments do not (dlopen of it would die of SIGBUS), which the copy's inspection sees.
    Admitted a;
    const auto size = std::filesystem::file_size(a.file);
    truncate_to(a.file, size / 2);
    a.check_same_inode();
    const auto result = load_plugin(a.candidate());
    REQUIRE(result.error);
    CHECK(result.error->code == Code::file_changed);
    const std::string &m = result.error->message;
    CHECK_MESSAGE(contains(m, "(truncated-elf: it is truncated: PT_LOAD segment "), m);
    CHECK_MESSAGE(contains(m, "ends beyond the end of the file (" + std::to_string(size / 2) + " bytes)"), m);
    CHECK_MESSAGE(contains(m, "renaming it over the old one"), m);
}

TEST_CASE("a plugin file overwritten in place with another version after admission is refused as file-changed") {
    Admitted a;
    overwrite_in_place(a.file, other_version_of_good_scorer());
    a.check_same_inode();
    const auto result = load_plugin(a.candidate());
    REQUIRE(result.error);
    CHECK(!result.plugin);
    CHECK(result.error->code == Code::file_changed);
    const std::string &m = result.error->message;
    CHECK_MESSAGE(contains(m, a.file.string() +
                                  ": its manifest note changed after admission (admitted: \"good-scorer\" "
                                  "1.0.0; now: \"good-scorer\" 1.0.1)"),
                  m);
    CHECK_MESSAGE(contains(m, "retry, and replace plugin files by writing the new file under a temporary name"), m);
}

TEST_CASE("a plugin file overwritten in place with another plugin after admission is refused as file-changed") {
    Admitted a;
    overwrite_in_place(a.file, read_file(paths::plugin_queue_scorer));
    a.check_same_inode();
    const auto result = load_plugin(a.candidate());
    REQUIRE(result.error);
    CHECK(result.error->code == Code::file_changed);
    CHECK_MESSAGE(contains(result.error->message, "now: \"queue-scorer\" 1.0.0"), result.error->message);
}

TEST_CASE("a plugin file rewritten in place with identical bytes after admission loads and runs") {
    Admitted a;
    overwrite_in_place(a.file, read_file(paths::good_scorer));
    a.check_same_inode();
    const auto result = load_plugin(a.candidate());
    REQUIRE_MESSAGE(!result.error, result.error->message);
    CHECK(score_once(result.plugin) == 0.5);
}

TEST_CASE("a loaded plugin runs from its sealed copy: writes to the file afterwards never reach it") {
    Admitted a;
    const auto result = load_plugin(a.candidate());
    REQUIRE(result.plugin);
    const auto &plugin = *result.plugin;
    // The copy is sealed: it can never be written, shrunk or grown, and it is the whole file.
    const int fd = plugin.snapshot_fd();
    constexpr int kSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;
    CHECK((::fcntl(fd, F_GET_SEALS) & kSeals) == kSeals);
    CHECK(plugin.snapshot_size() == std::filesystem::file_size(paths::good_scorer));
    CHECK(::pwrite(fd, "x", 1, 0) == -1);
    CHECK(::ftruncate(fd, 0) == -1);
    // The operator rewrites the file, then cuts it short: the loaded code is untouched.
    overwrite_in_place(a.file, other_version_of_good_scorer());
    truncate_to(a.file, 100);
    a.check_same_inode();
    CHECK(score_once(result.plugin) == 0.5);
    const std::string_view json(plugin.entry().manifest_json.data, plugin.entry().manifest_json.size);
    CHECK(contains(std::string(json), "\"version\":\"1.0.0\""));
    // The snapshot still holds exactly the bytes that were admitted (what a lock file hashes).
    std::string copy(plugin.snapshot_size(), '\0');
    REQUIRE(::pread(fd, copy.data(), copy.size(), 0) == static_cast<ssize_t>(copy.size()));
    CHECK(copy == read_file(paths::good_scorer));
}

TEST_CASE("the link map names the loaded copy /proc/<pid>/fd/N, open while the library is loaded") {
    Admitted a;
    const auto result = load_plugin(a.candidate());
    REQUIRE(result.plugin);
    Dl_info info{};
    REQUIRE(::dladdr(result.plugin->entry().manifest_json.data, &info) != 0);  // entry() is the host's copy
    const std::string name = info.dli_fname;
    CHECK(name == "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(result.plugin->snapshot_fd()));
    // That name opens the sealed copy, not the file on disk: gdb reads the symbols from it.
    char target[256] = {};
    REQUIRE(::readlink(name.c_str(), target, sizeof target - 1) > 0);
    CHECK_MESSAGE(std::string(target).rfind("/memfd:plughost:good-scorer.so", 0) == 0, target);
}
