// disagg-profile-handler: prefill/decode (and encode) disaggregation with its decider. The
// tables are upstream llm-d-router's unit-test cases, from
// pkg/epp/framework/plugins/scheduling/profilehandler/disagg/ (prefix_based_pd_decider_test.go,
// disagg_profile_handler_test.go, scheduler_test.go); each case cites its file. A decider's yes
// shows as the handler choosing the prefill (or encode) profile next, its no as choosing none.
#include "deployment.hpp"
#include "plugin_test_helpers.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

namespace {

std::string prefix_decider(long long non_cached, long long prompt_tokens = 0) {
    return R"({"deciders": {"prefill": {"type": "prefix-based-pd-decider", "parameters": {"nonCachedTokens": )" +
           std::to_string(non_cached) + R"(, "promptTokens": )" + std::to_string(prompt_tokens) + "}}}}";
}

// Upstream's test endpoints: pods at 10.0.0.(i+1):8000.
pt::EndpointSet pods(std::size_t n) {
    std::vector<pt::EndpointSpec> specs;
    for (std::size_t i = 0; i < n; ++i)
        specs.push_back(
            {.name = "pod" + std::to_string(i + 1), .address = "10.0.0." + std::to_string(i + 1) + ":8000"});
    return pt::EndpointSet(specs);
}

// What a prefix producer would have published: the prompt's tokens, the block size, and the
// blocks the endpoint holds (nullopt: nothing for the endpoint).
void publish(pt::PluginInstance &handler, double prompt_tokens, std::optional<double> cached_blocks,
             const plughost_endpoint *endpoint, double block_size = 1) {
    handler.clear_attributes();
    handler.set_attribute("prefix-cache.prompt-tokens", nullptr, prompt_tokens);
    handler.set_attribute("prefix-cache.block-size-tokens", nullptr, block_size);
    if (cached_blocks) handler.set_attribute("prefix-cache.match-blocks", endpoint, *cached_blocks);
}

// The profiles the handler runs next.
std::vector<std::string> next(pt::PluginInstance &handler, const pt::ProfileRunSet &profiles,
                              const std::vector<std::string> &names,
                              const pt::RequestData &request = pt::RequestData()) {
    const auto chosen = handler.pick_profiles(request, profiles);
    REQUIRE_MESSAGE(chosen.ok(), chosen.message);
    std::vector<std::string> out;
    for (std::size_t i : chosen.value) out.push_back(names.at(i));
    return out;
}

using Names = std::vector<std::string>;

// A P/D decision after decode picked pod1, with `cached` blocks of `tokens` on it: does prefill run?
bool prefill_runs(pt::PluginInstance &handler, double tokens, std::optional<double> cached) {
    const Names names{"decode", "prefill"};
    pt::EndpointSet endpoints = pods(2);
    pt::ProfileRunSet profiles(names);
    profiles.picked(0, endpoints, {0});
    publish(handler, tokens, cached, endpoints.at(0));
    const auto chosen = next(handler, profiles, names);
    REQUIRE(chosen.size() <= 1);
    if (!chosen.empty()) CHECK(chosen[0] == "prefill");
    return !chosen.empty();
}

}  // namespace

TEST_CASE("disagg-profile-handler declares a beta profile handler that may read prefix-cache attributes") {
    pt::PluginLibrary lib(paths::plugin_disagg_profile_handler);
    const auto m = host_manifest(lib);
    CHECK(m.type == "disagg-profile-handler");
    CHECK(m.role == host::Role::profile_handler);
    CHECK(m.stability == host::Stability::beta);
    CHECK(m.feature_gate == "DisaggProfileHandler");
    CHECK(default_of(m, "stageOrder") == "\"decode-first\"");
    REQUIRE(m.consumes.size() == 3);
    for (const auto &c : m.consumes) CHECK(!c.required);
    CHECK(static_cast<bool>(lib.entry().pre_request));
}

