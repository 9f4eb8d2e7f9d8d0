// plughost run as a real process, on the bundled example stream and on hostile input.
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace plughost::test;

TEST_CASE("run plays the bundled example with the built-in defaults: one decision per request") {
    const auto stream = paths::source_dir + "/examples/stream.jsonl";
    const auto r = run_plughost({"run", "--input", stream});
    CHECK(r.exit_code == 0);
    std::size_t requests = 0;
    for (const auto &l : lines(read_file(stream))) requests += contains(l, "{\"request\"") ? 1 : 0;
    const auto out = lines(r.out);
    CHECK(out.size() == requests);
    std::set<std::string> ids;
    for (const auto &l : out) {
        const auto v = parse_json(l);
        REQUIRE_MESSAGE(v.as_object().contains("picked"), l);
        ids.insert(std::string(v.at("id").as_string()));
    }
    CHECK(ids.size() == requests);
    CHECK(contains(r.err, "plughost run summary"));
    CHECK(contains(r.err, "hit rate"));
    // The start-up log: one line per plugin file with tier and decision, a warning per deprecation.
    CHECK(contains(r.err, "plugin queue-scorer 1.0.0 [stable] admitted"));
    CHECK(contains(r.err, "plugin kv-headroom-filter 1.0.0 [alpha] rejected (below-min-stability, gate-disabled)"));
    CHECK(contains(r.err, "[deprecated]"));
    CHECK(contains(r.err, "minStability is not set, so it defaults to beta"));
}

TEST_CASE("run reads standard input and answers every request line, even when malformed") {
    const std::string input = R"({"endpoint": {"name": "a", "metrics": {"waitingQueueSize": 1}}}
{"request": {"id": "1", "prompt": "x"}}
{"request": {"id": "2", "prompt": 5}}
garbage
{"request": {"id": "3"}}
)";
    const auto r = run_plughost({"run", "--explain"}, input);
    CHECK(r.exit_code == 0);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 4);
    CHECK(parse_json(out[0]).at("explain").at("scorers").as_array().size() >= 2);
    CHECK(parse_json(out[1]).at("id") == "2");
    CHECK(parse_json(out[1]).at("line") == 3);
    CHECK(parse_json(out[2]).at("error").at("code") == "not-json");
    CHECK(parse_json(out[3]).at("picked").at(0) == "a");
}

TEST_CASE("faulty plugins are counted, disabled loudly, and the run goes on") {
    TempDir dir, plugins;
    copy_to(paths::plugin_queue_scorer, plugins / "queue-scorer.so");
    copy_to(paths::plugin_max_score_picker, plugins / "max-score-picker.so");
    copy_to(paths::scorer_error_status, plugins / "error-scorer.so");
    write_file(dir / "c.json", R"({"plugins": [{"type": "error-scorer", "name": "broken"}, {"type": "queue-scorer"},
        {"type": "max-score-picker"}], "runtime": {"maxConsecutiveFaults": 3}})");
    std::string input = "{\"endpoint\": {\"name\": \"a\"}}\n";
    for (int i = 0; i < 10; ++i) input += "{\"request\": {\"id\": \"r" + std::to_string(i) + "\"}}\n";
    const auto r =
        run_plughost({"run", "--config", (dir / "c.json").string(), "--plugin-dir", plugins.path().string()}, input);
    CHECK(r.exit_code == 0);
    CHECK(lines(r.out).size() == 10);
    CHECK(contains(r.err, "[broken]"));
    CHECK(contains(r.err, "DISABLED after 3 consecutive faults"));
    CHECK(contains(r.err, "calls        3  faults     3"));
    const auto flag = run_plughost({"run", "--config", (dir / "c.json").string(), "--plugin-dir",
                                    plugins.path().string(), "--max-consecutive-faults", "7"},
                                   input);
    CHECK(contains(flag.err, "DISABLED after 7 consecutive faults"));
}

TEST_CASE("run refuses to start on config or policy errors, before reading input, and bad paths exit 2") {
    TempDir dir;
    write_file(dir / "c.json", R"({"plugins": [{"type": "queue-scorr"}]})");
    const auto bad = run_plughost({"run", "--config", (dir / "c.json").string()}, "{\"request\": {\"id\": \"1\"}}\n");
    CHECK(bad.exit_code == 1);
    CHECK(bad.out.empty());
    CHECK(contains(bad.err, "did you mean \"queue-scorer\""));
    CHECK(run_plughost({"run", "--input", (dir / "absent.jsonl").string()}).exit_code == 2);
    CHECK(run_plughost({"run", "--max-consecutive-faults", "0"}).exit_code == 2);
}
