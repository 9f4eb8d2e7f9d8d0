// session-affinity-scorer: sends the requests of one session (the x-session-id header) back to
// the endpoint that served that session before, so its KV cache is reused.
#include <plughost/plugin.hpp>

#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>

namespace {

class SessionAffinityScorer {
public:
    SessionAffinityScorer(const plughost::Params &params, plughost::Host host)
        : header_(params.get<std::string>("header")),
          capacity_(static_cast<std::size_t>(params.get_in_range<std::int64_t>("maxSessions", 1, 10'000'000))),
          host_(std::move(host)) {}

    void score(const plughost::Request &request, plughost::Endpoints endpoints, std::span<double> scores) {
        const auto session = request.find_header(header_);
        const auto it = session ? sessions_.find(std::string(*session)) : sessions_.end();
        for (std::size_t i = 0; i < endpoints.size(); ++i)
            scores[i] = it != sessions_.end() && endpoints[i].id() == it->second.endpoint ? 1.0 : 0.0;
    }

    // Remember where each session went; forget the least recently seen beyond maxSessions.
    void on_picked(const plughost::Request &request, plughost::Endpoints chosen) {
        const auto session = request.find_header(header_);
        if (!session || chosen.empty()) return;
        std::string key(*session);
        if (auto it = sessions_.find(key); it != sessions_.end()) {
            order_.erase(it->second.position);
            sessions_.erase(it);
        }
        order_.push_front(key);
        sessions_.emplace(std::move(key), Entry{chosen[0].id(), order_.begin()});
        if (sessions_.size() > capacity_) {
            sessions_.erase(order_.back());
            order_.pop_back();
            host_.count("evictions");
        }
    }

private:
    struct Entry {
        std::uint64_t endpoint;
        std::list<std::string>::iterator position;
    };
    std::string header_;
    std::size_t capacity_;
    plughost::Host host_;
    std::list<std::string> order_;
    std::unordered_map<std::string, Entry> sessions_;
};

constexpr plughost::Param kParams[] = {
    {"header", plughost::ParamType::string, "\"x-session-id\"", "Request header naming the session."},
    {"maxSessions", plughost::ParamType::integer, "100000", "Sessions remembered; the least recent are forgotten."},
};

constexpr plughost::Manifest kManifest{
    .type = "session-affinity-scorer",
    .role = plughost::Role::scorer,
    .version = "0.3.0",
    .stability = plughost::Stability::alpha,
    .feature_gate = "SessionAffinityScorer",
    .description = "Prefers the endpoint that served the request's session before.",
    .parameters = kParams,
};

}  // namespace

PLUGHOST_PLUGIN(SessionAffinityScorer, kManifest)