// Upstream prefix_based_pd_decider_test.go (TestDisaggregate): a 10-token request, blocks of 1.
TEST_CASE(
    "the prefix-based decider disaggregates on the non-cached suffix (upstream prefix_based_pd_decider_test.go)") {
    pt::PluginLibrary lib(paths::plugin_disagg_profile_handler);
    struct Case {
        const char *name;
        long long non_cached, prompt_tokens;
        double cached;
        bool disaggregate;
    };
    const std::vector<Case> cases{
        {"threshold zero disables", 0, 0, 5, false},
        {"input shorter than promptTokens", 5, 20, 0, false},
        {"input shorter than threshold", 20, 0, 0, false},
        {"input equals promptTokens", 5, 10, 5, true},
        {"non-cached suffix below threshold", 5, 0, 8, false},
        {"non-cached suffix equals threshold", 5, 0, 5, true},
        {"non-cached suffix above threshold", 3, 0, 2, true},
        {"fully cached prompt", 1, 0, 10, false},
        {"no cache hit at all", 5, 0, 0, true},
    };
    for (const Case &c : cases) {
        INFO(c.name);
        auto handler = make(lib, prefix_decider(c.non_cached, c.prompt_tokens));
        CHECK(prefill_runs(*handler, 10, c.cached) == c.disaggregate);
    }
}

TEST_CASE("the prefix-based decider: block size, missing and mistyped prefix information (upstream "
          "prefix_based_pd_decider_test.go)") {
    pt::PluginLibrary lib(paths::plugin_disagg_profile_handler);
    // TestDisaggregate_UsesUnweightedCachedBlockCount without a separate cached-block count:
    // 4096 tokens, blocks of 16, 192 held: 4096 - 3072 = 1024 >= 512.
    auto big = make(lib, prefix_decider(512));
    {
        const Names names{"decode", "prefill"};
        pt::EndpointSet endpoints = pods(1);
        pt::ProfileRunSet profiles(names);
        profiles.picked(0, endpoints, {0});
        publish(*big, 4096, 192, endpoints.at(0), 16);
        CHECK(next(*big, profiles, names) == Names{"prefill"});
        publish(*big, 4096, 240, endpoints.at(0), 16);  // 4096 - 3840 = 256 < 512
        CHECK(next(*big, profiles, names).empty());
    }
    // No prefix information for the endpoint (100 tokens, threshold 5): no.
    auto handler = make(lib, prefix_decider(5));
    CHECK(!prefill_runs(*handler, 100, std::nullopt));
    // The wrong type (a string): no.
    const Names names{"decode", "prefill"};
    pt::EndpointSet endpoints = pods(1);
    pt::ProfileRunSet profiles(names);
    profiles.picked(0, endpoints, {0});
    publish(*handler, 100, std::nullopt, endpoints.at(0));
    handler->set_attribute("prefix-cache.match-blocks", endpoints.at(0), std::string("3"));
    CHECK(next(*handler, profiles, names).empty());
}

// Upstream prefix_based_pd_decider_test.go (config validation and factory).
TEST_CASE("the prefix-based decider's parameters are checked (upstream prefix_based_pd_decider_test.go)") {
    pt::PluginLibrary lib(paths::plugin_disagg_profile_handler);
    make(lib, prefix_decider(0));
    make(lib, prefix_decider(100));
    make(lib, prefix_decider(50));
    make(lib, R"({"deciders": {"prefill": {"type": "prefix-based-pd-decider"}}})");  // nonCachedTokens 0: off
    check_rejected(lib, prefix_decider(-1),
                   "parameter 'deciders': prefill: nonCachedTokens must be between 0 and 1e15, found -1");
    check_rejected(lib, prefix_decider(5, -1),
                   "parameter 'deciders': prefill: promptTokens must be between 0 and 1e15, found -1");
    check_rejected(
        lib,
        R"({"deciders": {"prefill": {"type": "prefix-based-pd-decider", "parameters": {"nonCachedTokens": 1.5}}}})",
        "parameter 'deciders': prefill: nonCachedTokens must be an integer, found 1.5E0");
    check_rejected(lib,
                   R"({"deciders": {"prefill": {"type": "prefix-based-pd-decider", "parameters": {"tokens": 1}}}})",
                   "parameter 'deciders': prefill: unknown parameter \"tokens\" of prefix-based-pd-decider; known "
                   "parameters: nonCachedTokens, promptTokens");
    CHECK(lib.create("bad", "{invalid}").status == PLUGHOST_INVALID_ARGUMENT);
}

