// The plughost command line, run as a real process: output shapes, exit codes, errors.
#include "test_support.hpp"

#include <plughost/plugin.h>

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace plughost::test;
namespace json = boost::json;

namespace {

// A plugin directory with one good plugin and a selection of bad files.
struct MixedDir {
    TempDir dir;
    MixedDir() {
        copy_to(paths::plugin_queue_scorer, dir / "queue-scorer.so");
        copy_to(paths::no_note, dir / "no_note.so");
        copy_to(paths::abi_major_mismatch, dir / "abi_major_mismatch.so");
        write_file(dir / "readme.so", "not a plugin");
        REQUIRE(::mkfifo((dir / "fifo.so").c_str(), 0600) == 0);
    }
};

const json::object &plugin(const json::value &doc, const std::string &file_suffix) {
    for (const auto &p : doc.at("plugins").as_array())
        if (std::string(p.at("file").as_string()).ends_with(file_suffix)) return p.as_object();
    FAIL("no plugin entry for " << file_suffix);
    throw 0;
}

}  // namespace

TEST_CASE("--version and --help") {
    const auto v = run_plughost({"--version"});
    CHECK(v.exit_code == 0);
    CHECK(contains(v.out, "1.0.0"));
    const auto h = run_plughost({"--help"});
    CHECK(h.exit_code == 0);
    for (const char *word : {"list", "inspect", "--log-level", "Exit codes"})
        CHECK_MESSAGE(contains(h.out, word), word);
    const auto lh = run_plughost({"list", "--help"});
    CHECK(lh.exit_code == 0);
    CHECK(contains(lh.out, "--plugin-dir"));
}

TEST_CASE("usage errors exit 2") {
    CHECK(run_plughost({}).exit_code == 2);
    const auto typo = run_plughost({"lst"});
    CHECK(typo.exit_code == 2);
    CHECK(contains(typo.err, "unknown command \"lst\" (did you mean \"list\"?)"));
    CHECK(run_plughost({"--log-level", "warn", "frobnicate"}).exit_code == 2);
    CHECK(run_plughost({"list", "--no-such-flag"}).exit_code == 2);
    CHECK(run_plughost({"list", "--output", "xml"}).exit_code == 2);
    CHECK(run_plughost({"inspect"}).exit_code == 2);
    CHECK(run_plughost({"--log-level", "loud", "list"}).exit_code == 2);
}

TEST_CASE("list --output json: the stable shape, a decision per file, exit 1 when anything is rejected") {
    MixedDir d;
    const auto r = run_plughost({"list", "--plugin-dir", d.dir.path().string(), "--output", "json"});
    CHECK(r.exit_code == 1);
    CHECK(!r.timed_out);  // the FIFO did not hang anything
    const auto doc = parse_json(r.out);
    REQUIRE(doc.at("plugins").as_array().size() == 5);

    const auto &good = plugin(doc, "queue-scorer.so");
    CHECK(good.at("file").as_string() == (d.dir / "queue-scorer.so").string());
    CHECK(good.at("type") == "queue-scorer");
    CHECK(good.at("role") == "scorer");
    CHECK(good.at("version") == "1.0.0");
    CHECK(good.at("stability") == "stable");
    CHECK(good.at("decision") == "admitted");
    CHECK(good.at("reasons").as_array().empty());

    const auto &none = plugin(doc, "no_note.so");
    CHECK(none.at("type").is_null());
    CHECK(none.at("decision") == "rejected");
    CHECK(none.at("reasons").at(0).at("code") == "no-manifest");
    CHECK(contains(std::string(none.at("reasons").at(0).at("message").as_string()), "no_note.so"));

    CHECK(plugin(doc, "abi_major_mismatch.so").at("reasons").at(0).at("code") == "abi-major-mismatch");
    CHECK(plugin(doc, "abi_major_mismatch.so").at("type") == "abi-major-scorer");
    CHECK(plugin(doc, "readme.so").at("reasons").at(0).at("code") == "not-elf");
    CHECK(plugin(doc, "fifo.so").at("reasons").at(0).at("code") == "not-a-regular-file");
}

