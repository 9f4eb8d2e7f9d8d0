#include "plan/serve_config.hpp"

#include "common/json.hpp"

#include <boost/json.hpp>

#include <set>

namespace plughost::host {

namespace {

Issue wrong(const std::string &at, std::string_view expected, const boost::json::value &found) {
    return {at, Code::wrong_type, "expected " + std::string(expected) + ", found " + describe(found), ""};
}

void unknown_keys(const boost::json::object &o, const std::string &at, std::initializer_list<std::string_view> known,
                  std::vector<Issue> &issues) {
    for (const auto &[key, value] : o) {
        bool ok = false;
        for (auto k : known) ok = ok || k == key;
        if (!ok) {
            std::string names;
            for (auto k : known) names += (names.empty() ? "" : ", ") + std::string(k);
            issues.push_back({at + "/" + pointer_token(key), Code::unknown_field,
                              "unknown field \"" + std::string(key) + "\"", "known fields: " + names});
        }
    }
}

template <class T> void read_uint(const boost::json::object &o, std::string_view key, const std::string &at,
                                  std::uint64_t low, std::uint64_t high, T &out, std::vector<Issue> &issues) {
    const auto *v = o.if_contains(key);
    if (!v) return;
    const std::string where = at + "/" + std::string(key);
    if (v->is_int64() && v->get_int64() >= static_cast<std::int64_t>(low) &&
        static_cast<std::uint64_t>(v->get_int64()) <= high)
        out = static_cast<T>(v->get_int64());
    else if (v->is_uint64() && v->get_uint64() >= low && v->get_uint64() <= high) out = static_cast<T>(v->get_uint64());
    else
        issues.push_back({where, v->is_number() ? Code::invalid_value : Code::wrong_type,
                          "expected an integer from " + std::to_string(low) + " to " + std::to_string(high) +
                              ", found " + describe(*v),
                          ""});
}

std::optional<std::string> read_string(const boost::json::object &o, std::string_view key, const std::string &at,
                                       std::vector<Issue> &issues) {
    const auto *v = o.if_contains(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) {
        issues.push_back(wrong(at + "/" + std::string(key), "a string", *v));
        return std::nullopt;
    }
    return std::string(v->get_string());
}

}  // namespace

bool valid_host_port(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return false;
    const auto port = text.substr(colon + 1);
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) return false;
    return std::stoul(std::string(port)) <= 65535;
}

