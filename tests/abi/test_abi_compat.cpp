// Plugins of older minors on this (1.2) host. ABI 1.0 plugins, built from the released 1.0
// header, are admitted by the CLI, loaded, and run in a profile through `plughost run`; the host
// reads their entry only as far as its 1.0 struct_size and fills the fields 1.0 knows with 1.0's
// meaning. ABI 1.1 plugins, built from the released 1.1 header, publish and read attributes.
#include "admission/admission.hpp"
#include "load/plugin_loader.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <dlfcn.h>

#include <cstddef>

using namespace plughost::host;
using namespace plughost::test;

namespace {

// The size of a 1.0 entry: it ended with `picked` (tests/abi/abi_1_0_layout.c freezes it).
constexpr std::size_t kEntrySize10 = offsetof(plughost_plugin, picked) + sizeof(plughost_plugin::picked);

// A plugin directory with the 1.0 fixtures and the in-tree picker, and a config profile of
// the given scorer and max-score-picker.
struct Deployment {
    TempDir dir, plugins;
    explicit Deployment(const std::string &scorer) {
        copy_to(paths::abi_1_0_scorer, plugins / "abi-1-0-scorer.so");
        copy_to(paths::abi_1_0_kv_scorer, plugins / "abi-1-0-kv-scorer.so");
        copy_to(paths::plugin_max_score_picker, plugins / "max-score-picker.so");
        write_file(dir / "c.json", R"({"plugins": [{"type": ")" + scorer + R"("}, {"type": "max-score-picker"}],
            "schedulingProfiles": [{"name": "default", "plugins": [{"pluginRef": ")" +
                                       scorer + R"(", "weight": 1}, {"pluginRef": "max-score-picker"}]}]})");
    }
    std::vector<std::string> args(std::initializer_list<std::string> command) const {
        std::vector<std::string> a(command);
        for (const std::string &s :
             {std::string("--config"), (dir / "c.json").string(), std::string("--plugin-dir"), plugins.path().string()})
            a.push_back(s);
        return a;
    }
};

// Whether `plughost inspect FILE` reports the ABI version `version` ("1.0.0").
bool inspected_abi(const std::filesystem::path &file, const std::string &version) {
    const auto inspect = run_plughost({"inspect", file.string()});
    bool abi_line = false;
    for (const auto &l : lines(inspect.out)) abi_line |= l.rfind("abiVersion:", 0) == 0 && contains(l, " " + version);
    INFO(inspect.out);
    CHECK(inspect.exit_code == 0);
    return abi_line;
}

// `fixture` admitted and loaded for real, alone in `dir` (as `name`).
LoadResult load_alone(const std::string &fixture, TempDir &dir, const std::string &name) {
    copy_to(fixture, dir / name);
    const Admission admission = admit_directory(dir.path(), foundation_rules(), true);
    REQUIRE(admission.candidates.size() == 1);
    REQUIRE(admission.candidates[0].admitted());
    LoadResult loaded = load_plugin(admission.candidates[0]);
    REQUIRE_MESSAGE(!loaded.error, loaded.error->message);
    return loaded;
}

}  // namespace

TEST_CASE("an ABI 1.0 plugin is admitted by list and check, its entry is the 1.0 size and its 1.1 hooks absent") {
    Deployment d("abi-1-0-scorer");
    const auto list = run_plughost({"list", "--plugin-dir", d.plugins.path().string(), "--output", "json"});
    CHECK_MESSAGE(list.exit_code == 0, list.out);
    bool seen = false;
    const auto listed = parse_json(list.out);
    for (const auto &p : listed.at("plugins").as_array()) {
        if (p.at("type") != "abi-1-0-scorer") continue;
        seen = true;
        CHECK(p.at("decision") == "admitted");
    }
    CHECK_MESSAGE(seen, list.out);
    CHECK(inspected_abi(d.plugins / "abi-1-0-scorer.so", "1.0.0"));
    const auto check = run_plughost(d.args({"check", "--instantiate"}));
    CHECK_MESSAGE(check.exit_code == 0, check.out << check.err);

    // Loaded for real: the host's copy of the entry is 1.0-sized and nothing past it is set.
    TempDir one;
    const LoadResult loaded = load_alone(paths::abi_1_0_scorer, one, "abi-1-0-scorer.so");
    const plughost_plugin &entry = loaded.plugin->entry();
    CHECK(entry.struct_size == kEntrySize10);
    CHECK(entry.abi_minor == 0);
    CHECK((entry.score != nullptr));
    CHECK((entry.picked != nullptr));
    CHECK((entry.pick_profiles == nullptr));
    CHECK((entry.process_results == nullptr));
    CHECK((entry.produce == nullptr));
    CHECK((entry.pre_request == nullptr));
    CHECK((entry.response_started == nullptr));
    CHECK((entry.response_complete == nullptr));
}

TEST_CASE("an ABI 1.0 scorer runs in a profile through plughost run and its score decides") {
    Deployment d("abi-1-0-scorer");
    // Its score is 1 / (1 + waiting queue): b, with the shorter queue, wins every time.
    const std::string input = R"({"endpoint": {"name": "a", "metrics": {"waitingQueueSize": 3}}}
{"endpoint": {"name": "b", "metrics": {"waitingQueueSize": 1}}}
{"request": {"id": "r1"}}
{"request": {"id": "r2", "messages": [{"role": "user", "content": "hi"}]}}
{"response": {"id": "r1", "event": "complete", "status": 200}}
)";
    const auto r = run_plughost(d.args({"run", "--explain"}), input);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 2);
    for (const auto &l : out) {
        const auto v = parse_json(l);
        CHECK(v.at("picked").at(0) == "b");
        const auto &scores = v.at("explain").at("scorers").at(0).at("scores");
        CHECK(scores.at("a").to_number<double>() == doctest::Approx(0.25));
        CHECK(scores.at("b").to_number<double>() == doctest::Approx(0.5));
    }
    CHECK(contains(r.err, "picks = 2"));  // its `picked` hook, within its 1.0 entry, was called
    CHECK_MESSAGE(!contains(r.err, "fault ["), r.err);
}

