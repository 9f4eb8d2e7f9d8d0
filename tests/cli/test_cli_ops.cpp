// Operators pinning what runs, through the real CLI: the lock file, the ownership and mode
// checks before a file is read, crash attribution in `run`, the probe and its quarantine, and a
// hostile plugin directory.
#include "test_support.hpp"

#include <plughost/plugin.h>

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <set>

using namespace plughost::test;
namespace json = boost::json;

namespace {

std::string sha256sum(const std::filesystem::path &file) {
    const auto r = run({"/usr/bin/sha256sum", file.string()});
    REQUIRE(r.exit_code == 0);
    return r.out.substr(0, 64);
}

// file name -> the codes of its reasons, from `list --output json` (or check's "plugins").
std::map<std::string, std::set<std::string>> decisions(const json::value &doc) {
    std::map<std::string, std::set<std::string>> out;
    for (const auto &p : doc.at("plugins").as_array()) {
        const std::string file = std::filesystem::path(std::string(p.at("file").as_string())).filename().string();
        auto &codes = out[file];
        for (const auto &r : p.at("reasons").as_array()) codes.insert(std::string(r.at("code").as_string()));
    }
    return out;
}

std::string reasons_text(const json::value &doc, const std::string &file) {
    std::string out;
    for (const auto &p : doc.at("plugins").as_array())
        if (std::filesystem::path(std::string(p.at("file").as_string())).filename() == file)
            for (const auto &r : p.at("reasons").as_array()) out += std::string(r.at("message").as_string()) + "\n";
    return out;
}

std::vector<std::string> list_args(const TempDir &plugins, std::vector<std::string> more = {}) {
    std::vector<std::string> args{"list", "--output", "json", "--plugin-dir", plugins.path().string()};
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

// A minimal 64-bit shared object of this host's kind holding one plughost note with `desc` as
// the manifest: enough for the reader, which never needs more than the headers and the note.
void write_elf_with_note(const std::filesystem::path &path, const std::string &desc) {
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_DYN;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof(Elf64_Ehdr);
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 1;
    std::string note;
    auto word = [&](std::uint32_t w) { note.append(reinterpret_cast<const char *>(&w), 4); };
    word(PLUGHOST_NOTE_OWNER_SIZE);
    word(static_cast<std::uint32_t>(desc.size()));
    word(PLUGHOST_NOTE_TYPE_MANIFEST);
    note.append(PLUGHOST_NOTE_OWNER, PLUGHOST_NOTE_OWNER_SIZE);
    note.resize((note.size() + 3) & ~std::size_t{3}, '\0');
    note += desc;
    note.resize((note.size() + 3) & ~std::size_t{3}, '\0');
    Elf64_Phdr ph{};
    ph.p_type = PT_NOTE;
    ph.p_offset = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
    ph.p_filesz = ph.p_memsz = note.size();
    ph.p_align = 4;
    std::string bytes(reinterpret_cast<const char *>(&eh), sizeof eh);
    bytes.append(reinterpret_cast<const char *>(&ph), sizeof ph);
    bytes += note;
    write_file(path, bytes);
}

std::string manifest_with(const std::string &type, const std::string &description) {
    return "{\"type\":\"" + type +
           "\",\"role\":\"scorer\",\"version\":\"1.0.0\",\"abiVersion\":\"" PLUGHOST_ABI_VERSION_STRING
           "\",\"stability\":\"stable\",\"description\":\"" +
           description + "\"}";
}

}  // namespace

// ---- The lock file ---------------------------------------------------------------------------

TEST_CASE("plughost lock pins each admitted file by its SHA-256, and --lock admits exactly those files") {
    TempDir plugins, dir;
    copy_to(paths::good_scorer, plugins / "good.so");
    copy_to(paths::stable_filter, plugins / "filter.so");
    copy_to(paths::abi_major_mismatch, plugins / "refused.so");
    const auto locked = run_plughost({"lock", "--plugin-dir", plugins.path().string()});
    REQUIRE_MESSAGE(locked.exit_code == 0, locked.err);
    CHECK(contains(locked.err, "not locked: [abi-major-mismatch]"));
    const auto doc = parse_json(locked.out);
    CHECK(doc.at("lockVersion") == 1);
    const auto &pins = doc.at("plugins").as_object();
    CHECK(pins.size() == 2);  // the refused file is not pinned
    REQUIRE(pins.contains("good.so"));
    const auto &good = pins.at("good.so").as_object();
    CHECK(good.at("type") == "good-scorer");
    CHECK(good.at("stability") == "stable");
    CHECK(good.at("version") == "1.0.0");
    CHECK(good.at("abiVersion") == PLUGHOST_ABI_VERSION_STRING);
    CHECK(std::string(good.at("sha256").as_string()) == sha256sum(plugins / "good.so"));  // as coreutils says
    CHECK(lines(locked.out).size() == 7);  // one line per plugin: reviewable diffs
    write_file(dir / "plughost.lock", locked.out);

    SUBCASE("unchanged files pass; the refused file is still refused for its own reason") {
        const auto r = run_plughost(list_args(plugins, {"--lock", (dir / "plughost.lock").string()}));
        const auto d = decisions(parse_json(r.out));
        CHECK(d.at("good.so").empty());
        CHECK(d.at("filter.so").empty());
        CHECK(d.at("refused.so") == std::set<std::string>{"abi-major-mismatch"});
    }
    SUBCASE("a file added after the lock was made is refused: not-in-lock") {
        copy_to(paths::scorer_nan, plugins / "new.so");
        const auto r = run_plughost(list_args(plugins, {"--lock", (dir / "plughost.lock").string()}));
        CHECK(r.exit_code == 1);
        const auto doc2 = parse_json(r.out);
        CHECK(decisions(doc2).at("new.so") == std::set<std::string>{"not-in-lock"});
        CHECK(contains(reasons_text(doc2, "new.so"), "plughost lock > "));
    }
    SUBCASE("another plugin renamed over a pinned one: other bytes, another type, another tier") {
        copy_to(paths::deprecated_plugin, plugins / ".tmp");  // "old-scorer", beta
        std::filesystem::rename(plugins / ".tmp", plugins / "good.so");
        const auto r = run_plughost(list_args(plugins, {"--lock", (dir / "plughost.lock").string()}));
        const auto doc2 = parse_json(r.out);
        const auto codes = decisions(doc2).at("good.so");
        CHECK(codes.count("lock-hash-mismatch"));
        CHECK(codes.count("lock-type-mismatch"));
        CHECK(codes.count("lock-tier-changed"));
        CHECK(contains(reasons_text(doc2, "good.so"), "tier changed from stable (in the lock"));
    }
    SUBCASE("a lock whose pins differ from the file: each difference has its own code") {
        std::string text = read_file(dir / "plughost.lock");
        const auto digest = sha256sum(plugins / "good.so");
        REQUIRE(replace_all(text, digest, std::string(64, '0')) == 1);
        REQUIRE(replace_all(text, "\"type\":\"good-scorer\"", "\"type\":\"goof-scorer\"") == 1);
        write_file(dir / "edited.lock", text);
        const auto r = run_plughost(list_args(plugins, {"--lock", (dir / "edited.lock").string()}));
        CHECK(decisions(parse_json(r.out)).at("good.so") ==
              std::set<std::string>{"lock-hash-mismatch", "lock-type-mismatch"});
    }
    SUBCASE("policy.lockFile, relative to the config; run refuses to start on a mismatch") {
        std::string text = read_file(dir / "plughost.lock");
        REQUIRE(replace_all(text, sha256sum(plugins / "good.so"), std::string(64, 'a')) == 1);
        write_file(dir / "edited.lock", text);
        write_file(dir / "c.json", R"({"policy": {"lockFile": "edited.lock"}, "plugins": [{"type": "good-scorer"}]})");
        const auto r =
            run_plughost({"run", "--config", (dir / "c.json").string(), "--plugin-dir", plugins.path().string()}, "");
        CHECK(r.exit_code == 1);
        CHECK(contains(r.err, "lock-hash-mismatch"));
    }
    SUBCASE("a lock that is not a lock: errors at its pointers, or exit 2 when missing") {
        write_file(dir / "bad.lock", R"({"lockVersion": 2, "plugins": {"x.so": {"type": "t"}}})");
        const auto r = run_plughost(list_args(plugins, {"--lock", (dir / "bad.lock").string()}));
        CHECK(r.exit_code == 1);
        CHECK(contains(r.err, "lock version 2 is not supported"));
        CHECK(contains(r.err, "/plugins/x.so/sha256"));
        const auto missing = run_plughost(list_args(plugins, {"--lock", (dir / "missing.lock").string()}));
        CHECK(missing.exit_code == 2);
    }
}

TEST_CASE("with a lock, the hash is of the sealed copy that is loaded: run starts from the pinned bytes") {
    TempDir plugins, dir;
    copy_to(paths::plugin_queue_scorer, plugins / "queue-scorer.so");
    copy_to(paths::plugin_max_score_picker, plugins / "max-score-picker.so");
    const auto locked = run_plughost({"lock", "--plugin-dir", plugins.path().string()});
    REQUIRE(locked.exit_code == 0);
    write_file(dir / "plughost.lock", locked.out);
    write_file(dir / "c.json", R"({"plugins": [{"type": "queue-scorer"}, {"type": "max-score-picker"}]})");
    write_file(dir / "s.jsonl", R"({"endpoint": {"name": "a", "metrics": {"waitingQueueSize": 1}}})"
                                "\n"
                                R"({"request": {"id": "r1"}})"
                                "\n");
    const auto r = run_plughost({"run", "--config", (dir / "c.json").string(), "--plugin-dir", plugins.path().string(),
                                 "--lock", (dir / "plughost.lock").string(), "--input", (dir / "s.jsonl").string()});
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    REQUIRE(lines(r.out).size() == 1);
    CHECK(!contains(r.out, "error"));
}

// ---- Who may change the files ------------------------------------------------------------------

TEST_CASE("a plugin file the group or others can write, or another user owns, is refused before it is read") {
    TempDir plugins, dir;
    copy_to(paths::good_scorer, plugins / "good.so");
    // Not even ELF: had it been read, the reason would be not-elf.
    write_file(plugins / "writable.so", "not a plugin");
    ::chmod((plugins / "writable.so").c_str(), 0664);
    write_file(plugins / "foreign.so", "not a plugin either");
    REQUIRE(::chown((plugins / "foreign.so").c_str(), 4242, 4242) == 0);
    const auto r = run_plughost(list_args(plugins));
    CHECK(r.exit_code == 1);
    const auto doc = parse_json(r.out);
    const auto d = decisions(doc);
    CHECK(d.at("good.so").empty());
    CHECK(d.at("writable.so") == std::set<std::string>{"writable-by-others"});
    CHECK(contains(reasons_text(doc, "writable.so"), "chmod go-w"));
    CHECK(contains(reasons_text(doc, "writable.so"), "mode 0664"));
    CHECK(d.at("foreign.so") == std::set<std::string>{"untrusted-owner"});
    CHECK(contains(reasons_text(doc, "foreign.so"), "user id 4242"));

    SUBCASE("the development switch: the flag, or policy.allowUnsafePermissions") {
        const auto flag = run_plughost(list_args(plugins, {"--allow-unsafe-permissions"}));
        CHECK(decisions(parse_json(flag.out)).at("writable.so") == std::set<std::string>{"not-elf"});
        write_file(dir / "c.json", R"({"policy": {"allowUnsafePermissions": true}})");
        const auto config = run_plughost(list_args(plugins, {"--config", (dir / "c.json").string()}));
        CHECK(decisions(parse_json(config.out)).at("foreign.so") == std::set<std::string>{"not-elf"});
    }
}

TEST_CASE("a plugin directory others can write, or another user owns: every file in it is refused unread") {
    TempDir parent;
    const auto plugins = parent / "plugins";
    std::filesystem::create_directory(plugins);
    copy_to(paths::good_scorer, plugins / "good.so");
    SUBCASE("writable by all (even with the sticky bit)") {
        ::chmod(plugins.c_str(), 01777);
        const auto r = run_plughost({"list", "--output", "json", "--plugin-dir", plugins.string()});
        CHECK(r.exit_code == 1);
        const auto doc = parse_json(r.out);
        CHECK(decisions(doc).at("good.so") == std::set<std::string>{"directory-writable-by-others"});
        CHECK(contains(reasons_text(doc, "good.so"), "chmod go-w " + plugins.string()));
    }
    SUBCASE("owned by another user") {
        ::chmod(plugins.c_str(), 0755);
        REQUIRE(::chown(plugins.c_str(), 4242, 4242) == 0);
        const auto r = run_plughost({"list", "--output", "json", "--plugin-dir", plugins.string()});
        CHECK(decisions(parse_json(r.out)).at("good.so") == std::set<std::string>{"directory-untrusted-owner"});
        const auto allowed =
            run_plughost({"list", "--output", "json", "--plugin-dir", plugins.string(), "--allow-unsafe-permissions"});
        CHECK(allowed.exit_code == 0);
    }
}

// ---- Crash attribution -------------------------------------------------------------------------

TEST_CASE("a plugin that segfaults on its 3rd call: run names the instance, keeps the 2 decisions, dies of it") {
    TempDir plugins, dir;
    copy_to(paths::crash_nth_scorer, plugins / "crash-nth.so");
    copy_to(paths::plugin_max_score_picker, plugins / "max-score-picker.so");
    write_file(dir / "c.json", R"({"plugins": [{"type": "crash-nth-scorer", "name": "flaky-one"},
                                               {"type": "max-score-picker"}]})");
    std::string stream = R"({"endpoint": {"name": "a"}})"
                         "\n";
    for (int i = 0; i < 10; ++i) stream += "{\"request\": {\"id\": \"r" + std::to_string(i) + "\"}}\n";
    write_file(dir / "s.jsonl", stream);
    ProcessOptions o;
    o.limits = {{RLIMIT_CORE, 0}};
    const auto r = run_plughost_with({"run", "--config", (dir / "c.json").string(), "--plugin-dir",
                                      plugins.path().string(), "--input", (dir / "s.jsonl").string()},
                                     "", o);
    CHECK(r.signal == SIGSEGV);
    CHECK(lines(r.out).size() == 2);
    CHECK(contains(r.out, "\"r1\""));
    CHECK(contains(r.err, "fatal signal SIGSEGV"));
    CHECK(contains(r.err, "the crash happened inside plugin code: instance \"flaky-one\" of plugin "
                          "\"crash-nth-scorer\" 1.0.0 (" +
                              (plugins / "crash-nth.so").string() + ")"));
}

