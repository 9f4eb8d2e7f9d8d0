// plughost serve over real sockets: the real plughost binary serving real in-tree plugin .so
// files in front of plughost-sim model servers, each listening on a port the OS chose.
#include "deployment.hpp"
#include "serve/scrape.hpp"
#include "test_support.hpp"

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>

#include <array>
#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <regex>
#include <thread>
#include <tuple>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace plughost::test;
using namespace std::chrono_literals;

namespace {

struct Reply {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;
    json::value json() const { return json::parse(body); }
};

std::pair<std::string, std::string> host_port(const std::string &address) {
    const auto colon = address.rfind(':');
    return {address.substr(0, colon), address.substr(colon + 1)};
}

// Connects `stream` to `address` and writes one request on it, leaving the response to read.
void send(beast::tcp_stream &stream, const std::string &address, http::verb method, const std::string &target,
          const std::string &body = {}, const std::vector<std::pair<std::string, std::string>> &headers = {}) {
    tcp::resolver resolver(stream.get_executor());
    const auto [host, port] = host_port(address);
    stream.connect(resolver.resolve(host, port));
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, address);
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    for (const auto &[k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
}

Reply call(const std::string &address, http::verb method, const std::string &target, const std::string &body = {},
           const std::vector<std::pair<std::string, std::string>> &headers = {}) {
    asio::io_context io;
    beast::tcp_stream stream(io);
    send(stream, address, method, target, body, headers);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(stream, buffer, parser);
    Reply r;
    r.status = parser.get().result_int();
    r.body = parser.get().body();
    for (const auto &f : parser.get()) r.headers[std::string(f.name_string())] = std::string(f.value());
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return r;
}

Reply get(const std::string &address, const std::string &target) { return call(address, http::verb::get, target); }
Reply post(const std::string &address, const std::string &target, const std::string &body) {
    return call(address, http::verb::post, target, body);
}

// Whether the simulator at `address` reports `n` requests running (generating) now.
bool sim_running(const std::string &address, int n) {
    return get(address, "/metrics")
               .body.find("vllm:num_requests_running{model_name=\"sim\"} " + std::to_string(n) + ".000000") !=
           std::string::npos;
}

// Polls `condition` until it holds (true) or 15 s pass (false).
bool eventually(const std::function<bool()> &condition) {
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return condition();
}

std::string listening_address(Process &p, const std::string &what) {
    const std::string out = p.read_lines(1, 30s);
    const auto at = out.find("listening ");
    REQUIRE_MESSAGE(at != std::string::npos, what << " did not start listening; stdout: " << out);
    std::string address = out.substr(at + 10);
    address = address.substr(0, address.find('\n'));
    return address;
}

std::string sim_path() { return paths::binary_dir + "/tools/plughost-sim"; }

// The value of one series (exact name with labels) in Prometheus text, or -1.
double series_value(const std::string &text, const std::string &series) {
    plughost::host::Sample s;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto nl = text.find('\n', pos);
        const std::string line = text.substr(pos, nl - pos);
        pos = nl == std::string::npos ? text.size() : nl + 1;
        if (line.rfind(series + " ", 0) == 0 && plughost::host::parse_sample(line, s)) return s.value;
    }
    return -1;
}

// A model server simulator on a port the OS chose.
struct Sim {
    std::unique_ptr<Process> process;
    std::string address;
    explicit Sim(const std::string &name, std::vector<std::string> flags = {}) {
        std::vector<std::string> argv{sim_path(), "--name", name};
        argv.insert(argv.end(), flags.begin(), flags.end());
        process = std::make_unique<Process>(argv);
        address = listening_address(*process, "plughost-sim " + name);
    }
    void set(const json::object &settings) const {
        REQUIRE(post(address, "/sim/config", json::serialize(settings)).status == 200);
    }
    void stop() { process.reset(); }
};

// plughost serve over a plugin directory and a config, on a port the OS chose; its log goes to
// a file (so a long test never fills a pipe).
struct Serve {
    Deployment deployment;
    std::filesystem::path config_path;
    std::unique_ptr<Process> process;
    std::string address;
    int log_fd = -1;
    std::string threads = "2";                          ///< --threads
    std::vector<std::pair<int, std::uint64_t>> limits;  ///< setrlimit in serve's process

