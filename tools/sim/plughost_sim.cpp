// plughost-sim: a model-server simulator for tests, demos and benchmarks. It serves what plughost
// serve talks to on a vLLM server: Prometheus `/metrics` with vLLM's metric names, and the
// OpenAI-compatible `/v1/completions` and `/v1/chat/completions`, streamed as server-sent events
// or not. Latency, failures and the metric values are set by flags and changed at run time with
// `POST /sim/config` (the same keys as JSON), so a test can move an endpoint's load, make its
// scrapes fail or its completions fail, and watch the gateway react.
//
// It prints "listening HOST:PORT" on stdout once bound (port 0 picks a free one).
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

// What the simulator does; changed by flags at start and by POST /sim/config while running.
struct Settings {
    std::string name = "sim";
    int latency_ms = 0;         ///< before the response header
    int token_ms = 0;           ///< between streamed tokens
    int tokens = 4;             ///< tokens per completion
    int fail_every = 0;         ///< every Nth completion fails with 500 (0: never)
    bool metrics_fail = false;  ///< /metrics answers 500
    double waiting = 0, running = 0, kv = 0;
    std::string loras, waiting_loras;
    int max_lora = 0;
    bool count_running = true;  ///< add the completions in progress to vllm:num_requests_running
    int keep_alive_ms = 0;      ///< close a keep-alive connection idle this long (0: never), as uvicorn does
    bool drop_reused = false;   ///< close a connection, unanswered, when a second completion arrives on it
};

std::mutex settings_mutex;
Settings settings;
std::atomic<long> in_progress{0};
std::atomic<long> completions{0};
std::atomic<long> completion_connections{0};  // connections that carried at least one completion

Settings current() {
    std::lock_guard lock(settings_mutex);
    return settings;
}

// Applies the JSON keys (the flag names without dashes, camel-free: latency_ms...); returns the
// error for a bad key or value.
std::string apply(const json::object &o, Settings &s) {
    for (const auto &[key, value] : o) {
        auto number = [&]() -> double { return value.is_number() ? value.to_number<double>() : -1; };
        if (key == "name" && value.is_string()) s.name = value.as_string().c_str();
        else if (key == "latency_ms" && number() >= 0) s.latency_ms = static_cast<int>(number());
        else if (key == "token_ms" && number() >= 0) s.token_ms = static_cast<int>(number());
        else if (key == "tokens" && number() >= 0) s.tokens = static_cast<int>(number());
        else if (key == "fail_every" && number() >= 0) s.fail_every = static_cast<int>(number());
        else if (key == "metrics_fail" && value.is_bool()) s.metrics_fail = value.as_bool();
        else if (key == "count_running" && value.is_bool()) s.count_running = value.as_bool();
        else if (key == "drop_reused" && value.is_bool()) s.drop_reused = value.as_bool();
        else if (key == "keep_alive_ms" && number() >= 0) s.keep_alive_ms = static_cast<int>(number());
        else if (key == "waiting" && number() >= 0) s.waiting = number();
        else if (key == "running" && number() >= 0) s.running = number();
        else if (key == "kv" && number() >= 0) s.kv = number();
        else if (key == "max_lora" && number() >= 0) s.max_lora = static_cast<int>(number());
        else if (key == "loras" && value.is_string()) s.loras = value.as_string().c_str();
        else if (key == "waiting_loras" && value.is_string()) s.waiting_loras = value.as_string().c_str();
        else return "bad key or value: " + std::string(key);
    }
    return {};
}

