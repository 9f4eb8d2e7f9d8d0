#include "disagg_profile_handler.hpp"

#include <algorithm>
#include <cctype>

namespace plughost::plugins {

namespace {

constexpr std::string_view kFlat[] = {"decodeProfile",     "prefillProfile",
                                      "encodeProfile",     "prefillDeciderPluginName",
                                      "deciderPluginName", "encodeDeciderPluginName"};

// "decode-first", "DecodeFirst", "decode_first", "decode" and "" are one order, as upstream.
bool parse_prefill_first(std::string_view text) {
    std::string folded;
    for (char c : text)
        if (c != '-' && c != '_') folded += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (folded.empty() || folded == "decodefirst" || folded == "decode") return false;
    if (folded == "prefillfirst" || folded == "prefill") return true;
    throw ParameterError("parameter 'stageOrder': invalid stage order \"" + std::string(text) +
                         "\", must be \"decode-first\" or \"prefill-first\"");
}

// A profile name from profiles.<role> (nested form) or <role>Profile (flat form); empty keeps
// the default.
void read_name(const boost::json::object *profiles, std::string_view key, std::string &out) {
    if (!profiles) return;
    const auto *v = profiles->if_contains(key);
    if (!v) return;
    if (!v->is_string())
        throw ParameterError("parameter 'profiles': \"" + std::string(key) + "\" must be a profile name, found " +
                             boost::json::serialize(*v));
    if (!v->get_string().empty()) out = v->get_string();
}

}  // namespace

DisaggProfileHandler::DisaggProfileHandler(const Params &params, Host host) : host_(std::move(host)) {
    prefill_first_ = parse_prefill_first(params.get<std::string>("stageOrder"));
    const bool nested = params.contains("profiles") || params.contains("deciders");
    bool flat = false;
    for (std::string_view key : kFlat) flat |= params.contains(key);
    if (nested && flat)
        throw ParameterError("use one format: either the nested profiles/deciders or the deprecated flat fields "
                             "(decodeProfile, prefillProfile, encodeProfile, prefillDeciderPluginName, "
                             "deciderPluginName, encodeDeciderPluginName), not both");

    std::optional<boost::json::value> prefill_spec, encode_spec;
    if (nested) {
        const auto profiles = params.get_or("profiles", boost::json::object());
        for (const auto &kv : profiles)
            if (kv.key() != "decode" && kv.key() != "prefill" && kv.key() != "encode")
                throw ParameterError("parameter 'profiles': unknown field \"" + std::string(kv.key()) +
                                     "\"; known fields: decode, prefill, encode");
        read_name(&profiles, "decode", decode_);
        read_name(&profiles, "prefill", prefill_);
        read_name(&profiles, "encode", encode_);
        const auto deciders = params.get_or("deciders", boost::json::object());
        for (const auto &kv : deciders) {
            if (kv.key() != "prefill" && kv.key() != "encode")
                throw ParameterError("parameter 'deciders': unknown field \"" + std::string(kv.key()) +
                                     "\"; known fields: prefill, encode");
            // An empty name means no decider, as upstream.
            if (kv.value().is_string() && kv.value().get_string().empty()) continue;
            (kv.key() == "prefill" ? prefill_spec : encode_spec) = kv.value();
        }
    } else if (flat) {
        const auto flat_name = [&](std::string_view key, std::string &out) {
            const std::string v = params.get_or(key, std::string());
            if (!v.empty()) out = v;
        };
        flat_name("decodeProfile", decode_);
        flat_name("prefillProfile", prefill_);
        flat_name("encodeProfile", encode_);
        std::string prefill_decider = params.get_or("prefillDeciderPluginName", std::string());
        if (prefill_decider.empty()) prefill_decider = params.get_or("deciderPluginName", std::string());
        const std::string encode_decider = params.get_or("encodeDeciderPluginName", std::string());
        if (!prefill_decider.empty()) prefill_spec = boost::json::value(prefill_decider);
        if (!encode_decider.empty()) encode_spec = boost::json::value(encode_decider);
        host_.warn("deprecated flat parameters: use \"profiles\": {decode, prefill, encode} and \"deciders\": "
                   "{prefill, encode}");
    }
    if (prefill_spec) prefill_decider_ = Decider(*prefill_spec, "parameter 'deciders': prefill");
    if (encode_spec) encode_decider_ = Decider(*encode_spec, "parameter 'deciders': encode");
    if (prefill_first_ && prefill_decider_.kind() != Decider::Kind::none)
        throw ParameterError("a prefill decider is not supported with stageOrder prefill-first: prefill always runs "
                             "first there");
    match_blocks_ = optional_attribute("prefix-cache.match-blocks");
    block_size_tokens_ = optional_attribute("prefix-cache.block-size-tokens");
    prompt_tokens_ = optional_attribute("prefix-cache.prompt-tokens");
}

// Without a producer in the config the host resolves no id: the attribute stays invalid and the
// decider falls back (see cached_tokens and input_tokens).
Attribute DisaggProfileHandler::optional_attribute(std::string_view name) const {
    try {
        return host_.attribute(name);
    } catch (const std::invalid_argument &) {
        return Attribute();
    }
}

// Decode first: run decode; once it picked, ask the encode decider, then the prefill decider,
// about its endpoint, one stage per round. Prefill first: prefill, then encode if its decider
// says so, then decode. A stage "has run" when the host ran it, picked or failed; a stage its
// decider declined stays not run, and is asked again in a later round (deciders are
// deterministic for a request, so the answer is the same).
void DisaggProfileHandler::pick_profiles(const Request &request, ProfileRuns profiles, Selection &run) const {
    const auto decode = profiles.find(decode_);
    const auto prefill = profiles.find(prefill_);
    const auto encode = profiles.find(encode_);
    const auto pending = [&](std::optional<std::size_t> i) { return i && !profiles[*i].ran(); };
    if (!prefill_first_) {
        if (!decode) return;  // no decode profile: nothing to run (process_results says why)
        if (pending(decode)) return run.add(*decode);
        if (profiles[*decode].state() != ProfileRun::State::picked) return;
        const Endpoint chosen = profiles[*decode].picked()[0];
        if (pending(encode) && decide(encode_decider_, request, chosen)) return run.add(*encode);
        if (pending(prefill) && decide(prefill_decider_, request, chosen)) return run.add(*prefill);
        return;
    }
    if (decode && profiles[*decode].ran()) return;
    if (pending(prefill)) return run.add(*prefill);
    if (pending(encode) && decide(encode_decider_, request, std::nullopt)) return run.add(*encode);
    if (decode) run.add(*decode);
}

// The decode profile is the primary one. When it ran and failed it is still named: the host then
// answers with the decode profile's own error (e.g. no decode endpoint passed its filters).
std::size_t DisaggProfileHandler::process_results(const Request &, ProfileRuns profiles) const {
    const auto decode = profiles.find(decode_);
    if (!decode || !profiles[*decode].ran())
        throw std::runtime_error("failed to find available decode workers: profile \"" + decode_ +
                                 (decode ? "\" did not run" : "\" is not in the config"));
    const auto picked = [&](const std::string &name) {
        const auto i = profiles.find(name);
        return i && profiles[*i].state() == ProfileRun::State::picked;
    };
    if (profiles[*decode].state() == ProfileRun::State::picked) {
        const bool e = picked(encode_), p = picked(prefill_);
        host_.count(e && p ? "encode-prefill-decode" : e ? "encode-decode" : p ? "prefill-decode" : "decode-only");
    }
    return *decode;
}

// The decode endpoint learns where the prefill (and encode) stage ran. Upstream joins the address
// and port of the endpoint; a plughost endpoint's address is already host:port.
void DisaggProfileHandler::pre_request(const Request &request, const Decision &decision) const {
    if (const auto prefill = decision.extra(prefill_)) {
        if (prefill->address().empty())
            host_.warn("request " + std::string(request.id()) + ": prefill endpoint " + std::string(prefill->name()) +
                       " has no address: x-prefiller-host-port not set");
        else if (!host_.set_upstream_header(request, "x-prefiller-host-port", prefill->address()))
            host_.warn("request " + std::string(request.id()) + ": the host refused x-prefiller-host-port");
    }
    if (const auto encode = decision.extra(encode_); encode && !encode->address().empty())
        host_.set_upstream_header(request, "x-encoder-hosts-ports", encode->address());
}

bool DisaggProfileHandler::decide(const Decider &decider, const Request &request,
                                  std::optional<Endpoint> decode) const {
    switch (decider.kind()) {
    case Decider::Kind::none: return false;
    case Decider::Kind::always: return true;
    case Decider::Kind::prefix_based:
        if (!decode) return false;  // nothing to compare the prompt with (prefill-first encode)
        return decider.prefix_rule(input_tokens(request), cached_tokens(request, *decode));
    }
    return false;
}

// The prompt's length in tokens: the producer's count when one is configured (absent: 0, as
// upstream without a tokenized prompt); otherwise estimated as upstream's estimating tokenizer
// does, 4 bytes per token, rounded up.
double DisaggProfileHandler::input_tokens(const Request &request) const {
    if (prompt_tokens_.valid()) return host_.number(request, std::nullopt, prompt_tokens_).value_or(0.0);
    return static_cast<double>((request.prompt().size() + 3) / 4);
}

// Tokens of the prompt the decode endpoint already holds. With a prefix producer configured:
// match blocks times block size, nullopt when it published nothing for the endpoint (the
// decider then says no, as upstream). Without one: nothing is known to be cached, 0.
std::optional<double> DisaggProfileHandler::cached_tokens(const Request &request, const Endpoint &decode) const {
    if (!match_blocks_.valid()) return 0.0;
    const auto blocks = host_.number(request, decode, match_blocks_);
    const auto size =
        block_size_tokens_.valid() ? host_.number(request, std::nullopt, block_size_tokens_) : std::optional<double>();
    if (!blocks || !size) return std::nullopt;
    return *blocks * *size;
}

}  // namespace plughost::plugins

PLUGHOST_PLUGIN(plughost::plugins::DisaggProfileHandler, plughost::plugins::kDisaggProfileHandlerManifest)