// Upstream disagg_profile_handler_test.go (factory cases; the deciders are upstream plugin names,
// here decider types or {type, parameters}).
TEST_CASE("disagg-profile-handler accepts upstream's parameter forms (upstream disagg_profile_handler_test.go)") {
    pt::PluginLibrary lib(paths::plugin_disagg_profile_handler);
    make(lib, "{}");
    make(lib, R"({"deciders": {"prefill": "always-disagg-pd-decider"}})");
    make(
        lib,
        R"({"profiles": {"decode": "my-decode", "prefill": "my-prefill"}, "deciders": {"prefill": "prefix-based-pd-decider"}})");
    make(lib, R"({"profiles": {"encode": "my-encode"}})");
    make(lib, R"({"profiles": {"decode": "d", "prefill": "p", "encode": "e"},
                  "deciders": {"prefill": "always-disagg-pd-decider", "encode": "always-disagg-pd-decider"}})");
    make(lib, R"({"profiles": {"prefill": "my-prefill"}})");
    make(lib, R"({"deciders": {"prefill": ""}})");  // no decider
    check_rejected(lib, R"({"deciders": {"prefill": "INVALID"}})",
                   "parameter 'deciders': prefill: unknown decider \"INVALID\"; use always-disagg-pd-decider or "
                   "prefix-based-pd-decider (plughost takes the decider in the handler's parameters, not as a "
                   "separate plugin)");
    check_rejected(lib, R"({"deciders": {"encode": "INVALID"}})",
                   "parameter 'deciders': encode: unknown decider \"INVALID\"; use always-disagg-pd-decider or "
                   "prefix-based-pd-decider (plughost takes the decider in the handler's parameters, not as a "
                   "separate plugin)");
    check_rejected(lib, R"({"deciders": {"encode": "always-disagg-multimodal-decider"}})",
                   "parameter 'deciders': encode: always-disagg-multimodal-decider is not provided: plughost requests "
                   "carry no multimodal features; use always-disagg-pd-decider or prefix-based-pd-decider");
    // The deprecated flat form, alone; mixed with the nested one it is refused.
    make(lib, R"({"prefillDeciderPluginName": "always-disagg-pd-decider"})");
    make(lib, R"({"encodeDeciderPluginName": "always-disagg-pd-decider"})");
    make(
        lib,
        R"({"decodeProfile": "d", "prefillProfile": "p", "encodeProfile": "e", "deciderPluginName": "prefix-based-pd-decider"})");
    const std::string mixed =
        "use one format: either the nested profiles/deciders or the deprecated flat fields (decodeProfile, "
        "prefillProfile, encodeProfile, prefillDeciderPluginName, deciderPluginName, encodeDeciderPluginName), not "
        "both";
    check_rejected(lib, R"({"decodeProfile": "d", "profiles": {"decode": "d"}})", mixed);
    check_rejected(lib, R"({"prefillDeciderPluginName": "always-disagg-pd-decider", "deciders": {}})", mixed);
    check_rejected(lib, R"({"profiles": {"decode": "d", "verify": "v"}})",
                   "parameter 'profiles': unknown field \"verify\"; known fields: decode, prefill, encode");
    CHECK(lib.create("bad", R"({"unknown": 1})").status == PLUGHOST_INVALID_ARGUMENT);
    CHECK(lib.create("bad", R"({"deciders": )").status == PLUGHOST_INVALID_ARGUMENT);
}

// Upstream disagg_profile_handler_test.go (TestStageOrder factory cases).
TEST_CASE("disagg-profile-handler reads the stage order as upstream (upstream disagg_profile_handler_test.go)") {
    pt::PluginLibrary lib(paths::plugin_disagg_profile_handler);
    const Names names{"decode", "prefill"};
    const pt::ProfileRunSet fresh(names);
    const auto first = [&](const std::string &params) { return next(*make(lib, params), fresh, names); };
    CHECK(first("{}") == Names{"decode"});
    CHECK(first(R"({"stageOrder": "prefill-first"})") == Names{"prefill"});
    CHECK(first(R"({"stageOrder": "PrefillFirst"})") == Names{"prefill"});
    CHECK(first(R"({"stageOrder": "decode-first"})") == Names{"decode"});
    CHECK(first(R"({"stageOrder": "DecodeFirst"})") == Names{"decode"});
    CHECK(first(R"({"decodeProfile": "decode", "stageOrder": "prefill-first"})") == Names{"prefill"});
    check_rejected(lib, R"({"stageOrder": "INVALID_ORDER"})",
                   "parameter 'stageOrder': invalid stage order \"INVALID_ORDER\", must be \"decode-first\" or "
                   "\"prefill-first\"");
    const std::string no_decider =
        "a prefill decider is not supported with stageOrder prefill-first: prefill always runs first there";
    check_rejected(lib, R"({"stageOrder": "prefill-first", "deciders": {"prefill": "always-disagg-pd-decider"}})",
                   no_decider);
    check_rejected(lib, R"({"stageOrder": "prefill-first", "deciderPluginName": "always-disagg-pd-decider"})",
                   no_decider);
    check_rejected(lib, R"({"stageOrder": "prefill-first", "prefillDeciderPluginName": "always-disagg-pd-decider"})",
                   no_decider);
    make(lib, R"({"stageOrder": "prefill-first", "deciders": {"encode": "always-disagg-pd-decider"}})");
}