std::string metrics_text(const Settings &s) {
    const double running = s.running + (s.count_running ? static_cast<double>(in_progress.load()) : 0.0);
    std::string out;
    out += "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.\n";
    out += "# TYPE vllm:num_requests_waiting gauge\n";
    out += "vllm:num_requests_waiting{model_name=\"sim\"} " + std::to_string(s.waiting) + "\n";
    out += "# TYPE vllm:num_requests_running gauge\n";
    out += "vllm:num_requests_running{model_name=\"sim\"} " + std::to_string(running) + "\n";
    out += "# TYPE vllm:kv_cache_usage_perc gauge\n";
    out += "vllm:kv_cache_usage_perc{model_name=\"sim\"} " + std::to_string(s.kv) + "\n";
    out += "# TYPE vllm:gpu_cache_usage_perc gauge\n";
    out += "vllm:gpu_cache_usage_perc{model_name=\"sim\"} " + std::to_string(s.kv) + "\n";
    if (s.max_lora > 0 || !s.loras.empty() || !s.waiting_loras.empty()) {
        out += "# TYPE vllm:lora_requests_info gauge\n";
        out += "vllm:lora_requests_info{max_lora=\"" + std::to_string(s.max_lora) + "\",running_lora_adapters=\"" +
               s.loras + "\",waiting_lora_adapters=\"" + s.waiting_loras + "\"} 1.7e9\n";
    }
    out += "# TYPE sim_completions_total counter\nsim_completions_total " + std::to_string(completions.load()) + "\n";
    out += "# TYPE sim_completion_connections_total counter\nsim_completion_connections_total " +
           std::to_string(completion_connections.load()) + "\n";
    return out;
}

json::object completion_chunk(const Settings &s, const std::string &model, bool chat, int index, bool last) {
    json::object choice{{"index", 0}};
    const std::string token = "tok" + std::to_string(index) + " ";
    if (chat) choice["delta"] = json::object{{"content", token}};
    else choice["text"] = token;
    choice["finish_reason"] = last ? json::value("length") : json::value(nullptr);
    return {{"id", "cmpl-" + s.name},
            {"object", chat ? "chat.completion.chunk" : "text_completion"},
            {"model", model},
            {"choices", json::array{choice}}};
}

// The whole (not streamed) response. Built outside the coroutines: GCC 12 miscompiles braced
// initializers holding string literals inside a coroutine.
std::string completion_body(const Settings &s, const std::string &model, bool chat, long n) {
    std::string text;
    for (int i = 0; i < s.tokens; ++i) text += "tok" + std::to_string(i) + " ";
    json::object choice{{"index", 0}, {"finish_reason", "length"}};
    if (chat) choice["message"] = json::object{{"role", "assistant"}, {"content", text}};
    else choice["text"] = text;
    json::object out{
        {"id", "cmpl-" + s.name + "-" + std::to_string(n)},
        {"object", chat ? "chat.completion" : "text_completion"},
        {"model", model},
        {"served_by", s.name},
        {"choices", json::array{choice}},
        {"usage", {{"prompt_tokens", 3}, {"completion_tokens", s.tokens}, {"total_tokens", 3 + s.tokens}}}};
    return json::serialize(out);
}

std::string error_body(const std::string &error) { return json::serialize(json::object{{"error", error}}); }

using Request = http::request<http::string_body>;

struct Sim {
    asio::awaitable<void> pause(int ms) {
        if (ms <= 0) co_return;
        asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
        co_await t.async_wait(asio::use_awaitable);
    }

    // GCC 12 destroys some temporaries of a co_await expression twice: every argument of a
    // co_await here is a named object or a trivially destructible value.
    template <class Stream> asio::awaitable<void> send(Stream &stream, http::status status, std::string_view body,
                                                       std::string_view type, const Request &req, const Settings &s) {
        http::response<http::string_body> res{status, req.version()};
        res.set(http::field::content_type, type);
        res.set("x-sim-name", s.name);
        res.keep_alive(req.keep_alive());
        res.body() = std::string(body);
        res.prepare_payload();
        co_await http::async_write(stream, res, asio::use_awaitable);
    }

