// Loading admitted plugins for real (dlopen from the inspected descriptor), and every way it
// can fail without taking the host down.
#include "admission/admission.hpp"
#include "load/instance.hpp"
#include "load/plugin_loader.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <dlfcn.h>
#include <elf.h>

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

}  // namespace

TEST_CASE("an admitted plugin loads, and its entry matches its note") {
    auto l = admit_and_load(paths::good_scorer);
    REQUIRE(!l->result.error);
    const auto &plugin = *l->result.plugin;
    CHECK(plugin.manifest().type == "good-scorer");
    CHECK(plugin.entry().abi_major == PLUGHOST_ABI_VERSION_MAJOR);
    CHECK(std::string_view(plugin.entry().manifest_json.data, plugin.entry().manifest_json.size).find("good-scorer") !=
          std::string_view::npos);
    CHECK(!l->admission.candidates[0].file.fd);  // the descriptor moved into the loaded plugin
}

TEST_CASE("an unresolved symbol: the load fails quoting dlerror, naming the file, nothing stays loaded") {
    auto l = admit_and_load(paths::unresolved_symbol, "needy.so");
    REQUIRE(l->result.error);
    CHECK(l->result.error->code == Code::load_failed);
    const std::string &m = l->result.error->message;
    CHECK(contains(m, "undefined symbol: plughost_fixture_symbol_nobody_defines"));
    CHECK(contains(m, (l->dir / "needy.so").string() + ": dlopen failed"));
    CHECK(!contains(m, "/proc/"));  // the operator sees the real path, not the descriptor's
    CHECK(!l->result.plugin);
}

TEST_CASE("an entry whose manifest differs from the note is refused, naming the fields") {
    auto l = admit_and_load(paths::note_entry_mismatch);
    REQUIRE(l->result.error);
    CHECK(l->result.error->code == Code::manifest_mismatch);
    CHECK(contains(l->result.error->message, "differs from the ELF note in version, stability, featureGate"));
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
    plughost_request request{sizeof(plughost_request), {}, {}, {}, {}, nullptr, 0};
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
    const void *entry = &l->result.plugin->entry();
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