    Serve(const std::vector<std::string> &plugin_files, const std::string &config_text) : deployment(plugin_files) {
        config_path = deployment.config(config_text);
    }
    ~Serve() {
        process.reset();
        if (log_fd >= 0) ::close(log_fd);
    }
    std::string log() const { return read_file(deployment.dir / "serve.log"); }
    /// `plugin_dir_flag` false: no --plugin-dir (and no $PLUGHOST_PLUGIN_DIR), the config's
    /// pluginDir or the default applies.
    void start(bool plugin_dir_flag = true) {
        log_fd = ::open((deployment.dir / "serve.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ProcessOptions options;
        options.err = StdStream::from(log_fd);
        options.timeout = 120s;
        options.limits = limits;
        // The probe remembers its results here, not in the user's state directory; the marker
        // file records every plugin's code that ran in this process or a child.
        options.env = {{"PLUGHOST_PROBE_STATE", (deployment.dir / "probe-state.json").string()},
                       {"PLUGHOST_TEST_MARKER", (deployment.dir / "marker.txt").string()},
                       {"PLUGHOST_PLUGIN_DIR", ""}};
        std::vector<std::string> args{"serve",     "--config", config_path.string(), "--listen", "127.0.0.1:0",
                                      "--threads", threads};
        if (plugin_dir_flag) args.insert(args.end(), {"--plugin-dir", deployment.plugins.path().string()});
        process = std::make_unique<Process>(plughost_argv(args), options);
        address = listening_address(*process, "plughost serve (log: " + log() + ")");
    }
    void rewrite_config(const std::string &text) const {
        const auto tmp = deployment.dir / "config.json.tmp";
        write_file(tmp, text);
        std::filesystem::rename(tmp, config_path);  // as an editor or a ConfigMap update does
    }
    json::object status() const { return get(address, "/v1/status").json().as_object(); }
    bool ready() const { return get(address, "/readyz").status == 200; }
    std::uint64_t generation() const { return status().at("generation").at("number").to_number<std::uint64_t>(); }
    bool healthy(const std::string &name) const {
        const auto st = status();  // kept: a loop over a temporary's member would dangle
        for (const auto &e : st.at("endpoints").as_array())
            if (e.at("name").as_string() == name) return e.at("healthy").as_bool();
        return false;
    }
    // The value of one series in /metrics (exact name with labels), or -1.
    double metric(const std::string &series) const { return series_value(get(address, "/metrics").body, series); }
};

std::string endpoints_json(const std::vector<std::pair<std::string, std::string>> &list) {
    json::array a;
    for (const auto &[name, address] : list) a.push_back({{"name", name}, {"address", address}});
    return json::serialize(a);
}

// queue-scorer and max-score-picker: the endpoint with the shortest waiting queue wins.
std::string queue_config(const std::string &endpoints, const std::string &serve = "{}") {
    return R"({"apiVersion":"plughost.io/v1","kind":"EndpointPickerConfig",
  "plugins":[{"type":"queue-scorer"},{"type":"max-score-picker"}],
  "endpoints":)" +
           endpoints + R"(, "serve":)" + serve + "}";
}

const std::vector<std::string> kQueuePlugins{paths::plugin_queue_scorer, paths::plugin_max_score_picker};

std::string completion(bool stream, const std::string &model = "m") {
    return json::serialize(json::object{{"model", model}, {"prompt", "hello"}, {"stream", stream}});
}

std::string served_by(const Reply &r) { return r.headers.count("x-sim-name") ? r.headers.at("x-sim-name") : ""; }

}  // namespace

TEST_CASE("serve: the gateway forwards completions and chat completions to the endpoint the plugins pick") {
    Sim a("a", {"--waiting", "0"}), b("b", {"--waiting", "20"});
    Serve serve(kQueuePlugins, queue_config(endpoints_json({{"a", a.address}, {"b", b.address}})));
    serve.start();
    REQUIRE(eventually([&] { return serve.healthy("a") && serve.healthy("b"); }));
    CHECK(serve.ready());
    const Reply r = post(serve.address, "/v1/completions", completion(false));
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(served_by(r) == "a");
    CHECK(r.headers.at("x-gateway-destination-endpoint") == a.address);
    CHECK(r.json().at("choices").at(0).at("text").as_string() == "tok0 tok1 tok2 tok3 ");
    const Reply chat =
        post(serve.address, "/v1/chat/completions", R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
    REQUIRE_MESSAGE(chat.status == 200, chat.body);
    CHECK(chat.json().at("object").as_string() == "chat.completion");
    CHECK(served_by(chat) == "a");
    // The absolute form of the target (a client that takes serve for its HTTP proxy) is routed
    // and forwarded by its path.
    const Reply absolute =
        call(serve.address, http::verb::post, "http://" + serve.address + "/v1/completions", completion(false));
    CHECK_MESSAGE(absolute.status == 200, absolute.body);
    CHECK(served_by(absolute) == "a");
    CHECK(call(serve.address, http::verb::get, "HTTP://example.com?probe=1").status == 404);
    CHECK(call(serve.address, http::verb::get, "http://example.com/healthz").status == 200);
    // A body that is not a completion request: 400 with a JSON error, and the server goes on.
    const Reply bad = post(serve.address, "/v1/completions", R"({"model":"m"})");
    CHECK(bad.status == 400);
    CHECK(bad.json().at("error").at("code").as_string() == "invalid-request");
    CHECK(get(serve.address, "/nowhere").status == 404);
    CHECK(get(serve.address, "/v1/completions").status == 405);
    CHECK(get(serve.address, "/healthz").status == 200);
}

// A model server written here, for heads plughost-sim never sends: /metrics answers as the
// simulator's does (an idle endpoint), every other request gets `response`, byte for byte.
struct RawUpstream {
    asio::io_context io;
    tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    std::string response, metrics;
    std::string address = "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
    std::thread thread;
    explicit RawUpstream(std::string r) : response(std::move(r)) {
        const std::string body = "vllm:num_requests_waiting{model_name=\"raw\"} 0\n"
                                 "vllm:num_requests_running{model_name=\"raw\"} 0\n"
                                 "vllm:kv_cache_usage_perc{model_name=\"raw\"} 0\n";
        metrics = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
                  "\r\n\r\n" + body;
        asio::co_spawn(io, accept(), asio::detached);
        thread = std::thread([this] { io.run(); });
    }
    ~RawUpstream() {
        io.stop();
        thread.join();
    }
    asio::awaitable<void> accept() {
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            asio::co_spawn(io, answer(std::move(socket)), asio::detached);
        }
    }
    asio::awaitable<void> answer(tcp::socket socket) {
        beast::flat_buffer buffer;
        for (;;) {
            http::request<http::string_body> req;
            auto [ec, n] = co_await http::async_read(socket, buffer, req, asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            const std::string &out = req.target() == "/metrics" ? metrics : response;
            auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(out), asio::as_tuple(asio::use_awaitable));
            if (wec) co_return;
        }
    }
};

TEST_CASE("serve: the model server's response head is forwarded: status, reason and fields in order, without its "
          "hop-by-hop fields") {
    RawUpstream raw("HTTP/1.1 201 Made Here\r\nContent-Type: application/json\r\nKeep-Alive: timeout=5\r\n"
                    "X-First: 1\r\nConnection: keep-alive\r\nUpgrade: h2c\r\nx-second: two words\r\n"
                    "Content-Length: 2\r\n\r\n{}");
    Serve serve(kQueuePlugins, queue_config(endpoints_json({{"raw", raw.address}})));
    serve.start();
    REQUIRE(eventually([&] { return serve.ready(); }));
    for (int i = 0; i < 2; ++i) {  // the second on the kept connection to the model server
        asio::io_context io;
        beast::tcp_stream stream(io);
        send(stream, serve.address, http::verb::post, "/v1/completions", completion(false));
        beast::flat_buffer buffer;
        http::response<http::string_body> res;
        http::read(stream, buffer, res);
        CHECK(res.result_int() == 201);
        CHECK(res.reason() == "Made Here");
        CHECK(res.body() == "{}");
        std::vector<std::string> names;
        for (const auto &f : res) names.emplace_back(f.name_string());
        const std::vector<std::string> expected{"Content-Type", "X-First", "x-second", "Content-Length",
                                                "x-gateway-destination-endpoint"};
        CHECK(names == expected);
        CHECK(res["x-second"] == "two words");
        CHECK(res["x-gateway-destination-endpoint"] == raw.address);
    }
}

TEST_CASE("serve: a streamed response passes through byte for byte") {
    Sim a("a", {"--tokens", "20", "--token-ms", "1"});
    Serve serve(kQueuePlugins, queue_config(endpoints_json({{"a", a.address}})));
    serve.start();
    REQUIRE(eventually([&] { return serve.ready(); }));
    const Reply direct = post(a.address, "/v1/completions", completion(true));
    const Reply via = post(serve.address, "/v1/completions", completion(true));
    REQUIRE(via.status == 200);
    CHECK(via.headers.at("Content-Type") == "text/event-stream");
    CHECK(via.body.find("data: [DONE]") != std::string::npos);
    CHECK(via.body == direct.body);
    const Reply chat_direct = post(a.address, "/v1/chat/completions",
                                   R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})");
    const Reply chat_via = post(serve.address, "/v1/chat/completions",
                                R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})");
    CHECK(chat_via.body == chat_direct.body);
}

