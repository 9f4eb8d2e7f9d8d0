// session-affinity-scorer (alpha): sends a session's requests back to the endpoint that served
// it, by upstream's two strategies:
//  - encoded_endpoint_header (default, stateless): the client echoes a header holding the base64
//    of the endpoint's name; the plugin sets that header on the response (response_started);
//  - session_id: the client sends an opaque session id in a header; the plugin binds it to the
//    endpoint that served it (pre_request) and forgets bindings unused for evictionTtlSeconds.
#pragma once

#include <plughost/plugin.hpp>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace plughost::plugins {

namespace session {

inline constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (RFC 4648 section 4), as upstream's token.
inline std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        const std::size_t n = bytes.size() - i < 3 ? bytes.size() - i : 3;
        std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
        if (n > 1) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        if (n > 2) v |= static_cast<unsigned char>(bytes[i + 2]);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += n > 1 ? kAlphabet[(v >> 6) & 63] : '=';
        out += n > 2 ? kAlphabet[v & 63] : '=';
    }
    return out;
}

/// The bytes of a standard, padded base64 text; nullopt when it is not one (as Go's
/// base64.StdEncoding rejects it: wrong length, a character outside the alphabet, bad padding).
inline std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < text.size(); i += 4) {
        std::uint32_t v = 0;
        int pad = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            const char c = text[i + j];
            if (c == '=') {
                if (i + 4 != text.size() || j < 2) return std::nullopt;  // padding only at the very end
                ++pad;
                v <<= 6;
                continue;
            }
            const auto at = kAlphabet.find(c);
            if (at == std::string_view::npos || pad > 0) return std::nullopt;
            v = (v << 6) | static_cast<std::uint32_t>(at);
        }
        out += static_cast<char>((v >> 16) & 0xff);
        if (pad < 2) out += static_cast<char>((v >> 8) & 0xff);
        if (pad < 1) out += static_cast<char>(v & 0xff);
    }
    return out;
}

/// Upstream's NormalizeHeader: trimmed, lower-cased, `x-session-token` when empty.
inline std::string normalize_header(std::string_view name) {
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    std::string out(name);
    for (char &c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out.empty() ? std::string("x-session-token") : out;
}

inline std::string_view text(const boost::json::string &s) { return {s.data(), s.size()}; }

inline std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// Whether the host accepts `name` as a header name: 1-64 bytes of [A-Za-z0-9-].
inline bool valid_header_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    for (const char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) return false;
    return true;
}

/// Whether a decoded token names endpoint `name`: upstream's token is "namespace/name", so
/// "/name" (an empty namespace) names it too.
inline bool token_names(std::string_view decoded, std::string_view name) {
    return decoded == name ||
           (decoded.size() == name.size() + 1 && decoded.front() == '/' && decoded.substr(1) == name);
}

}  // namespace session

class SessionAffinityScorer {
public:
    SessionAffinityScorer(const Params &params, Host host) : host_(std::move(host)) {
        const auto strategy = params.get<std::string>("strategy");
        profile_ = params.get<std::string>("profileName");
        if (strategy == "encoded_endpoint_header") {
            header_ = header_from(params.get<boost::json::object>("encodedEndpointHeaderConfig"),
                                  "encodedEndpointHeaderConfig");
        } else if (strategy == "session_id") {
            session_id_ = true;
            read_session_id_config(params.get<boost::json::object>("sessionIdConfig"));
        } else {
            throw ParameterError(
                "parameter 'strategy': expected \"encoded_endpoint_header\" or \"session_id\", found \"" + strategy +
                "\"");
        }
    }

    void score(const Request &request, Endpoints endpoints, std::span<double> scores) {
        for (std::size_t i = 0; i < endpoints.size(); ++i) scores[i] = 0.0;
        if (session_id_) return score_session(request, endpoints, scores);
        const auto token = request.find_header(header_);
        if (!token || token->empty()) return;
        const auto decoded = session::base64_decode(*token);
        if (!decoded) {
            host_.debug("session token in header " + header_ + " is not base64; no preference");
            return;
        }
        for (std::size_t i = 0; i < endpoints.size(); ++i)
            if (session::token_names(*decoded, endpoints[i].name())) scores[i] = 1.0;
    }

    void pre_request(const Request &request, const Decision &decision) {
        const std::optional<Endpoint> pinned = pinned_endpoint(decision);
        if (session_id_) return bind(request, pinned);
        if (!profile_.empty())  // response_started sees only the primary pick: remember this one
            profile_picks_[std::string(request.id())] = pinned ? std::string(pinned->name()) : std::string();
    }

