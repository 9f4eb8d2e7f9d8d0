// The C++ layer of the plughost SDK: write a plugin as a plain C++ class, declare its manifest
// once, and PLUGHOST_PLUGIN fills the C tables of <plughost/plugin.h>. Parameters arrive parsed
// and checked against the manifest; every exception stops at the C boundary and becomes a
// status code plus message.
//
//   class MyScorer {
//   public:
//       MyScorer(const plughost::Params &params, plughost::Host host);
//       void score(const plughost::Request &, plughost::Endpoints, std::span<double> out);
//   };
//   inline constexpr plughost::Manifest kManifest{...};
//   PLUGHOST_PLUGIN(MyScorer, kManifest)
//
// Role methods (those matching the manifest's role are required):
//   filter:          void filter(const Request &, Endpoints in, Selection &passed);
//   scorer:          void score(const Request &, Endpoints, std::span<double> scores);
//   picker:          void pick(const Request &, Endpoints, std::span<const double> totals, Selection &picked);
//   profile-handler: void pick_profiles(const Request &, ProfileRuns, Selection &run);
//                    std::size_t process_results(const Request &, ProfileRuns);  // the primary
//   producer:        void produce(const Request &, Endpoints);  // publishes with Host::put
//   observer:        at least one of the lifecycle methods below.
// Optional, any role:
//   void on_picked(const Request &, Endpoints chosen);
//   void pre_request(const Request &, const Decision &);
//   void response_started(const Request &, const Response &);
//   void response_complete(const Request &, const Response &);
// Constructors tried in order: T(const Params &, Host), T(const Params &), T().
#ifndef PLUGHOST_PLUGIN_HPP
#define PLUGHOST_PLUGIN_HPP

#include <plughost/detail/json_kind.hpp>
#include <plughost/manifest.hpp>
#include <plughost/plugin.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace plughost {

/// Thrown (by the SDK or by plugin code) for invalid parameters; reported to the host as
/// PLUGHOST_INVALID_ARGUMENT.
class ParameterError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A request header.
struct Header {
    std::string_view name;
    std::string_view value;
};

/// One message of a chat request.
struct ChatMessage {
    std::string_view role;
    std::string_view content;
};

/// View of the request being scheduled; valid for the duration of the call.
class Request {
public:
    explicit Request(const plughost_request *raw) noexcept : raw_(raw) {}
    std::string_view id() const noexcept { return view(raw_->id); }
    std::string_view model() const noexcept { return view(raw_->model); }
    std::string_view lora() const noexcept { return view(raw_->lora); }
    std::string_view prompt() const noexcept { return view(raw_->prompt); }
    std::size_t header_count() const noexcept { return raw_->header_count; }
    Header header(std::size_t i) const noexcept { return {view(raw_->headers[i].name), view(raw_->headers[i].value)}; }
    /// First header with this name (compared case-insensitively, as HTTP does).
    std::optional<std::string_view> find_header(std::string_view name) const noexcept {
        for (std::size_t i = 0; i < raw_->header_count; ++i) {
            const std::string_view n = view(raw_->headers[i].name);
            if (n.size() == name.size() &&
                std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) { return (a | 0x20) == (b | 0x20); }))
                return view(raw_->headers[i].value);
        }
        return std::nullopt;
    }
    /// A chat request's messages (none for a completion request; its prompt() is the
    /// messages rendered as "<role>: <content>\n" each).
    std::size_t message_count() const noexcept { return raw_->message_count; }
    ChatMessage message(std::size_t i) const noexcept {
        return {view(raw_->messages[i].role), view(raw_->messages[i].content)};
    }
    /// Whether the client asked for a streamed response.
    bool streaming() const noexcept { return raw_->streaming != 0; }
    const plughost_request &raw() const noexcept { return *raw_; }

private:
    const plughost_request *raw_;
};