TEST_CASE("serve: the pick API returns the decision with addresses, and scraped metrics change it") {
    Sim a("a", {"--waiting", "0"}), b("b", {"--waiting", "30"});
    Serve serve(kQueuePlugins, queue_config(endpoints_json({{"a", a.address}, {"b", b.address}})));
    serve.start();
    REQUIRE(eventually([&] { return serve.healthy("a") && serve.healthy("b"); }));
    const Reply p = post(serve.address, "/v1/pick", R"({"id":"r1","model":"m","prompt":"hi"})");
    REQUIRE_MESSAGE(p.status == 200, p.body);
    const auto d = p.json();
    CHECK(d.at("id").as_string() == "r1");
    CHECK(d.at("profile").as_string() == "default");
    CHECK(d.at("endpoint").at("name").as_string() == "a");
    CHECK(d.at("endpoint").at("address").as_string() == a.address);
    CHECK(d.at("headers").at("x-gateway-destination-endpoint").as_string() == a.address);
    // The event stream's shape is accepted too, and its errors come back as 400.
    CHECK(post(serve.address, "/v1/pick", R"({"request":{"id":"r2","prompt":"x"}})").status == 200);
    CHECK(post(serve.address, "/v1/pick", R"({"request":{"prompt":"x"}})").status == 400);
    CHECK(post(serve.address, "/v1/pick", R"({"id":"r3","profile":"nope"})").status == 400);
    // The queues swap: the next scrapes move the decision.
    a.set({{"waiting", 40}});
    b.set({{"waiting", 0}});
    CHECK(eventually([&] {
        return post(serve.address, "/v1/pick", R"({"id":"r4"})").json().at("endpoint").at("name").as_string() == "b";
    }));
    CHECK(served_by(post(serve.address, "/v1/completions", completion(false))) == "b");
}

TEST_CASE("serve: an endpoint whose scrapes fail is unhealthy and left out, and comes back when they succeed") {
    Sim a("a", {"--waiting", "10"}), b("b", {"--waiting", "0"});
    Serve serve(kQueuePlugins,
                queue_config(endpoints_json({{"a", a.address}, {"b", b.address}}), R"({"unhealthyAfterMs": 150})"));
    serve.start();
    REQUIRE(eventually([&] { return serve.healthy("a") && serve.healthy("b"); }));
    CHECK(served_by(post(serve.address, "/v1/completions", completion(false))) == "b");
    b.set({{"metrics_fail", true}});
    REQUIRE(eventually([&] { return !serve.healthy("b"); }));
    CHECK(serve.metric("plughost_endpoint_healthy{endpoint=\"b\"}") == 0);
    CHECK(serve.metric("plughost_scrape_errors_total{endpoint=\"b\"}") > 0);
    for (int i = 0; i < 3; ++i) CHECK(served_by(post(serve.address, "/v1/completions", completion(false))) == "a");
    b.set({{"metrics_fail", false}});
    REQUIRE(eventually([&] { return serve.healthy("b"); }));
    CHECK(served_by(post(serve.address, "/v1/completions", completion(false))) == "b");
    // Nothing healthy: not ready, and requests get 503.
    a.set({{"metrics_fail", true}});
    b.set({{"metrics_fail", true}});
    REQUIRE(eventually([&] { return !serve.ready(); }));
    const Reply r = post(serve.address, "/v1/completions", completion(false));
    CHECK(r.status == 503);
    CHECK(r.json().at("error").at("code").as_string() == "no-endpoints");
}

TEST_CASE("serve: a connect failure before anything was sent picks again without that endpoint") {
    Sim a("a", {"--waiting", "10"});
    auto gone = std::make_unique<Sim>("gone", std::vector<std::string>{"--waiting", "0"});
    const std::string gone_address = gone->address;
    Serve serve(kQueuePlugins, queue_config(endpoints_json({{"a", a.address}, {"gone", gone_address}}),
                                            R"({"unhealthyAfterMs": 600000})"));
    serve.start();
    REQUIRE(eventually([&] { return serve.healthy("a") && serve.healthy("gone"); }));
    gone->stop();  // still healthy (its last scrape was fine), but nothing listens any more
    const Reply r = post(serve.address, "/v1/completions", completion(false));
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(served_by(r) == "a");
    CHECK(serve.metric("plughost_repicks_total") >= 1);
    CHECK(serve.metric("plughost_responses_total{outcome=\"failed\"}") >= 1);
}