// Upstream disagg_profile_handler_test.go (TestPick P/D, InputTokenError, the series).
TEST_CASE("disagg-profile-handler P/D rounds: decode, then prefill when the decider says so (upstream "
          "disagg_profile_handler_test.go)") {
    pt::PluginLibrary lib(paths::plugin_disagg_profile_handler);
    auto handler = make(lib, prefix_decider(4));
    const Names names{"decode", "prefill"};
    pt::EndpointSet endpoints = pods(2);

    CHECK(next(*handler, pt::ProfileRunSet(names), names) == Names{"decode"});
    pt::ProfileRunSet failed(names);
    failed.failed(0);
    CHECK(next(*handler, failed, names).empty());
    pt::ProfileRunSet done(names);
    done.picked(0, endpoints, {0});
    done.picked(1, endpoints, {1});
    publish(*handler, 8, 0, endpoints.at(0));
    CHECK(next(*handler, done, names).empty());
    CHECK(prefill_runs(*handler, 8, 2));   // enough uncached tokens: 6 >= 4
    CHECK(!prefill_runs(*handler, 8, 5));  // short uncached suffix: 3 < 4

    auto one = make(lib, prefix_decider(1));
    CHECK(!prefill_runs(*one, 0, 0));  // no tokens at all: 0 < 1

    // The series, threshold 2: the short prompt (6 tokens) uncached, then cached; then a longer
    // prompt (15 tokens) that extends it.
    auto series = make(lib, prefix_decider(2));
    CHECK(prefill_runs(*series, 6, 0));
    CHECK(!prefill_runs(*series, 6, 6));
    CHECK(prefill_runs(*series, 15, 6));
}

// Upstream disagg_profile_handler_test.go (TestProcessResults P/D and custom names).
TEST_CASE("disagg-profile-handler names the decode profile primary (upstream disagg_profile_handler_test.go)") {
    pt::PluginLibrary lib(paths::plugin_disagg_profile_handler);
    auto handler = make(lib, prefix_decider(4));
    pt::EndpointSet endpoints = pods(2);
    const pt::RequestData request;

    const auto not_run = handler->process_results(request, pt::ProfileRunSet({"decode", "prefill"}));
    CHECK(not_run.status == PLUGHOST_ERROR);
    CHECK(not_run.message == "failed to find available decode workers: profile \"decode\" did not run");
    const auto absent = handler->process_results(request, pt::ProfileRunSet({"prefill"}));
    CHECK(absent.message == "failed to find available decode workers: profile \"decode\" is not in the config");

    // Upstream errors when decode failed; here decode is still named, and the host answers with
    // the decode profile's own error.
    pt::ProfileRunSet failed({"prefill", "decode"});
    failed.failed(1);
    CHECK(handler->process_results(request, failed).value == 1);

    pt::ProfileRunSet decode_only({"prefill", "decode"});
    decode_only.picked(1, endpoints, {0});
    const auto only = handler->process_results(request, decode_only);
    REQUIRE(only.ok());
    CHECK(only.value == 1);

    pt::ProfileRunSet both({"prefill", "decode"});
    both.picked(1, endpoints, {0});
    both.picked(0, endpoints, {1});
    CHECK(handler->process_results(request, both).value == 1);
    CHECK(handler->counters().at("decode-only") == 1);
    CHECK(handler->counters().at("prefill-decode") == 1);

    auto custom = make(lib, R"({"profiles": {"decode": "my-decode", "prefill": "my-prefill", "encode": "my-encode"},
                                "deciders": {"encode": "always-disagg-pd-decider"}})");
    const Names names{"my-prefill", "my-encode", "my-decode"};
    CHECK(next(*custom, pt::ProfileRunSet(names), names) == Names{"my-decode"});
    pt::ProfileRunSet decoded(names);
    decoded.picked(2, endpoints, {0});
    CHECK(next(*custom, decoded, names) == Names{"my-encode"});
    pt::ProfileRunSet all(names);
    all.picked(0, endpoints, {1});
    all.picked(1, endpoints, {1});
    all.picked(2, endpoints, {0});
    CHECK(custom->process_results(request, all).value == 2);
    CHECK(custom->counters().at("encode-prefill-decode") == 1);
}

