// The event-stream runner: one output line per request, one error line per bad event.
#include "deployment.hpp"
#include "load/instantiation.hpp"
#include "run/runner.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

using namespace plughost::host;
using namespace plughost::test;

namespace {

// The in-tree plugins of the build under `config`, and a file the runner writes to.
struct Run {
    TempDir dir;
    LivePipeline pipeline;
    std::unique_ptr<Scheduler> &scheduler = pipeline.scheduler;
    std::FILE *out = std::tmpfile();

    explicit Run(const std::string &config) : pipeline(plan_config(paths::plugin_dir, write_config(config))) {}
    ~Run() { std::fclose(out); }
    std::filesystem::path write_config(const std::string &config) {
        write_file(dir / "config.json", config);
        return dir / "config.json";
    }

    std::vector<boost::json::value> play(const std::string &stream, bool explain = false) {
        OutputSink sink(::fileno(out), "the test's output");
        Runner runner(*scheduler, sink, explain);
        write_file(dir / "stream.jsonl", stream);
        const int fd = ::open((dir / "stream.jsonl").c_str(), O_RDONLY);
        LineReader reader(fd, kMaxEventLine);
        runner.run(reader);
        ::close(fd);
        summary = runner.summary();
        CHECK(summary.end == RunEnd::input_ended);
        std::rewind(out);
        std::string text;
        char buf[4096];
        while (std::size_t n = std::fread(buf, 1, sizeof buf, out)) text.append(buf, n);
        std::vector<boost::json::value> lines_out;
        for (const auto &l : lines(text)) lines_out.push_back(parse_json(l));
        return lines_out;
    }
    RunSummary summary;
};

const std::string kConfig = R"({"plugins": [{"type": "queue-scorer"}, {"type": "max-score-picker"}]})";
const std::string kEndpoints =
    R"({"endpoint": {"name": "a", "address": "10.0.0.1:8000", "metrics": {"waitingQueueSize": 5}}}
{"endpoint": {"name": "b", "address": "10.0.0.2:8000", "metrics": {"waitingQueueSize": 1}}}
)";

}  // namespace

TEST_CASE("each request gets exactly one line, bad lines get error lines with their number, the run goes on") {
    Run r(kConfig);
    const auto out = r.play(kEndpoints + R"({"request": {"id": "r1", "model": "m", "prompt": "hi"}}
not json at all
{"request": {"model": "m"}}
{"request": {"id": "r2", "modle": "m"}}
{"endpointRemoved": "zzz"}

{"endpoint": {"name": "b", "metrics": {"waitingQueueSize": 50}}}
{"request": {"id": "r3"}}
{"endpointRemoved": "a"}
{"endpointRemoved": "b"}
{"request": {"id": "r4"}})");
    REQUIRE(out.size() == 7);
    CHECK(out[0].at("id") == "r1");
    CHECK(out[0].at("profile") == "default");
    CHECK(out[0].at("picked").at(0) == "b");
    CHECK(out[1].at("line") == 4);
    CHECK(out[1].at("error").at("code") == "not-json");
    CHECK(out[2].at("line") == 5);
    CHECK(out[2].at("error").at("code") == "missing-field");
    CHECK(out[3].at("id") == "r2");
    CHECK(out[3].at("error").at("code") == "unknown-field");
    CHECK(out[4].at("error").at("code") == "unknown-endpoint");
    CHECK(out[5].at("id") == "r3");
    CHECK(out[5].at("picked").at(0) == "a");  // b's queue grew
    CHECK(out[6].at("id") == "r4");
    CHECK(out[6].at("error").at("code") == "no-endpoints");
    CHECK(r.summary.requests == 5);
    CHECK(r.summary.decided == 2);
    CHECK(r.summary.error_lines == 5);
    CHECK(r.summary.picks.at("a") == 1);
}