void read_serve_settings(const boost::json::value &v, ServeSettings &out, std::vector<Issue> &issues) {
    const std::string at = "/serve";
    if (!v.is_object()) {
        issues.push_back(wrong(at, "an object", v));
        return;
    }
    const auto &o = v.get_object();
    unknown_keys(o, at,
                 {"listen", "threads", "endpointsFile", "scrapeIntervalMs", "scrapeTimeoutMs", "unhealthyAfterMs",
                  "maxBodyBytes", "maxHeaderBytes", "connectTimeoutMs", "firstByteTimeoutMs", "idleTimeoutMs",
                  "drainTimeoutMs", "maxAttempts", "upstreamMaxIdle", "upstreamIdleTimeoutMs", "metrics"},
                 issues);
    if (auto listen = read_string(o, "listen", at, issues)) {
        if (valid_host_port(*listen)) out.listen = *listen;
        else
            issues.push_back({at + "/listen", Code::invalid_value, "\"" + *listen + "\" is not HOST:PORT",
                              "e.g. \"0.0.0.0:8000\" (port 0: any free port)"});
    }
    std::uint32_t threads = 0;
    read_uint(o, "threads", at, 1, 1024, threads, issues);
    if (threads) out.threads = threads;
    out.endpoints_file = read_string(o, "endpointsFile", at, issues);
    read_uint(o, "scrapeIntervalMs", at, 1, 3600000, out.scrape_interval_ms, issues);
    read_uint(o, "scrapeTimeoutMs", at, 1, 3600000, out.scrape_timeout_ms, issues);
    read_uint(o, "unhealthyAfterMs", at, 1, 3600000, out.unhealthy_after_ms, issues);
    read_uint(o, "maxBodyBytes", at, 1, std::uint64_t{1} << 32, out.max_body_bytes, issues);
    read_uint(o, "maxHeaderBytes", at, 512, 1024 * 1024, out.max_header_bytes, issues);
    read_uint(o, "connectTimeoutMs", at, 1, 3600000, out.connect_timeout_ms, issues);
    read_uint(o, "firstByteTimeoutMs", at, 1, 3600000, out.first_byte_timeout_ms, issues);
    read_uint(o, "idleTimeoutMs", at, 1, 3600000, out.idle_timeout_ms, issues);
    read_uint(o, "drainTimeoutMs", at, 0, 3600000, out.drain_timeout_ms, issues);
    read_uint(o, "maxAttempts", at, 1, 100, out.max_attempts, issues);
    read_uint(o, "upstreamMaxIdle", at, 0, 4096, out.upstream_max_idle, issues);
    read_uint(o, "upstreamIdleTimeoutMs", at, 1, 3600000, out.upstream_idle_timeout_ms, issues);
    if (const auto *m = o.if_contains("metrics")) {
        const std::string mat = at + "/metrics";
        if (!m->is_object()) {
            issues.push_back(wrong(mat, "an object {waiting, running, kvUsage, lora}", *m));
            return;
        }
        const auto &mo = m->get_object();
        unknown_keys(mo, mat, {"waiting", "running", "kvUsage", "lora"}, issues);
        if (auto s = read_string(mo, "waiting", mat, issues)) out.metrics.waiting = *s;
        if (auto s = read_string(mo, "running", mat, issues)) out.metrics.running = *s;
        if (auto s = read_string(mo, "kvUsage", mat, issues)) out.metrics.kv_usage = {*s};
        if (auto s = read_string(mo, "lora", mat, issues)) out.metrics.lora = *s;
    }
}

void read_endpoint_list(const boost::json::value &v, const std::string &pointer, std::vector<EndpointConfig> &out,
                        std::vector<Issue> &issues) {
    if (!v.is_array()) {
        issues.push_back(wrong(pointer, "an array of {name, address, labels}", v));
        return;
    }
    std::set<std::string> names;
    for (std::size_t i = 0; i < v.get_array().size(); ++i) {
        const std::string at = pointer + "/" + std::to_string(i);
        const auto &e = v.get_array()[i];
        if (!e.is_object()) {
            issues.push_back(wrong(at, "an object {name, address, labels}", e));
            continue;
        }
        const auto &o = e.get_object();
        unknown_keys(o, at, {"name", "address", "labels"}, issues);
        EndpointConfig c;
        auto address = read_string(o, "address", at, issues);
        if (!address) {
            if (!o.contains("address"))
                issues.push_back({at + "/address", Code::missing_field, "an endpoint needs an address",
                                  "\"address\": \"HOST:PORT\" of the model server"});
            continue;
        }
        if (!valid_host_port(*address)) {
            issues.push_back({at + "/address", Code::invalid_value, "\"" + *address + "\" is not HOST:PORT",
                              "e.g. \"10.0.0.7:8000\""});
            continue;
        }
        c.address = *address;
        c.name = read_string(o, "name", at, issues).value_or(c.address);
        if (!names.insert(c.name).second) {
            issues.push_back({at + "/name", Code::duplicate_name, "endpoint name \"" + c.name + "\" is used twice",
                              "give each endpoint its own name"});
            continue;
        }
        if (const auto *labels = o.if_contains("labels")) {
            if (!labels->is_object()) {
                issues.push_back(wrong(at + "/labels", "an object of strings", *labels));
            } else {
                for (const auto &[k, lv] : labels->get_object()) {
                    if (lv.is_string()) c.labels.emplace_back(std::string(k), std::string(lv.get_string()));
                    else issues.push_back(wrong(at + "/labels/" + pointer_token(k), "a string", lv));
                }
            }
        }
        out.push_back(std::move(c));
    }
}

}  // namespace plughost::host