// Upstream disagg_profile_handler_test.go (E/PD, E/P/D and nil deciders). Upstream's multimodal
// decider and its mocks become always-disagg-pd-decider (allow) and a prefix-based decider
// whose threshold is never met (reject).
TEST_CASE("disagg-profile-handler encode stages (upstream disagg_profile_handler_test.go)") {
    pt::PluginLibrary lib(paths::plugin_disagg_profile_handler);
    pt::EndpointSet endpoints = pods(3);
    const std::string allow = R"("always-disagg-pd-decider")";
    const std::string reject = R"({"type": "prefix-based-pd-decider", "parameters": {"nonCachedTokens": 1000000}})";

    SUBCASE("E/PD") {
        const Names names{"decode", "encode"};
        auto yes = make(lib, R"({"deciders": {"encode": )" + allow + "}}");
        auto no = make(lib, R"({"deciders": {"encode": )" + reject + "}}");
        CHECK(next(*yes, pt::ProfileRunSet(names), names) == Names{"decode"});
        pt::ProfileRunSet failed(names);
        failed.failed(0);
        CHECK(next(*yes, failed, names).empty());
        pt::ProfileRunSet decoded(names);
        decoded.picked(0, endpoints, {0});
        CHECK(next(*yes, decoded, names) == Names{"encode"});
        publish(*no, 8, 0, endpoints.at(0));
        CHECK(next(*no, decoded, names).empty());
        pt::ProfileRunSet encode_failed(names);
        encode_failed.picked(0, endpoints, {0});
        encode_failed.failed(1);
        CHECK(next(*yes, encode_failed, names).empty());
        pt::ProfileRunSet both(names);
        both.picked(0, endpoints, {0});
        both.picked(1, endpoints, {1});
        CHECK(next(*yes, both, names).empty());
        CHECK(yes->process_results(pt::RequestData(), encode_failed).value == 0);
        CHECK(yes->counters().at("decode-only") == 1);
        CHECK(yes->process_results(pt::RequestData(), both).value == 0);
        CHECK(yes->counters().at("encode-decode") == 1);
    }
    SUBCASE("E/P/D") {
        const Names names{"decode", "prefill", "encode"};
        auto encode_yes = make(
            lib,
            R"({"deciders": {"prefill": {"type": "prefix-based-pd-decider", "parameters": {"nonCachedTokens": 1}}, "encode": )" +
                allow + "}}");
        auto encode_no = make(
            lib,
            R"({"deciders": {"prefill": {"type": "prefix-based-pd-decider", "parameters": {"nonCachedTokens": 1}}, "encode": )" +
                reject + "}}");
        auto long_threshold = make(
            lib,
            R"({"deciders": {"prefill": {"type": "prefix-based-pd-decider", "parameters": {"nonCachedTokens": 100}}, "encode": )" +
                reject + "}}");
        pt::ProfileRunSet decoded(names);
        decoded.picked(0, endpoints, {0});
        for (auto *h : {encode_yes.get(), encode_no.get(), long_threshold.get()}) publish(*h, 8, 0, endpoints.at(0));
        CHECK(next(*encode_yes, pt::ProfileRunSet(names), names) == Names{"decode"});
        CHECK(next(*encode_yes, decoded, names) == Names{"encode"});
        CHECK(next(*encode_no, decoded, names) == Names{"prefill"});  // text only, threshold 1, nothing cached
        CHECK(next(*long_threshold, decoded, names).empty());         // threshold 100
        pt::ProfileRunSet encode_failed(names);
        encode_failed.picked(0, endpoints, {0});
        encode_failed.failed(2);
        CHECK(next(*encode_yes, encode_failed, names) == Names{"prefill"});
        pt::ProfileRunSet encoded(names);
        encoded.picked(0, endpoints, {0});
        encoded.picked(2, endpoints, {2});
        CHECK(next(*encode_yes, encoded, names) == Names{"prefill"});
        pt::ProfileRunSet all(names);
        all.picked(0, endpoints, {0});
        all.picked(1, endpoints, {1});
        all.picked(2, endpoints, {2});
        CHECK(next(*encode_yes, all, names).empty());
        CHECK(encode_yes->process_results(pt::RequestData(), encode_failed).value == 0);
    }
    SUBCASE("no deciders") {
        const Names names{"decode", "prefill", "encode"};
        auto none = make(lib, R"({"profiles": {"decode": "decode", "prefill": "prefill", "encode": "encode"}})");
        CHECK(next(*none, pt::ProfileRunSet(names), names) == Names{"decode"});
        pt::ProfileRunSet decoded(names);
        decoded.picked(0, endpoints, {0});
        CHECK(next(*none, decoded, names).empty());
        auto encode_only = make(lib, R"({"deciders": {"encode": )" + allow + "}}");
        CHECK(next(*encode_only, decoded, names) == Names{"encode"});
        pt::ProfileRunSet encoded(names);
        encoded.picked(0, endpoints, {0});
        encoded.picked(2, endpoints, {2});
        CHECK(next(*encode_only, encoded, names).empty());
        auto prefill_only = make(lib, R"({"deciders": {"prefill": )" + allow + "}}");
        CHECK(next(*prefill_only, decoded, names) == Names{"prefill"});
    }
}

