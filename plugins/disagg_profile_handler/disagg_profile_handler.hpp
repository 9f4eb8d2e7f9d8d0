// disagg-profile-handler (beta): prefill/decode (and encode) disaggregation, as upstream
// llm-d-router's handler of the same name. The decode profile runs first; then a decider says
// whether a separate prefill (or encode) profile runs too. The decode profile's pick serves the
// request; the prefill pick becomes the decision's extra of that profile's name, and its address
// goes to the decode endpoint in the x-prefiller-host-port header.
//
// Upstream configures each decider as a plugin of its own (prefix-based-pd-decider,
// always-disagg-pd-decider) that the handler names; plughost has no plugin-to-plugin references,
// so the decider is part of the handler's parameters: "deciders": {"prefill": <decider>}, where
// <decider> is a decider type ("always-disagg-pd-decider") or {"type": ..., "parameters": {...}}.
#pragma once

#include <plughost/plugin.hpp>

#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace plughost::plugins {

/// Whether a request gets a separate prefill (or encode) stage.
class Decider {
public:
    enum class Kind { none, always, prefix_based };

    Decider() = default;
    /// `spec` is a decider type, or {"type", "parameters"}; `where` names it in messages.
    Decider(const boost::json::value &spec, const std::string &where) {
        const boost::json::object *parameters = nullptr;
        std::string type;
        if (spec.is_string()) {
            type = spec.get_string();
        } else if (spec.is_object()) {
            const auto &o = spec.get_object();
            for (const auto &kv : o)
                if (kv.key() != "type" && kv.key() != "parameters")
                    throw ParameterError(where + ": unknown field \"" + std::string(kv.key()) +
                                         "\"; a decider is {\"type\", \"parameters\"}");
            const auto *t = o.if_contains("type");
            if (!t || !t->is_string()) throw ParameterError(where + ": \"type\" must be a decider type");
            type = t->get_string();
            if (const auto *p = o.if_contains("parameters")) {
                if (!p->is_object()) throw ParameterError(where + ": \"parameters\" must be an object");
                parameters = &p->get_object();
            }
        } else {
            throw ParameterError(where + ": expected a decider type or {\"type\", \"parameters\"}, found " +
                                 boost::json::serialize(spec));
        }
        if (type == "always-disagg-pd-decider") {
            kind_ = Kind::always;
            if (parameters && !parameters->empty())
                throw ParameterError(where + ": always-disagg-pd-decider takes no parameters");
        } else if (type == "prefix-based-pd-decider") {
            kind_ = Kind::prefix_based;
            if (parameters) read_prefix_parameters(*parameters, where);
        } else if (type == "always-disagg-multimodal-decider") {
            throw ParameterError(where + ": always-disagg-multimodal-decider is not provided: plughost requests carry "
                                         "no multimodal features; use always-disagg-pd-decider or "
                                         "prefix-based-pd-decider");
        } else {
            throw ParameterError(where + ": unknown decider \"" + type +
                                 "\"; use always-disagg-pd-decider or prefix-based-pd-decider (plughost takes the "
                                 "decider in the handler's parameters, not as a separate plugin)");
        }
    }

    Kind kind() const noexcept { return kind_; }
    long long non_cached_tokens() const noexcept { return non_cached_tokens_; }
    long long prompt_tokens() const noexcept { return prompt_tokens_; }

    /// The prefix-based rule (upstream's prefix-based-pd-decider): disaggregate when the part of
    /// the prompt the decode endpoint does not hold yet is at least nonCachedTokens long.
    /// `cached_tokens` is nullopt when the prefix-match information is missing: no.
    bool prefix_rule(double input_tokens, std::optional<double> cached_tokens) const {
        if (non_cached_tokens_ == 0) return false;  // 0 switches the decider off
        if (prompt_tokens_ > 0 && input_tokens < static_cast<double>(prompt_tokens_)) return false;
        if (input_tokens < static_cast<double>(non_cached_tokens_)) return false;
        if (!cached_tokens) return false;
        return input_tokens - *cached_tokens >= static_cast<double>(non_cached_tokens_);
    }

private:
    void read_prefix_parameters(const boost::json::object &p, const std::string &where) {
        for (const auto &kv : p) {
            long long *slot = kv.key() == "nonCachedTokens" ? &non_cached_tokens_
                              : kv.key() == "promptTokens"  ? &prompt_tokens_
                                                            : nullptr;
            if (!slot)
                throw ParameterError(where + ": unknown parameter \"" + std::string(kv.key()) +
                                     "\" of prefix-based-pd-decider; known parameters: nonCachedTokens, promptTokens");
            const auto &v = kv.value();
            const bool integral =
                v.is_int64() || v.is_uint64() || (v.is_double() && std::trunc(v.get_double()) == v.get_double());
            if (!integral)
                throw ParameterError(where + ": " + std::string(kv.key()) + " must be an integer, found " +
                                     boost::json::serialize(v));
            const double n = v.to_number<double>();
            if (n < 0 || n > 1e15)
                throw ParameterError(where + ": " + std::string(kv.key()) + " must be between 0 and 1e15, found " +
                                     boost::json::serialize(v));
            *slot = static_cast<long long>(n);
        }
    }