TEST_CASE("a plugin that aborts in create: run names the instance being created") {
    TempDir plugins, dir;
    copy_to(paths::create_aborts, plugins / "create-aborts.so");
    copy_to(paths::plugin_max_score_picker, plugins / "max-score-picker.so");
    write_file(dir / "c.json", R"({"plugins": [{"type": "create-abort-scorer"}, {"type": "max-score-picker"}]})");
    ProcessOptions o;
    o.limits = {{RLIMIT_CORE, 0}};
    const auto r = run_plughost_with(
        {"run", "--config", (dir / "c.json").string(), "--plugin-dir", plugins.path().string()}, "", o);
    CHECK(r.signal == SIGABRT);
    CHECK(lines(r.out).empty());
    CHECK(contains(r.err, "inside plugin code: instance \"create-abort-scorer\" of plugin \"create-abort-scorer\""));
}

TEST_CASE("a plugin whose constructor crashes: run names the file being loaded") {
    TempDir plugins, dir;
    copy_to(paths::constructor_segfault, plugins / "ctor.so");
    copy_to(paths::plugin_max_score_picker, plugins / "max-score-picker.so");
    write_file(dir / "c.json", R"({"plugins": [{"type": "ctor-crash-scorer"}, {"type": "max-score-picker"}]})");
    ProcessOptions o;
    o.limits = {{RLIMIT_CORE, 0}};
    const auto r = run_plughost_with(
        {"run", "--config", (dir / "c.json").string(), "--plugin-dir", plugins.path().string()}, "", o);
    CHECK(r.signal == SIGSEGV);
    CHECK(contains(r.err, "inside plugin code: the plugin file " + (plugins / "ctor.so").string() +
                              " of type \"ctor-crash-scorer\", while it was loaded (its constructors)"));
}