TEST_CASE("serve: forwarded requests reuse a kept connection to the model server, and one it closed is replaced "
          "without counting as a failure") {
    // The simulator closes a kept connection idle for 2 s (as uvicorn does after 5 s).
    Sim a("a", {"--keep-alive-ms", "2000"});
    Serve serve(kQueuePlugins, queue_config(endpoints_json({{"a", a.address}})));
    // Each worker thread keeps its own pool (as each nginx worker process does), and each of
    // these requests comes on a new client connection, which may land on either thread: one
    // thread, so that the connections counted are the pool's doing, not the spread's.
    serve.threads = "1";
    serve.start();
    REQUIRE(eventually([&] { return serve.ready(); }));
    auto connections = [&] {
        return series_value(get(a.address, "/metrics").body, "sim_completion_connections_total");
    };
    for (int i = 0; i < 3; ++i) REQUIRE(post(serve.address, "/v1/completions", completion(false)).status == 200);
    const Reply streamed = post(serve.address, "/v1/completions", completion(true));
    REQUIRE(streamed.status == 200);
    CHECK(streamed.body.find("data: [DONE]") != std::string::npos);
    CHECK(connections() == 1);  // four requests, one connection
    // Idle past the server's keep-alive time: it closed the kept connection; a new one is opened.
    std::this_thread::sleep_for(2500ms);
    REQUIRE(post(serve.address, "/v1/completions", completion(false)).status == 200);
    CHECK(connections() == 2);
    // The server closes the kept connection as the next request arrives on it (its idle timer
    // fired at that moment): the request goes again on a new connection, to the same endpoint.
    a.set({{"drop_reused", true}});
    const Reply r = post(serve.address, "/v1/completions", completion(false));
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(served_by(r) == "a");
    CHECK(connections() == 3);
    CHECK(serve.metric("plughost_repicks_total") == 0);
    CHECK(serve.metric("plughost_responses_total{outcome=\"failed\"}") == -1);  // none failed
    CHECK(serve.metric("plughost_responses_total{outcome=\"complete\"}") == 6);
    CHECK(serve.metric("plughost_requests_in_flight") == 0);
}

// Before any byte of the response: only the watch on the client's connection can notice (no
// write to the client fails). The response would come after 40 s, far past `eventually`'s 15 s.
TEST_CASE("serve: a client that disconnects while waiting for a whole response cancels the upstream request") {
    Sim a("a", {"--latency-ms", "40000"});
    Serve serve(kQueuePlugins, queue_config(endpoints_json({{"a", a.address}})));
    serve.start();
    REQUIRE(eventually([&] { return serve.ready(); }));
    {
        asio::io_context io;
        beast::tcp_stream stream(io);
        send(stream, serve.address, http::verb::post, "/v1/completions", completion(false));
        REQUIRE(eventually([&] { return sim_running(a.address, 1); }));  // forwarded: the model server is generating
        stream.socket().close();
    }
    CHECK(eventually([&] { return serve.metric("plughost_responses_total{outcome=\"cancelled\"}") == 1; }));
    CHECK(serve.metric("plughost_requests_in_flight") == 0);
}

TEST_CASE("serve: a client that disconnects cancels the upstream request") {
    Sim a("a", {"--tokens", "200", "--token-ms", "20"});
    Serve serve(kQueuePlugins, queue_config(endpoints_json({{"a", a.address}})));
    serve.start();
    REQUIRE(eventually([&] { return serve.ready(); }));
    {
        asio::io_context io;
        beast::tcp_stream stream(io);
        send(stream, serve.address, http::verb::post, "/v1/completions", completion(true));
        beast::flat_buffer buffer;
        http::response_parser<http::buffer_body> parser;
        http::read_header(stream, buffer, parser);
        CHECK(parser.get().result_int() == 200);
        stream.socket().close();  // gone after the first events of a 4-second stream
    }
    CHECK(eventually([&] { return serve.metric("plughost_responses_total{outcome=\"cancelled\"}") == 1; }));
    CHECK(serve.metric("plughost_requests_in_flight") == 0);
    // The model server's request ended too: its running count is back to 0 long before 4 s.
    CHECK(eventually([&] { return sim_running(a.address, 0); }));
}

// HTTP/1.1 lets a client send its next requests before the answers (pipelining): they arrive in
// one segment with the first, and are answered in order. The wait for each answer is bounded
// (poll, 10 s) far below serve's idle time-out (60 s here), which a request parsed late would
// only be answered after.
TEST_CASE("serve: pipelined requests on one connection are all answered, in order") {
    Sim a("a");
    Serve serve(kQueuePlugins, queue_config(endpoints_json({{"a", a.address}}), R"({"idleTimeoutMs": 60000})"));
    serve.start();
    REQUIRE(eventually([&] { return serve.ready(); }));
    const std::vector<std::pair<std::string, std::string>> requests{
        {"/v1/completions", completion(false)},
        {"/v1/pick", R"({"id":"p1","model":"m","prompt":"hi"})"},
        {"/v1/chat/completions", R"({"model":"m","messages":[{"role":"user","content":"hi"}]})"},
        {"/v1/completions", completion(true)}};
    std::string wire;
    for (const auto &[target, body] : requests)
        wire += "POST " + target + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body;
    asio::io_context io;
    tcp::socket socket(io);
    const auto [host, port] = host_port(serve.address);
    asio::connect(socket, tcp::resolver(io).resolve(host, port));
    asio::write(socket, asio::buffer(wire));  // one write: the requests reach serve together
    beast::flat_buffer buffer;
    for (const auto &[target, body] : requests) {
        http::response_parser<http::string_body> parser;
        parser.eager(true);  // put() parses the body too, not only the header
        beast::error_code ec;
        while (!parser.is_done()) {
            if (buffer.size() != 0) {
                buffer.consume(parser.put(buffer.data(), ec));
                if (ec == http::error::need_more) ec = {};
                REQUIRE_MESSAGE(!ec, target << ": " << ec.message());
                if (parser.is_done()) break;
            }
            pollfd pfd{socket.native_handle(), POLLIN, 0};
            REQUIRE_MESSAGE(::poll(&pfd, 1, 10000) == 1, "no answer to the pipelined " << target << " within 10 s");
            const auto n = socket.read_some(buffer.prepare(65536), ec);
            REQUIRE_MESSAGE(!ec, target << ": " << ec.message());
            buffer.commit(n);
        }
        INFO(target);
        CHECK(parser.get().result_int() == 200);
        if (target == "/v1/pick") CHECK(json::parse(parser.get().body()).at("endpoint").at("name") == "a");
        else CHECK(parser.get().body().find("tok0") != std::string::npos);
    }
    CHECK(serve.metric("plughost_responses_total{outcome=\"complete\"}") == 3);
}

