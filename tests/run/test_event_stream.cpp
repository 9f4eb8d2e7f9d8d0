#include "run/event_stream.hpp"
#include "run/stop_signals.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

using namespace plughost::host;
using namespace plughost::test;

namespace {

EventError error_of(const std::string &line) {
    Event e = parse_event(line);
    REQUIRE_MESSAGE(std::holds_alternative<EventError>(e), line);
    return std::get<EventError>(e);
}

}  // namespace

TEST_CASE("the three events parse into their fields") {
    Event e =
        parse_event(R"({"endpoint": {"name": "vllm-0", "address": "10.0.0.10:8000", "metrics": {"waitingQueueSize": 3,
        "runningRequests": 2, "kvCacheUsagePercent": 45.5, "activeLoras": ["a", "b"], "maxActiveLoras": 4,
        "extra": {"gpuTemp": 60}}}})");
    REQUIRE(std::holds_alternative<EndpointUpdate>(e));
    const auto &u = std::get<EndpointUpdate>(e);
    CHECK(u.name == "vllm-0");
    CHECK(u.address == "10.0.0.10:8000");
    CHECK(u.waiting_queue_size == 3u);
    CHECK(u.running_requests == 2u);
    CHECK(*u.kv_cache_usage == 0.455);
    CHECK(*u.running_loras == std::vector<std::string>{"a", "b"});
    CHECK(u.max_active_loras == 4u);
    CHECK(u.extra[0].first == "gpuTemp");

    Event partial = parse_event(R"({"endpoint": {"name": "vllm-0", "metrics": {"waitingQueueSize": 0}}})");
    CHECK(!std::get<EndpointUpdate>(partial).address);
    CHECK(!std::get<EndpointUpdate>(partial).kv_cache_usage);

    Event rm = parse_event(R"({"endpointRemoved": "vllm-0"})");
    CHECK(std::get<RemovalEvent>(rm).name == "vllm-0");

    Event r = parse_event(R"({"request": {"id": "r1", "model": "m", "lora": "l", "prompt": "p\u00e9",
        "headers": {"x-session-id": "s"}, "profile": "fast"}})");
    const auto &req = std::get<RequestEvent>(r);
    CHECK(req.id == "r1");
    CHECK(req.prompt == "p\xc3\xa9");
    CHECK(req.headers[0] == std::pair<std::string, std::string>{"x-session-id", "s"});
    CHECK(req.profile == "fast");
}

TEST_CASE("lines that are not valid events get a code and a precise message") {
    CHECK(error_of("{\"request\": ").code == Code::not_json);
    CHECK(error_of("[1]").code == Code::unknown_event);
    CHECK(error_of("{}").code == Code::unknown_event);
    const auto typo = error_of(R"({"requst": {"id": "1"}})");
    CHECK(typo.code == Code::unknown_event);
    CHECK(contains(typo.message, "did you mean \"request\""));
    CHECK(error_of(R"({"request": {"model": "m"}})").code == Code::missing_field);
    CHECK(error_of(R"({"request": {"id": ""}})").code == Code::wrong_type);
    const auto unknown = error_of(R"({"request": {"id": "r9", "promt": "x"}})");
    CHECK(unknown.code == Code::unknown_field);
    CHECK(contains(unknown.message, "did you mean \"prompt\""));
    CHECK(unknown.id == "r9");  // the error line can still name the request
    CHECK(error_of(R"({"request": {"id": "r", "headers": {"a": 1}}})").code == Code::wrong_type);
    CHECK(error_of(R"({"endpoint": {"address": "x"}})").code == Code::missing_field);
    CHECK(error_of(R"({"endpoint": {"name": "a", "metrics": {"waitingQueueSize": -1}}})").code == Code::wrong_type);
    CHECK(error_of(R"({"endpoint": {"name": "a", "metrics": {"kvCacheUsagePercent": 101}}})").code == Code::wrong_type);
    CHECK(error_of(R"({"endpoint": {"name": "a", "metrics": {"queue": 1}}})").code == Code::unknown_field);
    CHECK(error_of(R"({"endpointRemoved": 3})").code == Code::wrong_type);
    CHECK(error_of(R"({"request": {"id": "r"}, "endpoint": {"name": "a"}})").id == "r");
    CHECK(error_of(std::string(100, '[') + std::string(100, ']')).code == Code::not_json);
    // Two requests in one line: the first must not be lost silently.
    const auto twice = error_of(R"({"request": {"id": "a"}, "request": {"id": "b"}})");
    CHECK(twice.code == Code::duplicate_key);
    CHECK(contains(twice.message, "duplicate key \"request\""));
    const auto bad_utf8 = error_of("{\"request\": {\"id\": \"r\xff\"}}");
    CHECK(bad_utf8.code == Code::not_json);
    CHECK(contains(bad_utf8.message, "invalid UTF-8 (byte 0xff) at column 22"));
}