/// View of one endpoint; valid for the duration of the call.
class Endpoint {
public:
    explicit Endpoint(const plughost_endpoint *raw) noexcept : raw_(raw) {}
    std::uint64_t id() const noexcept { return raw_->id; }
    std::string_view name() const noexcept { return view(raw_->name); }
    std::string_view address() const noexcept { return view(raw_->address); }
    std::uint32_t waiting_queue_size() const noexcept { return raw_->waiting_queue_size; }
    std::uint32_t running_requests() const noexcept { return raw_->running_requests; }
    double kv_cache_usage_percent() const noexcept { return raw_->kv_cache_usage_percent; }
    std::uint32_t max_active_loras() const noexcept { return raw_->max_active_loras; }
    std::size_t active_lora_count() const noexcept { return raw_->active_lora_count; }
    std::string_view active_lora(std::size_t i) const noexcept { return view(raw_->active_loras[i]); }
    bool has_lora(std::string_view lora) const noexcept {
        for (std::size_t i = 0; i < raw_->active_lora_count; ++i)
            if (view(raw_->active_loras[i]) == lora) return true;
        return false;
    }
    /// A metric beyond the standard ones, by name.
    std::optional<double> metric(std::string_view name) const noexcept {
        for (std::size_t i = 0; i < raw_->metric_count; ++i)
            if (view(raw_->metrics[i].name) == name) return raw_->metrics[i].value;
        return std::nullopt;
    }
    /// KV-cache usage as a fraction, 0 to 1.
    double kv_cache_usage() const noexcept { return raw_->kv_cache_usage; }
    /// LoRA adapters waiting to be loaded (the active ones are running).
    std::size_t waiting_lora_count() const noexcept { return raw_->waiting_lora_count; }
    std::string_view waiting_lora(std::size_t i) const noexcept { return view(raw_->waiting_loras[i]); }
    bool has_waiting_lora(std::string_view lora) const noexcept {
        for (std::size_t i = 0; i < raw_->waiting_lora_count; ++i)
            if (view(raw_->waiting_loras[i]) == lora) return true;
        return false;
    }
    /// The value of label `key`, if the endpoint has it.
    std::optional<std::string_view> label(std::string_view key) const noexcept {
        for (std::size_t i = 0; i < raw_->label_count; ++i)
            if (view(raw_->labels[i].name) == key) return view(raw_->labels[i].value);
        return std::nullopt;
    }
    std::size_t label_count() const noexcept { return raw_->label_count; }
    Header label_at(std::size_t i) const noexcept { return {view(raw_->labels[i].name), view(raw_->labels[i].value)}; }
    /// Requests the host sent here whose response has not ended (counted by the host).
    std::uint32_t requests_in_flight() const noexcept { return raw_->requests_in_flight; }
    /// Requests the host sent here since the endpoint's metrics were last updated.
    std::uint32_t pending_picks() const noexcept { return raw_->pending_picks; }
    const plughost_endpoint &raw() const noexcept { return *raw_; }

private:
    const plughost_endpoint *raw_;
};

/// The endpoints offered to a call, indexable and iterable; valid for the duration of the call.
class Endpoints {
public:
    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = Endpoint;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = Endpoint;
        iterator() = default;
        explicit iterator(const plughost_endpoint *const *p) noexcept : p_(p) {}
        Endpoint operator*() const noexcept { return Endpoint(*p_); }
        iterator &operator++() noexcept {
            ++p_;
            return *this;
        }
        iterator operator++(int) noexcept {
            iterator old = *this;
            ++p_;
            return old;
        }
        bool operator==(const iterator &) const = default;

    private:
        const plughost_endpoint *const *p_ = nullptr;
    };

    Endpoints(const plughost_endpoint *const *data, std::size_t size) noexcept : data_(data), size_(size) {}
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    Endpoint operator[](std::size_t i) const noexcept { return Endpoint(data_[i]); }
    iterator begin() const noexcept { return iterator(data_); }
    iterator end() const noexcept { return iterator(data_ + size_); }
    /// The host's array, to pass back to the host (Host::put and Host::numbers over endpoints).
    const plughost_endpoint *const *data() const noexcept { return data_; }
    /// The endpoints from `offset`, at most `count` of them (clamped to the size).
    Endpoints subspan(std::size_t offset, std::size_t count = SIZE_MAX) const noexcept {
        offset = std::min(offset, size_);
        return Endpoints(data_ + offset, std::min(count, size_ - offset));
    }

private:
    const plughost_endpoint *const *data_;
    std::size_t size_;
};

/// Indexes a filter lets through, or a picker chooses (best first).
class Selection {
public:
    Selection(std::size_t *out, std::size_t capacity) noexcept : out_(out), capacity_(capacity) {}
    /// Adds the endpoint at `index` of the Endpoints passed to the call.
    void add(std::size_t index) {
        if (size_ == capacity_) throw std::length_error("selected more endpoints than were offered");
        out_[size_++] = index;
    }
    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return capacity_; }

private:
    std::size_t *out_;
    std::size_t capacity_;
    std::size_t size_ = 0;
};