// Writes `wire` on a new connection to `address` and returns every byte serve sends back until it
// closes the connection; "<still open>" is appended when it has not closed it within 10 s (far
// below the idle time-out of the tests using this).
std::string converse(const std::string &address, const std::string &wire) {
    asio::io_context io;
    tcp::socket socket(io);
    const auto [host, port] = host_port(address);
    asio::connect(socket, tcp::resolver(io).resolve(host, port));
    asio::write(socket, asio::buffer(wire));
    std::string got;
    for (;;) {
        pollfd pfd{socket.native_handle(), POLLIN, 0};
        if (::poll(&pfd, 1, 10000) != 1) return got + "<still open>";
        std::array<char, 65536> chunk;
        beast::error_code ec;
        const auto n = socket.read_some(asio::buffer(chunk), ec);
        got.append(chunk.data(), n);
        if (ec) return got;
    }
}

std::size_t occurrences(const std::string &text, const std::string &what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// RFC 9112: a request whose head does not frame its body reliably, or names no single Host, is
// answered 400 and its connection closed. Without the check, a Transfer-Encoding not ending in
// chunked left the body unread and its bytes were answered as a second request (here, a pick
// hidden in the body: request smuggling past any proxy in front that framed it otherwise).
TEST_CASE("serve: a request whose framing RFC 9112 refuses gets 400 and a close, its body never taken for a request") {
    Sim a("a");
    Serve serve(kQueuePlugins, queue_config(endpoints_json({{"a", a.address}}), R"({"idleTimeoutMs": 60000})"));
    serve.start();
    REQUIRE(eventually([&] { return serve.ready(); }));
    const std::string hidden = "POST /v1/pick HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\n\r\n"
                               R"({"id":"smuggled","prompt":"h"})";
    const std::vector<std::pair<std::string, std::string>> cases{
        {"gzip", "POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n" + hidden},
        {"chunked, identity",
         "POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + hidden},
        {"HTTP/1.0", "POST /v1/pick HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + hidden},
        {"two Hosts", "POST /v1/pick HTTP/1.1\r\nHost: x\r\nHost: y\r\nContent-Length: 0\r\n\r\n" + hidden},
        {"no Host", "POST /v1/pick HTTP/1.1\r\nContent-Length: 0\r\n\r\n" + hidden}};
    for (const auto &[what, wire] : cases) {
        INFO(what);
        const std::string got = converse(serve.address, wire);
        INFO(got);
        CHECK(got.rfind("HTTP/1.1 400 ", 0) == 0);
        CHECK(occurrences(got, "Content-Length: ") == 1);  // one answer
        CHECK(contains(got, "\"code\":\"bad-request\""));
        CHECK(!contains(got, "smuggled"));
        CHECK(!contains(got, "<still open>"));
    }
    CHECK(post(serve.address, "/v1/completions", completion(false)).status == 200);  // and it goes on
}

// A client asking for the connection to end (Connection: close, or HTTP/1.0 without keep-alive)
// gets it ended after its answer, whoever makes the answer: the model server, the pick API, or
// plughost refusing the request. Before, answers plughost made itself kept the connection open
// until the idle time-out (60 s here), and a client reading to the end of the stream waited.
TEST_CASE("serve: every answer honours Connection: close and HTTP/1.0") {
    Sim a("a");
    Serve serve(kQueuePlugins, queue_config(endpoints_json({{"a", a.address}}), R"({"idleTimeoutMs": 60000})"));
    serve.start();
    REQUIRE(eventually([&] { return serve.ready(); }));
    auto request = [](const std::string &version, const std::string &target, const std::string &body,
                      const std::string &connection) {
        return "POST " + target + " " + version + "\r\nHost: x\r\n" + connection +
               "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    };
    const std::string pick = R"({"id":"p","prompt":"hi"})";
    const std::vector<std::tuple<std::string, std::string, int>> cases{
        {request("HTTP/1.1", "/v1/completions", completion(false), "Connection: close\r\n"), "forwarded", 200},
        {request("HTTP/1.1", "/v1/pick", pick, "Connection: close\r\n"), "pick", 200},
        {request("HTTP/1.0", "/v1/pick", pick, ""), "pick, HTTP/1.0", 200},
        {request("HTTP/1.1", "/v1/completions", "{", "Connection: close\r\n"), "not JSON", 400},
        {request("HTTP/1.1", "/v1/completions", R"({"model":"m"})", "Connection: close\r\n"), "no prompt", 400},
        {request("HTTP/1.1", "/v1/pick", "[]", "Connection: close\r\n"), "bad pick", 400},
        {request("HTTP/1.0", "/v1/chat/completions", R"({"model":"m","messages":[]})", ""), "HTTP/1.0, 400", 400}};
    for (const auto &[wire, what, status] : cases) {
        INFO(what);
        const std::string got = converse(serve.address, wire);
        CHECK(got.rfind("HTTP/1.1 " + std::to_string(status) + " ", 0) == 0);
        CHECK(!contains(got, "<still open>"));
    }

    // HTTP/1.0 has no chunked framing: a streamed response goes as it comes, ended by the close.
    const std::string streamed = converse(serve.address, request("HTTP/1.0", "/v1/completions", completion(true), ""));
    CHECK(streamed.rfind("HTTP/1.1 200 ", 0) == 0);
    CHECK(!contains(streamed, "Transfer-Encoding"));
    CHECK(contains(streamed, "\r\n\r\ndata: {"));  // the events right after the head, no chunk size
    CHECK(contains(streamed, "data: [DONE]"));
    CHECK(!contains(streamed, "<still open>"));

    // An HTTP/1.0 client asking to keep its connection is told it is kept (ab -k waits for the
    // close otherwise), and its next request is answered on it.
    for (const std::string target : {"/v1/pick", "/v1/completions"}) {
        INFO(target);
        const std::string body = target == "/v1/pick" ? pick : completion(false);
        const std::string got =
            converse(serve.address, request("HTTP/1.0", target, body, "Connection: keep-alive\r\n") +
                                        request("HTTP/1.0", target, body, ""));
        CHECK(occurrences(got, "HTTP/1.1 200 OK") == 2);
        CHECK(occurrences(got, "Connection: keep-alive") == 1);  // the first answer; the second closes
        CHECK(!contains(got, "<still open>"));
    }
}

// Out of descriptors, the listening socket stays readable while every accept fails: serve pauses
// accepting (100 ms at a time) instead of retrying at once, says so once, counts the failures,
// and accepts again once descriptors are free.
TEST_CASE("serve: out of file descriptors, accepting pauses instead of spinning, and resumes") {
    Sim a("a");
    Serve serve(kQueuePlugins, queue_config(endpoints_json({{"a", a.address}})));
    serve.limits = {{RLIMIT_NOFILE, 64}};
    serve.start();
    REQUIRE(eventually([&] { return serve.ready(); }));
    asio::io_context io;
    const auto [host, port] = host_port(serve.address);
    const auto where = tcp::resolver(io).resolve(host, port);
    std::vector<tcp::socket> clients;
    for (int i = 0; i < 80; ++i) {  // more than serve has descriptors left: the rest wait in its backlog
        clients.emplace_back(io);
        asio::connect(clients.back(), where);
    }
    REQUIRE(eventually([&] { return contains(serve.log(), "Too many open files"); }));
    std::this_thread::sleep_for(1s);  // a busy loop would fail (and log) hundreds of thousands of times here
    clients.clear();
    REQUIRE(eventually([&] { return serve.ready(); }));
    const std::string log = serve.log();
    CHECK(std::count_if(log.begin(), log.end(), [](char c) { return c == '\n'; }) < 200);
    CHECK(log.find("accepting a connection failed") == log.rfind("accepting a connection failed"));  // once in 10 s
    CHECK(contains(log, "ulimit -n"));
    CHECK(contains(log, "accepting connections again"));
    const double errors = serve.metric("plughost_accept_errors_total");
    CHECK(errors >= 1);
    CHECK(errors < 200);  // one per pause: about 10 a second
    CHECK(post(serve.address, "/v1/completions", completion(false)).status == 200);
}

TEST_CASE("serve: limits and time-outs answer with their status and a JSON error, and the server goes on") {
    Sim a("a", {"--latency-ms", "0"});
    Serve serve(kQueuePlugins,
                queue_config(endpoints_json({{"a", a.address}}),
                             R"({"maxBodyBytes": 1000, "maxHeaderBytes": 1024, "firstByteTimeoutMs": 200})"));
    serve.start();
    REQUIRE(eventually([&] { return serve.ready(); }));
    const Reply big = post(serve.address, "/v1/completions", completion(false, std::string(2000, 'm')));
    CHECK(big.status == 413);
    CHECK(big.json().at("error").at("code").as_string() == "body-too-large");
    const Reply header = call(serve.address, http::verb::post, "/v1/completions", completion(false),
                              {{"x-filler", std::string(2000, 'h')}});
    CHECK(header.status == 431);
    CHECK(header.json().at("error").at("code").as_string() == "header-too-large");
    a.set({{"latency_ms", 1500}});
    const Reply slow = post(serve.address, "/v1/completions", completion(false));
    CHECK(slow.status == 504);
    CHECK(slow.json().at("error").at("code").as_string() == "first-byte-timeout");
    a.set({{"latency_ms", 0}});
    CHECK(post(serve.address, "/v1/completions", completion(false)).status == 200);
}

TEST_CASE("serve: a plugin dropped in with a config using it becomes a new generation, and is used") {
    Sim a("a");
    Serve serve(kQueuePlugins, queue_config(endpoints_json({{"a", a.address}})));
    serve.start();
    REQUIRE(eventually([&] { return serve.ready(); }));
    CHECK(serve.generation() == 1);
    serve.deployment.add(paths::plugin_kv_cache_utilization_scorer, "kv_cache_utilization_scorer.so");
    serve.rewrite_config(R"({"apiVersion":"plughost.io/v1","kind":"EndpointPickerConfig",
      "plugins":[{"type":"queue-scorer"},{"type":"kv-cache-utilization-scorer"},{"type":"max-score-picker"}],
      "endpoints":)" + endpoints_json({{"a", a.address}}) +
                         "}");
    auto has_kv_instance = [&] {
        const auto st = serve.status();
        for (const auto &i : st.at("generation").at("instances").as_array())
            if (i.at("name").as_string() == "kv-cache-utilization-scorer") return true;
        return false;
    };
    REQUIRE_MESSAGE(eventually(has_kv_instance), serve.log());
    CHECK(serve.generation() >= 2);
    CHECK(post(serve.address, "/v1/completions", completion(false)).status == 200);
    CHECK(serve.metric("plughost_plugin_calls_total{instance=\"kv-cache-utilization-scorer\",type=\"kv-cache-"
                       "utilization-scorer\"}") >= 1);
    CHECK(serve.metric("plughost_generations_applied_total") >= 1);
}

TEST_CASE("serve: a broken config edit is refused whole and the serving generation stays") {
    Sim a("a");
    Serve serve(kQueuePlugins, queue_config(endpoints_json({{"a", a.address}})));
    serve.start();
    REQUIRE(eventually([&] { return serve.ready(); }));
    serve.rewrite_config(R"({"apiVersion":"plughost.io/v1","kind":"EndpointPickerConfig",
      "plugins":[{"type":"no-such-scorer"},{"type":"max-score-picker"}]})");
    REQUIRE_MESSAGE(eventually([&] { return serve.metric("plughost_generations_refused_total") == 1; }), serve.log());
    const auto st = serve.status();
    CHECK(st.at("generation").at("number").as_int64() == 1);
    CHECK_FALSE(st.at("reload").at("ok").as_bool());
    CHECK(json::serialize(st.at("reload").at("errors")).find("no-such-scorer") != std::string::npos);
    CHECK(serve.metric("plughost_last_reload_ok") == 0);
    CHECK(post(serve.address, "/v1/completions", completion(false)).status == 200);
    CHECK(serve.log().find("keeps serving") != std::string::npos);
}

TEST_CASE("serve: reloads changing the limits while requests run: no request fails, the new limit applies, and "
          "no data race (a ThreadSanitizer build reports none in the log)") {
    Sim a("a", {"--latency-ms", "0"});
    auto config = [&](int max_body) {
        return queue_config(endpoints_json({{"a", a.address}}),
                            R"({"maxBodyBytes": )" + std::to_string(max_body) + R"(, "idleTimeoutMs": )" +
                                std::to_string(5000 + max_body) + R"(, "firstByteTimeoutMs": )" +
                                std::to_string(10000 + max_body) + "}");
    };
    Serve serve(kQueuePlugins, config(4000));
    serve.start();
    REQUIRE(eventually([&] { return serve.ready(); }));
    const std::string body = completion(false, std::string(1000, 'm'));  // ~1050 bytes
    std::atomic<bool> stop{false};
    std::atomic<int> ok{0}, failed{0};
    std::vector<std::thread> clients;
    for (int i = 0; i < 3; ++i)
        clients.emplace_back([&] {
            while (!stop) {
                try {
                    (post(serve.address, "/v1/completions", body).status == 200 ? ok : failed)++;
                } catch (const std::exception &) {
                    ++failed;
                }
            }
        });
    std::uint64_t generation = 1;
    for (int round = 0; round < 6; ++round) {
        serve.rewrite_config(config(round % 2 ? 4000 : 3000));
        REQUIRE_MESSAGE(eventually([&] { return serve.generation() > generation; }), serve.log());
        generation = serve.generation();
    }
    stop = true;
    for (auto &t : clients) t.join();
    CHECK(ok > 0);
    CHECK(failed == 0);
    // The last generation's limit is the one in force.
    serve.rewrite_config(config(800));
    REQUIRE(eventually([&] { return serve.generation() > generation; }));
    const Reply big = post(serve.address, "/v1/completions", body);
    CHECK(big.status == 413);
    CHECK(big.json().at("error").at("message").as_string().find("exceeds 800 bytes") != std::string::npos);
    CHECK_MESSAGE(serve.log().find("ThreadSanitizer") == std::string::npos, serve.log());
}

TEST_CASE("serve: SIGTERM lets the request in flight finish, then exits 0") {
    Sim a("a", {"--latency-ms", "600"});
    Serve serve(kQueuePlugins, queue_config(endpoints_json({{"a", a.address}})));
    serve.start();
    REQUIRE(eventually([&] { return serve.ready(); }));
    auto pending =
        std::async(std::launch::async, [&] { return post(serve.address, "/v1/completions", completion(false)); });
    REQUIRE(eventually([&] { return serve.metric("plughost_requests_in_flight") == 1; }));
    serve.process->send(SIGTERM);
    const Reply r = pending.get();
    CHECK(r.status == 200);
    const auto result = serve.process->wait();
    CHECK(result.exit_code == 0);
}

TEST_CASE("serve: /metrics is valid Prometheus text that adds up") {
    Sim a("a", {"--waiting", "0"}), b("b", {"--waiting", "9"});
    Serve serve(kQueuePlugins, queue_config(endpoints_json({{"a", a.address}, {"b", b.address}})));
    serve.start();
    REQUIRE(eventually([&] { return serve.healthy("a") && serve.healthy("b"); }));
    for (int i = 0; i < 5; ++i) REQUIRE(post(serve.address, "/v1/completions", completion(i % 2 == 0)).status == 200);
    // A forwarded request is counted once its last byte is written, which can be after the
    // client has read it: wait for the last counter the server updates (the HTTP one).
    REQUIRE(eventually(
        [&] { return serve.metric("plughost_http_requests_total{path=\"/v1/completions\",code=\"200\"}") == 5; }));
    const std::string text = get(serve.address, "/metrics").body;
    std::map<std::string, std::string> types;
    double decisions = 0, info = 0;
    plughost::host::Sample s;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto nl = text.find('\n', pos);
        const std::string line = text.substr(pos, nl - pos);
        pos = nl == std::string::npos ? text.size() : nl + 1;
        if (line.rfind("# TYPE ", 0) == 0) {
            const auto rest = line.substr(7);
            types[rest.substr(0, rest.find(' '))] = rest.substr(rest.find(' ') + 1);
            continue;
        }
        if (line.empty() || line[0] == '#') continue;
        REQUIRE_MESSAGE(plughost::host::parse_sample(line, s), line);
        std::string_view family = s.name;
        for (std::string_view suffix : {"_bucket", "_sum", "_count"})
            if (!types.count(std::string(family)) && family.ends_with(suffix)) family.remove_suffix(suffix.size());
        CHECK_MESSAGE(types.count(std::string(family)), "no TYPE for " << line);
        if (s.name == "plughost_decisions_total") decisions += s.value;
        if (s.name == "plughost_plugin_info") ++info;
    }
    CHECK(decisions == 5);
    CHECK(info == 2);
    CHECK(types["plughost_request_seconds"] == "histogram");
    CHECK(serve.metric("plughost_request_seconds_count") == 5);
    CHECK(serve.metric("plughost_decisions_total{profile=\"default\",endpoint=\"a\"}") == 5);
    CHECK(serve.metric("plughost_http_requests_total{path=\"/v1/completions\",code=\"200\"}") == 5);
}

TEST_CASE("serve: start-up runs the pre-flight and refuses to start on errors, with the report") {
    Deployment d(kQueuePlugins);
    const auto config = d.config(R"({"apiVersion":"plughost.io/v1","kind":"EndpointPickerConfig",
      "plugins":[{"type":"queue-scorer"},{"type":"max-score-picker"}],
      "endpoints":[{"name":"a","address":"nowhere"}], "serve":{"threads":0}})");
    const auto r = run_plughost(
        {"serve", "--config", config, "--plugin-dir", d.plugins.path().string(), "--listen", "127.0.0.1:0"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("/endpoints/0/address") != std::string::npos);
    CHECK(r.err.find("/serve/threads") != std::string::npos);
}

TEST_CASE("serve: the config's pluginDir (relative to the config) names the plugin directory, a missing one is "
          "an error naming the key and the path") {
    Sim a("a");
    Serve probe(kQueuePlugins, "{}");
    const std::string relative =
        std::filesystem::relative(probe.deployment.plugins.path(), probe.deployment.dir.path()).string();
    const std::string config = R"({"apiVersion":"plughost.io/v1","kind":"EndpointPickerConfig","pluginDir":")" +
                               relative + R"(","plugins":[{"type":"queue-scorer"},{"type":"max-score-picker"}],
      "endpoints":)" + endpoints_json({{"a", a.address}}) +
                               "}";
    SUBCASE("found through the key") {
        probe.rewrite_config(config);
        probe.start(false);
        REQUIRE_MESSAGE(eventually([&] { return probe.ready(); }), probe.log());
        const Reply r = post(probe.address, "/v1/completions", completion(false));
        CHECK(r.status == 200);
        CHECK(served_by(r) == "a");
        CHECK(probe.status().at("generation").at("instances").as_array().size() == 2);
    }
    SUBCASE("a missing directory") {
        const std::string broken =
            std::regex_replace(config, std::regex("\"pluginDir\":\"[^\"]*\""), "\"pluginDir\":\"gone\"");
        probe.rewrite_config(broken);
        const auto r = run_plughost({"serve", "--config", probe.config_path.string(), "--listen", "127.0.0.1:0"}, "",
                                    {{"PLUGHOST_PLUGIN_DIR", ""}});
        CHECK(r.exit_code == 2);
        CHECK_MESSAGE(r.err.find("/pluginDir: expected a directory of plugin files, found no directory at \"" +
                                 (probe.deployment.dir.path() / "gone").string() + "\"") != std::string::npos,
                      r.err);
    }
}