TEST_CASE("check --instantiate: a plugin that segfaults in create names the instance, and check dies of it") {
    TempDir plugins, dir;
    copy_to(paths::create_segfault, plugins / "create-crash.so");
    copy_to(paths::plugin_max_score_picker, plugins / "max-score-picker.so");
    write_file(dir / "c.json", R"({"plugins": [{"type": "create-crash-scorer", "name": "boom"},
                                               {"type": "max-score-picker"}]})");
    const std::vector<std::string> args{
        "check", "--config", (dir / "c.json").string(), "--plugin-dir", plugins.path().string(), "--output", "json"};
    // Without --instantiate no plugin code runs: the config is fine.
    CHECK(run_plughost(args).exit_code == 0);
    auto instantiate = args;
    instantiate.push_back("--instantiate");
    ProcessOptions o;
    o.limits = {{RLIMIT_CORE, 0}};
    const auto r = run_plughost_with(instantiate, "", o);
    CHECK(r.signal == SIGSEGV);  // died of it, as it would have
    CHECK(r.exit_code == -1);
    CHECK(contains(r.err, "plughost: fatal signal SIGSEGV"));
    CHECK_MESSAGE(contains(r.err, "the crash happened inside plugin code: instance \"boom\" of plugin "
                                  "\"create-crash-scorer\" 1.0.0 (" +
                                      (plugins / "create-crash.so").string() + ")"),
                  r.err);
}