/// One scheduling profile as a profile handler sees it.
class ProfileRun {
public:
    enum class State {
        not_run = PLUGHOST_PROFILE_NOT_RUN,
        picked = PLUGHOST_PROFILE_PICKED,
        failed = PLUGHOST_PROFILE_FAILED
    };
    explicit ProfileRun(const plughost_profile_run *raw) noexcept : raw_(raw) {}
    std::string_view name() const noexcept { return view(raw_->name); }
    State state() const noexcept { return static_cast<State>(raw_->state); }
    bool ran() const noexcept { return raw_->state != PLUGHOST_PROFILE_NOT_RUN; }
    /// Its picks, best first (empty unless state() is picked).
    Endpoints picked() const noexcept { return Endpoints(raw_->picked, raw_->picked_count); }

private:
    const plughost_profile_run *raw_;
};

/// Every profile of the config, in order; valid for the duration of the call.
class ProfileRuns {
public:
    ProfileRuns(const plughost_profile_run *const *data, std::size_t size) noexcept : data_(data), size_(size) {}
    std::size_t size() const noexcept { return size_; }
    ProfileRun operator[](std::size_t i) const noexcept { return ProfileRun(data_[i]); }
    /// The index of the profile named `name`.
    std::optional<std::size_t> find(std::string_view name) const noexcept {
        for (std::size_t i = 0; i < size_; ++i)
            if (view(data_[i]->name) == name) return i;
        return std::nullopt;
    }

private:
    const plughost_profile_run *const *data_;
    std::size_t size_;
};

/// Where a request goes: the primary profile's picks, and the other profiles' first picks.
class Decision {
public:
    explicit Decision(const plughost_decision *raw) noexcept : raw_(raw) {}
    std::string_view profile() const noexcept { return view(raw_->profile); }
    Endpoints picked() const noexcept { return Endpoints(raw_->picked, raw_->picked_count); }
    std::size_t extra_count() const noexcept { return raw_->extra_count; }
    std::string_view extra_name(std::size_t i) const noexcept { return view(raw_->extras[i].name); }
    Endpoint extra_endpoint(std::size_t i) const noexcept { return Endpoint(raw_->extras[i].endpoint); }
    /// The endpoint profile `name` chose, if it ran and picked.
    std::optional<Endpoint> extra(std::string_view name) const noexcept {
        for (std::size_t i = 0; i < raw_->extra_count; ++i)
            if (view(raw_->extras[i].name) == name) return Endpoint(raw_->extras[i].endpoint);
        return std::nullopt;
    }
    const plughost_decision &raw() const noexcept { return *raw_; }

private:
    const plughost_decision *raw_;
};

/// What became of a request.
class Response {
public:
    enum class Outcome {
        started = PLUGHOST_RESPONSE_STARTED,
        complete = PLUGHOST_RESPONSE_COMPLETE,
        failed = PLUGHOST_RESPONSE_FAILED,
        cancelled = PLUGHOST_RESPONSE_CANCELLED,
        lost = PLUGHOST_RESPONSE_LOST,
    };
    explicit Response(const plughost_response *raw) noexcept : raw_(raw) {}
    Outcome outcome() const noexcept { return static_cast<Outcome>(raw_->outcome); }
    /// The endpoint that served it, when the host still knows it.
    std::optional<Endpoint> endpoint() const noexcept {
        return raw_->endpoint ? std::optional<Endpoint>(Endpoint(raw_->endpoint)) : std::nullopt;
    }
    std::uint64_t endpoint_id() const noexcept { return raw_->endpoint_id; }
    int http_status() const noexcept { return raw_->http_status; }
    /// Seconds from the decision to the first byte; nullopt when unknown.
    std::optional<double> seconds_to_first_byte() const noexcept {
        return raw_->seconds_to_first_byte >= 0 ? std::optional<double>(raw_->seconds_to_first_byte) : std::nullopt;
    }
    /// Seconds from the decision to the end; nullopt when not ended.
    std::optional<double> seconds_total() const noexcept {
        return raw_->seconds_total >= 0 ? std::optional<double>(raw_->seconds_total) : std::nullopt;
    }
    std::uint64_t prompt_tokens() const noexcept { return raw_->prompt_tokens; }
    std::uint64_t completion_tokens() const noexcept { return raw_->completion_tokens; }
    const plughost_response &raw() const noexcept { return *raw_; }

private:
    const plughost_response *raw_;
};

