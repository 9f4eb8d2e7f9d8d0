// plughost test-plugin FILE: what an author's CTest runs (plughost_add_plugin_test). It drives one
// plugin file through the host's own code as far as one call of each of its hooks:
//   1. reading and admission: the manifest note and the admission rules, under the operator's
//      policy when --config or a policy flag gives one (built as `list` builds it), else under a
//      policy that admits every tier and turns the plugin's own feature gate on;
//   2. loading: load_plugin, with the loader's entry checks (the hooks its role needs);
//   3. create: one instance, given --parameters plus the manifest's defaults, as `run` does;
//   4. its role's hook on a sample request over three endpoints (produce, filter, score, pick,
//      or pick_profiles and process_results), the result checked with the scheduler's rules
//      (plughost/rules.hpp); then each observer hook it has (picked, pre_request,
//      response_started, response_complete).
// Prints one line per step; exit 0 when every step passed, 1 at the first that failed (its line
// names the rule), 2 for bad usage.
#include "cli/commands.hpp"

#include "admission/admission.hpp"
#include "admission/policy.hpp"
#include "common/json.hpp"
#include "common/plugin_call.hpp"
#include "inspect/manifest_reader.hpp"
#include "load/instance.hpp"
#include "load/instantiation.hpp"
#include "load/plugin_loader.hpp"
#include "run/output_sink.hpp"
#include "schedule/cycle.hpp"

#include <plughost/rules.hpp>
#include <plughost/testing.hpp>

#include <fmt/format.h>

#include <iostream>

