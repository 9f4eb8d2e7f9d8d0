// The config keys of `plughost serve`: the "serve" object (listener, threads, scraping, limits,
// the metric names read from the model servers) and the "endpoints" list. Read with the rest of
// the config, so `check` reports their problems and every config format applies to them.
#pragma once

#include "common/diagnostic.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace plughost::host {

/// One model server: a name, "host:port", labels handed to plugins.
struct EndpointConfig {
    std::string name;
    std::string address;
    std::vector<std::pair<std::string, std::string>> labels;
};

/// The Prometheus metric names scraped from each endpoint (vLLM's by default); an empty name
/// turns that metric off.
struct MetricNames {
    std::string waiting = "vllm:num_requests_waiting";
    std::string running = "vllm:num_requests_running";
    /// The first of these found is read (vLLM renamed gpu_cache_usage_perc to kv_cache_usage_perc).
    std::vector<std::string> kv_usage = {"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"};
    std::string lora = "vllm:lora_requests_info";
};

struct ServeSettings {
    std::optional<std::string> listen;          ///< "HOST:PORT"; default 0.0.0.0:8000
    std::optional<std::uint32_t> threads;       ///< default: the core count
    std::optional<std::string> endpoints_file;  ///< relative to the config's directory
    std::uint32_t scrape_interval_ms = 50;
    std::uint32_t scrape_timeout_ms = 1000;
    std::uint32_t unhealthy_after_ms = 1000;  ///< scrapes failing this long: unhealthy
    std::uint64_t max_body_bytes = 4 * 1024 * 1024;
    std::uint32_t max_header_bytes = 16 * 1024;
    std::uint32_t connect_timeout_ms = 1000;
    std::uint32_t first_byte_timeout_ms = 60000;
    std::uint32_t idle_timeout_ms = 60000;
    std::uint32_t drain_timeout_ms = 10000;
    std::uint32_t max_attempts = 3;  ///< endpoints tried for one request when connecting fails
    /// Idle keep-alive connections kept per endpoint for forwarded requests (0: a new connection
    /// per request), and how long one may stay idle (below uvicorn's 5 s keep-alive, so the
    /// model server rarely closes one first).
    std::uint32_t upstream_max_idle = 64;
    std::uint32_t upstream_idle_timeout_ms = 4000;
    MetricNames metrics;
};

/// Reads the "serve" object into `out`; problems go to `issues`, each at its JSON Pointer.
void read_serve_settings(const boost::json::value &v, ServeSettings &out, std::vector<Issue> &issues);

/// Reads an "endpoints" list (at `pointer`, "/endpoints" in a config); names are unique and
/// addresses are HOST:PORT.
/// "HOST:PORT" with a port from 0 to 65535.
bool valid_host_port(std::string_view text);

void read_endpoint_list(const boost::json::value &v, const std::string &pointer, std::vector<EndpointConfig> &out,
                        std::vector<Issue> &issues);

}  // namespace plughost::host