TEST_CASE("check --instantiate: a plugin whose constructor crashes names the file being loaded") {
    TempDir plugins, dir;
    copy_to(paths::constructor_segfault, plugins / "ctor.so");
    copy_to(paths::plugin_max_score_picker, plugins / "max-score-picker.so");
    write_file(dir / "c.json", R"({"plugins": [{"type": "max-score-picker"}]})");  // loaded all the same
    ProcessOptions o;
    o.limits = {{RLIMIT_CORE, 0}};
    const auto r = run_plughost_with(
        {"check", "--config", (dir / "c.json").string(), "--plugin-dir", plugins.path().string(), "--instantiate"}, "",
        o);
    CHECK(r.signal == SIGSEGV);
    CHECK_MESSAGE(contains(r.err, "inside plugin code: the plugin file " + (plugins / "ctor.so").string() +
                                      " of type \"ctor-crash-scorer\", while it was loaded (its constructors)"),
                  r.err);
}

TEST_CASE("test-plugin: a segfault in create or in the role call names the instance, and it dies of it") {
    TempDir plugins;
    ProcessOptions o;
    o.limits = {{RLIMIT_CORE, 0}};
    const auto score = copy_to(paths::score_segfault, plugins / "score.so");
    const auto in_score = run_plughost_with({"test-plugin", score.string()}, "", o);
    CHECK(in_score.signal == SIGSEGV);
    CHECK(contains(in_score.out, "ok    create"));  // it got as far as the role call
    CHECK_MESSAGE(contains(in_score.err, "the crash happened inside plugin code: instance \"test-plugin\" of plugin "
                                         "\"score-crash-scorer\" 1.0.0 (" +
                                             score.string() + ")"),
                  in_score.err);
    const auto create = copy_to(paths::create_segfault, plugins / "create.so");
    const auto in_create = run_plughost_with({"test-plugin", create.string()}, "", o);
    CHECK(in_create.signal == SIGSEGV);
    CHECK_MESSAGE(contains(in_create.err, "inside plugin code: instance \"test-plugin\" of plugin "
                                          "\"create-crash-scorer\" 1.0.0 (" +
                                              create.string() + ")"),
                  in_create.err);
}