// Upstream disagg_profile_handler_test.go (prefill-first P/D and E/P/D).
TEST_CASE("disagg-profile-handler prefill-first rounds (upstream disagg_profile_handler_test.go)") {
    pt::PluginLibrary lib(paths::plugin_disagg_profile_handler);
    pt::EndpointSet endpoints = pods(3);
    SUBCASE("P/D") {
        auto handler = make(lib, R"({"stageOrder": "prefill-first"})");
        const Names names{"decode", "prefill"};
        CHECK(next(*handler, pt::ProfileRunSet(names), names) == Names{"prefill"});
        pt::ProfileRunSet prefilled(names);
        prefilled.picked(1, endpoints, {1});
        CHECK(next(*handler, prefilled, names) == Names{"decode"});
        pt::ProfileRunSet prefill_failed(names);
        prefill_failed.failed(1);
        CHECK(next(*handler, prefill_failed, names) == Names{"decode"});
        pt::ProfileRunSet decoded(names);
        decoded.picked(1, endpoints, {1});
        decoded.picked(0, endpoints, {0});
        CHECK(next(*handler, decoded, names).empty());
        pt::ProfileRunSet decode_failed(names);
        decode_failed.picked(1, endpoints, {1});
        decode_failed.failed(0);
        CHECK(next(*handler, decode_failed, names).empty());
        CHECK(handler->process_results(pt::RequestData(), decoded).value == 0);
        CHECK(handler->counters().at("prefill-decode") == 1);
    }
    SUBCASE("E/P/D") {
        auto image =
            make(lib, R"({"stageOrder": "prefill-first", "deciders": {"encode": "always-disagg-pd-decider"}})");
        // The prefix-based decider has no endpoint to compare with before decode: never.
        auto text = make(
            lib,
            R"({"stageOrder": "prefill-first", "deciders": {"encode": {"type": "prefix-based-pd-decider", "parameters": {"nonCachedTokens": 1}}}})");
        const Names names{"my-decode", "my-prefill", "my-encode"};
        auto custom = make(
            lib,
            R"({"stageOrder": "prefill-first", "profiles": {"decode": "my-decode", "prefill": "my-prefill", "encode": "my-encode"}, "deciders": {"encode": "always-disagg-pd-decider"}})");
        const Names plain{"decode", "prefill", "encode"};
        CHECK(next(*image, pt::ProfileRunSet(plain), plain) == Names{"prefill"});
        pt::ProfileRunSet prefilled(plain);
        prefilled.picked(1, endpoints, {1});
        CHECK(next(*image, prefilled, plain) == Names{"encode"});
        CHECK(next(*text, prefilled, plain) == Names{"decode"});
        pt::ProfileRunSet encoded(plain);
        encoded.picked(1, endpoints, {1});
        encoded.picked(2, endpoints, {2});
        CHECK(next(*image, encoded, plain) == Names{"decode"});
        pt::ProfileRunSet all(plain);
        all.picked(0, endpoints, {0});
        all.picked(1, endpoints, {1});
        all.picked(2, endpoints, {2});
        CHECK(next(*image, all, plain).empty());
        pt::ProfileRunSet prefill_failed(plain);
        prefill_failed.failed(1);
        CHECK(next(*image, prefill_failed, plain) == Names{"encode"});

        CHECK(next(*custom, pt::ProfileRunSet(names), names) == Names{"my-prefill"});
        pt::ProfileRunSet step(names);
        step.picked(1, endpoints, {1});
        CHECK(next(*custom, step, names) == Names{"my-encode"});
        step.picked(2, endpoints, {2});
        CHECK(next(*custom, step, names) == Names{"my-decode"});
    }
}