TEST_CASE("an ABI 1.0 plugin reads kv_cache_usage_percent in percent from a stream giving a fraction, "
          "and nothing beyond its 1.0 entry is ever read") {
    Deployment d("abi-1-0-kv-scorer");
    // kvCacheUsage is a fraction (1.1's unit); the 1.0 plugin scores 1 - percent / 100.
    const std::string input = R"({"endpoint": {"name": "a", "metrics": {"kvCacheUsage": 0.75}}}
{"endpoint": {"name": "b", "metrics": {"kvCacheUsagePercent": 40}}}
{"request": {"id": "r1"}}
{"response": {"id": "r1", "event": "started", "firstByteSeconds": 0.1}}
{"response": {"id": "r1", "event": "complete", "status": 200, "completionTokens": 5}}
{"request": {"id": "r2"}}
)";
    const auto marker = (d.dir / "marker.txt").string();
    const auto r = run_plughost(d.args({"run", "--explain"}), input, {{"PLUGHOST_TEST_MARKER", marker}});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 2);
    for (const auto &l : out) {
        const auto v = parse_json(l);
        const auto &scores = v.at("explain").at("scorers").at(0).at("scores");
        CHECK(scores.at("a").to_number<double>() == doctest::Approx(0.25));  // 75 %
        CHECK(scores.at("b").to_number<double>() == doctest::Approx(0.6));   // 40 %
        CHECK(v.at("picked").at(0) == "b");
    }
    // The entry object holds trap pointers where 1.1 appended its hooks: none was called.
    CHECK_MESSAGE(!std::filesystem::exists(marker), read_file(marker));
    CHECK_MESSAGE(!contains(r.err, "fault ["), r.err);

    // The traps are really there, read as a 1.1 entry; the host's copy stops at the 1.0 size.
    void *library = ::dlopen(paths::abi_1_0_kv_scorer.c_str(), RTLD_NOW | RTLD_LOCAL);
    REQUIRE(library);
    const auto *exported = static_cast<const plughost_plugin *>(::dlsym(library, PLUGHOST_ENTRY_SYMBOL));
    REQUIRE(exported);
    CHECK(exported->struct_size == kEntrySize10);
    CHECK((exported->pre_request != nullptr));
    CHECK((exported->response_complete != nullptr));
    TempDir one;
    const LoadResult loaded = load_alone(paths::abi_1_0_kv_scorer, one, "kv.so");
    CHECK(loaded.plugin->entry().struct_size == kEntrySize10);
    CHECK((loaded.plugin->entry().pre_request == nullptr));
    CHECK((loaded.plugin->entry().response_complete == nullptr));
    ::dlclose(library);
}

TEST_CASE("ABI 1.1 plugins (a producer and its consumer) are admitted, loaded and run on this 1.2 host") {
    // attribute_producer.c and attribute_consumer.c built against the released 1.1 header: they
    // publish and read with the 1.1 calls, and their entries and manifests say 1.1.0.
    TempDir dir, plugins;
    copy_to(paths::abi_1_1_attribute_producer, plugins / "attribute-producer.so");
    copy_to(paths::abi_1_1_attribute_consumer, plugins / "attribute-consumer.so");
    copy_to(paths::plugin_max_score_picker, plugins / "max-score-picker.so");
    write_file(dir / "c.json", R"({"plugins": [{"type": "attribute-consumer"}, {"type": "attribute-producer"},
        {"type": "max-score-picker"}]})");
    const std::vector<std::string> where{"--config", (dir / "c.json").string(), "--plugin-dir",
                                         plugins.path().string()};
    for (const char *file : {"attribute-producer.so", "attribute-consumer.so"}) {
        CHECK(inspected_abi(plugins / file, "1.1.0"));
    }
    std::vector<std::string> check{"check", "--instantiate"};
    check.insert(check.end(), where.begin(), where.end());
    const auto checked = run_plughost(check);
    CHECK_MESSAGE(checked.exit_code == 0, checked.out << checked.err);

    // Loaded for real: the entry is the 1.1 size, its 1.1 hook there.
    TempDir one;
    const LoadResult loaded = load_alone(paths::abi_1_1_attribute_producer, one, "attribute-producer.so");
    CHECK(loaded.plugin->entry().abi_minor == 1);
    CHECK((loaded.plugin->entry().produce != nullptr));

    // Run: the producer publishes with put_attribute, the consumer scores by it.
    std::vector<std::string> run{"run", "--explain"};
    run.insert(run.end(), where.begin(), where.end());
    const auto r = run_plughost(run, R"({"endpoint": {"name": "a"}}
{"endpoint": {"name": "b"}}
{"request": {"id": "r1", "headers": {"x-target": "b"}}}
{"request": {"id": "r2", "headers": {"x-target": "a"}}}
)");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 2);
    CHECK(parse_json(out[0]).at("picked").at(0) == "b");
    CHECK(parse_json(out[1]).at("picked").at(0) == "a");
    CHECK(contains(r.err, "consistent = 2"));  // the consumer read what the producer published
    CHECK_MESSAGE(!contains(r.err, "fault ["), r.err);
}
