// Test helpers for plugin authors: build requests and endpoints without a host, load your
// built plugin with dlopen and call it through its real C entry (so what you test is what the
// host will call), and see the log lines and counters it sent to the host.
//
// What the host enforces, this harness enforces too, with the host's own rules
// (<plughost/rules.hpp>): a hook that returns OK with a result the host would refuse (a score
// outside [0, 1] or NaN, filter indexes unsorted, repeated or out of range, picks out of range
// or repeated, a profile choice the host refuses) throws HostRuleBroken, whose message names the
// rule, so the test fails as the host would count a fault. `create` gets the parameters with the
// manifest's defaults filled in, as the host passes them.
//
//   plughost::testing::PluginLibrary lib(MY_PLUGIN_PATH);
//   auto made = lib.create("mine", R"({"blockSize": 4})");
//   REQUIRE(made.ok());
//   plughost::testing::EndpointSet endpoints{{.name = "a", .waiting_queue_size = 3}, {.name = "b"}};
//   auto scores = made.value->score(plughost::testing::RequestData({.prompt = "hello"}), endpoints);
//
// Whether an operator's policy admits the plugin is the host's own decision: admission() runs the
// installed `plughost` tool on the built file (`plughost inspect FILE --config ...`, no plugin code
// runs) and returns its decision with the host's codes and messages:
//
//   auto a = plughost::testing::admission(MY_PLUGIN_PATH, {.min_stability = "beta"});
//   CHECK(a.refused_with("below-min-stability"));
//   auto b = plughost::testing::admission(MY_PLUGIN_PATH,
//       {.config = R"({"policy": {"minStability": "alpha"}, "featureGates": {"MyGate": true}})"});
//   CHECK_MESSAGE(b.admitted, b.describe());
//
// The tool's path comes from the PLUGHOST_TOOL definition that the CMake target plughost::testing
// sets (link the test to it), or from the environment variable PLUGHOST_TOOL, which wins.
//
// Header-only; needs <plughost/plugin.h>, <plughost/rules.hpp>, Boost.JSON (plughost::sdk brings
// it), POSIX (dlopen, posix_spawn) and the C++ standard library.
#ifndef PLUGHOST_TESTING_HPP
#define PLUGHOST_TESTING_HPP

#include <plughost/plugin.h>
#include <plughost/rules.hpp>

#include <boost/json.hpp>
#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plughost::testing {

/// A hook returned OK with a result the host refuses; what() names the hook, what was wrong and
/// the rule (rules.hpp).
class HostRuleBroken : public std::logic_error {
public:
    HostRuleBroken(const std::string &hook, const std::string &found, const char *rule)
        : std::logic_error(hook + ": " + found + "; the host refuses this: " + rule) {}
};

/// One endpoint to offer to a plugin.
struct EndpointSpec {
    std::string name;
    std::string address{};
    std::uint32_t waiting_queue_size = 0;
    std::uint32_t running_requests = 0;
    /// KV-cache usage as a fraction, 0 to 1 (plugins of ABI 1.0 see it as a percentage).
    double kv_cache_usage = 0;
    /// The LoRA adapters running (ABI: active_loras).
    std::vector<std::string> active_loras{};
    std::uint32_t max_active_loras = 0;
    std::vector<std::pair<std::string, double>> metrics{};
    std::vector<std::pair<std::string, std::string>> labels{};
    std::vector<std::string> waiting_loras{};
    std::uint32_t requests_in_flight = 0;
    std::uint32_t pending_picks = 0;
    /// The endpoint's id; by default 1, 2, ... in the order given. Plugins key state on it.
    std::optional<std::uint64_t> id{};
};

/// Owns endpoints laid out exactly as the host passes them (an array of pointers).
class EndpointSet {
public:
    EndpointSet(std::initializer_list<EndpointSpec> specs) : EndpointSet(std::vector<EndpointSpec>(specs)) {}
    explicit EndpointSet(std::vector<EndpointSpec> specs) : specs_(std::move(specs)) {
        std::uint64_t id = 1;
        for (const auto &s : specs_) {
            auto &loras = loras_.emplace_back();
            for (const auto &l : s.active_loras) loras.push_back({l.data(), l.size()});
            auto &metrics = metrics_.emplace_back();
            for (const auto &[k, v] : s.metrics) metrics.push_back({{k.data(), k.size()}, v});
            auto &labels = labels_.emplace_back();
            for (const auto &[k, v] : s.labels) labels.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
            auto &waiting = waiting_.emplace_back();
            for (const auto &l : s.waiting_loras) waiting.push_back({l.data(), l.size()});
            plughost_endpoint e{};
            e.struct_size = sizeof e;
            e.id = s.id.value_or(id);
            ++id;
            e.name = {s.name.data(), s.name.size()};
            e.address = {s.address.data(), s.address.size()};
            e.waiting_queue_size = s.waiting_queue_size;
            e.running_requests = s.running_requests;
            e.kv_cache_usage = s.kv_cache_usage;
            e.kv_cache_usage_percent = s.kv_cache_usage * 100;
            e.active_loras = loras.data();
            e.active_lora_count = loras.size();
            e.max_active_loras = s.max_active_loras;
            e.metrics = metrics.data();
            e.metric_count = metrics.size();
            e.labels = labels.data();
            e.label_count = labels.size();
            e.waiting_loras = waiting.data();
            e.waiting_lora_count = waiting.size();
            e.requests_in_flight = s.requests_in_flight;
            e.pending_picks = s.pending_picks;
            endpoints_.push_back(e);
        }
        for (const auto &e : endpoints_) pointers_.push_back(&e);
    }
    EndpointSet(const EndpointSet &) = delete;
    EndpointSet &operator=(const EndpointSet &) = delete;

