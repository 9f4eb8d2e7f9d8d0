// The ABI 1.1 roles and hooks through the real CLI and real .so files: producers and attributes,
// profile handlers in rounds, lifecycle observers fed by the stream's response events, shadow
// stages, the host's own load signals (pending picks, requests in flight), and a fixture that
// faults in each new hook: counted, contained, disabled after the fault budget.
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <map>

using namespace plughost::test;

namespace {

// A plugin directory holding the given plugins (type -> built file) and a config file.
struct Deployment {
    TempDir dir, plugins;
    Deployment(const std::map<std::string, std::string> &files, const std::string &config) {
        for (const auto &[type, file] : files) copy_to(file, plugins / (type + ".so"));
        write_file(dir / "c.json", config);
    }
    std::vector<std::string> args(std::initializer_list<std::string> command) const {
        std::vector<std::string> a(command);
        a.insert(a.end(), {"--config", (dir / "c.json").string(), "--plugin-dir", plugins.path().string()});
        return a;
    }
    ProcessResult run(const std::string &input, std::initializer_list<std::string> extra = {}) const {
        std::vector<std::string> a{"run"};
        a.insert(a.end(), extra);
        a.insert(a.end(), {"--config", (dir / "c.json").string(), "--plugin-dir", plugins.path().string()});
        return run_plughost(a, input);
    }
};

// `plughost check -o json` of a deployment: its errors (or warnings) with `code`.
std::vector<std::string> messages_with_code(const std::string &json, const std::string &list, const std::string &code) {
    std::vector<std::string> out;
    const auto doc = parse_json(json);
    if (!doc.as_object().contains(list)) return out;
    for (const auto &e : doc.at(list).as_array())
        if (e.at("code").as_string() == code) out.emplace_back(e.at("message").as_string());
    return out;
}

// The summary line of an instance's counter, as `plughost run` prints it.
std::string counter(const std::string &name, const std::string &value) {
    return "      " + name + " = " + value + "\n";
}

std::string request(const std::string &id, const std::string &extra = "") {
    return "{\"request\": {\"id\": \"" + id + "\"" + extra + "}}\n";
}

std::string response(const std::string &id, const std::string &event, const std::string &extra = "") {
    return "{\"response\": {\"id\": \"" + id + "\", \"event\": \"" + event + "\"" + extra + "}}\n";
}

const std::map<std::string, std::string> kAttributePlugins{
    {"attribute-producer", paths::attribute_producer},
    {"attribute-consumer", paths::attribute_consumer},
    {"max-score-picker", paths::plugin_max_score_picker},
};

const std::string kThreeEndpoints = R"({"endpoint": {"name": "a"}}
{"endpoint": {"name": "b"}}
{"endpoint": {"name": "c"}}
)";

}  // namespace

TEST_CASE("a producer publishes request and endpoint attributes, and a consumer scores by them") {
    Deployment d(kAttributePlugins, R"({"plugins": [{"type": "attribute-consumer"}, {"type": "attribute-producer"},
        {"type": "max-score-picker"}]})");
    const auto check = d.args({"check", "--instantiate", "-o", "json"});
    const auto checked = run_plughost(check);
    CHECK_MESSAGE(checked.exit_code == 0, checked.out);
    const std::string input = kThreeEndpoints + request("r1", R"(, "headers": {"x-target": "b"})") +
                              request("r2", R"(, "headers": {"x-target": "c"})") + request("r3");
    const auto r = d.run(input, {"--explain"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 3);
    const auto r1 = parse_json(out[0]);
    CHECK(r1.at("picked").at(0) == "b");
    const auto &scores = r1.at("explain").at("scorers").at(0).at("scores");
    CHECK(scores.at("a").to_number<double>() == 0.0);
    CHECK(scores.at("b").to_number<double>() == 1.0);
    CHECK(scores.at("c").to_number<double>() == 0.0);
    CHECK(parse_json(out[1]).at("picked").at(0) == "c");
    CHECK(parse_json(out[2]).as_object().contains("picked"));  // no header: attributes absent, still decided
    CHECK(contains(r.err, counter("produced", "3")));
    CHECK(contains(r.err, counter("consistent", "2")));  // the request attribute named the endpoint scored 1
    CHECK(contains(r.err, counter("absent", "1")));
    CHECK_MESSAGE(!contains(r.err, "fault ["), r.err);
}