    // Upstream's ResponseHeader hook: the token goes on the response to the client.
    void response_started(const Request &request, const Response &response) {
        if (session_id_) return;
        std::string name;
        if (profile_.empty()) {
            if (const auto e = response.endpoint()) name = e->name();
        } else if (const auto it = profile_picks_.find(std::string(request.id())); it != profile_picks_.end()) {
            name = std::move(it->second);
            profile_picks_.erase(it);
        }
        if (name.empty()) return;  // no endpoint known, or the profile did not pick: no header
        if (!host_.set_client_header(request, header_, session::base64_encode(name)))
            host_.warn("the host refused the session header " + header_);
    }

    void response_complete(const Request &request, const Response &) {
        if (!profile_.empty() && !session_id_) profile_picks_.erase(std::string(request.id()));
    }

private:
    using Clock = std::chrono::steady_clock;
    struct Binding {
        std::string endpoint;
        Clock::time_point last_seen;
    };

    static std::string header_from(const boost::json::object &config, std::string_view where) {
        for (const auto &kv : config)
            if (kv.key() != "header")
                throw ParameterError("parameter '" + std::string(where) + "': unknown field '" + std::string(kv.key()) +
                                     "'; known fields: header");
        std::string header = "x-session-token";
        if (const auto *h = config.if_contains("header")) {
            if (!h->is_string())
                throw ParameterError("parameter '" + std::string(where) + ".header': expected a string");
            header = session::normalize_header(session::text(h->get_string()));
        }
        if (!session::valid_header_name(header))
            throw ParameterError("parameter '" + std::string(where) + ".header': \"" + header +
                                 "\" is not a header name the host can set (1-64 characters of [A-Za-z0-9-])");
        return header;
    }

    void read_session_id_config(const boost::json::object &config) {
        for (const auto &kv : config)
            if (kv.key() != "sources" && kv.key() != "evictionTtlSeconds" && kv.key() != "evictionSweepSeconds")
                throw ParameterError("parameter 'sessionIdConfig': unknown field '" + std::string(kv.key()) +
                                     "'; known fields: sources, evictionTtlSeconds, evictionSweepSeconds");
        ttl_ = seconds_from(config, "evictionTtlSeconds", 300);
        sweep_ = seconds_from(config, "evictionSweepSeconds", 10);
        if (const auto *s = config.if_contains("sources")) {
            if (!s->is_array()) throw ParameterError("parameter 'sessionIdConfig.sources': expected an array");
            for (std::size_t i = 0; i < s->get_array().size(); ++i) {
                const std::string at = "parameter 'sessionIdConfig.sources[" + std::to_string(i) + "]'";
                const auto &source = s->get_array()[i];
                if (!source.is_object()) throw ParameterError(at + ": expected an object");
                const auto &o = source.get_object();
                const bool header = o.contains("header"), attribute = o.contains("attribute");
                if (header == attribute) throw ParameterError(at + ": set exactly one of header and attribute");
                if (attribute)
                    throw ParameterError(at + ": attribute sources are not supported by plughost (a plugin reads only "
                                              "the attributes its manifest declares); send the session id in a "
                                              "header instead");
                for (const auto &kv : o)
                    if (kv.key() != "header")
                        throw ParameterError(at + ": unknown field '" + std::string(kv.key()) + "'");
                if (!o.at("header").is_string()) throw ParameterError(at + ".header: expected a string");
                sources_.push_back(session::normalize_header(session::text(o.at("header").get_string())));
            }
        }
        if (sources_.empty()) sources_.push_back("x-session-id");
    }