// Upstream disagg_profile_handler_test.go and disagg_headers_handler_test.go (PreRequest).
TEST_CASE(
    "disagg-profile-handler tells the decode endpoint where prefill ran (upstream disagg_profile_handler_test.go)") {
    pt::PluginLibrary lib(paths::plugin_disagg_profile_handler);
    auto handler = make(lib, prefix_decider(4));
    pt::EndpointSet endpoints{{.name = "decode-0", .address = "10.0.0.1:8000"},
                              {.name = "prefill-0", .address = "10.0.0.5:8080"},
                              {.name = "v6", .address = "[fd00::1]:8000"},
                              {.name = "nowhere"}};
    const pt::RequestData request;

    REQUIRE(handler->pre_request(request, pt::DecisionData("decode", endpoints, {0}, {{"prefill", 1}})).ok());
    CHECK(handler->upstream_headers() ==
          std::vector<std::pair<std::string, std::string>>{{"x-prefiller-host-port", "10.0.0.5:8080"}});

    auto v6 = make(lib);
    REQUIRE(v6->pre_request(request, pt::DecisionData("decode", endpoints, {0}, {{"prefill", 2}})).ok());
    CHECK(v6->upstream_headers() ==
          std::vector<std::pair<std::string, std::string>>{{"x-prefiller-host-port", "[fd00::1]:8000"}});

    auto decode_only = make(lib);
    REQUIRE(decode_only->pre_request(request, pt::DecisionData("decode", endpoints, {0})).ok());
    CHECK(decode_only->upstream_headers().empty());

    // A prefill endpoint without an address: no header, and a warning naming it.
    auto no_address = make(lib);
    REQUIRE(no_address->pre_request(request, pt::DecisionData("decode", endpoints, {0}, {{"prefill", 3}})).ok());
    CHECK(no_address->upstream_headers().empty());
    REQUIRE(no_address->logs().size() == 1);
    CHECK(no_address->logs()[0].text == "request request-1: prefill endpoint nowhere has no address: "
                                        "x-prefiller-host-port not set");

    // Custom names: the extra carries the profile's name.
    auto custom = make(lib, R"({"profiles": {"prefill": "my-prefill", "encode": "my-encode"}})");
    REQUIRE(
        custom->pre_request(request, pt::DecisionData("decode", endpoints, {0}, {{"my-prefill", 1}, {"my-encode", 2}}))
            .ok());
    CHECK(custom->upstream_headers() ==
          std::vector<std::pair<std::string, std::string>>{{"x-prefiller-host-port", "10.0.0.5:8080"},
                                                           {"x-encoder-hosts-ports", "[fd00::1]:8000"}});
}