TEST_CASE("producers run after the producers of what they consume, whatever the config's order") {
    Deployment d({{"relay-producer", paths::relay_producer},
                  {"attribute-producer", paths::attribute_producer},
                  {"max-score-picker", paths::plugin_max_score_picker}},
                 R"({"plugins": [{"type": "relay-producer"}, {"type": "attribute-producer"},
                     {"type": "max-score-picker"}]})");
    const auto r = d.run(kThreeEndpoints + request("r1", R"(, "headers": {"x-target": "a"})") +
                         request("r2", R"(, "headers": {"x-target": "b"})"));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(lines(r.out).size() == 2);
    CHECK_MESSAGE(contains(r.err, counter("relayed", "2")), r.err);  // test.affinity was there for it
    CHECK(!contains(r.err, counter("absent", "1")));
    CHECK(!contains(r.err, counter("absent", "2")));
}

TEST_CASE("check refuses a consumer without a producer, naming the consumer, the attribute and its default producer") {
    Deployment d(
        {{"attribute-consumer", paths::attribute_consumer}, {"max-score-picker", paths::plugin_max_score_picker}},
        R"({"plugins": [{"type": "attribute-consumer", "name": "affinity"}, {"type": "max-score-picker"}]})");
    const auto r = run_plughost(d.args({"check", "-o", "json"}));
    CHECK(r.exit_code == 1);
    const auto errors = messages_with_code(r.out, "errors", "missing-producer");
    REQUIRE_MESSAGE(!errors.empty(), r.out);
    CHECK(contains(errors[0], "plugin \"affinity\" needs attribute \"test."));
    CHECK(contains(errors[0], "its default producer \"attribute-producer\" is not available"));
    const auto run = d.run(request("r1"));
    CHECK(run.exit_code == 1);
    CHECK(run.out.empty());
    CHECK(contains(run.err, "missing-producer"));
}

TEST_CASE("check refuses producers that consume each other's attributes, naming the cycle") {
    Deployment d({{"cycle-producer-a", paths::cycle_producer_a},
                  {"cycle-producer-b", paths::cycle_producer_b},
                  {"max-score-picker", paths::plugin_max_score_picker}},
                 R"({"plugins": [{"type": "cycle-producer-a"}, {"type": "cycle-producer-b"},
                     {"type": "max-score-picker"}]})");
    const auto r = run_plughost(d.args({"check", "-o", "json"}));
    CHECK(r.exit_code == 1);
    const auto errors = messages_with_code(r.out, "errors", "producer-cycle");
    REQUIRE_MESSAGE(errors.size() == 1, r.out);
    CHECK_MESSAGE((contains(errors[0], "cycle-producer-a -> cycle-producer-b -> cycle-producer-a") ||
                   contains(errors[0], "cycle-producer-b -> cycle-producer-a -> cycle-producer-b")),
                  errors[0]);
    CHECK(d.run(request("r1")).exit_code == 1);
}

TEST_CASE("a consumer's default producer is added when the config has none, with a warning, and runs first") {
    Deployment d(kAttributePlugins, R"({"plugins": [{"type": "attribute-consumer"}, {"type": "max-score-picker"}]})");
    const auto check = run_plughost(d.args({"check", "--instantiate", "-o", "json"}));
    CHECK_MESSAGE(check.exit_code == 0, check.out);
    const auto warnings = messages_with_code(check.out, "warnings", "producer-defaulted");
    REQUIRE_MESSAGE(warnings.size() == 1, check.out);  // one producer for both attributes
    CHECK(contains(warnings[0], "plughost adds its default producer \"attribute-producer\""));
    const auto r = d.run(kThreeEndpoints + request("r1", R"(, "headers": {"x-target": "c"})"));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(parse_json(lines(r.out).at(0)).at("picked").at(0) == "c");
    CHECK(contains(r.err, "    attribute-producer "));
    CHECK(contains(r.err, counter("produced", "1")));
    CHECK(contains(r.err, counter("consistent", "1")));
}