    // 0 or absent: the default; negative or not a number: an error (upstream's rules).
    static Clock::duration seconds_from(const boost::json::object &config, std::string_view key, double fallback) {
        double value = fallback;
        if (const auto *v = config.if_contains(key)) {
            if (!v->is_number())
                throw ParameterError("parameter 'sessionIdConfig." + std::string(key) + "': expected a number");
            value = v->to_number<double>();
            if (value < 0 || !(value < 1e9))
                throw ParameterError("parameter 'sessionIdConfig." + std::string(key) +
                                     "': expected a number of seconds > 0, found " + boost::json::serialize(*v));
            if (value == 0) value = fallback;
        }
        return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(value));
    }

    // The endpoint this instance pins: the primary pick, or that of profileName's profile.
    std::optional<Endpoint> pinned_endpoint(const Decision &decision) const {
        if (profile_.empty() || profile_ == decision.profile())
            return decision.picked().empty() ? std::nullopt : std::optional<Endpoint>(decision.picked()[0]);
        return decision.extra(profile_);
    }

    // The first non-empty (trimmed) value among the header sources.
    std::string session_id_of(const Request &request) const {
        for (const auto &header : sources_)
            if (const auto v = request.find_header(header); v && !session::trim(*v).empty())
                return std::string(session::trim(*v));
        return {};
    }

    void score_session(const Request &request, Endpoints endpoints, std::span<double> scores) {
        sweep();
        const std::string id = session_id_of(request);
        if (id.empty()) return;
        const auto bound = bindings_.find(id);
        if (bound == bindings_.end()) return;  // unbound: no preference
        bool present = false;
        for (std::size_t i = 0; i < endpoints.size(); ++i)
            if (endpoints[i].name() == bound->second.endpoint) {
                scores[i] = 1.0;
                present = true;
            }
        // pre_request moves the binding only when its endpoint was not a candidate.
        choices_[std::string(request.id())] = {present, Clock::now()};
    }

    void bind(const Request &request, std::optional<Endpoint> picked) {
        const auto choice = choices_.find(std::string(request.id()));
        const bool bound_absent = choice != choices_.end() && !choice->second.present;
        if (choice != choices_.end()) choices_.erase(choice);
        const std::string id = session_id_of(request);
        if (id.empty() || !picked) return;
        const auto now = Clock::now();
        auto [it, fresh] = bindings_.try_emplace(id, Binding{std::string(picked->name()), now});
        if (fresh) return;
        if (it->second.endpoint == picked->name()) it->second.last_seen = now;
        else if (bound_absent) it->second = Binding{std::string(picked->name()), now};
        // else: the picker chose elsewhere although the bound endpoint was offered; keep the pin.
    }

    // Drops bindings unused for longer than the TTL, and scoring records of requests that never
    // reached pre_request, at most once per sweep interval.
    void sweep() {
        const auto now = Clock::now();
        if (now - last_sweep_ < sweep_) return;
        last_sweep_ = now;
        std::erase_if(bindings_, [&](const auto &kv) { return now - kv.second.last_seen > ttl_; });
        std::erase_if(choices_, [&](const auto &kv) { return now - kv.second.at > ttl_; });
    }

    struct Choice {
        bool present = false;
        Clock::time_point at;
    };

    Host host_;
    std::string profile_;
    std::string header_ = "x-session-token";
    bool session_id_ = false;
    std::vector<std::string> sources_;
    Clock::duration ttl_{}, sweep_{};
    Clock::time_point last_sweep_ = Clock::now();
    std::unordered_map<std::string, Binding> bindings_;
    std::unordered_map<std::string, Choice> choices_;
    std::unordered_map<std::string, std::string> profile_picks_;  // request id -> endpoint name ("" none)
};

inline constexpr Param kSessionAffinityScorerParams[] = {
    {"strategy", ParamType::string, "\"encoded_endpoint_header\"",
     "\"encoded_endpoint_header\" (the client echoes a token naming the endpoint) or \"session_id\" (the plugin "
     "binds an opaque session id to an endpoint)."},
    {"profileName", ParamType::string, "\"\"",
     "The profile whose pick is pinned (e.g. \"prefill\"); empty: the primary pick."},
    {"encodedEndpointHeaderConfig", ParamType::object, "{}",
     "{\"header\": name}: the request and response header carrying the token (default x-session-token)."},
    {"sessionIdConfig", ParamType::object, "{}",
     "{\"sources\": [{\"header\": name}, ...], \"evictionTtlSeconds\": 300, \"evictionSweepSeconds\": 10}: where "
     "the session id is read (first non-empty wins; default one header, x-session-id), and how long an unused "
     "binding lives."},
};

inline constexpr Manifest kSessionAffinityScorerManifest{
    .type = "session-affinity-scorer",
    .role = Role::scorer,
    .version = "1.0.0",
    .stability = Stability::alpha,
    .feature_gate = "SessionAffinityScorer",
    .description = "Scores 1 for the endpoint that served the request's session before (from a base64 token header "
                   "it sets on responses, or a bound session id), 0 for the others.",
    .parameters = kSessionAffinityScorerParams,
};

}  // namespace plughost::plugins