    asio::awaitable<void> complete(beast::tcp_stream &stream, const Request &req, bool chat) {
        const Settings s = current();
        const long n = ++completions;
        ++in_progress;
        struct Done {
            ~Done() { --in_progress; }
        } done;
        json::value body;
        boost::system::error_code ec;
        body = json::parse(req.body(), ec);
        if (ec || !body.is_object()) {
            co_await send(stream, http::status::bad_request, R"({"error":{"message":"body is not a JSON object"}})",
                          "application/json", req, s);
            co_return;
        }
        const auto &o = body.as_object();
        const std::string model =
            o.contains("model") && o.at("model").is_string() ? o.at("model").as_string().c_str() : "";
        const bool stream_mode = o.contains("stream") && o.at("stream").is_bool() && o.at("stream").as_bool();
        co_await pause(s.latency_ms);
        if (s.fail_every > 0 && n % s.fail_every == 0) {
            co_await send(stream, http::status::internal_server_error,
                          R"({"error":{"message":"simulated failure","type":"server_error"}})", "application/json", req,
                          s);
            co_return;
        }
        if (!stream_mode) {
            const std::string out = completion_body(s, model, chat, n);
            co_await send(stream, http::status::ok, out, "application/json", req, s);
            co_return;
        }
        // Server-sent events, one chunk of the chunked encoding per event, as vLLM sends them.
        http::response<http::empty_body> res{http::status::ok, req.version()};
        res.set(http::field::content_type, "text/event-stream");
        res.set("x-sim-name", s.name);
        res.chunked(true);
        res.keep_alive(req.keep_alive());
        http::response_serializer<http::empty_body> sr{res};
        co_await http::async_write_header(stream, sr, asio::use_awaitable);
        for (int i = 0; i < s.tokens; ++i) {
            if (i) co_await pause(s.token_ms);
            const std::string event =
                "data: " + json::serialize(completion_chunk(s, model, chat, i, i + 1 == s.tokens)) + "\n\n";
            const auto chunk = http::make_chunk(asio::buffer(event));
            co_await asio::async_write(stream, chunk, asio::use_awaitable);
        }
        const std::string done_event = "data: [DONE]\n\n";
        const auto done_chunk = http::make_chunk(asio::buffer(done_event));
        co_await asio::async_write(stream, done_chunk, asio::use_awaitable);
        const auto last_chunk = http::make_chunk_last();
        co_await asio::async_write(stream, last_chunk, asio::use_awaitable);
    }

    asio::awaitable<void> session(tcp::socket socket) {
        beast::tcp_stream stream(std::move(socket));
        beast::flat_buffer buffer;
        long served = 0;  // completions on this connection
        try {
            for (;;) {
                Request req;
                if (served) {  // a kept-alive connection waits for its next request this long
                    const int keep_alive_ms = current().keep_alive_ms;
                    if (keep_alive_ms > 0) stream.expires_after(std::chrono::milliseconds(keep_alive_ms));
                }
                co_await http::async_read(stream, buffer, req, asio::use_awaitable);
                stream.expires_never();
                const std::string target(req.target());
                const bool completion = (target == "/v1/completions" || target == "/v1/chat/completions") &&
                                        req.method() == http::verb::post;
                if (completion && served++ == 0) ++completion_connections;
                if (completion && served > 1 && current().drop_reused) break;  // as if its idle timer just fired
                if (target == "/metrics" && req.method() == http::verb::get) {
                    const Settings s = current();
                    if (s.metrics_fail)
                        co_await send(stream, http::status::internal_server_error, "simulated metrics failure\n",
                                      "text/plain", req, s);
                    else {
                        const std::string text = metrics_text(s);
                        co_await send(stream, http::status::ok, text, "text/plain; version=0.0.4", req, s);
                    }
                } else if (target == "/v1/completions" && req.method() == http::verb::post) {
                    co_await complete(stream, req, false);
                } else if (target == "/v1/chat/completions" && req.method() == http::verb::post) {
                    co_await complete(stream, req, true);
                } else if (target == "/sim/config" && req.method() == http::verb::post) {
                    boost::system::error_code ec;
                    auto v = json::parse(req.body(), ec);
                    std::string error = ec || !v.is_object() ? "body is not a JSON object" : std::string();
                    if (error.empty()) {
                        std::lock_guard lock(settings_mutex);
                        Settings next = settings;
                        error = apply(v.as_object(), next);
                        if (error.empty()) settings = next;
                    }
                    const Settings now = current();
                    const std::string body = error.empty() ? std::string("{}") : error_body(error);
                    co_await send(stream, error.empty() ? http::status::ok : http::status::bad_request, body,
                                  "application/json", req, now);
                } else {
                    const Settings now = current();
                    co_await send(stream, http::status::not_found, R"({"error":{"message":"not found"}})",
                                  "application/json", req, now);
                }
                if (!req.keep_alive()) break;
            }
        } catch (const std::exception &) {
            // the client went away or sent garbage: this connection ends, the server goes on
        }
        beast::error_code ec;
        stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    }