namespace {

// Prefill/decode: d1 has the shorter queue (the decode profile's queue-scorer picks it), p1 the
// label role=prefill (the prefill profile's label-scorer picks it).
const std::map<std::string, std::string> kHandlerPlugins{
    {"two-round-handler", paths::two_round_handler},
    {"queue-scorer", paths::plugin_queue_scorer},
    {"label-scorer", paths::label_scorer},
    {"max-score-picker", paths::plugin_max_score_picker},
    {"lifecycle-observer", paths::lifecycle_observer},
};

// `spare_profile` adds a third profile, which the two-round handler never chooses.
std::string handler_config(const std::string &handler, const std::string &primary = "decode",
                           bool spare_profile = false) {
    return R"({"plugins": [{"type": ")" + handler + R"(", "parameters": {"primary": ")" + primary + R"("}},
        {"type": "queue-scorer"}, {"type": "label-scorer"}, {"type": "max-score-picker"},
        {"type": "lifecycle-observer"}],
      "schedulingProfiles": [
        {"name": "decode", "plugins": [{"pluginRef": "queue-scorer"}, {"pluginRef": "max-score-picker"}]},
        {"name": "prefill", "plugins": [{"pluginRef": "label-scorer"}, {"pluginRef": "max-score-picker"}]})" +
           std::string(spare_profile ? R"(,
        {"name": "spare", "plugins": [{"pluginRef": "queue-scorer"}, {"pluginRef": "max-score-picker"}]})"
                                     : "") +
           "]}";
}

const std::string kPrefillDecode =
    R"({"endpoint": {"name": "p1", "labels": {"role": "prefill"}, "metrics": {"waitingQueueSize": 50}}}
{"endpoint": {"name": "d1", "labels": {"role": "decode"}, "metrics": {"waitingQueueSize": 0}}}
)";

}  // namespace

TEST_CASE("a C++ profile handler runs two rounds, process_results names the primary, the other is an extra") {
    Deployment d(kHandlerPlugins, handler_config("two-round-handler"));
    const auto r = d.run(kPrefillDecode + request("r1") + request("r2"));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 2);
    for (const auto &l : out) {
        const auto v = parse_json(l);
        CHECK(v.at("profile") == "decode");
        CHECK(v.at("picked").at(0) == "d1");
        CHECK(v.at("extras").at("prefill") == "p1");
        // The observer's pre_request saw the decision and its extra, and set upstream headers.
        CHECK(v.at("headers").at("x-observed") == "decode:d1");
        CHECK(v.at("headers").at("x-extras") == "1");
    }
    // Decode, then prefill: 2 per request. Once every profile has run the handler is not asked
    // again (it could only choose none).
    CHECK(contains(r.err, counter("rounds", "4")));
    CHECK(contains(r.err, counter("saw-first-picked", "2")));
    CHECK_MESSAGE(!contains(r.err, "fault ["), r.err);

    // The handler's choice of the primary decides which profile serves the request.
    write_file(d.dir / "c.json", handler_config("two-round-handler", "prefill"));
    const auto p = d.run(kPrefillDecode + request("r1"), {"--explain"});
    REQUIRE_MESSAGE(p.exit_code == 0, p.err);
    const auto v = parse_json(lines(p.out).at(0));
    CHECK(v.at("profile") == "prefill");
    CHECK(v.at("picked").at(0) == "p1");
    CHECK(v.at("extras").at("decode") == "d1");
    CHECK(v.at("headers").at("x-observed") == "prefill:p1");
    CHECK(v.at("explain").at("otherProfiles").at(0).at("profile") == "decode");
}

TEST_CASE("a profile handler is asked again while a profile has not run, until it chooses none") {
    Deployment d(kHandlerPlugins, handler_config("two-round-handler", "decode", true));
    const auto r = d.run(kPrefillDecode + request("r1") + request("r2"));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    for (const auto &l : lines(r.out)) {
        const auto v = parse_json(l);
        CHECK(v.at("picked").at(0) == "d1");
        CHECK(v.at("extras").as_object().size() == 1);  // prefill only: "spare" never ran
    }
    CHECK(contains(r.err, counter("rounds", "6")));  // decode, prefill, then none: 3 per request
    CHECK_MESSAGE(!contains(r.err, "fault ["), r.err);
}