TEST_CASE("serve: the endpoints file is watched: endpoints come and go without a new generation, SIGHUP reloads") {
    Sim a("a"), b("b");
    Serve serve(kQueuePlugins, queue_config("[]", R"({"endpointsFile": "endpoints.json"})"));
    write_file(serve.deployment.dir / "endpoints.json", R"({"endpoints":)" + endpoints_json({{"a", a.address}}) + "}");
    serve.start();
    REQUIRE(eventually([&] { return serve.healthy("a"); }));
    const auto tmp = serve.deployment.dir / "endpoints.json.tmp";
    write_file(tmp, endpoints_json({{"a", a.address}, {"b", b.address}}));  // a bare list is accepted too
    std::filesystem::rename(tmp, serve.deployment.dir / "endpoints.json");
    REQUIRE_MESSAGE(eventually([&] { return serve.healthy("b"); }), serve.log());
    CHECK(serve.generation() == 1);
    // A broken file keeps the endpoints as they were.
    write_file(tmp, "{not json");
    std::filesystem::rename(tmp, serve.deployment.dir / "endpoints.json");
    REQUIRE(eventually([&] { return serve.metric("plughost_endpoints_file_errors_total") == 1; }));
    // The log line names the file once, then what is wrong with it.
    const std::string log = serve.log();
    const auto end = log.find("(the endpoints stay as they were)");
    REQUIRE(end != std::string::npos);
    const std::string line = log.substr(log.rfind('\n', end) + 1, end - log.rfind('\n', end) - 1);
    const auto named = line.find("endpoints.json");
    CHECK_MESSAGE(named != std::string::npos, line);
    CHECK_MESSAGE(line.find("endpoints.json", named + 1) == std::string::npos, line);
    CHECK(serve.healthy("a"));
    CHECK(serve.healthy("b"));
    serve.process->send(SIGHUP);
    CHECK(eventually([&] { return serve.generation() == 2; }));
    CHECK(post(serve.address, "/v1/completions", completion(false)).status == 200);
}