    asio::awaitable<void> listen(tcp::acceptor acceptor) {
        for (;;) {
            tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
            socket.set_option(tcp::no_delay(true));
            asio::co_spawn(acceptor.get_executor(), session(std::move(socket)), asio::detached);
        }
    }
};

int usage() {
    std::cerr << "usage: plughost-sim [--listen HOST:PORT] [--threads N] [--name NAME] [--latency-ms N]\n"
                 "                    [--token-ms N] [--tokens N] [--fail-every N] [--metrics-fail]\n"
                 "                    [--waiting N] [--running N] [--kv F] [--loras a,b] [--waiting-loras c]\n"
                 "                    [--max-lora N] [--keep-alive-ms N]\n"
                 "POST /sim/config with the same keys as JSON (latency_ms, token_ms, tokens, fail_every,\n"
                 "metrics_fail, waiting, running, kv, loras, waiting_loras, max_lora, count_running,\n"
                 "keep_alive_ms, drop_reused) changes them. /metrics also reports sim_completions_total and\n"
                 "sim_completion_connections_total (connections that carried a completion).\n";
    return 2;
}

}  // namespace

int main(int argc, char **argv) {
    std::string listen = "127.0.0.1:0";
    int threads = 1;
    json::object flags;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) throw std::runtime_error("missing value after " + a);
            return argv[++i];
        };
        try {
            if (a == "--listen") listen = next();
            else if (a == "--threads") threads = std::stoi(next());
            else if (a == "--metrics-fail") flags["metrics_fail"] = true;
            else if (a == "--name" || a == "--loras" || a == "--waiting-loras") {
                std::string key = a.substr(2);
                std::replace(key.begin(), key.end(), '-', '_');
                flags[key] = next();
            } else if (a.rfind("--", 0) == 0) {
                std::string key = a.substr(2);
                std::replace(key.begin(), key.end(), '-', '_');
                flags[key] = std::stod(next());
            } else return usage();
        } catch (const std::exception &e) {
            std::cerr << "plughost-sim: " << e.what() << "\n";
            return usage();
        }
    }
    if (auto error = apply(flags, settings); !error.empty()) {
        std::cerr << "plughost-sim: " << error << "\n";
        return usage();
    }
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) return usage();
    asio::io_context io;
    tcp::endpoint where;
    try {
        where = {asio::ip::make_address(listen.substr(0, colon)),
                 static_cast<unsigned short>(std::stoi(listen.substr(colon + 1)))};
    } catch (const std::exception &e) {
        std::cerr << "plughost-sim: bad --listen " << listen << ": " << e.what() << "\n";
        return 2;
    }
    tcp::acceptor acceptor(io);
    try {
        acceptor.open(where.protocol());
        acceptor.set_option(tcp::acceptor::reuse_address(true));
        acceptor.bind(where);
        acceptor.listen(asio::socket_base::max_listen_connections);
    } catch (const std::exception &e) {
        std::cerr << "plughost-sim: cannot listen on " << listen << ": " << e.what() << "\n";
        return 1;
    }
    const auto bound = acceptor.local_endpoint();
    std::cout << "listening " << bound.address().to_string() << ":" << bound.port() << std::endl;
    Sim sim;
    asio::co_spawn(io, sim.listen(std::move(acceptor)), asio::detached);
    asio::signal_set stop(io, SIGINT, SIGTERM);
    stop.async_wait([&](auto, int) { io.stop(); });
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&] { io.run(); });
    io.run();
    for (auto &t : pool) t.join();
    return 0;
}