    const plughost_endpoint *const *data() const { return pointers_.data(); }
    std::size_t size() const { return pointers_.size(); }
    const plughost_endpoint *at(std::size_t i) const { return pointers_[i]; }
    std::string_view name(std::size_t i) const { return specs_[i].name; }

private:
    std::vector<EndpointSpec> specs_;
    std::deque<std::vector<plughost_str>> loras_;  // deques: element addresses stay put
    std::deque<std::vector<plughost_metric>> metrics_;
    std::deque<std::vector<plughost_header>> labels_;
    std::deque<std::vector<plughost_str>> waiting_;
    std::deque<plughost_endpoint> endpoints_;
    std::vector<const plughost_endpoint *> pointers_;
};

/// One request to schedule.
struct RequestSpec {
    std::string id = "request-1";
    std::string model{};
    std::string lora{};
    std::string prompt{};
    std::vector<std::pair<std::string, std::string>> headers{};
    /// A chat request's messages (role, content). Leave `prompt` empty: it is rendered from them
    /// as the host does ("<role>: <content>\n" each).
    std::vector<std::pair<std::string, std::string>> messages{};
    bool stream = false;
};

/// Owns a request laid out as the host passes it.
class RequestData {
public:
    explicit RequestData(RequestSpec spec = {}) : spec_(std::move(spec)) {
        for (const auto &[k, v] : spec_.headers) headers_.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
        if (!spec_.messages.empty() && spec_.prompt.empty())
            for (const auto &[role, content] : spec_.messages) spec_.prompt += role + ": " + content + "\n";
        for (const auto &[role, content] : spec_.messages)
            messages_.push_back({{role.data(), role.size()}, {content.data(), content.size()}});
        request_.struct_size = sizeof request_;
        request_.messages = messages_.data();
        request_.message_count = messages_.size();
        request_.streaming = spec_.stream ? 1 : 0;
        request_.id = {spec_.id.data(), spec_.id.size()};
        request_.model = {spec_.model.data(), spec_.model.size()};
        request_.lora = {spec_.lora.data(), spec_.lora.size()};
        request_.prompt = {spec_.prompt.data(), spec_.prompt.size()};
        request_.headers = headers_.data();
        request_.header_count = headers_.size();
    }
    RequestData(const RequestData &) = delete;
    RequestData &operator=(const RequestData &) = delete;
    const plughost_request *get() const { return &request_; }

private:
    RequestSpec spec_;
    std::vector<plughost_header> headers_;
    std::vector<plughost_chat_message> messages_;
    plughost_request request_{};
};

/// The profiles a profile handler sees: names, and for those that ran, their state and picks
/// (indexes into an EndpointSet).
class ProfileRunSet {
public:
    explicit ProfileRunSet(std::vector<std::string> names) : names_(std::move(names)) {
        runs_.resize(names_.size());
        picks_.resize(names_.size());
        for (std::size_t i = 0; i < names_.size(); ++i) {
            runs_[i].struct_size = sizeof(plughost_profile_run);
            runs_[i].name = {names_[i].data(), names_[i].size()};
            pointers_.push_back(&runs_[i]);
        }
    }
    ProfileRunSet(const ProfileRunSet &) = delete;
    ProfileRunSet &operator=(const ProfileRunSet &) = delete;
    /// Profile `i` ran and picked these endpoints (best first).
    void picked(std::size_t i, const EndpointSet &endpoints, std::vector<std::size_t> indexes) {
        picks_[i].clear();
        for (std::size_t k : indexes) picks_[i].push_back(endpoints.at(k));
        runs_[i].state = PLUGHOST_PROFILE_PICKED;
        runs_[i].picked = picks_[i].data();
        runs_[i].picked_count = picks_[i].size();
    }
    /// Profile `i` ran and failed.
    void failed(std::size_t i) {
        runs_[i].state = PLUGHOST_PROFILE_FAILED;
        runs_[i].picked_count = 0;
    }
    const plughost_profile_run *const *data() const { return pointers_.data(); }
    std::size_t size() const { return pointers_.size(); }

private:
    std::vector<std::string> names_;
    std::vector<plughost_profile_run> runs_;
    std::vector<std::vector<const plughost_endpoint *>> picks_;
    std::vector<const plughost_profile_run *> pointers_;
};

/// A decision as pre_request sees it: the primary profile's picks and named extras.
class DecisionData {
public:
    DecisionData(std::string profile, const EndpointSet &endpoints, std::vector<std::size_t> picked,
                 std::vector<std::pair<std::string, std::size_t>> extras = {})
        : profile_(std::move(profile)), extras_names_() {
        for (std::size_t k : picked) picked_.push_back(endpoints.at(k));
        for (const auto &[name, k] : extras) extras_names_.push_back(name);
        for (std::size_t i = 0; i < extras.size(); ++i)
            extras_.push_back({{extras_names_[i].data(), extras_names_[i].size()}, endpoints.at(extras[i].second)});
        decision_.struct_size = sizeof decision_;
        decision_.profile = {profile_.data(), profile_.size()};
        decision_.picked = picked_.data();
        decision_.picked_count = picked_.size();
        decision_.extras = extras_.data();
        decision_.extra_count = extras_.size();
    }
    DecisionData(const DecisionData &) = delete;
    DecisionData &operator=(const DecisionData &) = delete;
    const plughost_decision *get() const { return &decision_; }

private:
    std::string profile_;
    std::vector<std::string> extras_names_;
    std::vector<const plughost_endpoint *> picked_;
    std::vector<plughost_extra> extras_;
    plughost_decision decision_{};
};

