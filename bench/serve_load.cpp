// serve_load: a closed-loop HTTP load generator for the serve benchmark (bench/serve_vs_nginx.sh).
// C connections each send POST <path> with a small completion body, wait for the whole
// response, and send the next, over keep-alive connections, for a fixed time. Prints one JSON
// line: requests, errors, throughput and latency percentiles.
//
//   serve_load HOST:PORT[,HOST:PORT...] CONCURRENCY SECONDS [PATH] [BODY]
#include <boost/asio.hpp>
#include <boost/beast.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Stats {
    std::vector<double> latencies;
    std::uint64_t errors = 0;
};

asio::awaitable<void> client(tcp::endpoint where, std::string path, std::string body, Clock::time_point end,
                             Stats &stats) {
    auto ex = co_await asio::this_coro::executor;
    beast::tcp_stream stream(ex);
    bool connected = false;
    beast::flat_buffer buffer;
    while (Clock::now() < end) {
        try {
            if (!connected) {
                buffer.clear();
                co_await stream.async_connect(where, asio::use_awaitable);
                stream.socket().set_option(tcp::no_delay(true));
                connected = true;
            }
            http::request<http::string_body> req{http::verb::post, path, 11};
            req.set(http::field::host, "bench");
            req.set(http::field::content_type, "application/json");
            req.body() = body;
            req.prepare_payload();
            const auto t0 = Clock::now();
            co_await http::async_write(stream, req, asio::use_awaitable);
            http::response<http::string_body> res;
            co_await http::async_read(stream, buffer, res, asio::use_awaitable);
            const double s = std::chrono::duration<double>(Clock::now() - t0).count();
            if (res.result() != http::status::ok) ++stats.errors;
            else stats.latencies.push_back(s);
            if (!res.keep_alive()) {
                beast::error_code ignored;
                stream.socket().close(ignored);
                connected = false;
            }
        } catch (const std::exception &) {
            ++stats.errors;
            beast::error_code ignored;
            stream.socket().close(ignored);
            connected = false;
        }
    }
}

double percentile(std::vector<double> &v, double p) {
    if (v.empty()) return 0;
    const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 4) {
        std::cerr << "usage: serve_load HOST:PORT CONCURRENCY SECONDS [PATH] [BODY]\n";
        return 2;
    }
    const std::string address = argv[1];
    const int concurrency = std::stoi(argv[2]);
    const double seconds = std::stod(argv[3]);
    const std::string path = argc > 4 ? argv[4] : "/v1/completions";
    const std::string body = argc > 5 ? argv[5] : R"({"model":"m","prompt":"Hello, how are you?","max_tokens":4})";
    // HOST:PORT[,HOST:PORT...]: connection i goes to the (i mod n)th (the direct baseline
    // spreads over the fleet as the proxies do).
    std::vector<tcp::endpoint> targets;
    for (std::size_t from = 0; from < address.size();) {
        auto comma = address.find(',', from);
        if (comma == std::string::npos) comma = address.size();
        const std::string one = address.substr(from, comma - from);
        const auto colon = one.rfind(':');
        targets.emplace_back(asio::ip::make_address(one.substr(0, colon)),
                             static_cast<unsigned short>(std::stoi(one.substr(colon + 1))));
        from = comma + 1;
    }
    asio::io_context io;
    Stats stats;
    const auto start = Clock::now();
    const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    for (int i = 0; i < concurrency; ++i)
        asio::co_spawn(io, client(targets[static_cast<std::size_t>(i) % targets.size()], path, body, end, stats),
                       asio::detached);
    io.run();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const auto n = stats.latencies.size();
    std::printf("{\"target\":\"%s\",\"concurrency\":%d,\"requests\":%zu,\"errors\":%llu,\"rps\":%.0f,"
                "\"p50_us\":%.0f,\"p99_us\":%.0f}\n",
                address.c_str(), concurrency, n, static_cast<unsigned long long>(stats.errors),
                static_cast<double>(n) / elapsed, percentile(stats.latencies, 0.50) * 1e6,
                percentile(stats.latencies, 0.99) * 1e6);
    return 0;
}
