// `plughost serve`: the live host. An HTTP server (Boost.Beast over Asio, worker threads) that
//  - is an OpenAI-compatible gateway: POST /v1/completions and /v1/chat/completions are
//    scheduled by the serving generation's plugins and forwarded to the chosen model server
//    (over kept connections, serve.upstreamMaxIdle per endpoint), the response streamed back
//    unchanged (server-sent events included);
//  - answers POST /v1/pick for proxies that route themselves;
//  - scrapes each endpoint's Prometheus /metrics off the request path, and keeps endpoints whose
//    scrapes fail out of scheduling until they succeed again;
//  - reloads plugins, config and endpoints (inotify, SIGHUP) into a new generation, swapped in
//    whole or not at all;
//  - reports itself: /healthz, /readyz, /v1/status, /metrics (Prometheus text).
//
// Threads: one io_context per worker thread, run by that thread only; a client connection is
// handed at accept to the worker with the fewest connections and stays there, with its upstream
// connections (a pool per worker, no lock) and its scrapers' share. Scheduling and the response
// hooks run under one lock (per process), so every plugin instance, threadSafe or not, is called
// by one thread at a time. The scheduler's part of a request is allocation-free once warm; the
// lock is held for the decision only, never across I/O.
#pragma once

#include "plan/preflight.hpp"
#include "serve/generation.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace plughost::host {

struct ServeOptions {
    /// How each generation is built (re-read on every reload).
    PreflightInputs inputs;
    /// Override the config's serve.listen and serve.threads.
    std::optional<std::string> listen;
    std::optional<std::uint32_t> threads;
    std::optional<std::uint32_t> max_consecutive_faults;
    /// The child-process probe goes here (see NewFilesHook); default: none.
    NewFilesHook new_files_hook;
    /// The admission report in `list --output json`'s shape, for /v1/status (the CLI renders it).
    std::function<boost::json::object(const Preflight &)> admission_report;
    /// Called once the listener is bound, with "HOST:PORT" (port 0 resolved).
    std::function<void(const std::string &)> on_listening;
};

class Server {
public:
    explicit Server(ServeOptions options);
    ~Server();
    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;

    /// Builds the first generation and binds the listener. On failure returns the problems
    /// (nothing is served; the caller reports them and exits 1).
    std::vector<Issue> start();
    /// Serves until SIGTERM or SIGINT, then drains the requests in flight (up to
    /// serve.drainTimeoutMs) and returns.
    void run();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace plughost::host