/// The id of an attribute the manifest declares (from Host::attribute); invalid when it does not.
class Attribute {
public:
    Attribute() = default;
    explicit Attribute(std::int32_t id) noexcept : id_(id) {}
    bool valid() const noexcept { return id_ >= 0; }
    std::int32_t id() const noexcept { return id_; }

private:
    std::int32_t id_ = -1;
};

enum class LogLevel { trace = 0, debug, info, warn, error, critical };

/// Host services for one instance; cheap to copy, valid until the instance is destroyed.
class Host {
public:
    Host(const plughost_host_api *api, std::string_view instance_name) : api_(api), name_(instance_name) {}
    const std::string &instance_name() const noexcept { return name_; }
    void log(LogLevel level, std::string_view message) const noexcept {
        if (api_ && api_->log) api_->log(api_->context, static_cast<int32_t>(level), {message.data(), message.size()});
    }
    void debug(std::string_view m) const noexcept { log(LogLevel::debug, m); }
    void info(std::string_view m) const noexcept { log(LogLevel::info, m); }
    void warn(std::string_view m) const noexcept { log(LogLevel::warn, m); }
    void error(std::string_view m) const noexcept { log(LogLevel::error, m); }
    /// Adds `delta` to the instance counter `name`, shown in the host's run summary.
    void count(std::string_view name, double delta = 1.0) const noexcept {
        if (api_ && api_->count) api_->count(api_->context, {name.data(), name.size()}, delta);
    }

    /// The id of an attribute the manifest declares in produces or consumes; throws
    /// std::invalid_argument when it declares none of that name (call it in the constructor:
    /// the instance then fails to start with a clear message).
    Attribute attribute(std::string_view name) const {
        const std::int32_t id =
            api_ && api_->attribute ? api_->attribute(api_->context, {name.data(), name.size()}) : -1;
        if (id < 0)
            throw std::invalid_argument("attribute \"" + std::string(name) +
                                        "\" is not declared in the manifest's produces or consumes");
        return Attribute(id);
    }
    /// Publishes a number (from produce()): about `endpoint`, or about the request when nullopt.
    bool put(const Request &request, std::optional<Endpoint> endpoint, Attribute attribute,
             double value) const noexcept {
        return put_value(request, endpoint, attribute, {PLUGHOST_VALUE_NUMBER, value, {nullptr, 0}});
    }
    /// Publishes a string (from produce()); the host copies it.
    bool put(const Request &request, std::optional<Endpoint> endpoint, Attribute attribute,
             std::string_view value) const noexcept {
        return put_value(request, endpoint, attribute, {PLUGHOST_VALUE_STRING, 0, {value.data(), value.size()}});
    }
    /// The number an attribute holds for the request (and endpoint), when it was published.
    std::optional<double> number(const Request &request, std::optional<Endpoint> endpoint,
                                 Attribute attribute) const noexcept {
        plughost_value v{};
        if (!get_value(request, endpoint, attribute, v) || v.type != PLUGHOST_VALUE_NUMBER) return std::nullopt;
        return v.number;
    }
    /// The string an attribute holds; valid until the hook returns.
    std::optional<std::string_view> string(const Request &request, std::optional<Endpoint> endpoint,
                                           Attribute attribute) const noexcept {
        plughost_value v{};
        if (!get_value(request, endpoint, attribute, v) || v.type != PLUGHOST_VALUE_STRING) return std::nullopt;
        return view(v.string);
    }
    /// Publishes one number per endpoint (from produce()): values[i] about endpoints[i], for an
    /// attribute of scope endpoint, in one call (put_numbers), checked once. False when `values`
    /// is not one per endpoint or the host refuses; the values before a refused one (not
    /// finite, an endpoint not the cycle's) are published. Pass the Endpoints the hook was given
    /// (or a subspan): the host then finds each endpoint without hashing. (No older host runs
    /// this plugin: a host refuses a manifest of a newer ABI minor, abi-minor-newer.)
    bool put(const Request &request, Endpoints endpoints, Attribute attribute,
             std::span<const double> values) const noexcept {
        return api_ && api_->put_numbers && attribute.valid() && values.size() == endpoints.size() &&
               api_->put_numbers(api_->context, &request.raw(), endpoints.data(), endpoints.size(), attribute.id(),
                                 values.data()) == PLUGHOST_OK;
    }
    /// Reads a number attribute of scope endpoint for every endpoint, in one call (get_numbers):
    /// out[i] the value for endpoints[i], NaN when absent (published numbers are finite).
    /// Returns how many are present; 0 (and nothing written) when `out` is not one per endpoint.
    std::size_t numbers(const Request &request, Endpoints endpoints, Attribute attribute,
                        std::span<double> out) const noexcept {
        if (out.size() != endpoints.size()) return 0;
        if (!api_ || !api_->get_numbers || !attribute.valid()) {
            std::fill(out.begin(), out.end(), std::numeric_limits<double>::quiet_NaN());
            return 0;
        }
        return api_->get_numbers(api_->context, &request.raw(), endpoints.data(), endpoints.size(), attribute.id(),
                                 out.data());
    }
    /// Sets a header on the request sent to the endpoint (from pre_request only); false when the
    /// host refuses it (another hook, a name not of 1-64 [A-Za-z0-9-], a value with control
    /// characters or over 4096 bytes).
    bool set_upstream_header(const Request &request, std::string_view name, std::string_view value) const noexcept {
        return set_header(request, PLUGHOST_HEADER_UPSTREAM, name, value);
    }
    /// Sets a header on the response to the client (from response_started only); false when refused.
    bool set_client_header(const Request &request, std::string_view name, std::string_view value) const noexcept {
        return set_header(request, PLUGHOST_HEADER_CLIENT, name, value);
    }

private:
    bool set_header(const Request &request, int32_t where, std::string_view name,
                    std::string_view value) const noexcept {
        return api_ && api_->set_header &&
               api_->set_header(api_->context, &request.raw(), where, {name.data(), name.size()},
                                {value.data(), value.size()}) == PLUGHOST_OK;
    }
    bool put_value(const Request &request, std::optional<Endpoint> endpoint, Attribute attribute,
                   plughost_value value) const noexcept {
        return api_ && api_->put_attribute && attribute.valid() &&
               api_->put_attribute(api_->context, &request.raw(), endpoint ? &endpoint->raw() : nullptr, attribute.id(),
                                   value) == PLUGHOST_OK;
    }
    bool get_value(const Request &request, std::optional<Endpoint> endpoint, Attribute attribute,
                   plughost_value &out) const noexcept {
        return api_ && api_->get_attribute && attribute.valid() &&
               api_->get_attribute(api_->context, &request.raw(), endpoint ? &endpoint->raw() : nullptr, attribute.id(),
                                   &out) == 1;
    }

