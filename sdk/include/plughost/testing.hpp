// Test helpers for plugin authors: build requests and endpoints without a host, load your
// built plugin with dlopen and call it through its real C entry (so what you test is what the
// host will call), and see the log lines and counters it sent to the host.
//
//   plughost::testing::PluginLibrary lib(MY_PLUGIN_PATH);
//   auto made = lib.create("mine", R"({"blockSize": 4})");
//   REQUIRE(made.ok());
//   plughost::testing::EndpointSet endpoints{{.name = "a", .waiting_queue_size = 3}, {.name = "b"}};
//   auto scores = made.value->score(plughost::testing::RequestData({.prompt = "hello"}), endpoints);
//
// Header-only; needs nothing beyond <plughost/plugin.h> and the C++ standard library.
#ifndef PLUGHOST_TESTING_HPP
#define PLUGHOST_TESTING_HPP

#include <plughost/plugin.h>

#include <dlfcn.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plughost::testing {

/// One endpoint to offer to a plugin.
struct EndpointSpec {
    std::string name;
    std::string address{};
    std::uint32_t waiting_queue_size = 0;
    std::uint32_t running_requests = 0;
    double kv_cache_usage_percent = 0;
    std::vector<std::string> active_loras{};
    std::uint32_t max_active_loras = 0;
    std::vector<std::pair<std::string, double>> metrics{};
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
            plughost_endpoint e{};
            e.struct_size = sizeof e;
            e.id = s.id.value_or(id);
            ++id;
            e.name = {s.name.data(), s.name.size()};
            e.address = {s.address.data(), s.address.size()};
            e.waiting_queue_size = s.waiting_queue_size;
            e.running_requests = s.running_requests;
            e.kv_cache_usage_percent = s.kv_cache_usage_percent;
            e.active_loras = loras.data();
            e.active_lora_count = loras.size();
            e.max_active_loras = s.max_active_loras;
            e.metrics = metrics.data();
            e.metric_count = metrics.size();
            endpoints_.push_back(e);
        }
        for (const auto &e : endpoints_) pointers_.push_back(&e);
    }
    EndpointSet(const EndpointSet &) = delete;
    EndpointSet &operator=(const EndpointSet &) = delete;

    const plughost_endpoint *const *data() const { return pointers_.data(); }
    std::size_t size() const { return pointers_.size(); }
    std::string_view name(std::size_t i) const { return specs_[i].name; }

private:
    std::vector<EndpointSpec> specs_;
    std::deque<std::vector<plughost_str>> loras_;  // deques: element addresses stay put
    std::deque<std::vector<plughost_metric>> metrics_;
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
};

/// Owns a request laid out as the host passes it.
class RequestData {
public:
    explicit RequestData(RequestSpec spec = {}) : spec_(std::move(spec)) {
        for (const auto &[k, v] : spec_.headers) headers_.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
        request_.struct_size = sizeof request_;
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
    plughost_request request_{};
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
        return out;
    }

    Outcome<std::vector<std::size_t>> filter(const RequestData &request, const EndpointSet &endpoints) {
        require(entry_->filter != nullptr, "filter");
        Outcome<std::vector<std::size_t>> out;
        out.value.assign(endpoints.size(), 0);
        std::size_t n = 0;
        out.status =
            entry_->filter(handle_, request.get(), endpoints.data(), endpoints.size(), out.value.data(), &n, message());
        out.value.resize(std::min(n, endpoints.size()));
        out.message = last_message();
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
        out.value.resize(std::min(n, endpoints.size()));
        out.message = last_message();
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

    const std::vector<LogLine> &logs() const { return logs_; }
    const std::map<std::string, double> &counters() const { return counters_; }

private:
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

    /// Calls the plugin's `create`. Destroy every instance before the library.
    Outcome<std::unique_ptr<PluginInstance>> create(const std::string &name,
                                                    const std::string &parameters_json = "{}") {
        Outcome<std::unique_ptr<PluginInstance>> out;
        std::unique_ptr<PluginInstance> instance(new PluginInstance(entry_));
        plughost_instance *handle = nullptr;
        out.status = entry_->create(&instance->api_, {name.data(), name.size()},
                                    {parameters_json.data(), parameters_json.size()}, &handle, instance->message());
        out.message = instance->last_message();
        if (out.ok()) {
            instance->handle_ = handle;
            out.value = std::move(instance);
        }
        return out;
    }

private:
    void *handle_;
    const plughost_plugin *entry_ = nullptr;
};

}  // namespace plughost::testing

#endif  // PLUGHOST_TESTING_HPP