TEST_CASE("--explain adds each filter's result and each scorer's scores") {
    Run r(R"({"plugins": [{"type": "queue-scorer"}, {"type": "kv-cache-utilization-scorer", "name": "kv"},
              {"type": "max-score-picker"}], "schedulingProfiles": [{"name": "main", "plugins": [
              {"pluginRef": "queue-scorer", "weight": 1}, {"pluginRef": "kv", "weight": 2}, {"pluginRef": "max-score-picker"}]}]})");
    const auto out =
        r.play(R"({"endpoint": {"name": "a", "metrics": {"waitingQueueSize": 0, "kvCacheUsagePercent": 100}}}
{"endpoint": {"name": "b", "metrics": {"waitingQueueSize": 4, "kvCacheUsagePercent": 0}}}
{"request": {"id": "r1"}}
)",
               true);
    REQUIRE(out.size() == 1);
    const auto &explain = out[0].at("explain");
    CHECK(out[0].at("profile") == "main");
    CHECK(explain.at("scorers").at(0).at("plugin") == "queue-scorer");
    auto number = [](const boost::json::value &v) { return v.to_number<double>(); };
    CHECK(number(explain.at("scorers").at(0).at("scores").at("a")) == 1.0);
    CHECK(number(explain.at("scorers").at(1).at("weight")) == 2.0);
    CHECK(number(explain.at("scorers").at(1).at("scores").at("a")) == 0.0);
    CHECK(number(explain.at("totals").at("b")) == 2.0);
    CHECK(out[0].at("picked").at(0) == "b");
}

TEST_CASE("a request may choose its profile, an unknown one is an error line") {
    Run r(
        R"({"plugins": [{"type": "queue-scorer"}, {"type": "max-score-picker"}, {"type": "kv-cache-utilization-scorer"}],
              "schedulingProfiles": [{"name": "queue", "plugins": [{"pluginRef": "queue-scorer"}, {"pluginRef": "max-score-picker"}]},
                                     {"name": "kv", "plugins": [{"pluginRef": "kv-cache-utilization-scorer"}, {"pluginRef": "max-score-picker"}]}]})");
    const auto out =
        r.play(R"({"endpoint": {"name": "a", "metrics": {"waitingQueueSize": 0, "kvCacheUsagePercent": 90}}}
{"endpoint": {"name": "b", "metrics": {"waitingQueueSize": 9, "kvCacheUsagePercent": 10}}}
{"request": {"id": "1"}}
{"request": {"id": "2", "profile": "kv"}}
{"request": {"id": "3", "profile": "qeue"}}
)");
    REQUIRE(out.size() == 3);
    CHECK(out[0].at("profile") == "queue");
    CHECK(out[0].at("picked").at(0) == "a");
    CHECK(out[1].at("profile") == "kv");
    CHECK(out[1].at("picked").at(0) == "b");
    CHECK(out[2].at("error").at("code") == "unknown-profile");
    CHECK(contains(std::string(out[2].at("error").at("message").as_string()), "did you mean \"queue\""));
}

TEST_CASE("the prefix cache learns from past picks, and the summary shows its hit rate") {
    Run r(R"({"plugins": [{"type": "prefix-cache-scorer", "parameters": {"blockSize": 4}}, {"type": "queue-scorer"},
              {"type": "max-score-picker"}], "schedulingProfiles": [{"name": "p", "plugins": [
              {"pluginRef": "prefix-cache-scorer", "weight": 10}, {"pluginRef": "queue-scorer"}, {"pluginRef": "max-score-picker"}]}]})");
    // r1 goes to "a" (shorter queue); then "a" gets busy, but r2 shares r1's prefix, so the cache pulls it back to "a".
    const auto out = r.play(R"({"endpoint": {"name": "a", "metrics": {"waitingQueueSize": 0}}}
{"endpoint": {"name": "b", "metrics": {"waitingQueueSize": 1}}}
{"request": {"id": "r1", "prompt": "You are a helpful assistant. Hello"}}
{"endpoint": {"name": "a", "metrics": {"waitingQueueSize": 3}}}
{"request": {"id": "r2", "prompt": "You are a helpful assistant. Bye!"}}
{"request": {"id": "r3", "prompt": "Completely different text here!!"}}
)");
    REQUIRE(out.size() == 3);
    CHECK(out[0].at("picked").at(0) == "a");
    CHECK(out[1].at("picked").at(0) == "a");
    CHECK(out[2].at("picked").at(0) == "b");
    const std::string text = summary_text(r.summary, *r.scheduler);
    CHECK(contains(text, "hits = 1"));
    CHECK(contains(text, "lookups = 3"));
    CHECK(contains(text, "hit rate = 33.3%"));
}

// ---- Bounds: inputs at the scale that once cost seconds of CPU or grew memory without limit ----