/// What became of a request, as the response hooks see it.
struct ResponseSpec {
    int outcome = PLUGHOST_RESPONSE_COMPLETE;
    const plughost_endpoint *endpoint = nullptr;  ///< from an EndpointSet, or null
    std::uint64_t endpoint_id = 0;                ///< default: the endpoint's id
    int http_status = 200;
    double seconds_to_first_byte = -1;
    double seconds_total = -1;
    std::uint64_t prompt_tokens = 0, completion_tokens = 0;

    plughost_response get() const {
        plughost_response r{};
        r.struct_size = sizeof r;
        r.endpoint = endpoint;
        r.endpoint_id = endpoint_id ? endpoint_id : (endpoint ? endpoint->id : 0);
        r.outcome = outcome;
        r.http_status = http_status;
        r.seconds_to_first_byte = seconds_to_first_byte;
        r.seconds_total = seconds_total;
        r.prompt_tokens = prompt_tokens;
        r.completion_tokens = completion_tokens;
        return r;
    }
};

/// The status and message of one call, and what it produced.
template <class T> struct Outcome {
    plughost_status status = PLUGHOST_ERROR;
    std::string message;
    T value{};
    bool ok() const { return status == PLUGHOST_OK; }
};

/// One instance of the plugin, made through its `create`, destroyed with it.
class PluginInstance {
public:
    struct LogLine {
        int level;
        std::string text;
    };

    ~PluginInstance() {
        if (handle_) entry_->destroy(handle_);
    }
    PluginInstance(const PluginInstance &) = delete;
    PluginInstance &operator=(const PluginInstance &) = delete;

    Outcome<std::vector<double>> score(const RequestData &request, const EndpointSet &endpoints) {
        require(entry_->score != nullptr, "score");
        Outcome<std::vector<double>> out;
        out.value.assign(endpoints.size(), -1.0);
        out.status =
            entry_->score(handle_, request.get(), endpoints.data(), endpoints.size(), out.value.data(), message());
        out.message = last_message();
        if (out.ok()) {
            const std::size_t bad = rules::first_invalid_score(out.value.data(), out.value.size());
            if (bad < out.value.size()) {
                std::ostringstream found;
                found << "the score of endpoint " << bad << " (\"" << endpoints.name(bad) << "\") is "
                      << out.value[bad];
                throw HostRuleBroken("score", found.str(), rules::kScoreRule);
            }
        }
        return out;
    }

    Outcome<std::vector<std::size_t>> filter(const RequestData &request, const EndpointSet &endpoints) {
        require(entry_->filter != nullptr, "filter");
        Outcome<std::vector<std::size_t>> out;
        out.value.assign(endpoints.size(), 0);
        std::size_t n = 0;
        out.status =
            entry_->filter(handle_, request.get(), endpoints.data(), endpoints.size(), out.value.data(), &n, message());
        out.message = last_message();
        if (out.ok() && !rules::valid_filter_result(out.value.data(), n, endpoints.size()))
            throw HostRuleBroken("filter", "it returned " + indexes(out.value.data(), n, endpoints.size()),
                                 rules::kFilterRule);
        out.value.resize(std::min(n, endpoints.size()));
        return out;
    }

    Outcome<std::vector<std::size_t>> pick(const RequestData &request, const EndpointSet &endpoints,
                                           std::span<const double> totals) {
        require(entry_->pick != nullptr, "pick");
        if (totals.size() != endpoints.size()) throw std::invalid_argument("one total per endpoint is needed");
        Outcome<std::vector<std::size_t>> out;
        out.value.assign(endpoints.size(), 0);
        std::size_t n = 0;
        out.status = entry_->pick(handle_, request.get(), endpoints.data(), totals.data(), endpoints.size(),
                                  out.value.data(), &n, message());
        out.message = last_message();
        // The host never asks a picker to choose among no endpoints; among some, it must choose.
        if (out.ok() && endpoints.size() > 0 && !rules::valid_picks(out.value.data(), n, endpoints.size(), distinct_))
            throw HostRuleBroken("pick", "it picked " + indexes(out.value.data(), n, endpoints.size()),
                                 rules::kPickRule);
        out.value.resize(std::min(n, endpoints.size()));
        return out;
    }

    /// Tells the instance where a request went (the `picked` hook); OK when it has none.
    Outcome<bool> picked(const RequestData &request, const EndpointSet &chosen) {
        Outcome<bool> out;
        out.value = entry_->picked != nullptr;
        out.status = entry_->picked ? entry_->picked(handle_, request.get(), chosen.data(), chosen.size(), message())
                                    : PLUGHOST_OK;
        out.message = last_message();
        return out;
    }