TEST_CASE("serve: a new plugin file that crashes when loaded is quarantined by the probe: the serving generation "
          "stays, never loads it, and /v1/status says why") {
    Sim a("a");
    Serve serve(kQueuePlugins, queue_config(endpoints_json({{"a", a.address}})));
    serve.start();
    REQUIRE(eventually([&] { return serve.ready(); }));
    CHECK(serve.status().at("quarantined").as_array().empty());
    serve.deployment.add(paths::constructor_segfault, "ctor_crash.so");
    serve.rewrite_config(R"({"apiVersion":"plughost.io/v1","kind":"EndpointPickerConfig",
      "plugins":[{"type":"queue-scorer"},{"type":"ctor-crash-scorer"},{"type":"max-score-picker"}],
      "endpoints":)" + endpoints_json({{"a", a.address}}) +
                         "}");
    auto quarantined = [&] { return !serve.status().at("quarantined").as_array().empty(); };
    REQUIRE_MESSAGE(eventually(quarantined), json::serialize(serve.status()));
    const auto st = serve.status();
    const auto &q = st.at("quarantined").at(0);
    CHECK(std::string(q.at("file").as_string()).find("ctor_crash.so") != std::string::npos);
    CHECK_MESSAGE(std::string(q.at("reason").as_string()).find("SIGSEGV") != std::string::npos, json::serialize(q));
    REQUIRE(eventually([&] { return serve.metric("plughost_generations_refused_total") >= 1; }));
    CHECK(serve.generation() == 1);
    CHECK(post(serve.address, "/v1/completions", completion(false)).status == 200);  // still serving
    // Its constructor ran once, in the probe's child: the serving process, alive, never loaded it.
    CHECK(read_file(serve.deployment.dir / "marker.txt") == "ctor-crash-scorer loaded\n");
}