// ---- Shipping: run paths and load failures -------------------------------------------------------

TEST_CASE("list and check: a plugin with an $ORIGIN run path is refused at inspection, with the fix") {
    TempDir plugins, dir;
    copy_to(paths::origin_runpath_scorer, plugins / "runpath.so");
    copy_to(paths::origin_rpath_scorer, plugins / "rpath.so");
    copy_to(paths::absolute_runpath_scorer, plugins / "absolute.so");
    copy_to(paths::plugin_max_score_picker, plugins / "max-score-picker.so");
    // The private library next to the plugins, as an author using $ORIGIN would ship it.
    copy_to(paths::private_helper, plugins.path() / std::filesystem::path(paths::private_helper).filename());
    const auto l = run_plughost(list_args(plugins));
    const auto doc = parse_json(l.out);
    const auto d = decisions(doc);
    CHECK(d.at("runpath.so") == std::set<std::string>{"origin-runpath"});
    CHECK(d.at("rpath.so") == std::set<std::string>{"origin-runpath"});
    CHECK(d.at("absolute.so").empty());
    const std::string why = reasons_text(doc, "runpath.so");
    CHECK(contains(why, "has the run path \"$ORIGIN\" (DT_RUNPATH)"));  // what was found
    CHECK(contains(why, "expands $ORIGIN to /proc/<pid>/fd"));          // why it cannot work
    CHECK(contains(why, "link the private library statically"));        // what to do
    CHECK(contains(why, "a system library directory, then ldconfig"));
    CHECK(contains(reasons_text(doc, "rpath.so"), "\"${ORIGIN}/../lib\" (DT_RPATH)"));

    // check: a config using it is refused before any code runs; the absolute run path loads and runs.
    write_file(dir / "origin.json",
               R"({"plugins": [{"type": "origin-runpath-scorer"}, {"type": "max-score-picker"}]})");
    const auto refused = run_plughost({"check", "--config", (dir / "origin.json").string(), "--plugin-dir",
                                       plugins.path().string(), "--output", "json"});
    CHECK(refused.exit_code == 1);
    CHECK(contains(refused.out, "origin-runpath"));
    write_file(dir / "absolute.json",
               R"({"plugins": [{"type": "absolute-runpath-scorer"}, {"type": "max-score-picker"}]})");
    const auto fine = run_plughost({"check", "--config", (dir / "absolute.json").string(), "--plugin-dir",
                                    plugins.path().string(), "--instantiate", "--output", "json"});
    CHECK_MESSAGE(fine.exit_code == 0, fine.out << fine.err);
}