    /// Runs `produce`; what it publishes stays readable (attribute_number/attribute_string) and
    /// visible to the instance's own reads until clear_attributes().
    Outcome<bool> produce(const RequestData &request, const EndpointSet &endpoints) {
        require(entry_->produce != nullptr, "produce");
        Outcome<bool> out;
        producing_ = true;
        offered_.assign(endpoints.data(), endpoints.data() + endpoints.size());
        out.status = entry_->produce(handle_, request.get(), endpoints.data(), endpoints.size(), message());
        producing_ = false;
        offered_.clear();
        out.message = last_message();
        out.value = out.ok();
        return out;
    }
    /// Chooses the profiles to run: the indexes into `profiles`.
    Outcome<std::vector<std::size_t>> pick_profiles(const RequestData &request, const ProfileRunSet &profiles) {
        require(entry_->pick_profiles != nullptr, "pick_profiles");
        Outcome<std::vector<std::size_t>> out;
        out.value.assign(profiles.size(), 0);
        std::size_t n = 0;
        out.status = entry_->pick_profiles(handle_, request.get(), profiles.data(), profiles.size(), out.value.data(),
                                           &n, message());
        out.message = last_message();
        if (out.ok()) {
            bool valid = n <= profiles.size() && distinct_(out.value.data(), n, profiles.size());
            for (std::size_t k = 0; valid && k < n; ++k)
                valid = profiles.data()[out.value[k]]->state == PLUGHOST_PROFILE_NOT_RUN;
            if (!valid)
                throw HostRuleBroken("pick_profiles", "it chose " + indexes(out.value.data(), n, profiles.size()),
                                     rules::kProfileRule);
        }
        out.value.resize(std::min(n, profiles.size()));
        return out;
    }
    /// Names the primary profile: its index into `profiles`.
    Outcome<std::size_t> process_results(const RequestData &request, const ProfileRunSet &profiles) {
        require(entry_->process_results != nullptr, "process_results");
        Outcome<std::size_t> out;
        out.status =
            entry_->process_results(handle_, request.get(), profiles.data(), profiles.size(), &out.value, message());
        out.message = last_message();
        if (out.ok() && (out.value >= profiles.size() || profiles.data()[out.value]->state == PLUGHOST_PROFILE_NOT_RUN))
            throw HostRuleBroken("process_results", "it named profile " + std::to_string(out.value),
                                 rules::kPrimaryRule);
        return out;
    }
    /// Tells the decision (`pre_request`); the headers it sets for the endpoint are in
    /// upstream_headers(). OK when the plugin has no such hook.
    Outcome<bool> pre_request(const RequestData &request, const DecisionData &decision) {
        Outcome<bool> out;
        out.value = entry_->pre_request != nullptr;
        phase_ = Phase::pre_request;
        out.status =
            entry_->pre_request ? entry_->pre_request(handle_, request.get(), decision.get(), message()) : PLUGHOST_OK;
        phase_ = Phase::other;
        out.message = last_message();
        return out;
    }
    /// Tells that the response started or ended (by the outcome); the headers it sets for the
    /// client are in client_headers(). OK when the plugin has no such hook.
    Outcome<bool> respond(const RequestData &request, const ResponseSpec &response) {
        const plughost_response raw = response.get();
        const bool started = raw.outcome == PLUGHOST_RESPONSE_STARTED;
        const auto hook = started ? entry_->response_started : entry_->response_complete;
        Outcome<bool> out;
        out.value = hook != nullptr;
        phase_ = started ? Phase::response_started : Phase::other;
        out.status = hook ? hook(handle_, request.get(), &raw, message()) : PLUGHOST_OK;
        phase_ = Phase::other;
        out.message = last_message();
        return out;
    }

    /// Sets an attribute as a producer would have (for testing a consumer); `endpoint` null for
    /// the request's scope.
    void set_attribute(std::string_view name, const plughost_endpoint *endpoint, double value) {
        values_[{endpoint ? endpoint->id : 0, attribute_id(name)}] = Value{true, value, {}};
    }
    void set_attribute(std::string_view name, const plughost_endpoint *endpoint, std::string value) {
        values_[{endpoint ? endpoint->id : 0, attribute_id(name)}] = Value{false, 0, std::move(value)};
    }
    /// What the plugin published, by name; nullopt when it did not.
    std::optional<double> attribute_number(std::string_view name, const plughost_endpoint *endpoint) const {
        const auto id = known_attribute(name);
        const auto it = id ? values_.find({endpoint ? endpoint->id : 0, *id}) : values_.end();
        if (it == values_.end() || !it->second.number) return std::nullopt;
        return it->second.value;
    }
    std::optional<std::string> attribute_string(std::string_view name, const plughost_endpoint *endpoint) const {
        const auto id = known_attribute(name);
        const auto it = id ? values_.find({endpoint ? endpoint->id : 0, *id}) : values_.end();
        if (it == values_.end() || it->second.number) return std::nullopt;
        return it->second.text;
    }
    void clear_attributes() { values_.clear(); }

    const std::vector<std::pair<std::string, std::string>> &upstream_headers() const { return upstream_headers_; }
    const std::vector<std::pair<std::string, std::string>> &client_headers() const { return client_headers_; }
    const std::vector<LogLine> &logs() const { return logs_; }
    const std::map<std::string, double> &counters() const { return counters_; }

private:
    enum class Phase { other, pre_request, response_started };
    struct Param {
        plughost_value value{};
        std::string text;
    };
    std::map<std::string, Param> params_;
    struct Value {
        bool number = true;
        double value = 0;
        std::string text;
    };
    std::int32_t attribute_id(std::string_view name) {
        for (std::size_t i = 0; i < attribute_names_.size(); ++i)
            if (attribute_names_[i] == name) return static_cast<std::int32_t>(i);
        attribute_names_.emplace_back(name);
        return static_cast<std::int32_t>(attribute_names_.size() - 1);
    }
    std::optional<std::int32_t> known_attribute(std::string_view name) const {
        for (std::size_t i = 0; i < attribute_names_.size(); ++i)
            if (attribute_names_[i] == name) return static_cast<std::int32_t>(i);
        return std::nullopt;
    }