namespace {

// A runner writing to /dev/null, fed line by line (the scale tests would write gigabytes otherwise).
struct Direct {
    Run setup{kConfig};
    UniqueFd null{::open("/dev/null", O_WRONLY | O_CLOEXEC)};
    OutputSink sink{null.get(), "/dev/null"};
    Runner runner{*setup.scheduler, sink, false};
    std::size_t number = 0;
    void feed(const std::string &line) { runner.process(line, ++number); }
};

// Collects what a runner writes, to look at its error lines.
struct Captured {
    Run setup{kConfig};
    OutputSink sink{::fileno(setup.out), "the test's output"};
    Runner runner{*setup.scheduler, sink, false};
    std::size_t number = 0;
    void feed(const std::string &line) { runner.process(line, ++number); }
    std::vector<boost::json::value> output() {
        sink.flush();
        std::rewind(setup.out);
        std::string text;
        char buf[4096];
        while (std::size_t n = std::fread(buf, 1, sizeof buf, setup.out)) text.append(buf, n);
        std::vector<boost::json::value> out;
        for (const auto &l : lines(text)) out.push_back(parse_json(l));
        return out;
    }
};

std::string endpoint_with_extras(const std::string &name, std::size_t first, std::size_t count) {
    std::string line = R"({"endpoint": {"name": ")" + name + R"(", "metrics": {"extra": {)";
    for (std::size_t i = first; i < first + count; ++i)
        line += (i == first ? "\"x-" : ",\"x-") + std::to_string(i) + "\":1";
    return line + "}}}}";
}

std::size_t line_count(const std::string &text) { return lines(text).size(); }

}  // namespace

TEST_CASE("an endpoint event with 80,000 extra metric names is one too-large error line, not seconds of CPU") {
    Captured c;
    const std::string line = endpoint_with_extras("vllm-0", 0, 80000);
    REQUIRE(line.size() > 850 * 1024);  // the line that took 8-11 s was 869 KB
    REQUIRE(line.size() < kMaxEventLine);
    c.feed(line);
    c.feed(R"({"endpoint": {"name": "vllm-1", "metrics": {"extra": {"gpuTempC": 61}}}})");
    const auto out = c.output();
    REQUIRE(out.size() == 1);
    CHECK(out[0].at("line") == 1);
    CHECK(out[0].at("error").at("code") == "too-large");
    const std::string message(out[0].at("error").at("message").as_string());
    CHECK(contains(message, "80000"));
    CHECK(contains(message, "256"));
    CHECK(c.runner.endpoints().size() == 1);  // the oversized update changed nothing
    CHECK(c.runner.endpoints().find("vllm-0") == nullptr);
}

TEST_CASE("extra metric names accumulate over updates up to the per-endpoint limit") {
    Captured c;
    c.feed(endpoint_with_extras("a", 0, 200));
    c.feed(endpoint_with_extras("a", 100, 156));  // 100 known names + 56 new: 256, the limit
    c.feed(endpoint_with_extras("a", 0, 256));    // all known: only values change
    c.feed(endpoint_with_extras("a", 256, 1));    // the 257th name
    const auto out = c.output();
    REQUIRE(out.size() == 1);
    CHECK(out[0].at("line") == 4);
    CHECK(out[0].at("error").at("code") == "too-large");
    const std::string message(out[0].at("error").at("message").as_string());
    CHECK(contains(message, "257"));
    CHECK(contains(message, "256"));
    const plughost_endpoint *a = c.runner.endpoints().find("a");
    REQUIRE(a);
    CHECK(a->metric_count == 256);
    // Removing the endpoint forgets its metrics: added again, it starts from none.
    c.feed(R"({"endpointRemoved": "a"})");
    c.feed(endpoint_with_extras("a", 256, 10));
    CHECK(c.runner.endpoints().find("a")->metric_count == 10);
    CHECK(c.output().size() == 1);
}

TEST_CASE("live endpoints are limited: one error line per endpoint beyond the limit, updates still apply") {
    Captured c;
    for (std::size_t i = 0; i < 10000; ++i) c.feed(R"({"endpoint": {"name": "vllm-)" + std::to_string(i) + R"("}})");
    c.feed(R"({"endpoint": {"name": "one-too-many"}})");
    c.feed(R"({"endpoint": {"name": "vllm-7", "metrics": {"waitingQueueSize": 3}}})");
    const auto out = c.output();
    REQUIRE(out.size() == 1);
    CHECK(out[0].at("line") == 10001);
    CHECK(out[0].at("error").at("code") == "too-large");
    CHECK(contains(std::string(out[0].at("error").at("message").as_string()), "10000"));
    CHECK(c.runner.endpoints().size() == 10000);
    CHECK(c.runner.endpoints().find("vllm-7")->waiting_queue_size == 3);
    c.feed(R"({"endpointRemoved": "vllm-0"})");
    c.feed(R"({"endpoint": {"name": "one-too-many"}})");  // room again
    CHECK(c.runner.endpoints().find("one-too-many"));
    CHECK(c.output().size() == 1);
}