TEST_CASE("check --instantiate: a private library missing at load time gets a load-failed hint that points the "
          "right way") {
    TempDir plugins, dir;
    const auto file = copy_to(paths::missing_library_scorer, plugins / "needs-private.so");
    copy_to(paths::plugin_max_score_picker, plugins / "max-score-picker.so");
    // The library sits next to the plugin: the dynamic linker does not look there.
    copy_to(paths::private_helper, plugins.path() / std::filesystem::path(paths::private_helper).filename());
    write_file(dir / "c.json", R"({"plugins": [{"type": "missing-library-scorer"}, {"type": "max-score-picker"}]})");
    const auto r = run_plughost({"check", "--config", (dir / "c.json").string(), "--plugin-dir",
                                 plugins.path().string(), "--instantiate", "--output", "json"});
    CHECK(r.exit_code == 1);
    const auto doc = parse_json(r.out);
    CHECK(decisions(doc).at("needs-private.so") == std::set<std::string>{"load-failed"});
    const std::string why = reasons_text(doc, "needs-private.so");
    CHECK_MESSAGE(contains(why, file.string() + ": dlopen failed: libplughost_private_helper.so: cannot open shared "
                                                "object file"),
                  why);
    CHECK(contains(why, "the plugin depends on libplughost_private_helper.so, which the dynamic linker does not find"));
    CHECK(contains(why, "never next to the plugin"));
    CHECK(contains(why, "install libplughost_private_helper.so where the dynamic linker finds it"));
    CHECK(contains(why, "or link it statically into the plugin"));
    CHECK(contains(why, "`ldd " + file.string() + "`"));
    CHECK(!contains(why, "undefined"));  // the old hint spoke of undefined symbols whatever the error
}

// ---- The probe -----------------------------------------------------------------------------

TEST_CASE("check --probe: each way a plugin can fail in a child process quarantines it, remembered by content") {
    TempDir plugins, dir;
    copy_to(paths::good_scorer, plugins / "good.so");
    copy_to(paths::plugin_max_score_picker, plugins / "max-score-picker.so");
    copy_to(paths::constructor_segfault, plugins / "ctor.so");
    copy_to(paths::create_aborts, plugins / "abort.so");
    copy_to(paths::create_hangs, plugins / "hang.so");
    copy_to(paths::create_fails, plugins / "fail.so");
    copy_to(paths::score_segfault, plugins / "score.so");
    copy_to(paths::create_exits, plugins / "exit.so");
    write_file(dir / "c.json", R"({"plugins": [
        {"type": "good-scorer"}, {"type": "max-score-picker"}, {"type": "create-abort-scorer"},
        {"type": "create-hang-scorer"}, {"type": "create-fail-scorer"}, {"type": "score-crash-scorer"},
        {"type": "create-exit-scorer"}]})");
    const std::string state = (dir / "probe-state.json").string();
    const std::string marker = (dir / "marker").string();
    const std::vector<std::string> args{"check",
                                        "--config",
                                        (dir / "c.json").string(),
                                        "--plugin-dir",
                                        plugins.path().string(),
                                        "--probe",
                                        "--probe-state",
                                        state,
                                        "--probe-timeout",
                                        "1000",
                                        "--output",
                                        "json"};
    const auto r = run_plughost(args, "", {{"PLUGHOST_TEST_MARKER", marker}});
    CHECK(r.exit_code == 1);
    const auto doc = parse_json(r.out);
    const auto d = decisions(doc);
    CHECK(d.at("good.so").empty());
    CHECK(d.at("max-score-picker.so").empty());
    CHECK(d.at("ctor.so") == std::set<std::string>{"probe-crashed"});
    CHECK(contains(reasons_text(doc, "ctor.so"), "SIGSEGV while loading"));
    CHECK(d.at("abort.so") == std::set<std::string>{"probe-crashed"});
    CHECK(contains(reasons_text(doc, "abort.so"), "SIGABRT while creating instance \"create-abort-scorer\""));
    CHECK(d.at("hang.so") == std::set<std::string>{"probe-timed-out"});
    CHECK(contains(reasons_text(doc, "hang.so"), "timed out after 1000 ms while creating instance"));
    CHECK(d.at("fail.so") == std::set<std::string>{"probe-failed"});
    CHECK(contains(reasons_text(doc, "fail.so"), "cannot reach its backend"));
    CHECK(d.at("score.so") == std::set<std::string>{"probe-crashed"});
    CHECK(contains(reasons_text(doc, "score.so"), "while calling score of \"score-crash-scorer\""));
    CHECK(d.at("exit.so") == std::set<std::string>{"probe-exited"});
    CHECK(contains(reasons_text(doc, "exit.so"), "status 7"));
    CHECK(contains(reasons_text(doc, "exit.so"), "--reprobe"));  // how to retry
    const std::string ran = read_file(marker);

    SUBCASE("a restart does not probe unchanged files again; list shows the quarantine") {
        const auto again = run_plughost(args, "", {{"PLUGHOST_TEST_MARKER", marker}});
        CHECK(decisions(parse_json(again.out)) == d);
        CHECK(read_file(marker) == ran);  // no plugin code ran this time
        const auto listed = run_plughost(list_args(plugins, {"--probe-state", state}));
        CHECK(listed.exit_code == 1);
        CHECK(decisions(parse_json(listed.out)).at("abort.so") == std::set<std::string>{"probe-crashed"});
        CHECK(decisions(parse_json(listed.out)).at("good.so").empty());
    }
    SUBCASE("a replaced file (another inode, even with the same bytes) is probed again; the others are not") {
        write_file(marker, "");
        copy_to(paths::create_aborts, plugins / ".new");
        std::filesystem::rename(plugins / ".new", plugins / "abort.so");
        const auto again = run_plughost(args, "", {{"PLUGHOST_TEST_MARKER", marker}});
        CHECK(decisions(parse_json(again.out)).at("abort.so") == std::set<std::string>{"probe-crashed"});
        CHECK(contains(read_file(marker), "create-abort-scorer created"));
        CHECK(!contains(read_file(marker), "create-fail-scorer created"));
    }
    SUBCASE("--reprobe probes again") {
        write_file(marker, "");
        run_plughost(args, "", {{"PLUGHOST_TEST_MARKER", marker}});
        CHECK(read_file(marker).empty());
        auto re = args;
        re.push_back("--reprobe");
        run_plughost(re, "", {{"PLUGHOST_TEST_MARKER", marker}});
        CHECK(contains(read_file(marker), "create-abort-scorer created"));
    }
}