    // What the manifest's "produces" says of an attribute.
    struct Produced {
        bool endpoint = true;  // scope
        bool number = true;    // type
    };
    // What a put may publish as the host allows it: from produce, an attribute the manifest
    // produces (its declared scope and type, for the caller to check); null otherwise.
    const Produced *publishable(std::int32_t id) const {
        if (!producing_ || id < 0 || static_cast<std::size_t>(id) >= attribute_names_.size()) return nullptr;
        const auto it = produces_.find(attribute_names_[static_cast<std::size_t>(id)]);
        return it == produces_.end() ? nullptr : &it->second;
    }
    // An endpoint produce was given (the host refuses any other).
    bool offered(const plughost_endpoint *endpoint) const {
        return std::find(offered_.begin(), offered_.end(), endpoint) != offered_.end();
    }

    friend class PluginLibrary;
    explicit PluginInstance(const plughost_plugin *entry) : entry_(entry) {
        api_.struct_size = sizeof api_;
        api_.context = this;
        api_.log = [](void *self, int32_t level, plughost_str text) {
            static_cast<PluginInstance *>(self)->logs_.push_back(
                {level, std::string(text.data ? text.data : "", text.size)});
        };
        api_.count = [](void *self, plughost_str name, double delta) {
            static_cast<PluginInstance *>(self)->counters_[std::string(name.data ? name.data : "", name.size)] += delta;
        };
        // Attributes: any name gets an id (`plughost check` checks the manifest's consumes against
        // the producers), and values are kept per endpoint id. A put is checked as the host checks
        // it: from produce, an attribute the manifest produces, its scope and type, a finite
        // number, an endpoint produce was given.
        api_.attribute = [](void *self, plughost_str name) -> int32_t {
            return static_cast<PluginInstance *>(self)->attribute_id(
                std::string_view(name.data ? name.data : "", name.size));
        };
        api_.put_attribute = [](void *self, const plughost_request *, const plughost_endpoint *endpoint, int32_t id,
                                plughost_value value) -> plughost_status {
            auto *me = static_cast<PluginInstance *>(self);
            const Produced *declared = me->publishable(id);
            const bool number = value.type == PLUGHOST_VALUE_NUMBER;
            if (!declared || declared->endpoint != (endpoint != nullptr) || declared->number != number ||
                (!number && value.type != PLUGHOST_VALUE_STRING) || (endpoint && !me->offered(endpoint)) ||
                (number && !rules::valid_attribute_number(value.number)))
                return PLUGHOST_INVALID_ARGUMENT;
            me->values_[{endpoint ? endpoint->id : 0, id}] =
                Value{value.type == PLUGHOST_VALUE_NUMBER, value.number,
                      std::string(value.string.data ? value.string.data : "", value.string.size)};
            return PLUGHOST_OK;
        };
        // The batches (ABI 1.2): the whole call's checks, then a single put per endpoint, which
        // checks the element (rules::kAttributeRule); a bad element stops the call, keeping what
        // came before it.
        api_.put_numbers = [](void *self, const plughost_request *request, const plughost_endpoint *const *endpoints,
                              std::size_t count, int32_t id, const double *values) -> plughost_status {
            auto *me = static_cast<PluginInstance *>(self);
            const Produced *declared = me->publishable(id);
            if (!declared || !declared->endpoint || !declared->number || (count && (!endpoints || !values)))
                return PLUGHOST_INVALID_ARGUMENT;
            for (std::size_t i = 0; i < count; ++i) {
                if (!endpoints[i]) return PLUGHOST_INVALID_ARGUMENT;  // a null would mean request scope
                const plughost_value value{PLUGHOST_VALUE_NUMBER, values[i], {nullptr, 0}};
                if (const auto status = me->api_.put_attribute(self, request, endpoints[i], id, value);
                    status != PLUGHOST_OK)
                    return status;
            }
            return PLUGHOST_OK;
        };
        api_.get_numbers = [](void *self, const plughost_request *, const plughost_endpoint *const *endpoints,
                              std::size_t count, int32_t id, double *out) -> std::size_t {
            auto *me = static_cast<PluginInstance *>(self);
            if (!out) return 0;
            std::size_t present = 0;
            for (std::size_t i = 0; i < count; ++i) {
                const auto it =
                    endpoints && endpoints[i] ? me->values_.find({endpoints[i]->id, id}) : me->values_.end();
                const bool here = it != me->values_.end() && it->second.number;
                out[i] = here ? it->second.value : std::numeric_limits<double>::quiet_NaN();
                present += here;
            }
            return present;
        };
        api_.get_attribute = [](void *self, const plughost_request *, const plughost_endpoint *endpoint, int32_t id,
                                plughost_value *out) -> int32_t {
            auto *me = static_cast<PluginInstance *>(self);
            *out = plughost_value{};
            const auto it = me->values_.find({endpoint ? endpoint->id : 0, id});
            if (it == me->values_.end()) return 0;
            out->type = it->second.number ? PLUGHOST_VALUE_NUMBER : PLUGHOST_VALUE_STRING;
            out->number = it->second.value;
            out->string = {it->second.text.data(), it->second.text.size()};
            return 1;
        };
        api_.set_header = [](void *self, const plughost_request *, int32_t where, plughost_str name,
                             plughost_str value) -> plughost_status {
            auto *me = static_cast<PluginInstance *>(self);
            const bool upstream = where == PLUGHOST_HEADER_UPSTREAM && me->phase_ == Phase::pre_request;
            const bool client = where == PLUGHOST_HEADER_CLIENT && me->phase_ == Phase::response_started;
            if (!upstream && !client) return PLUGHOST_INVALID_ARGUMENT;
            auto &list = upstream ? me->upstream_headers_ : me->client_headers_;
            list.emplace_back(std::string(name.data ? name.data : "", name.size),
                              std::string(value.data ? value.data : "", value.size));
            return PLUGHOST_OK;
        };
        api_.param = [](void *self, plughost_str name, plughost_value *out) -> int32_t {
            if (!out) return 0;
            *out = plughost_value{};
            const auto &params = static_cast<PluginInstance *>(self)->params_;
            const auto it = params.find(std::string(name.data ? name.data : "", name.size));
            if (it == params.end()) return 0;
            *out = it->second.value;
            out->string = {it->second.text.data(), it->second.text.size()};
            return 1;
        };
    }
    // What `param` serves, as the host resolves it: the parameters (defaults already filled in),
    // typed by the manifest.
    template <class Specs> void resolve_params(const Specs &declared, const boost::json::object &parameters) {
        for (const auto &spec : declared) {
            const boost::json::value *v = parameters.if_contains(spec.name);
            if (!v || v->is_null()) continue;
            Param p;
            if (spec.type == "boolean" && v->is_bool())
                p.value = {PLUGHOST_VALUE_BOOLEAN, v->get_bool() ? 1.0 : 0.0, {}};
            else if ((spec.type == "number" || spec.type == "integer") && v->is_number())
                p.value = {PLUGHOST_VALUE_NUMBER, v->to_number<double>(), {}};
            else if (spec.type == "string" && v->is_string()) {
                p.value.type = PLUGHOST_VALUE_STRING;
                p.text = std::string(v->get_string());
            } else if (spec.type == "array" || spec.type == "object") {
                p.value.type = PLUGHOST_VALUE_JSON;
                p.text = boost::json::serialize(*v);
            } else continue;
            params_[spec.name] = std::move(p);
        }
    }
    // The first indexes of a result, for a message (`count` may exceed the buffer's `capacity`).
    static std::string indexes(const std::size_t *values, std::size_t count, std::size_t capacity) {
        std::string text = "[";
        for (std::size_t k = 0; k < std::min({count, capacity, std::size_t{16}}); ++k)
            text += (k ? ", " : "") + std::to_string(values[k]);
        if (count > std::min(capacity, std::size_t{16})) text += ", ...";
        return text + "] (" + std::to_string(count) + " indexes, " + std::to_string(capacity) + " offered)";
    }
    void require(bool present, const char *what) const {
        if (!present) throw std::logic_error(std::string("this plugin has no ") + what + " hook");
    }
    plughost_message *message() {
        message_ = {buffer_, sizeof buffer_, 0};
        return &message_;
    }
    std::string last_message() const { return std::string(buffer_, std::min(message_.size, sizeof buffer_)); }