TEST_CASE("serve --no-probe: a plugin that segfaults in a role call is named, and the server dies of the signal") {
    Sim a("a");
    Deployment d({paths::plugin_max_score_picker});
    const auto file = d.add(paths::score_segfault, "score-crash.so");
    const auto config = d.config(R"({"apiVersion":"plughost.io/v1","kind":"EndpointPickerConfig",
      "plugins":[{"type":"score-crash-scorer","name":"boom"},{"type":"max-score-picker"}],
      "endpoints":)" + endpoints_json({{"a", a.address}}) +
                                 "}");
    const int log_fd = ::open((d.dir / "serve.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    REQUIRE(log_fd >= 0);
    ProcessOptions options;
    options.err = StdStream::from(log_fd);
    options.limits = {{RLIMIT_CORE, 0}};
    Process p(plughost_argv({"serve", "--config", config, "--plugin-dir", d.plugins.path().string(), "--listen",
                             "127.0.0.1:0", "--no-probe"}),
              options);
    ::close(log_fd);
    const std::string address = listening_address(p, "plughost serve");
    REQUIRE(eventually([&] {
        const auto st = get(address, "/v1/status").json();
        for (const auto &e : st.at("endpoints").as_array())
            if (e.at("name").as_string() == "a") return e.at("healthy").as_bool();
        return false;
    }));
    // The pick's score call crashes a worker thread: the reply never comes.
    try {
        post(address, "/v1/pick", R"({"id":"r1","model":"m","prompt":"hi"})");
    } catch (const std::exception &) {}
    const auto r = p.wait();
    CHECK(r.signal == SIGSEGV);
    const std::string log = read_file(d.dir / "serve.log");
    CHECK(contains(log, "plughost: fatal signal SIGSEGV"));
    CHECK_MESSAGE(contains(log, "the crash happened inside plugin code: instance \"boom\" of plugin "
                                "\"score-crash-scorer\" 1.0.0 (" +
                                    file.string() + ")"),
                  log);
}