TEST_CASE("the line reader splits lines across reads, handles CRLF, a last line without newline, long lines") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const std::string huge(300000, 'x');
    std::thread writer([&] {
        const std::string text = "first\r\nsecond\n\n" + huge + "\nafter-huge\n" + std::string(5000, 'y') + "\nlast";
        for (std::size_t i = 0; i < text.size(); i += 777)
            (void)!::write(fds[1], text.data() + i, std::min<std::size_t>(777, text.size() - i));
        ::close(fds[1]);
    });
    LineReader reader(fds[0], 100000);
    std::vector<std::pair<std::string, bool>> got;
    std::vector<std::size_t> numbers;
    while (auto line = reader.next()) {
        got.emplace_back(std::string(line->text), line->too_long);
        numbers.push_back(line->number);
    }
    writer.join();
    ::close(fds[0]);
    REQUIRE(got.size() == 7);
    CHECK(got[0].first == "first");
    CHECK(got[1].first == "second");
    CHECK(got[2].first.empty());
    CHECK(got[3].second);  // too long: reported, not kept
    CHECK(got[4].first == "after-huge");
    CHECK(got[5].first.size() == 5000);
    CHECK(got[6].first == "last");
    CHECK(numbers == std::vector<std::size_t>{1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE("an endpoint event with more extra metrics than an endpoint may have is too large") {
    std::string line = R"({"endpoint": {"name": "a", "metrics": {"extra": {)";
    for (std::size_t i = 0; i <= kMaxExtraMetrics; ++i) line += (i ? ",\"m" : "\"m") + std::to_string(i) + "\": 1";
    const auto e = error_of(line + "}}}}");
    CHECK(e.code == Code::too_large);
    CHECK(contains(e.message, "metrics.extra of endpoint \"a\" holds 257 names; the limit is 256 per endpoint"));
    line = R"({"endpoint": {"name": "a", "metrics": {"extra": {)";
    for (std::size_t i = 0; i < kMaxExtraMetrics; ++i) line += (i ? ",\"m" : "\"m") + std::to_string(i) + "\": 1";
    CHECK(std::get<EndpointUpdate>(parse_event(line + "}}}}")).extra.size() == kMaxExtraMetrics);
}

TEST_CASE("a read error ends the input and is kept: a directory read as a stream gives EISDIR") {
    TempDir dir;
    const int fd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    LineReader reader(fd, 1000);
    CHECK(!reader.next());
    CHECK(reader.error() == EISDIR);
    CHECK(!reader.would_block());
    ::close(fd);
}

TEST_CASE("a non-blocking input that has nothing yet is waited for (poll), not taken for its end") {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    std::thread writer([&] {
        for (const char *line : {"one\n", "two\n", "three\n"}) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the reader finds the pipe empty
            (void)!::write(fds[1], line, std::strlen(line));
        }
        ::close(fds[1]);
    });
    LineReader reader(fds[0], 1000);
    std::vector<std::string> got;
    while (auto line = reader.next()) got.emplace_back(line->text);
    writer.join();
    ::close(fds[0]);
    CHECK(got == std::vector<std::string>{"one", "two", "three"});
    CHECK(reader.error() == 0);
}

TEST_CASE("a stop signal ends the reading after the line in progress, and wakes a reader waiting for input") {
    StopSignals stop;
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    LineReader reader(fds[0], 1000, &stop);
    REQUIRE(::write(fds[1], "a\nb\n", 4) == 4);
    auto a = reader.next();
    REQUIRE(a);
    CHECK(a->text == "a");
    auto b = reader.next();
    REQUIRE(b);
    CHECK(b->text == "b");
    // Nothing more to read: the reader waits until the signal wakes it.
    std::thread signaller([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ::kill(::getpid(), SIGTERM);
    });
    CHECK(!reader.next());
    signaller.join();
    CHECK(reader.stopped_by() == SIGTERM);
    CHECK(reader.error() == 0);
    REQUIRE(::write(fds[1], "c\n", 2) == 2);
    CHECK(!reader.next());  // stopped for good
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST_CASE("lines already buffered when a stop signal comes are not returned") {
    StopSignals stop;
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    REQUIRE(::write(fds[1], "x\ny\npartial", 11) == 11);
    LineReader reader(fds[0], 1000, &stop);
    auto x = reader.next();
    REQUIRE(x);
    CHECK(x->text == "x");
    ::raise(SIGINT);  // handled before raise() returns
    CHECK(stop.received() == SIGINT);
    CHECK(!reader.next());
    CHECK(reader.stopped_by() == SIGINT);
    ::close(fds[0]);
    ::close(fds[1]);
}