    const plughost_plugin *entry_;
    plughost_host_api api_{};
    plughost_instance *handle_ = nullptr;
    plughost_message message_{};
    char buffer_[1024] = {};
    std::vector<LogLine> logs_;
    std::map<std::string, double> counters_;
    std::vector<std::string> attribute_names_;
    std::map<std::pair<std::uint64_t, std::int32_t>, Value> values_;
    bool producing_ = false;
    std::vector<const plughost_endpoint *> offered_;         // produce's endpoints, while it runs
    std::map<std::string, Produced, std::less<>> produces_;  // the manifest's, by name
    Phase phase_ = Phase::other;
    rules::DistinctIndexes distinct_;
    std::vector<std::pair<std::string, std::string>> upstream_headers_, client_headers_;
};

/// A built plugin, loaded with dlopen(RTLD_NOW | RTLD_LOCAL). For tests only: the host loads
/// plugins after admission, from the inspected descriptor.
class PluginLibrary {
public:
    explicit PluginLibrary(const std::string &path) : handle_(::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {
        if (!handle_) throw std::runtime_error("dlopen " + path + ": " + ::dlerror());
        entry_ = static_cast<const plughost_plugin *>(::dlsym(handle_, PLUGHOST_ENTRY_SYMBOL));
        if (!entry_) {
            ::dlclose(handle_);
            throw std::runtime_error(path + " exports no " PLUGHOST_ENTRY_SYMBOL);
        }
    }
    ~PluginLibrary() { ::dlclose(handle_); }
    PluginLibrary(const PluginLibrary &) = delete;
    PluginLibrary &operator=(const PluginLibrary &) = delete;

    const plughost_plugin &entry() const { return *entry_; }
    std::string_view manifest_json() const { return {entry_->manifest_json.data, entry_->manifest_json.size}; }

    /// Calls the plugin's `create` with `parameters_json` plus the manifest's defaults for the
    /// parameters it does not give, as the host does (rules::with_parameter_defaults). Text that is
    /// not a JSON object (which the host never passes) reaches the plugin unchanged, so its own
    /// checks can be tested. Destroy every instance before the library.
    Outcome<std::unique_ptr<PluginInstance>> create(const std::string &name,
                                                    const std::string &parameters_json = "{}") {
        boost::system::error_code error;
        const boost::json::value given = boost::json::parse(parameters_json, error);
        const auto declared = declared_parameters();
        std::unique_ptr<PluginInstance> instance(new PluginInstance(entry_));
        instance->produces_ = declared_produces();
        std::string parameters = parameters_json;
        if (!error && given.is_object()) {
            const boost::json::object filled = rules::with_parameter_defaults(given.as_object(), declared);
            instance->resolve_params(declared, filled);
            parameters = boost::json::serialize(filled);
        }
        Outcome<std::unique_ptr<PluginInstance>> out;
        plughost_instance *handle = nullptr;
        out.status = entry_->create(&instance->api_, {name.data(), name.size()}, {parameters.data(), parameters.size()},
                                    &handle, instance->message());
        out.message = instance->last_message();
        if (out.ok()) {
            instance->handle_ = handle;
            out.value = std::move(instance);
        }
        return out;
    }

private:
    struct DeclaredParameter {
        std::string name;
        std::optional<boost::json::value> default_value;
        std::string type;  ///< as the manifest writes it: "number", "string"...
    };
    // Calls visit(spec, name) for each entry of the manifest's list `key` ("parameters",
    // "produces") that is an object with a string "name".
    template <class Visit> void for_each_declared(std::string_view key, Visit visit) const {
        boost::system::error_code error;
        const boost::json::value manifest = boost::json::parse(manifest_json(), error);
        const boost::json::array *list = nullptr;
        if (!error && manifest.is_object())
            if (const auto *p = manifest.as_object().if_contains(key)) list = p->if_array();
        if (!list) return;
        for (const auto &item : *list) {
            const auto *spec = item.if_object();
            const auto *name = spec ? spec->if_contains("name") : nullptr;
            if (name && name->is_string()) visit(*spec, std::string(name->as_string()));
        }
    }

    // The parameters the manifest declares, with their defaults.
    std::vector<DeclaredParameter> declared_parameters() const {
        std::vector<DeclaredParameter> out;
        for_each_declared("parameters", [&](const boost::json::object &spec, std::string name) {
            DeclaredParameter p{std::move(name), std::nullopt, {}};
            if (const auto *d = spec.if_contains("default")) p.default_value = *d;
            if (const auto *t = spec.if_contains("type"); t && t->is_string()) p.type = std::string(t->as_string());
            out.push_back(std::move(p));
        });
        return out;
    }

    // The attributes the manifest produces, with their scope and type, as the host checks puts.
    std::map<std::string, PluginInstance::Produced, std::less<>> declared_produces() const {
        std::map<std::string, PluginInstance::Produced, std::less<>> out;
        for_each_declared("produces", [&](const boost::json::object &spec, std::string name) {
            const auto *scope = spec.if_contains("scope");
            const auto *type = spec.if_contains("type");
            out[std::move(name)] = {!scope || *scope != "request", !type || *type != "string"};
        });
        return out;
    }

    void *handle_;
    const plughost_plugin *entry_ = nullptr;
};

/// One reason the host gave for a decision: its diagnostic code (e.g. "below-min-stability", as
/// docs/operations.md lists them) and its message, word for word.
struct HostReason {
    std::string code;
    std::string message;
};

/// The operator's policy to admit a plugin under, in the host's own terms: a config's `policy` and
/// `featureGates` sections, then the command-line overrides, exactly as `plughost list` and
/// `plughost check` build it. Everything empty: the host's default policy (minStability beta,
/// feature gates at their defaults).
struct AdmissionPolicy {
    /// An operator config document (JSON), e.g. R"({"policy": {"minStability": "alpha"}})". It is
    /// passed as a temporary file: paths in it (policy.tombstonesFile...) must be absolute.
    std::string config{};
    /// Or the path of an operator's config file (JSON or YAML).
    std::string config_file{};
    /// --min-stability: dev, alpha, beta or stable; overrides the config.
    std::string min_stability{};
    /// --feature-gates values, "A=true,B=false" each; override the config's featureGates.
    std::vector<std::string> feature_gates{};
    /// --reject-deprecated.
    bool reject_deprecated = false;
    /// --allow-past-removal, one plugin type each.
    std::vector<std::string> allow_past_removal{};
};

/// What the host decided about a plugin file under a policy.
struct Admission {
    bool admitted = false;
    std::vector<HostReason> reasons;   ///< why it is refused; empty when admitted
    std::vector<HostReason> warnings;  ///< admitted (or not) with these remarks, e.g. "deprecated"
    std::string min_stability;         ///< the policy's minimum stability, as the host read it