    const plughost_host_api *api_;
    std::string name_;
};

/// The instance's parameters: the operator's values checked against the manifest, with the
/// manifest's defaults filled in.
class Params {
public:
    Params() = default;
    explicit Params(boost::json::object values) : values_(std::move(values)) {}

    const boost::json::object &json() const noexcept { return values_; }
    bool contains(std::string_view name) const noexcept { return values_.contains(name); }

    /// The value of `name` as T (bool, an integer type, double, std::string,
    /// boost::json::array or boost::json::object); throws ParameterError when absent or of
    /// another type.
    template <class T> T get(std::string_view name) const {
        const boost::json::value *v = values_.if_contains(name);
        if (!v) throw ParameterError("parameter '" + std::string(name) + "' is required");
        return convert<T>(name, *v);
    }
    /// Like get(), but `fallback` when absent.
    template <class T> T get_or(std::string_view name, T fallback) const {
        return contains(name) ? get<T>(name) : fallback;
    }
    /// Like get(), and checks lo <= value <= hi.
    template <class T> T get_in_range(std::string_view name, T lo, T hi) const {
        T v = get<T>(name);
        if (v < lo || v > hi)
            throw ParameterError("parameter '" + std::string(name) + "': expected a value in [" + to_text(lo) + ", " +
                                 to_text(hi) + "], found " + to_text(v));
        return v;
    }

private:
    template <class T> static std::string to_text(T v) {
        char buf[64];
        const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest form: 0.5, 100, 1e+20
        return std::string(buf, r.ptr);
    }
    [[noreturn]] static void mismatch(std::string_view name, std::string_view expected, const boost::json::value &v) {
        throw ParameterError("parameter '" + std::string(name) + "': expected " + std::string(expected) + ", found " +
                             std::string(detail::json_kind(v)) + " " + boost::json::serialize(v));
    }
    template <class T> static T convert(std::string_view name, const boost::json::value &v) {
        if constexpr (std::is_same_v<T, bool>) {
            if (!v.is_bool()) mismatch(name, "a boolean", v);
            return v.get_bool();
        } else if constexpr (std::is_integral_v<T>) {
            if (v.is_int64() || v.is_uint64()) {
                boost::json::error_code ec;
                T out = v.to_number<T>(ec);
                if (!ec) return out;
            } else if (v.is_double() && std::trunc(v.get_double()) == v.get_double()) {
                boost::json::error_code ec;
                T out = v.to_number<T>(ec);
                if (!ec) return out;
            }
            mismatch(name, "an integer in the range of " + std::string(sizeof(T) * 8 > 32 ? "int64" : "int32"), v);
        } else if constexpr (std::is_floating_point_v<T>) {
            if (!v.is_number()) mismatch(name, "a number", v);
            return v.to_number<T>();
        } else if constexpr (std::is_same_v<T, std::string>) {
            if (!v.is_string()) mismatch(name, "a string", v);
            return std::string(v.get_string());
        } else if constexpr (std::is_same_v<T, boost::json::array>) {
            if (!v.is_array()) mismatch(name, "an array", v);
            return v.get_array();
        } else if constexpr (std::is_same_v<T, boost::json::object>) {
            if (!v.is_object()) mismatch(name, "an object", v);
            return v.get_object();
        } else {
            static_assert(sizeof(T) == 0, "unsupported parameter type");
        }
    }