namespace plughost::cli {
namespace {

using testing::EndpointSet;
using testing::ProfileRunSet;
using testing::RequestData;

// The outcome of the steps so far: the first failure ends the run.
class Steps {
public:
    // Flushed line by line: a plugin that crashes the process leaves the steps it passed visible.
    void pass(std::string_view what) { std::cout << "ok    " << what << std::endl; }
    int fail(std::string_view what) {
        std::cout << "FAIL  " << what << '\n';
        return kExitProblems;
    }
};

std::string message_text(const plughost_message &m) { return std::string(m.data, std::min(m.size, m.capacity)); }

// The host's message buffer for one call, and the text a failing status gets.
struct Call {
    std::array<char, 1024> buffer{};
    plughost_message message{buffer.data(), buffer.size(), 0};
    plughost_message *reset() {
        message.size = 0;
        return &message;
    }
    std::string failed(std::string_view hook, plughost_status status) const {
        return fmt::format("{} returned status {} with the message \"{}\"; the host counts a plugin-error fault", hook,
                           status, host::sanitize_line(message_text(message)));
    }
};

std::string list(const std::size_t *values, std::size_t count, std::size_t capacity) {
    std::string text = "[";
    for (std::size_t k = 0; k < std::min(count, capacity); ++k) text += (k ? ", " : "") + std::to_string(values[k]);
    return text + "] (" + std::to_string(count) + " of " + std::to_string(capacity) + ")";
}

}  // namespace

int run_test_plugin(const TestPluginOptions &options) {
    Steps steps;
    const host::JsonParse given = host::parse_json(options.parameters, host::JsonLimits{});
    if (given.error || !given.value.is_object()) {
        std::cerr << "plughost test-plugin: --parameters must be a JSON object, found: " << options.parameters
                  << (given.error ? " (" + given.error->message + ")" : std::string()) << "\n";
        return kExitUsage;
    }

    // 1. Reading and admission, by the host's rules: under the operator's policy the flags give,
    // else with every tier and the plugin's gate allowed.
    const bool operator_policy = policy_given(options.policy);
    std::shared_ptr<host::Policy> policy;
    if (operator_policy) {
        if (!(policy = policy_for_one_file(options.policy))) return kExitUsage;
    } else {
        policy = std::make_shared<host::Policy>();
        policy->min_stability = Stability::dev;
        policy->min_stability_defaulted = false;
        policy->min_stability_source = "test-plugin";
        const host::PluginFile peek = host::read_plugin_file(options.file, false);
        if (peek.reading && peek.reading->manifest && !peek.reading->manifest->feature_gate.empty())
            policy->gates[peek.reading->manifest->feature_gate] = {true, "test-plugin"};
    }
    const host::Candidate candidate = admit_one_file(options.file, policy, true);
    const std::string under = operator_policy
                                  ? "under the policy given, minStability " + host::describe_min_stability(*policy)
                                  : "with every tier and its gate allowed";
    if (!candidate.admitted()) {
        std::string why;
        for (const host::Reason &r : candidate.reasons)
            why += fmt::format("\n      {}: {}", to_string(r.code), r.message);
        return steps.fail(options.file + ": the host refuses this file " + (operator_policy ? "" : "even ") + under +
                          ":" + why);
    }
    const host::Manifest &manifest = *candidate.manifest();
    steps.pass(fmt::format("{}: admitted: {} {} ({}, {}), {}", options.file, manifest.type, manifest.version.str(),
                           to_string(manifest.role), to_string(manifest.stability), under));
    for (const host::Reason &w : candidate.warnings)
        std::cout << "      warning " << to_string(w.code) << ": " << w.message << '\n';

    // 2. Loading, with the loader's entry checks. From here on plugin code runs in this process: a
    // crash names the plugin, as in `run`.
    const host::FatalSignalFlush crash_report(host::name_crashed_instance);
    const std::string loading = host::loading_label(candidate);
    host::LoadResult loaded = [&] {
        const host::PluginCall running(loading.c_str());
        return host::load_plugin(candidate);
    }();
    if (!loaded.plugin)
        return steps.fail(fmt::format("load: {}: {}", to_string(loaded.error->code), loaded.error->message));
    steps.pass("load: plughost_entry found; it matches the manifest and has the hooks the role needs");

    // 3. One instance, with the manifest's defaults filled in as the host does. Its attributes get
    // ids in a store of this cycle's own: what it produces, then what it consumes.
    std::vector<host::AttributeSpec> specs;
    std::vector<host::DeclaredAttribute> declared;
    for (const auto &p : manifest.produces) {
        declared.push_back({p.name, static_cast<std::int32_t>(specs.size()), true});
        specs.push_back({p.name, p.scope, p.type});
    }
    for (const auto &c : manifest.consumes) {
        declared.push_back({c.name, static_cast<std::int32_t>(specs.size()), false});
        specs.push_back({c.name, AttributeScope::endpoint, AttributeType::number});
    }
    const std::string parameters = host::to_json(host::effective_parameters(given.value.as_object(), manifest));
    std::string error;
    auto instance = host::Instance::create(loaded.plugin, "test-plugin", parameters, error, declared);
    if (!instance) return steps.fail(fmt::format("create with {}: {}", parameters, error));
    steps.pass("create: parameters " + parameters);

    // 4. Its hooks on a sample request, results checked by the scheduler's rules.
    const plughost_plugin &entry = instance->entry();
    plughost_instance *handle = instance->handle();
    // Each hook is called marked as the instance's code, as the scheduler does.
    auto in_plugin = [&instance](auto call) {
        const host::PluginCall running(instance->call_label());
        return call();
    };
    EndpointSet endpoints{
        {.name = "endpoint-a",
         .address = "10.0.0.1:8000",
         .waiting_queue_size = 0,
         .running_requests = 2,
         .kv_cache_usage = 0.2,
         .labels = {{"zone", "a"}}},
        {.name = "endpoint-b",
         .address = "10.0.0.2:8000",
         .waiting_queue_size = 4,
         .running_requests = 8,
         .kv_cache_usage = 0.6,
         .active_loras = {"adapter-1"},
         .max_active_loras = 2},
        {.name = "endpoint-c",
         .address = "10.0.0.3:8000",
         .waiting_queue_size = 12,
         .running_requests = 16,
         .kv_cache_usage = 0.9},
    };
    RequestData sample({.id = "test-plugin-1",
                        .model = "model",
                        .prompt = "Hello, world",
                        .headers = {{"x-session-id", "session-1"}}});
    host::AttributeStore store(specs);
    host::Cycle cycle;
    cycle.attributes = &store;
    store.begin(endpoints.data(), endpoints.size());
    const plughost_request request = *sample.get();
    // The instance's callbacks serve this cycle, as a scheduler's would. Unbound before the cycle
    // goes when the instance outlives it (an early return): its `destroy` may still call the host.
    instance->bind(&cycle);
    const struct Unbind {
        std::unique_ptr<host::Instance> &instance;
        ~Unbind() {
            if (instance) instance->bind(nullptr);
        }
    } unbind{instance};
    Call call;
    const std::size_t n = endpoints.size();
    std::vector<std::size_t> indexes(n, 0);
    rules::DistinctIndexes distinct;

    switch (manifest.role) {
    case Role::producer: {
        cycle.phase = host::CyclePhase::producing;
        cycle.producing = instance.get();
        const plughost_status s =
            in_plugin([&] { return entry.produce(handle, &request, endpoints.data(), n, call.reset()); });
        cycle.producing = nullptr;
        cycle.phase = host::CyclePhase::scheduling;
        if (s != PLUGHOST_OK) return steps.fail(call.failed("produce", s));
        steps.pass("produce: returned OK");
        break;
    }
    case Role::filter: {
        std::size_t passed = 0;
        const plughost_status s = in_plugin(
            [&] { return entry.filter(handle, &request, endpoints.data(), n, indexes.data(), &passed, call.reset()); });
        if (s != PLUGHOST_OK) return steps.fail(call.failed("filter", s));
        if (!rules::valid_filter_result(indexes.data(), passed, n))
            return steps.fail(
                fmt::format("filter returned {}: {}", list(indexes.data(), passed, n), rules::kFilterRule));
        steps.pass("filter: kept " + list(indexes.data(), passed, n));
        break;
    }
    case Role::scorer: {
        std::vector<double> scores(n, -1.0);
        const plughost_status s =
            in_plugin([&] { return entry.score(handle, &request, endpoints.data(), n, scores.data(), call.reset()); });
        if (s != PLUGHOST_OK) return steps.fail(call.failed("score", s));
        if (const std::size_t bad = rules::first_invalid_score(scores.data(), n); bad < n)
            return steps.fail(fmt::format("score: endpoint {} got {}: {}", bad, scores[bad], rules::kScoreRule));
        steps.pass(fmt::format("score: [{}]", fmt::join(scores, ", ")));
        break;
    }
    case Role::picker: {
        const std::vector<double> totals{0.5, 1.5, 0.25};
        std::size_t picked = 0;
        const plughost_status s = in_plugin([&] {
            return entry.pick(handle, &request, endpoints.data(), totals.data(), n, indexes.data(), &picked,
                              call.reset());
        });
        if (s != PLUGHOST_OK) return steps.fail(call.failed("pick", s));
        if (!rules::valid_picks(indexes.data(), picked, n, distinct))
            return steps.fail(fmt::format("pick returned {}: {}", list(indexes.data(), picked, n), rules::kPickRule));
        steps.pass("pick: " + list(indexes.data(), picked, n));
        break;
    }
    case Role::profile_handler: {
        ProfileRunSet profiles({"default", "prefill"});
        std::size_t chosen = 0;
        plughost_status s = in_plugin([&] {
            return entry.pick_profiles(handle, &request, profiles.data(), profiles.size(), indexes.data(), &chosen,
                                       call.reset());
        });
        if (s != PLUGHOST_OK) return steps.fail(call.failed("pick_profiles", s));
        bool valid = chosen <= profiles.size() && distinct(indexes.data(), chosen, profiles.size());
        if (!valid || chosen == 0)
            return steps.fail(fmt::format("pick_profiles chose {}: {}{}", list(indexes.data(), chosen, profiles.size()),
                                          rules::kProfileRule, chosen == 0 ? " (and a first round must run one)" : ""));
        steps.pass("pick_profiles: " + list(indexes.data(), chosen, profiles.size()));
        for (std::size_t k = 0; k < chosen; ++k) profiles.picked(indexes[k], endpoints, {k % n});
        std::size_t primary = profiles.size();
        s = in_plugin([&] {
            return entry.process_results(handle, &request, profiles.data(), profiles.size(), &primary, call.reset());
        });
        if (s != PLUGHOST_OK) return steps.fail(call.failed("process_results", s));
        if (primary >= profiles.size() || profiles.data()[primary]->state != PLUGHOST_PROFILE_PICKED)
            return steps.fail(fmt::format("process_results named profile {}: {}", primary, rules::kPrimaryRule));
        steps.pass(fmt::format("process_results: primary profile {}", primary));
        break;
    }
    case Role::observer: break;  // hooks only, below
    }

    // The observer hooks, as the scheduler calls them once a request is decided.
    const plughost_endpoint *chosen = endpoints.at(0);
    if (entry.picked) {
        const plughost_status s = in_plugin([&] { return entry.picked(handle, &request, &chosen, 1, call.reset()); });
        if (s != PLUGHOST_OK) return steps.fail(call.failed("picked", s));
        steps.pass("picked: returned OK");
    }
    if (entry.pre_request) {
        testing::DecisionData decision("default", endpoints, {0});
        cycle.phase = host::CyclePhase::pre_request;
        const plughost_status s =
            in_plugin([&] { return entry.pre_request(handle, &request, decision.get(), call.reset()); });
        cycle.phase = host::CyclePhase::scheduling;
        if (s != PLUGHOST_OK) return steps.fail(call.failed("pre_request", s));
        steps.pass(fmt::format("pre_request: returned OK; {} upstream header(s) set", cycle.upstream_headers.size()));
    }
    cycle.attributes = host::no_attributes();  // attributes live for the scheduling cycle only, as in `run`
    for (const bool started : {true, false}) {
        const auto hook = started ? entry.response_started : entry.response_complete;
        if (!hook) continue;
        testing::ResponseSpec response{.outcome = started ? PLUGHOST_RESPONSE_STARTED : PLUGHOST_RESPONSE_COMPLETE,
                                       .endpoint = chosen,
                                       .seconds_to_first_byte = 0.05,
                                       .seconds_total = started ? -1 : 0.5,
                                       .prompt_tokens = 3,
                                       .completion_tokens = static_cast<std::uint64_t>(started ? 0 : 7)};
        const plughost_response raw = response.get();
        cycle.phase = started ? host::CyclePhase::response_started : host::CyclePhase::response_complete;
        const plughost_status s = in_plugin([&] { return hook(handle, &request, &raw, call.reset()); });
        cycle.phase = host::CyclePhase::scheduling;
        const char *name = started ? "response_started" : "response_complete";
        if (s != PLUGHOST_OK) return steps.fail(call.failed(name, s));
        steps.pass(std::string(name) + ": returned OK");
    }
    instance.reset();
    steps.pass("destroy: done");
    std::cout << "plugin " << manifest.type << " passed the host's checks\n";
    return kExitOk;
}

}  // namespace plughost::cli