TEST_CASE("an observer's response hooks see the endpoint, outcome, status, times and tokens of the stream's "
          "response events") {
    Deployment d({{"queue-scorer", paths::plugin_queue_scorer},
                  {"max-score-picker", paths::plugin_max_score_picker},
                  {"lifecycle-observer", paths::lifecycle_observer}},
                 R"({"plugins": [{"type": "queue-scorer"}, {"type": "max-score-picker"},
                     {"type": "lifecycle-observer"}]})");
    const std::string input =
        R"({"endpoint": {"name": "a", "metrics": {"waitingQueueSize": 0}}}
{"endpoint": {"name": "b", "metrics": {"waitingQueueSize": 9}}}
)" + request("r1") +
        request("r2") + response("r1", "started", R"(, "firstByteSeconds": 0.25)") +
        response("r1", "complete", R"(, "status": 200, "promptTokens": 10, "completionTokens": 32, "seconds": 1.5)") +
        response("r2", "failed", R"(, "status": 503)") + request("r3") + response("r3", "cancelled");
    const auto r = d.run(input);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 3);  // response events produce no output line
    for (const auto &l : out) CHECK(parse_json(l).at("headers").at("x-observed") == "default:a");
    for (const auto &[name, value] : std::map<std::string, std::string>{{"pre_request", "3"},
                                                                        {"started", "1"},
                                                                        {"started.a", "1"},
                                                                        {"ttfb_ms", "250"},
                                                                        {"outcome.complete", "1"},
                                                                        {"outcome.failed", "1"},
                                                                        {"outcome.cancelled", "1"},
                                                                        {"done.a", "3"},
                                                                        {"prompt_tokens", "10"},
                                                                        {"completion_tokens", "32"},
                                                                        {"status.200", "1"},
                                                                        {"status.503", "1"},
                                                                        {"status.0", "1"},
                                                                        {"ms", "1500"}})
        CHECK_MESSAGE(contains(r.err, counter(name, value)), name << " = " << value << "\n" << r.err);
    CHECK(!contains(r.err, "started.wrong-outcome"));
    CHECK(
        contains(r.err, "responses: started 1, complete 1, failed 1, cancelled 1, given up 0; in flight at the end 0"));
}

TEST_CASE("a response event for a request not in flight is an error line with its code, and the run goes on") {
    Deployment d({{"queue-scorer", paths::plugin_queue_scorer}, {"max-score-picker", paths::plugin_max_score_picker}},
                 R"({"plugins": [{"type": "queue-scorer"}, {"type": "max-score-picker"}]})");
    const std::string input = "{\"endpoint\": {\"name\": \"a\"}}\n" + response("never", "complete") + request("r1") +
                              response("r1", "started") + response("r1", "started") + response("r1", "complete") +
                              response("r1", "complete") + request("r2");
    const auto r = d.run(input);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 5);
    const auto unknown = parse_json(out[0]);
    CHECK(unknown.at("line") == 2);
    CHECK(unknown.at("id") == "never");
    CHECK(unknown.at("error").at("code") == "unknown-request");
    CHECK(contains(std::string(unknown.at("error").at("message").as_string()), "not in flight"));
    CHECK(parse_json(out[1]).at("picked").at(0) == "a");
    CHECK(parse_json(out[2]).at("error").at("code") == "invalid-value");  // started twice
    CHECK(contains(std::string(parse_json(out[2]).at("error").at("message").as_string()), "already started"));
    CHECK(parse_json(out[3]).at("error").at("code") == "unknown-request");  // already answered
    CHECK(parse_json(out[3]).at("line") == 7);
    CHECK(parse_json(out[4]).at("picked").at(0) == "a");
    CHECK(contains(r.err, "unknown-request: 2"));
}

namespace {

// The signal a fixture scorer s(x) = 1 / (1 + x) saw for each endpoint of an explained decision.
std::map<std::string, double> signals(const std::string &line) {
    std::map<std::string, double> out;
    const auto v = parse_json(line);
    for (const auto &kv : v.at("explain").at("scorers").at(0).at("scores").as_object())
        out[std::string(kv.key())] = 1.0 / kv.value().to_number<double>() - 1.0;
    return out;
}

double sum(const std::map<std::string, double> &m) {
    double s = 0;
    for (const auto &kv : m) s += kv.second;
    return s;
}

}  // namespace