TEST_CASE("a million endpoints that come and go under new names leave a bounded summary and an empty table") {
#if defined(__SANITIZE_ADDRESS__)
    const std::size_t names = 200000;  // ASan makes each line ~10x slower; the bound does not depend on the count
#else
    const std::size_t names = 1000000;
#endif
    Direct d;
    for (std::size_t i = 0; i < names; ++i) {
        const std::string name = "vllm-" + std::to_string(i);
        d.feed(R"({"endpoint": {"name": ")" + name + R"("}})");
        d.feed(R"({"request": {"id": "r"}})");
        d.feed(R"({"endpointRemoved": ")" + name + R"("})");
    }
    d.feed(R"({"endpoint": {"name": "live"}})");
    d.feed(R"({"request": {"id": "r"}})");
    CHECK(d.runner.endpoints().size() == 1);
    const RunSummary s = d.runner.summary();
    CHECK(s.decided == names + 1);
    CHECK(s.error_lines == 0);
    CHECK(s.in_flight == 1);  // every request reused the id "r": each lost its predecessor
    CHECK(s.responses_lost == names);
    const std::string text = summary_text(s, *d.setup.scheduler);
    INFO(text.substr(0, 2000));
    CHECK(line_count(text) < 150);
    CHECK(contains(text, "live "));
    CHECK(contains(text, std::to_string(names - 100) + " other removed endpoints: " + std::to_string(names - 100) +
                             " picks"));
}

TEST_CASE("removed endpoints: the 100 picked most are named, the others summed") {
    RemovedPicks removed;
    for (std::uint64_t i = 1; i <= 150; ++i) removed.add("e" + std::to_string(i), i);
    removed.add("never-picked", 0);
    removed.add("e150", 5);   // removed again after it came back: one name, its picks summed
    removed.add("e1", 1000);  // was folded into the others; now among the most picked again
    RunSummary s;
    removed.fill(s);
    CHECK(s.picks.size() == kNamedRemovedEndpoints);
    CHECK(s.picks.at("e150") == 155);
    CHECK(s.picks.at("e1") == 1000);
    CHECK(!s.picks.count("e51"));  // the fewest picks of the named made room for e1
    CHECK(s.picks.count("e52"));
    CHECK(!s.picks.count("never-picked"));
    // e1..e50 (1275 picks) and e51 (51 picks) are the others.
    CHECK(s.other_removed_endpoints == 51);
    CHECK(s.other_removed_picks == 1275 + 51);
}

TEST_CASE("plughost run answers an 80,000-name extra metrics line with one too-large error line") {
    const std::string input = endpoint_with_extras("vllm-0", 0, 80000) + "\n" + R"({"endpoint": {"name": "vllm-1"}})" +
                              "\n" + R"({"request": {"id": "r1"}})" + "\n";
    const auto r = run_plughost({"run"}, input);
    CHECK(r.exit_code == 0);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 2);
    const auto error = parse_json(out[0]);
    CHECK(error.at("error").at("code") == "too-large");
    CHECK(contains(std::string(error.at("error").at("message").as_string()), "the limit is 256"));
    CHECK(parse_json(out[1]).at("picked").at(0) == "vllm-1");
}

TEST_CASE("a failed output stops the run at once, and the summary says why") {
    Run r(kConfig);
    std::string stream = kEndpoints;
    for (int i = 0; i < 100; ++i) stream += "{\"request\": {\"id\": \"r" + std::to_string(i) + "\"}}\n";
    write_file(r.dir / "stream.jsonl", stream);
    const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
    REQUIRE(full >= 0);
    OutputSink sink(full, "/dev/full", 100);  // full after two decisions: the first write fails
    Runner runner(*r.scheduler, sink, false);
    const int fd = ::open((r.dir / "stream.jsonl").c_str(), O_RDONLY | O_CLOEXEC);
    LineReader reader(fd, kMaxEventLine);
    runner.run(reader);
    ::close(fd);
    ::close(full);
    CHECK(runner.summary().end == RunEnd::output_failed);
    CHECK(runner.summary().error == ENOSPC);
    CHECK(runner.summary().lines < 10);  // not the 102 lines of the stream
    CHECK(sink.lines_written() == 0);
    CHECK(contains(summary_text(runner.summary(), *r.scheduler),
                   "stopped early: writing the output failed (No space left on device)"));
}