    Kind kind_ = Kind::none;
    long long non_cached_tokens_ = 0;
    long long prompt_tokens_ = 0;
};

class DisaggProfileHandler {
public:
    DisaggProfileHandler(const Params &params, Host host);

    void pick_profiles(const Request &request, ProfileRuns profiles, Selection &run) const;
    std::size_t process_results(const Request &request, ProfileRuns profiles) const;
    void pre_request(const Request &request, const Decision &decision) const;

    bool prefill_first() const noexcept { return prefill_first_; }
    const std::string &decode_profile() const noexcept { return decode_; }

private:
    bool decide(const Decider &decider, const Request &request, std::optional<Endpoint> decode) const;
    double input_tokens(const Request &request) const;
    std::optional<double> cached_tokens(const Request &request, const Endpoint &decode) const;
    Attribute optional_attribute(std::string_view name) const;

    Host host_;
    std::string decode_ = "decode", prefill_ = "prefill", encode_ = "encode";
    bool prefill_first_ = false;
    Decider prefill_decider_, encode_decider_;
    Attribute match_blocks_, block_size_tokens_, prompt_tokens_;
};

inline constexpr Param kDisaggProfileHandlerParams[] = {
    {"stageOrder", ParamType::string, "\"decode-first\"",
     "decode-first (decode runs, then a decider may add prefill) or prefill-first (prefill, then decode)."},
    {"profiles", ParamType::object, "", "Profile names {decode, prefill, encode}; default decode, prefill, encode."},
    {"deciders", ParamType::object, "",
     "{prefill, encode}: each a decider type (always-disagg-pd-decider, prefix-based-pd-decider) or "
     "{type, parameters}; a stage without a decider never runs (decode-first)."},
    {"decodeProfile", ParamType::string, "", "Deprecated upstream spelling of profiles.decode."},
    {"prefillProfile", ParamType::string, "", "Deprecated upstream spelling of profiles.prefill."},
    {"encodeProfile", ParamType::string, "", "Deprecated upstream spelling of profiles.encode."},
    {"prefillDeciderPluginName", ParamType::string, "", "Deprecated upstream spelling of deciders.prefill."},
    {"deciderPluginName", ParamType::string, "", "Deprecated upstream spelling of deciders.prefill."},
    {"encodeDeciderPluginName", ParamType::string, "", "Deprecated upstream spelling of deciders.encode."},
};

// Published by a prefix-cache producer (approx-prefix-cache-producer); all optional: without
// them the prefix-based decider falls back (docs/plugins.md).
inline constexpr Consumes kDisaggProfileHandlerConsumes[] = {
    {.name = "prefix-cache.match-blocks", .required = false},
    {.name = "prefix-cache.block-size-tokens", .required = false},
    {.name = "prefix-cache.prompt-tokens", .required = false},
};

inline constexpr Manifest kDisaggProfileHandlerManifest{
    .type = "disagg-profile-handler",
    .role = Role::profile_handler,
    .version = "1.0.0",
    .stability = Stability::beta,
    .feature_gate = "DisaggProfileHandler",
    .description = "Prefill/decode disaggregation: runs the decode profile, then the prefill (or encode) profile "
                   "when its decider says so, and tells the decode endpoint the prefill endpoint "
                   "(x-prefiller-host-port).",
    .parameters = kDisaggProfileHandlerParams,
    .thread_safe = false,  // it counts decisions through the host
    .consumes = kDisaggProfileHandlerConsumes,
};

}  // namespace plughost::plugins