TEST_CASE("pending picks grow with each decision of a burst between metric updates, and an update resets them") {
    Deployment d(
        {{"pending-picks-scorer", paths::pending_picks_scorer}, {"max-score-picker", paths::plugin_max_score_picker}},
        R"({"plugins": [{"type": "pending-picks-scorer"}, {"type": "max-score-picker"}]})");
    std::string input = kThreeEndpoints;
    for (int i = 0; i < 6; ++i) input += request("r" + std::to_string(i));
    input += "{\"endpoint\": {\"name\": \"a\", \"metrics\": {\"waitingQueueSize\": 2}}}\n" + request("after");
    const auto r = d.run(input, {"--explain"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 7);
    std::map<std::string, int> picks;
    for (int i = 0; i < 6; ++i) {
        const auto seen = signals(out[i]);
        CHECK(sum(seen) == doctest::Approx(i));  // every earlier pick of the burst is pending
        ++picks[std::string(parse_json(out[i]).at("picked").at(0).as_string())];
    }
    // Scoring by pending picks spreads the burst: two each, whatever the ties.
    CHECK(picks == std::map<std::string, int>{{"a", 2}, {"b", 2}, {"c", 2}});
    const auto after = signals(out[6]);
    CHECK(after.at("a") == doctest::Approx(0));  // its fresh metrics reset it
    CHECK(after.at("b") == doctest::Approx(2));
    CHECK(after.at("c") == doctest::Approx(2));
}

TEST_CASE("requests in flight count decisions until their response ends, across metric updates") {
    Deployment d({{"in-flight-scorer", paths::in_flight_scorer}, {"max-score-picker", paths::plugin_max_score_picker}},
                 R"({"plugins": [{"type": "in-flight-scorer"}, {"type": "max-score-picker"}]})");
    const std::string input = kThreeEndpoints + request("r0") + request("r1") + request("r2") +
                              "{\"endpoint\": {\"name\": \"a\", \"metrics\": {\"waitingQueueSize\": 2}}}\n" +
                              request("probe1") + response("r0", "started") + response("r0", "complete") +
                              response("r1", "failed") + request("probe2");
    const auto r = d.run(input, {"--explain"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 5);
    const auto probe1 = signals(out[3]);
    CHECK(sum(probe1) == doctest::Approx(3));  // a metrics update does not reset it
    for (const auto &[name, n] : probe1) CHECK(n == doctest::Approx(1));
    const auto probe2 = signals(out[4]);
    CHECK(sum(probe2) == doctest::Approx(2));  // r2 and probe1; r0 completed, r1 failed
    const std::string r0_at(parse_json(out[0]).at("picked").at(0).as_string());
    const std::string r1_at(parse_json(out[1]).at("picked").at(0).as_string());
    const std::string probe1_at(parse_json(out[3]).at("picked").at(0).as_string());
    for (const auto &[name, n] : probe2) {
        const double expected = 1.0 - (name == r0_at) - (name == r1_at) + (name == probe1_at);
        CHECK_MESSAGE(n == doctest::Approx(expected), name);
    }
    CHECK(contains(r.err, "in flight at the end 3"));  // r2, probe1, probe2
}

TEST_CASE("a shadow scorer that would change the pick does not, and the summary counts the disagreements") {
    Deployment d({{"queue-scorer", paths::plugin_queue_scorer},
                  {"label-scorer", paths::label_scorer},
                  {"max-score-picker", paths::plugin_max_score_picker}},
                 R"({"plugins": [{"type": "queue-scorer"}, {"type": "label-scorer"}, {"type": "max-score-picker"}],
                     "schedulingProfiles": [{"name": "default", "plugins": [{"pluginRef": "queue-scorer", "weight": 1},
                       {"pluginRef": "label-scorer", "weight": 10, "shadow": true},
                       {"pluginRef": "max-score-picker"}]}]})");
    const auto check = run_plughost(d.args({"check", "--instantiate"}));
    CHECK_MESSAGE(check.exit_code == 0, check.out << check.err);
    // Four requests where the shadow scorer (weight 10, for p1) outweighs the queue scorer (d1),
    // then two where they agree (p1 has the shorter queue).
    std::string input = kPrefillDecode;
    for (int i = 0; i < 4; ++i) input += request("r" + std::to_string(i));
    input += R"({"endpoint": {"name": "p1", "labels": {"role": "prefill"}, "metrics": {"waitingQueueSize": 0}}}
{"endpoint": {"name": "d1", "labels": {"role": "decode"}, "metrics": {"waitingQueueSize": 7}}}
)";
    input += request("r4") + request("r5");
    const auto r = d.run(input, {"--explain"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 6);
    for (int i = 0; i < 6; ++i) {
        const auto v = parse_json(out[i]);
        CHECK(v.at("picked").at(0) == (i < 4 ? "d1" : "p1"));
        const auto &shadow = v.at("explain").at("shadows").at(0);
        CHECK(shadow.at("plugin") == "label-scorer");
        CHECK(shadow.at("changed") == (i < 4));
        if (i < 4) CHECK(shadow.at("wouldPick") == "p1");
        // The shadow's scores never reach the totals.
        CHECK(v.at("explain").at("scorers").as_array().size() == 1);
    }
    CHECK_MESSAGE(contains(r.err, "shadow: 6 requests, would have changed 4 (66.7%)"), r.err);
}

namespace {

// One fixture that faults in one ABI 1.1 hook, the config around it, and what the run shows.
struct HookFault {
    std::string hook;
    std::string type;      // the faulting plugin's type
    std::string file;      // its built .so
    std::string kind;      // plugin-error or bad-index
    std::string log_text;  // what the fault's log line says
    bool handler = false;  // a profile handler: requests get error lines instead of decisions
    std::string events;    // response events per request ("" for none)
};

std::string fault_config(const HookFault &f) {
    // Without a handler, the default profile is the queue scorer alone (d1 wins).
    std::string plugins = R"({"type": ")" + f.type + R"(", "name": "faulty"}, {"type": "queue-scorer"},
        {"type": "max-score-picker"}, {"type": "lifecycle-observer"})";
    if (f.handler) plugins += R"(, {"type": "label-scorer"})";
    std::string config = "{\"plugins\": [" + plugins + "], \"runtime\": {\"maxConsecutiveFaults\": 3}";
    if (f.handler)
        config += R"(, "schedulingProfiles": [
        {"name": "decode", "plugins": [{"pluginRef": "queue-scorer"}, {"pluginRef": "max-score-picker"}]},
        {"name": "prefill", "plugins": [{"pluginRef": "label-scorer"}, {"pluginRef": "max-score-picker"}]}])";
    return config + "}";
}

}  // namespace