// Upstream scheduler_test.go's cases, through the real CLI. There is no prefix producer in this
// config, so the attributes cannot be resolved: the decider estimates the prompt at 4 bytes per
// token with nothing cached (the harness above always resolves them, so only this test covers
// that fallback). Upstream's second pass, with the prompt cached, needs a producer.
TEST_CASE("disagg-profile-handler end to end through plughost run: the prefill extra and header (upstream "
          "scheduler_test.go)") {
    Deployment d({paths::plugin_prefill_filter, paths::plugin_decode_filter, paths::plugin_queue_scorer,
                  paths::plugin_max_score_picker, paths::plugin_disagg_profile_handler});
    const std::string config = d.config(R"({
      "apiVersion": "plughost.io/v1", "kind": "EndpointPickerConfig",
      "policy": {"minStability": "beta"},
      "plugins": [
        {"type": "prefill-filter"}, {"type": "decode-filter"}, {"type": "queue-scorer"}, {"type": "max-score-picker"},
        {"type": "disagg-profile-handler", "parameters": {
          "deciders": {"prefill": {"type": "prefix-based-pd-decider", "parameters": {"nonCachedTokens": 2}}}}}
      ],
      "schedulingProfiles": [
        {"name": "prefill", "plugins": [{"pluginRef": "prefill-filter"}, {"pluginRef": "max-score-picker"}]},
        {"name": "decode", "plugins": [{"pluginRef": "decode-filter"}, {"pluginRef": "queue-scorer", "weight": 1},
                                       {"pluginRef": "max-score-picker"}]}
      ]})");
    // Upstream's endpoints: endpoint1 prefill, endpoint2 decode, noRoleEndpoint1 without a role
    // and a queue of 10 (upstream's 2, raised above the 3 picks the host has counted on endpoint2
    // by then, which the queue scorer sees as its queue). Prompts are multiples of 4 bytes, so the estimate is
    // upstream's len/4.
    const std::string stream = R"({"request": {"id": "no-endpoints", "prompt": "12345678"}}
{"endpoint": {"name": "endpoint2", "address": "5.6.7.8:8000", "labels": {"llm-d.ai/role": "decode"}}}
{"request": {"id": "one-decode", "prompt": "12345678"}}
{"endpoint": {"name": "endpoint1", "address": "1.2.3.4:8000", "labels": {"llm-d.ai/role": "prefill"}}}
{"request": {"id": "1p1d-long", "prompt": "12345678"}}
{"request": {"id": "1p1d-short", "prompt": "1234"}}
{"endpoint": {"name": "noRoleEndpoint1", "address": "1.1.1.1:8000", "metrics": {"waitingQueueSize": 10}}}
{"request": {"id": "1p2d-long", "prompt": "1234567890123456789012345678901234567890"}}
{"endpointRemoved": "endpoint2"}
{"request": {"id": "roles-with-no-decode", "prompt": "12345678"}}
{"endpointRemoved": "noRoleEndpoint1"}
{"request": {"id": "one-prefill", "prompt": "12345678"}}
)";
    const auto r = run_plughost(d.args("run", config), stream);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 7);
    const auto decision = [&](std::size_t i) { return parse_json(out[i]).as_object(); };
    const auto text = [](const boost::json::value &v) { return boost::json::serialize(v); };

    CHECK(decision(0).at("id").as_string() == "no-endpoints");
    CHECK(decision(0).at("error").at("code").as_string() == "no-endpoints");

    auto one = decision(1);
    CHECK(one.at("profile").as_string() == "decode");
    CHECK(text(one.at("picked")) == R"(["endpoint2"])");
    CHECK(!one.contains("extras"));  // no prefill endpoint: the prefill profile failed
    CHECK(!one.contains("headers"));

    auto long_prompt = decision(2);
    CHECK(long_prompt.at("profile").as_string() == "decode");
    CHECK(text(long_prompt.at("picked")) == R"(["endpoint2"])");
    CHECK(text(long_prompt.at("extras")) == R"({"prefill":"endpoint1"})");
    CHECK(text(long_prompt.at("headers")) == R"({"x-prefiller-host-port":"1.2.3.4:8000"})");

    auto short_prompt = decision(3);  // 1 token < 2: decode only
    CHECK(text(short_prompt.at("picked")) == R"(["endpoint2"])");
    CHECK(!short_prompt.contains("extras"));
    CHECK(!short_prompt.contains("headers"));

    auto two_decode = decision(4);  // the queue scorer prefers endpoint2 to the busy unlabelled one
    CHECK(text(two_decode.at("picked")) == R"(["endpoint2"])");
    CHECK(text(two_decode.at("extras")) == R"({"prefill":"endpoint1"})");

    auto no_decode_role = decision(5);  // an unlabelled endpoint decodes
    CHECK(text(no_decode_role.at("picked")) == R"(["noRoleEndpoint1"])");
    CHECK(text(no_decode_role.at("extras")) == R"({"prefill":"endpoint1"})");
    CHECK(text(no_decode_role.at("headers")) == R"({"x-prefiller-host-port":"1.2.3.4:8000"})");

    auto prefill_only = decision(6);  // no decode endpoint: the decode profile's own error
    CHECK(prefill_only.at("id").as_string() == "one-prefill");
    CHECK(prefill_only.at("error").at("code").as_string() == "no-candidates");

    // The run summary counts the handler's decisions.
    CHECK(r.err.find("prefill-decode") != std::string::npos);
    CHECK(r.err.find("decode-only") != std::string::npos);
}