TEST_CASE("list as a table, and exit 0 when everything is admitted") {
    TempDir dir;
    copy_to(paths::plugin_queue_scorer, dir / "queue-scorer.so");
    const auto r = run_plughost({"list", "--plugin-dir", dir.path().string()});
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "FILE"));
    CHECK(contains(r.out, "queue-scorer.so  queue-scorer  scorer  1.0.0    stable     admitted"));

    MixedDir d;
    const auto mixed = run_plughost({"list", "--plugin-dir", d.dir.path().string()});
    CHECK(mixed.exit_code == 1);
    CHECK(contains(mixed.out, "[no-manifest]"));
}

TEST_CASE("list without --plugin-dir uses $PLUGHOST_PLUGIN_DIR, else the built in-tree plugins") {
    const auto r = run_plughost({"list", "-o", "json"}, "", {{"PLUGHOST_PLUGIN_DIR", ""}});
    const auto doc = parse_json(r.out);
    CHECK(plugin(doc, "queue-scorer.so").at("decision") == "admitted");
    CHECK(plugin(doc, "max-score-picker.so").at("decision") == "admitted");
    // The in-tree alpha plugin is refused under the default policy, so the exit code says so.
    CHECK(plugin(doc, "kv-headroom-filter.so").at("decision") == "rejected");
    CHECK(r.exit_code == 1);

    TempDir dir;
    copy_to(paths::good_scorer, dir / "good.so");
    const auto env = run_plughost({"list", "-o", "json"}, "", {{"PLUGHOST_PLUGIN_DIR", dir.path().string()}});
    CHECK(parse_json(env.out).at("plugins").as_array().size() == 1);
}

TEST_CASE("an unreadable plugin directory exits 2 with the reason on stderr and nothing on stdout") {
    const auto r = run_plughost({"list", "--plugin-dir", "/nonexistent/plughost"});
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(contains(r.err, "cannot list plugin directory /nonexistent/plughost"));
}

TEST_CASE("inspect shows the full manifest without loading the file") {
    const auto table = run_plughost({"inspect", paths::plugin_queue_scorer});
    CHECK(table.exit_code == 0);
    for (const char *line : {"type:         queue-scorer", "stability:    stable",
                             "abiVersion:   " PLUGHOST_ABI_VERSION_STRING, "maxQueueSize", "decision:     admitted"})
        CHECK_MESSAGE(contains(table.out, line), line);

    const auto j = run_plughost({"inspect", paths::plugin_max_score_picker, "--output", "json"});
    CHECK(j.exit_code == 0);
    const auto doc = parse_json(j.out);
    CHECK(doc.at("decision") == "admitted");
    CHECK(doc.at("manifest").at("type") == "max-score-picker");
    CHECK(doc.at("manifest").at("parameters").at(0).at("name") == "maxNumOfEndpoints");

    const auto bad = run_plughost({"inspect", paths::missing_mandatory_field, "-o", "json"});
    CHECK(bad.exit_code == 1);
    const auto bad_doc = parse_json(bad.out);
    CHECK(bad_doc.at("reasons").at(0).at("code") == "bad-manifest");
    CHECK(contains(std::string(bad_doc.at("reasons").at(0).at("message").as_string()), "field stability is missing"));

    CHECK(run_plughost({"inspect", "/nonexistent.so"}).exit_code == 2);
}

TEST_CASE("listing never runs plugin code, admitted or not") {
    TempDir dir;
    const auto marker = dir / "marker.txt";
    TempDir plugins;
    copy_to(paths::marker_rejected, plugins / "marker_rejected.so");
    copy_to(paths::marker_admitted, plugins / "marker_admitted.so");
    const auto r = run_plughost({"list", "--plugin-dir", plugins.path().string(), "-o", "json"}, "",
                                {{"PLUGHOST_TEST_MARKER", marker.string()}});
    CHECK(r.exit_code == 1);
    CHECK(plugin(parse_json(r.out), "marker_admitted.so").at("decision") == "admitted");
    CHECK(!std::filesystem::exists(marker));
    const auto i = run_plughost({"inspect", (plugins / "marker_rejected.so").string()}, "",
                                {{"PLUGHOST_TEST_MARKER", marker.string()}});
    CHECK(i.exit_code == 1);
    CHECK(!std::filesystem::exists(marker));
}