    boost::json::object values_;
};

namespace detail {

// Parses the operator's parameters, rejects unknown names and wrong types, fills defaults.
inline Params make_params(const Manifest &m, plughost_str text) {
    boost::json::object values;
    if (text.size) {
        boost::json::error_code ec;
        boost::json::value parsed = boost::json::parse(view(text), ec);
        if (ec) throw ParameterError("parameters are not valid JSON: " + ec.message());
        if (!parsed.is_object())
            throw ParameterError("parameters must be a JSON object, found " + std::string(json_kind(parsed)));
        values = std::move(parsed.get_object());
    }
    for (const auto &kv : values) {
        const Param *spec = nullptr;
        for (const Param &p : m.parameters)
            if (p.name == kv.key()) spec = &p;
        if (!spec) {
            std::string known;
            for (const Param &p : m.parameters) known += (known.empty() ? "" : ", ") + std::string(p.name);
            throw ParameterError(
                "unknown parameter '" + std::string(kv.key()) + "'" +
                (known.empty() ? "; this plugin takes no parameters" : "; known parameters: " + known));
        }
        if (!matches(spec->type, kv.value()))
            throw ParameterError("parameter '" + std::string(spec->name) + "': expected " +
                                 std::string(to_string(spec->type)) + ", found " + std::string(json_kind(kv.value())) +
                                 " " + boost::json::serialize(kv.value()));
    }
    for (const Param &p : m.parameters)
        if (!p.default_json.empty() && !values.contains(p.name)) values[p.name] = boost::json::parse(p.default_json);
    return Params(std::move(values));
}

inline void write_message(plughost_message *out, std::string_view text) noexcept {
    if (!out || !out->data) return;
    const std::size_t n = std::min(text.size(), out->capacity);
    std::memcpy(out->data, text.data(), n);
    out->size = n;
}

// The one place exceptions are stopped: everything a hook runs goes through here. Always inlined
// into the hook's entry point (and the body into it): otherwise GCC keeps it a function of its
// own, since template instances are not "called once" to its inliner, and every hook call pays a
// second call with the arguments spilled to the stack for the lambda's captures (about 20
// instructions a call, measured with callgrind). The try block itself costs nothing until a throw.
template <class F> [[gnu::always_inline]] inline plughost_status guarded(plughost_message *error, F &&body) noexcept {
    try {
        body();
        return PLUGHOST_OK;
    } catch (const ParameterError &e) {
        write_message(error, e.what());
        return PLUGHOST_INVALID_ARGUMENT;
    } catch (const std::exception &e) {
        write_message(error, e.what());
        return PLUGHOST_ERROR;
    } catch (...) {
        write_message(error, "unknown exception");
        return PLUGHOST_ERROR;
    }
}

template <class T> T *self(plughost_instance *instance) noexcept { return reinterpret_cast<T *>(instance); }

template <class T> T *construct(const Params &params, const Host &host) {
    if constexpr (std::is_constructible_v<T, const Params &, Host>) return new T(params, host);
    else if constexpr (std::is_constructible_v<T, const Params &>) return new T(params);
    else {
        static_assert(std::is_default_constructible_v<T>,
                      "a plugin class needs T(const Params&, Host), T(const Params&) or T()");
        return new T();
    }
}

template <class T, const Manifest &M> plughost_status create(const plughost_host_api *host, plughost_str name,
                                                             plughost_str parameters, plughost_instance **out,
                                                             plughost_message *error) noexcept {
    return guarded(error, [&] {
        const Params params = make_params(M, parameters);
        *out = reinterpret_cast<plughost_instance *>(construct<T>(params, Host(host, view(name))));
    });
}

template <class T> void destroy(plughost_instance *instance) noexcept {
    try {
        delete self<T>(instance);
    } catch (...) {
        // A throwing destructor must not cross the boundary; nothing else can be done here.
    }
}

template <class T> plughost_status filter(plughost_instance *instance, const plughost_request *request,
                                          const plughost_endpoint *const *endpoints, std::size_t count,
                                          std::size_t *passed, std::size_t *passed_count,
                                          plughost_message *error) noexcept {
    *passed_count = 0;
    return guarded(error, [&] {
        Selection selection(passed, count);
        self<T>(instance)->filter(Request(request), Endpoints(endpoints, count), selection);
        *passed_count = selection.size();
    });
}

template <class T> plughost_status score(plughost_instance *instance, const plughost_request *request,
                                         const plughost_endpoint *const *endpoints, std::size_t count, double *scores,
                                         plughost_message *error) noexcept {
    return guarded(error, [&] {
        self<T>(instance)->score(Request(request), Endpoints(endpoints, count), std::span<double>(scores, count));
    });
}

template <class T> plughost_status pick(plughost_instance *instance, const plughost_request *request,
                                        const plughost_endpoint *const *endpoints, const double *scores,
                                        std::size_t count, std::size_t *picked, std::size_t *picked_count,
                                        plughost_message *error) noexcept {
    *picked_count = 0;
    return guarded(error, [&] {
        Selection selection(picked, count);
        self<T>(instance)->pick(Request(request), Endpoints(endpoints, count), std::span<const double>(scores, count),
                                selection);
        *picked_count = selection.size();
    });
}

template <class T> plughost_status on_picked(plughost_instance *instance, const plughost_request *request,
                                             const plughost_endpoint *const *endpoints, std::size_t count,
                                             plughost_message *error) noexcept {
    return guarded(error, [&] { self<T>(instance)->on_picked(Request(request), Endpoints(endpoints, count)); });
}

template <class T> plughost_status pick_profiles(plughost_instance *instance, const plughost_request *request,
                                                 const plughost_profile_run *const *profiles, std::size_t count,
                                                 std::size_t *run, std::size_t *run_count,
                                                 plughost_message *error) noexcept {
    *run_count = 0;
    return guarded(error, [&] {
        Selection selection(run, count);
        self<T>(instance)->pick_profiles(Request(request), ProfileRuns(profiles, count), selection);
        *run_count = selection.size();
    });
}

template <class T> plughost_status process_results(plughost_instance *instance, const plughost_request *request,
                                                   const plughost_profile_run *const *profiles, std::size_t count,
                                                   std::size_t *primary, plughost_message *error) noexcept {
    return guarded(
        error, [&] { *primary = self<T>(instance)->process_results(Request(request), ProfileRuns(profiles, count)); });
}

template <class T> plughost_status produce(plughost_instance *instance, const plughost_request *request,
                                           const plughost_endpoint *const *endpoints, std::size_t count,
                                           plughost_message *error) noexcept {
    return guarded(error, [&] { self<T>(instance)->produce(Request(request), Endpoints(endpoints, count)); });
}

template <class T> plughost_status pre_request(plughost_instance *instance, const plughost_request *request,
                                               const plughost_decision *decision, plughost_message *error) noexcept {
    return guarded(error, [&] { self<T>(instance)->pre_request(Request(request), Decision(decision)); });
}

template <class T> plughost_status response_started(plughost_instance *instance, const plughost_request *request,
                                                    const plughost_response *response,
                                                    plughost_message *error) noexcept {
    return guarded(error, [&] { self<T>(instance)->response_started(Request(request), Response(response)); });
}

template <class T> plughost_status response_complete(plughost_instance *instance, const plughost_request *request,
                                                     const plughost_response *response,
                                                     plughost_message *error) noexcept {
    return guarded(error, [&] { self<T>(instance)->response_complete(Request(request), Response(response)); });
}

template <class T>
concept IsFilter = requires(T &t, const Request &r, Endpoints e, Selection &s) {
    t.filter(r, e, s);
};
template <class T>
concept IsScorer = requires(T &t, const Request &r, Endpoints e, std::span<double> s) {
    t.score(r, e, s);
};
template <class T>
concept IsPicker = requires(T &t, const Request &r, Endpoints e, std::span<const double> d, Selection &s) {
    t.pick(r, e, d, s);
};
template <class T>
concept ObservesPicks = requires(T &t, const Request &r, Endpoints e) {
    t.on_picked(r, e);
};
template <class T>
concept IsProfileHandler = requires(T &t, const Request &r, ProfileRuns p, Selection &s) {
    t.pick_profiles(r, p, s);
    { t.process_results(r, p) } -> std::convertible_to<std::size_t>;
};
template <class T>
concept IsProducer = requires(T &t, const Request &r, Endpoints e) {
    t.produce(r, e);
};
template <class T>
concept HasPreRequest = requires(T &t, const Request &r, const Decision &d) {
    t.pre_request(r, d);
};
template <class T>
concept HasResponseStarted = requires(T &t, const Request &r, const Response &p) {
    t.response_started(r, p);
};
template <class T>
concept HasResponseComplete = requires(T &t, const Request &r, const Response &p) {
    t.response_complete(r, p);
};

template <class T, const Manifest &M> constexpr plughost_plugin make_entry(plughost_str json) {
    plughost_plugin entry{};
    entry.struct_size = sizeof(plughost_plugin);
    entry.abi_major = PLUGHOST_ABI_VERSION_MAJOR;
    entry.abi_minor = PLUGHOST_ABI_VERSION_MINOR;
    entry.abi_patch = PLUGHOST_ABI_VERSION_PATCH;
    entry.manifest_json = json;
    entry.create = &create<T, M>;
    entry.destroy = &destroy<T>;
    if constexpr (M.role == Role::filter) {
        static_assert(IsFilter<T>, "role filter: the class needs "
                                   "void filter(const Request&, Endpoints, Selection&)");
        entry.filter = &filter<T>;
    } else if constexpr (M.role == Role::scorer) {
        static_assert(IsScorer<T>, "role scorer: the class needs "
                                   "void score(const Request&, Endpoints, std::span<double>)");
        entry.score = &score<T>;
    } else if constexpr (M.role == Role::picker) {
        static_assert(IsPicker<T>, "role picker: the class needs void pick(const Request&, "
                                   "Endpoints, std::span<const double>, Selection&)");
        entry.pick = &pick<T>;
    } else if constexpr (M.role == Role::profile_handler) {
        static_assert(IsProfileHandler<T>, "role profile-handler: the class needs void pick_profiles(const Request&, "
                                           "ProfileRuns, Selection&) and std::size_t process_results(const "
                                           "Request&, ProfileRuns)");
        entry.pick_profiles = &pick_profiles<T>;
        entry.process_results = &process_results<T>;
    } else if constexpr (M.role == Role::producer) {
        static_assert(IsProducer<T>, "role producer: the class needs void produce(const Request&, Endpoints)");
        entry.produce = &produce<T>;
    } else {
        static_assert(HasPreRequest<T> || HasResponseStarted<T> || HasResponseComplete<T>,
                      "role observer: the class needs pre_request, response_started or response_complete");
    }
    if constexpr (ObservesPicks<T>) entry.picked = &on_picked<T>;
    if constexpr (HasPreRequest<T>) entry.pre_request = &pre_request<T>;
    if constexpr (HasResponseStarted<T>) entry.response_started = &response_started<T>;
    if constexpr (HasResponseComplete<T>) entry.response_complete = &response_complete<T>;
    return entry;
}

}  // namespace detail
}  // namespace plughost

/// Declares the plugin: `Class` implements it, `manifest` (a constexpr plughost::Manifest with
/// static storage) describes it. Use once per shared object, at global scope.
#define PLUGHOST_PLUGIN(Class, manifest)                                                                               \
    static_assert(::plughost::detail::check_manifest(manifest));                                                       \
    namespace {                                                                                                        \
    [[gnu::used, gnu::section(PLUGHOST_NOTE_SECTION), gnu::aligned(4)]] constexpr auto plughost_manifest_note =        \
        ::plughost::detail::make_note<::plughost::detail::json_size(manifest)>(manifest);                              \
    }                                                                                                                  \
    extern "C" PLUGHOST_EXPORT const plughost_plugin plughost_entry =                                                  \
        ::plughost::detail::make_entry<Class, manifest>(plughost_manifest_note.json());

#endif  // PLUGHOST_PLUGIN_HPP