TEST_CASE("a fault in each ABI 1.1 hook is counted, contained, and disables the instance after the budget") {
    const std::vector<HookFault> faults{
        {"produce", "produce-error", paths::produce_error, "plugin-error", "produce failed on purpose", false, ""},
        {"pick_profiles (an exception)", "throwing-handler", paths::throwing_handler, "plugin-error",
         "pick_profiles exploded", true, ""},
        {"pick_profiles (an index out of range)", "pick-profiles-bad-index", paths::pick_profiles_bad_index,
         "bad-index", "chose a profile that does not exist", true, ""},
        {"process_results (a primary out of range)", "process-results-bad-primary", paths::process_results_bad_primary,
         "bad-index", "named a primary profile that did not run", true, ""},
        {"pre_request", "pre-request-error", paths::pre_request_error, "plugin-error", "pre_request failed on purpose",
         false, ""},
        {"response_started", "response-started-error", paths::response_started_error, "plugin-error",
         "response_started failed on purpose", false, "started"},
        {"response_complete", "response-complete-error", paths::response_complete_error, "plugin-error",
         "response_complete failed on purpose", false, "complete"},
    };
    constexpr int kRequests = 6;
    for (const HookFault &f : faults) {
        CAPTURE(f.hook);
        std::map<std::string, std::string> files = kHandlerPlugins;
        files.erase("two-round-handler");
        files[f.type] = f.file;
        Deployment d(files, fault_config(f));
        std::string input = kPrefillDecode;
        for (int i = 0; i < kRequests; ++i) {
            const std::string id = "r" + std::to_string(i);
            input += request(id);
            if (f.handler) continue;  // its requests are not decided: no response to tell
            if (f.events == "started") input += response(id, "started");
            input += response(id, "complete", R"(, "status": 200)");
        }
        const auto r = d.run(input);
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        const auto out = lines(r.out);
        REQUIRE(out.size() == kRequests);  // one line per request, whatever faulted
        for (int i = 0; i < kRequests; ++i) {
            const auto v = parse_json(out[i]);
            if (f.handler) {
                // Contained: a clear error line for the request, never a crash or a silent drop.
                CHECK(v.at("error").at("code") == "profile-handler-failed");
                const std::string message(v.at("error").at("message").as_string());
                CHECK_MESSAGE(contains(message, "profile handler faulty "), message);
                if (i >= 3) CHECK_MESSAGE(contains(message, "is disabled after repeated faults"), message);
            } else {
                CHECK(v.at("picked").at(0) == "d1");  // the rest of the config still decides
            }
        }
        CHECK_MESSAGE(contains(r.err, "[faulty] fault [" + f.kind + "]"), r.err);
        CHECK_MESSAGE(contains(r.err, f.log_text), r.err);
        CHECK(contains(r.err, "DISABLED after 3 consecutive faults"));
        const std::string kinds = f.kind == "plugin-error" ? "(plugin-error 3, bad-score 0, bad-index 0)"
                                                           : "(plugin-error 0, bad-score 0, bad-index 3)";
        CHECK_MESSAGE(contains(r.err, "faults     3 " + kinds + "  DISABLED"), r.err);
        // The other plugins keep running: the healthy observer saw every decided request to its end.
        if (!f.handler) {
            CHECK_MESSAGE(contains(r.err, counter("pre_request", std::to_string(kRequests))), r.err);
            CHECK(contains(r.err, counter("outcome.complete", std::to_string(kRequests))));
        }
    }
}