// ---- A hostile plugin directory ------------------------------------------------------------------

namespace {

// Offset of the descsz word of the plughost manifest note in a built plugin.
std::uint64_t note_descsz_offset(const std::filesystem::path &file) {
    const std::string bytes = read_file(file);
    const std::string header("\x01\x00\x00\x00plughost\x00", 13);  // type 1, then the owner
    const auto at = bytes.find(header);
    REQUIRE(at != std::string::npos);
    return at - 4;
}

template <class T> std::vector<std::uint8_t> le(T value) {
    std::vector<std::uint8_t> out(sizeof(T));
    std::memcpy(out.data(), &value, sizeof(T));
    return out;
}

}  // namespace

TEST_CASE("a hostile plugin directory: 3 good plugins among 44 bad files, each bad one refused for its reason") {
    TempDir plugins, dir;
    const auto p = [&](const std::string &name) { return plugins / name; };
    // The good ones.
    copy_to(paths::good_scorer, p("good.so"));
    copy_to(paths::stable_filter, p("filter.so"));
    copy_to(paths::plugin_max_score_picker, p("picker.so"));

    // file name -> the code it must be refused with
    std::map<std::string, std::string> expected;
    const auto bad = [&](const std::string &from, const std::string &name, const std::string &code) {
        if (!from.empty()) copy_to(from, p(name));
        expected[name] = code;
    };
    // Manifest and policy refusals, no code run.
    bad(paths::abi_major_mismatch, "abi-major.so", "abi-major-mismatch");
    bad(paths::abi_minor_newer, "abi-minor.so", "abi-minor-newer");
    bad(paths::no_note, "no-note.so", "no-manifest");
    bad(paths::note_not_json, "note-not-json.so", "bad-manifest");
    bad(paths::missing_mandatory_field, "missing-field.so", "bad-manifest");
    bad(paths::two_manifests, "two-manifests.so", "multiple-manifests");
    bad(paths::alpha_gated, "alpha.so", "below-min-stability");
    bad(paths::past_removal, "past-removal.so", "past-removal");
    bad(paths::tombstoned_type, "tombstoned.so", "tombstoned");
    bad(paths::maturity_regression, "maturity.so", "maturity-regression");
    bad(paths::deprecated_plugin, "dup-a.so", "duplicate-type");
    bad(paths::deprecated_plugin, "dup-b.so", "duplicate-type");
    bad(paths::marker_rejected, "marker.so", "abi-major-mismatch");
    bad(paths::gate_shared_across_tiers, "gate-shared.so", "gate-tier-conflict");
    bad(paths::beta_gated, "gate-off.so", "gate-disabled");
    // The file itself.
    write_file(p("empty.so"), "");
    bad("", "empty.so", "not-elf");
    std::filesystem::create_directory(p("directory.so"));
    bad("", "directory.so", "not-a-regular-file");
    REQUIRE(::mkfifo(p("fifo.so").c_str(), 0644) == 0);
    bad("", "fifo.so", "not-a-regular-file");
    std::filesystem::create_symlink(dir / "nowhere.so", p("dangling.so"));
    bad("", "dangling.so", "symbolic-link");
    std::filesystem::create_symlink("/etc/passwd", p("escaping.so"));
    bad("", "escaping.so", "symbolic-link");
    std::filesystem::create_symlink("../" + dir.path().filename().string() + "/x.so", p("relative-escape.so"));
    bad("", "relative-escape.so", "symbolic-link");
    bad(paths::filter_unordered, "group-writable.so", "writable-by-others");
    ::chmod(p("group-writable.so").c_str(), 0664);
    bad(paths::picker_error_status, "foreign-owner.so", "untrusted-owner");
    REQUIRE(::chown(p("foreign-owner.so").c_str(), 4242, 4242) == 0);
    write_file(p("text.so"), "#!/bin/sh\necho not a plugin\n");
    bad("", "text.so", "not-elf");
    bad(paths::good_scorer, "truncated.so", "truncated-elf");
    truncate_to(p("truncated.so"), 200);
    bad(paths::filter_drop_all, "arm.so", "wrong-architecture");
    patch_bytes(p("arm.so"), offsetof(Elf64_Ehdr, e_machine), le<std::uint16_t>(EM_AARCH64));
    bad(paths::scorer_error_status, "executable.so", "not-a-shared-object");
    patch_bytes(p("executable.so"), offsetof(Elf64_Ehdr, e_type), le<std::uint16_t>(ET_EXEC));
    bad(paths::scorer_nan, "note-overflow.so", "malformed-elf");
    patch_bytes(p("note-overflow.so"), note_descsz_offset(p("note-overflow.so")), le<std::uint32_t>(0x7fffffff));
    write_elf_with_note(p("huge-manifest.so"), manifest_with("huge-scorer", std::string(10 * 1024 * 1024, 'x')));
    bad("", "huge-manifest.so", "malformed-elf");
    write_elf_with_note(p("deep.so"),
                        "{\"type\":\"deep-scorer\",\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}");
    bad("", "deep.so", "bad-manifest");
    write_elf_with_note(p("utf8.so"), manifest_with("utf-scorer", "bad \xff\xfe bytes"));
    bad("", "utf8.so", "bad-manifest");
    // 4 GiB, sparse: a valid plugin followed by zeros. Inspection admits it; it is never copied.
    bad(paths::scorer_out_of_range, "sparse-4g.so", "too-large");
    bad(paths::origin_runpath_scorer, "origin-runpath.so", "origin-runpath");
    truncate_to(p("sparse-4g.so"), 4ull << 30);
    // Only running their code finds these out: the probe, in a child process.
    bad(paths::constructor_segfault, "ctor-segfault.so", "probe-crashed");
    bad(paths::create_aborts, "create-aborts.so", "probe-crashed");
    bad(paths::create_hangs, "create-hangs.so", "probe-timed-out");
    bad(paths::create_fails, "create-fails.so", "probe-failed");
    bad(paths::create_exits, "create-exits.so", "probe-exited");
    bad(paths::score_segfault, "score-segfault.so", "probe-crashed");
    bad(paths::throwing_plugin, "throws.so", "probe-failed");
    bad(paths::missing_role_function, "missing-function.so", "probe-failed");
    bad(paths::missing_entry, "missing-entry.so", "probe-failed");
    bad(paths::unresolved_symbol, "unresolved.so", "probe-failed");
    bad(paths::note_entry_mismatch, "note-entry-mismatch.so", "probe-failed");
    REQUIRE(expected.size() >= 30);

    write_file(dir / "c.json",
               R"({"policy": {"minStability": "beta"}, "featureGates": {"BetaScorer": false}, "plugins": [
        {"type": "good-scorer"}, {"type": "pass-filter"}, {"type": "max-score-picker"},
        {"type": "create-abort-scorer"}, {"type": "create-hang-scorer"}, {"type": "create-fail-scorer"},
        {"type": "create-exit-scorer"}, {"type": "score-crash-scorer"},
        {"type": "throwing-scorer", "parameters": {"throwInCreate": true}}]})");
    const std::string marker = (dir / "marker").string();
    const auto r = run_plughost({"check", "--config", (dir / "c.json").string(), "--plugin-dir",
                                 plugins.path().string(), "--probe", "--probe-timeout", "1000", "--probe-state",
                                 (dir / "state.json").string(), "--output", "json"},
                                "", {{"PLUGHOST_TEST_MARKER", marker}});
    CHECK(!r.timed_out);
    CHECK(r.exit_code == 1);
    const auto doc = parse_json(r.out);
    const auto d = decisions(doc);
    std::set<std::string> admitted;
    for (const auto &[file, codes] : d)
        if (codes.empty()) admitted.insert(file);
    CHECK(admitted == std::set<std::string>{"good.so", "filter.so", "picker.so"});
    for (const auto &[file, code] : expected) {
        CAPTURE(file);
        CAPTURE(reasons_text(doc, file));
        REQUIRE(d.count(file));
        CHECK(d.at(file).count(code));
        CHECK(!reasons_text(doc, file).empty());
    }
    // No refused plugin's code ran in plughost: the marker plugin's constructor never ran.
    std::error_code ec;
    const std::string ran = std::filesystem::exists(marker, ec) ? read_file(marker) : "";
    CHECK(!contains(ran, "marker-rejected"));
}