// A file name (or a manifest) may hold any byte: an escape sequence printed as it is would
// recolour the operator's terminal, move its cursor or retitle its window, and a newline would
// forge a line of the report or the log. Tables and logs show control characters as \xNN; the
// JSON output keeps the name exact (JSON escapes it).
TEST_CASE("control characters in file names are shown escaped in tables and logs, never sent to the terminal") {
    TempDir dir;
    const std::string scorer = "e\x1b[31mRED\n.so", junk = "\x1b]0;owned\x07.so";
    copy_to(paths::plugin_queue_scorer, dir / scorer);
    copy_to(paths::plugin_max_score_picker, dir / "max-score-picker.so");
    write_file(dir / junk, "not a plugin");
    auto clean = [](const std::string &text) { return text.find_first_of("\x1b\x07") == std::string::npos; };

    const auto list = run_plughost({"list", "--plugin-dir", dir.path().string()});
    CHECK(list.exit_code == 1);  // the junk file is rejected
    CHECK(clean(list.out));
    CHECK(contains(list.out, "e\\x1b[31mRED\\x0a.so  queue-scorer"));
    CHECK(contains(list.out, "\\x1b]0;owned\\x07.so"));

    const auto json = run_plughost({"list", "--plugin-dir", dir.path().string(), "-o", "json"});
    CHECK(plugin(parse_json(json.out), scorer).at("decision") == "admitted");

    const auto inspect = run_plughost({"inspect", (dir / junk).string()});
    CHECK(clean(inspect.out));
    CHECK(contains(inspect.out, "\\x1b]0;owned\\x07.so"));

    write_file(dir / "config.json", R"({"plugins":[{"type":"queue-scorer"},{"type":"max-score-picker"}]})");
    const auto ran =
        run_plughost({"run", "--plugin-dir", dir.path().string(), "--config", (dir / "config.json").string()},
                     "{\"request\":{\"id\":\"r\",\"prompt\":\"hi\"}}\n");
    CHECK(ran.exit_code == 0);
    CHECK(clean(ran.err));
    CHECK(contains(ran.err, "admitted from " + (dir.path() / "e").string() + "\\x1b[31mRED\\x0a.so"));
}

TEST_CASE("logs go to stderr at the chosen level and stdout stays data") {
    const auto r = run_plughost({"--log-level", "debug", "list", "-o", "json"});
    CHECK(contains(r.err, "debug"));
    parse_json(r.out);
    const auto env = run_plughost({"list", "-o", "json"}, "", {{"SPDLOG_LEVEL", "debug"}});
    CHECK(contains(env.err, "debug"));
    const auto quiet = run_plughost({"list", "-o", "json", "--log-level", "off"}, "", {{"SPDLOG_LEVEL", "debug"}});
    CHECK(quiet.err.empty());
}

TEST_CASE("a report that cannot be written is an error (exit 3), not a silent success") {
    const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
    REQUIRE(full >= 0);
    ProcessOptions o;
    o.out = StdStream::from(full);
    for (const std::vector<std::string> &args :
         {std::vector<std::string>{"list", "--plugin-dir", paths::plugin_dir},
          std::vector<std::string>{"inspect", paths::plugin_queue_scorer},
          std::vector<std::string>{"gates", "--plugin-dir", paths::plugin_dir, "-o", "json"},
          std::vector<std::string>{"check", "--config", paths::source_dir + "/examples/config.json", "--plugin-dir",
                                   paths::plugin_dir}}) {
        CAPTURE(args.front());
        const auto r = run_plughost_with(args, "", o);
        CHECK(r.exit_code == 3);
        CHECK(contains(r.err, "cannot write the report to standard output (No space left on device)"));
    }
    ::close(full);
}