    /// Refused, and `code` is among the reasons.
    bool refused_with(std::string_view code) const {
        return std::any_of(reasons.begin(), reasons.end(), [&](const HostReason &r) { return r.code == code; });
    }
    /// "admitted" or "refused: [code] message; ...", for a test's failure message.
    std::string describe() const {
        std::string out = admitted ? "admitted" : "refused:";
        for (const auto &r : reasons) out += " [" + r.code + "] " + r.message + ";";
        for (const auto &w : warnings) out += " warning [" + w.code + "] " + w.message + ";";
        return out;
    }
};

namespace detail {

// The plughost tool admission() runs: $PLUGHOST_TOOL, else the PLUGHOST_TOOL definition.
inline std::string plughost_tool() {
    if (const char *env = std::getenv("PLUGHOST_TOOL"); env && *env) return env;
#ifdef PLUGHOST_TOOL
    return PLUGHOST_TOOL;
#else
    throw std::runtime_error(
        "plughost::testing::admission runs the plughost tool, and this test does not know where it is: link the "
        "test to plughost::testing (find_package(plughost) provides it, naming the installed tool), define "
        "PLUGHOST_TOOL as the tool's path, or set the environment variable PLUGHOST_TOOL");
#endif
}

// A file in $TMPDIR (else /tmp) removed with this object; `suffix` ends its name.
class TempFile {
public:
    TempFile(const char *stem, const std::string &suffix) {
        const char *dir = std::getenv("TMPDIR");
        path_ = std::string(dir && *dir ? dir : "/tmp") + "/" + stem + "-XXXXXX" + suffix;
        fd_ = ::mkstemps(path_.data(), static_cast<int>(suffix.size()));
        if (fd_ < 0) throw std::runtime_error("cannot create a temporary file " + path_ + ": " + std::strerror(errno));
    }
    ~TempFile() {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    TempFile(const TempFile &) = delete;
    TempFile &operator=(const TempFile &) = delete;
    int fd() const { return fd_; }
    const std::string &path() const { return path_; }
    void write(const std::string &text) const {
        for (std::size_t done = 0; done < text.size();) {
            const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw std::runtime_error("cannot write " + path_ + ": " + std::strerror(errno));
            done += static_cast<std::size_t>(n);
        }
    }
    std::string read_all() const {
        std::string text;
        char buffer[4096];
        for (off_t at = 0;;) {
            const ssize_t n = ::pread(fd_, buffer, sizeof buffer, at);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return text;
            text.append(buffer, static_cast<std::size_t>(n));
            at += n;
        }
    }

private:
    std::string path_;
    int fd_ = -1;
};

struct ToolRun {
    int exit_code = -1;  ///< -1: ended by a signal
    std::string out, err;
};

// Runs the tool with `args`, its standard output and error in files (read once it exits).
inline ToolRun run_tool(const std::string &tool, const std::vector<std::string> &args) {
    TempFile out("plughost-out", ".txt"), err("plughost-err", ".txt");
    std::vector<char *> argv{const_cast<char *>(tool.c_str())};
    for (const auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    ::posix_spawn_file_actions_adddup2(&actions, out.fd(), STDOUT_FILENO);
    ::posix_spawn_file_actions_adddup2(&actions, err.fd(), STDERR_FILENO);
    pid_t pid = 0;
    const int spawned = ::posix_spawn(&pid, tool.c_str(), &actions, nullptr, argv.data(), ::environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0)
        throw std::runtime_error("cannot run the plughost tool " + tool + ": " + std::strerror(spawned) +
                                 (spawned == ENOENT ? " (is plughost installed there? $PLUGHOST_TOOL or the "
                                                      "PLUGHOST_TOOL definition names it)"
                                                    : ""));
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out.read_all(), err.read_all()};
}

inline std::vector<HostReason> host_reasons(const boost::json::value *list) {
    std::vector<HostReason> out;
    if (!list || !list->is_array()) return out;
    for (const auto &item : list->get_array()) {
        const auto *o = item.if_object();
        const auto *code = o ? o->if_contains("code") : nullptr;
        const auto *message = o ? o->if_contains("message") : nullptr;
        out.push_back({code && code->is_string() ? std::string(code->get_string()) : std::string(),
                       message && message->is_string() ? std::string(message->get_string()) : std::string()});
    }
    return out;
}

}  // namespace detail

/// Whether the host admits the plugin file at `plugin_path` under `policy`, decided by the host's
/// own admission rules (foundation rules, then the policy's: minimum stability, feature gates,
/// deprecation, tombstones, maturity pins) through the plughost tool; no plugin code runs. Throws
/// std::runtime_error when the tool cannot be found or run, or refuses the request itself (a
/// malformed policy, a config with errors: its message says what the tool said).
inline Admission admission(const std::string &plugin_path, const AdmissionPolicy &policy = {}) {
    const std::string tool = detail::plughost_tool();
    std::vector<std::string> args{"--log-level", "error", "inspect", plugin_path, "--output", "json"};
    std::optional<detail::TempFile> config;
    if (!policy.config_file.empty()) {
        if (!policy.config.empty())
            throw std::invalid_argument("AdmissionPolicy: give config or config_file, not both");
        args.insert(args.end(), {"--config", policy.config_file});
    } else {
        config.emplace("plughost-admission-config", ".json");  // "{}": the host's default policy
        config->write(policy.config.empty() ? std::string("{}") : policy.config);
        args.insert(args.end(), {"--config", config->path()});
    }
    if (!policy.min_stability.empty()) args.insert(args.end(), {"--min-stability", policy.min_stability});
    for (const auto &g : policy.feature_gates) args.insert(args.end(), {"--feature-gates", g});
    if (policy.reject_deprecated) args.push_back("--reject-deprecated");
    for (const auto &t : policy.allow_past_removal) args.insert(args.end(), {"--allow-past-removal", t});

    const detail::ToolRun run = detail::run_tool(tool, args);
    boost::system::error_code error;
    const boost::json::value report = boost::json::parse(run.out, error);
    if ((run.exit_code != 0 && run.exit_code != 1) || error || !report.is_object()) {
        std::string command = tool;
        for (const auto &a : args) command += " " + a;
        throw std::runtime_error(command + " exited " + std::to_string(run.exit_code) +
                                 " without a decision: " + run.err + run.out);
    }
    const boost::json::object &o = report.get_object();
    Admission out;
    const auto *decision = o.if_contains("decision");
    out.admitted = decision && decision->is_string() && decision->get_string() == "admitted";
    out.reasons = detail::host_reasons(o.if_contains("reasons"));
    out.warnings = detail::host_reasons(o.if_contains("warnings"));
    if (const auto *m = o.if_contains("minStability"); m && m->is_object())
        if (const auto *v = m->get_object().if_contains("value"); v && v->is_string())
            out.min_stability = std::string(v->get_string());
    return out;
}

}  // namespace plughost::testing

#endif  // PLUGHOST_TESTING_HPP