TEST_CASE("ABI 1.2 put_numbers and get_numbers: values reach the consumer, and each refusal is made") {
    // batch-producer publishes the waiting queues with put_numbers (through an array in reverse
    // order) after making every call the host must refuse; batch-peer tries to publish with
    // batch-producer's host API in its own turn; batch-consumer reads with get_numbers (both
    // orders), probes what reads nothing, and tries to publish. Each counts what the host did.
    Deployment d({{"batch-producer", paths::batch_producer},
                  {"batch-peer", paths::batch_peer},
                  {"batch-consumer", paths::batch_consumer},
                  {"max-score-picker", paths::plugin_max_score_picker}},
                 R"({"plugins": [{"type": "batch-consumer"}, {"type": "batch-peer"}, {"type": "batch-producer"},
                     {"type": "max-score-picker"}]})");
    const std::string input = R"({"endpoint": {"name": "a", "metrics": {"waitingQueueSize": 3}}}
{"endpoint": {"name": "b", "metrics": {"waitingQueueSize": 1}}}
{"endpoint": {"name": "c", "metrics": {"waitingQueueSize": 5}}}
)" + request("r1") + request("r2") +
                              response("r1", "complete", R"(, "status": 200)") +
                              response("r2", "complete", R"(, "status": 200)");
    const auto r = d.run(input, {"--explain"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 2);
    for (const auto &l : out) {
        const auto v = parse_json(l);
        CHECK(v.at("picked").at(0) == "b");  // the shortest queue: 1 / (1 + 1)
        const auto &scores = v.at("explain").at("scorers").at(0).at("scores");
        CHECK(scores.at("a").to_number<double>() == doctest::Approx(0.25));
        CHECK(scores.at("c").to_number<double>() == doctest::Approx(1.0 / 6));
    }
    for (const char *name : {"published",
                             "refused-undeclared",
                             "refused-scope",
                             "refused-type",
                             "refused-foreign",
                             "refused-null-endpoints",
                             "refused-null-values",
                             "empty-ok",
                             "refused-not-finite",
                             "refused-infinite",
                             "kept-before-bad",
                             "refused-outside-produce",
                             "refused-other-turn",
                             "read-ok",
                             "peer-ok",
                             "absent-scope",
                             "absent-type",
                             "absent-undeclared",
                             "absent-foreign",
                             "absent-null-endpoints",
                             "absent-null-out",
                             "absent-after-cycle",
                             "refused-consumer-publishing"})
        CHECK_MESSAGE(contains(r.err, counter(name, "2")), name << "\n" << r.err);
    CHECK_MESSAGE(!contains(r.err, "fault ["), r.err);
}
