// serve_swap: the cost of a hot-plug generation swap under load (bench/serve_swap.sh).
// A closed-loop load like serve_load (C keep-alive connections, POST a small completion, wait
// for the whole response, send the next) runs for SECONDS; meanwhile, every SECONDS/(SWAPS+1),
// a swap is triggered: the config file is rewritten by a rename (the next of the CONFIG files,
// in turn), or SIGHUP is sent to PID. Each request's start time and latency are kept, so the
// report can compare the requests that started in the WINDOW ms after each trigger (the 100 ms
// settle, the pre-flight, loading and instantiating the new generation, the swap) with the
// steady state (every other request). Prints one JSON line; the generation number is read from
// /v1/status before and after, so the swaps that really happened are counted, not assumed.
//
//   serve_swap HOST:PORT CONCURRENCY SECONDS SWAPS WINDOW_MS (--config FILE CONFIG...|--sighup PID)
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <boost/json.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Sample {
    double start = 0;  // seconds since the run began
    double latency = 0;
};

struct Stats {
    std::vector<Sample> ok;
    std::vector<double> failed_at;  // start times of failed requests
};

asio::awaitable<void> client(tcp::endpoint where, std::string body, Clock::time_point begin, Clock::time_point end,
                             Stats &stats) {
    auto ex = co_await asio::this_coro::executor;
    beast::tcp_stream stream(ex);
    bool connected = false;
    beast::flat_buffer buffer;
    while (Clock::now() < end) {
        const auto t0 = Clock::now();
        const double started = std::chrono::duration<double>(t0 - begin).count();
        try {
            if (!connected) {
                buffer.clear();
                co_await stream.async_connect(where, asio::use_awaitable);
                stream.socket().set_option(tcp::no_delay(true));
                connected = true;
            }
            http::request<http::string_body> req{http::verb::post, "/v1/completions", 11};
            req.set(http::field::host, "bench");
            req.set(http::field::content_type, "application/json");
            req.body() = body;
            req.prepare_payload();
            co_await http::async_write(stream, req, asio::use_awaitable);
            http::response<http::string_body> res;
            co_await http::async_read(stream, buffer, res, asio::use_awaitable);
            const double s = std::chrono::duration<double>(Clock::now() - t0).count();
            if (res.result() != http::status::ok) stats.failed_at.push_back(started);
            else stats.ok.push_back({started, s});
            if (!res.keep_alive()) {
                beast::error_code ignored;
                stream.socket().close(ignored);
                connected = false;
            }
        } catch (const std::exception &) {
            stats.failed_at.push_back(started);
            beast::error_code ignored;
            stream.socket().close(ignored);
            connected = false;
        }
    }
}

// The serving generation's number from /v1/status (a blocking call, outside the load).
std::uint64_t generation(const tcp::endpoint &where) {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.connect(where);
    http::request<http::empty_body> req{http::verb::get, "/v1/status", 11};
    req.set(http::field::host, "bench");
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    return boost::json::parse(res.body()).at("generation").at("number").to_number<std::uint64_t>();
}

struct Summary {
    std::size_t n = 0;
    double p50 = 0, p99 = 0, max = 0;
};

Summary summarize(std::vector<double> v) {
    Summary s;
    s.n = v.size();
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    auto at = [&](double p) { return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))]; };
    s.p50 = at(0.50);
    s.p99 = at(0.99);
    s.max = v.back();
    return s;
}

std::string json(const char *name, const Summary &s) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "\"%s\":{\"requests\":%zu,\"p50_us\":%.0f,\"p99_us\":%.0f,\"max_us\":%.0f}", name,
                  s.n, s.p50 * 1e6, s.p99 * 1e6, s.max * 1e6);
    return buf;
}

std::string read_text(const std::string &path) {
    std::ifstream in(path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 8) {
        std::cerr << "usage: serve_swap HOST:PORT CONCURRENCY SECONDS SWAPS WINDOW_MS "
                     "(--config FILE CONFIG... | --sighup PID)\n";
        return 2;
    }
    const std::string address = argv[1];
    const int concurrency = std::stoi(argv[2]);
    const double seconds = std::stod(argv[3]);
    const int swaps = std::stoi(argv[4]);
    const double window = std::stod(argv[5]) / 1000;
    const std::string mode = argv[6];
    std::string config_file;
    std::vector<std::string> configs;  // texts, used in turn
    pid_t pid = 0;
    if (mode == "--config" && argc >= 9) {
        config_file = argv[7];
        for (int i = 8; i < argc; ++i) configs.push_back(read_text(argv[i]));
    } else if (mode == "--sighup") {
        pid = static_cast<pid_t>(std::stol(argv[7]));
    } else {
        std::cerr << "serve_swap: give --config FILE CONFIG... or --sighup PID\n";
        return 2;
    }
    const auto colon = address.rfind(':');
    const tcp::endpoint where(asio::ip::make_address(address.substr(0, colon)),
                              static_cast<unsigned short>(std::stoi(address.substr(colon + 1))));
    const std::uint64_t before = generation(where);

    asio::io_context io;
    Stats stats;
    const auto begin = Clock::now();
    const auto end = begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    const std::string body = R"({"model":"m","prompt":"Hello, how are you?","max_tokens":4})";
    for (int i = 0; i < concurrency; ++i) asio::co_spawn(io, client(where, body, begin, end, stats), asio::detached);
    // The swaps, from a timer on the same thread as the clients (the file write and the rename
    // take microseconds; the server does the work).
    std::vector<double> triggered;
    asio::steady_timer timer(io);
    const double every = seconds / (swaps + 1);
    std::function<void(int)> next = [&](int k) {
        if (k > swaps) return;
        timer.expires_at(begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(every * k)));
        timer.async_wait([&, k](const boost::system::error_code &ec) {
            if (ec) return;
            triggered.push_back(std::chrono::duration<double>(Clock::now() - begin).count());
            if (pid) ::kill(pid, SIGHUP);
            else {
                const std::string tmp = config_file + ".swap.tmp";
                std::ofstream(tmp) << configs[static_cast<std::size_t>(k) % configs.size()];
                std::filesystem::rename(tmp, config_file);
            }
            next(k + 1);
        });
    };
    next(1);
    io.run();
    // Let the last swap finish before reading the generation.
    std::this_thread::sleep_for(std::chrono::duration<double>(window));
    const std::uint64_t after = generation(where);

    std::vector<double> steady, around;
    for (const auto &s : stats.ok) {
        bool in = false;
        for (double t : triggered) in = in || (s.start >= t && s.start < t + window);
        (in ? around : steady).push_back(s.latency);
    }
    std::vector<double> all;
    for (const auto &s : stats.ok) all.push_back(s.latency);
    std::printf("{\"target\":\"%s\",\"concurrency\":%d,\"seconds\":%.0f,\"swaps_triggered\":%zu,"
                "\"generations_applied\":%llu,\"window_ms\":%.0f,\"requests_failed\":%zu,%s,%s,%s}\n",
                address.c_str(), concurrency, seconds, triggered.size(),
                static_cast<unsigned long long>(after - before), window * 1000, stats.failed_at.size(),
                json("steady", summarize(steady)).c_str(), json("around_swaps", summarize(around)).c_str(),
                json("all", summarize(all)).c_str());
    return stats.failed_at.empty() ? 0 : 1;
}
