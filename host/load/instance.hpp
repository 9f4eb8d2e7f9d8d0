// One configured plugin instance: made by the plugin's `create`, destroyed by its `destroy`,
// holding its library loaded meanwhile, and serving the host API the plugin was given.
#pragma once

#include "load/plugin_loader.hpp"
#include "schedule/cycle.hpp"

#include <plughost/plugin.h>

#include <spdlog/logger.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plughost::host {

/// host_api.count: adds `delta` to the counter `name` (made on first use, its name shown
/// sanitized, at most 64 counters an instance); a delta that is not finite is ignored.
void add_to_counter(std::vector<std::pair<std::string, double>> &counters, plughost_str name, double delta);

class Instance {
public:
    /// Calls the plugin's `create`. On failure returns nullptr and sets `error` to the
    /// plugin's message (or a description of what went wrong). `attributes` are the ids the plan
    /// gave the attributes this instance's manifest produces and consumes.
    static std::unique_ptr<Instance> create(std::shared_ptr<const LoadedPlugin> plugin, std::string name,
                                            std::string_view parameters_json, std::string &error,
                                            std::vector<DeclaredAttribute> attributes = {});
    ~Instance();
    Instance(const Instance &) = delete;
    Instance &operator=(const Instance &) = delete;

    const std::string &name() const { return name_; }
    /// `instance "NAME" of plugin "TYPE" VERSION (FILE)`: what a crash inside its code is
    /// attributed to (common/plugin_call.hpp). Stable while the instance lives.
    const char *call_label() const { return label_.c_str(); }
    const LoadedPlugin &plugin() const { return *plugin_; }
    const Manifest &manifest() const { return plugin_->manifest(); }
    const plughost_plugin &entry() const { return plugin_->entry(); }
    plughost_instance *handle() const { return handle_; }
    spdlog::logger &logger() const { return *logger_; }

    /// The scheduling cycle this instance's host-API callbacks serve: set by the one Scheduler
    /// that runs the instance (or a test harness), for its lifetime; nullptr binds idle_cycle().
    /// The callbacks find the cycle here, one load, rather than through the request the plugin
    /// passes back.
    void bind(Cycle *cycle) { cycle_ = cycle ? cycle : idle_cycle(); }
    const Cycle *bound() const { return cycle_; }

    /// Counters the plugin published through the host API, in order of first use.
    const std::vector<std::pair<std::string, double>> &counters() const { return counters_; }

private:
    Instance(std::shared_ptr<const LoadedPlugin> plugin, std::string name);
    static void log(void *context, int32_t level, plughost_str message);
    static void count(void *context, plughost_str name, double delta);
    static int32_t attribute(void *context, plughost_str name);
    static plughost_status put_attribute(void *context, const plughost_request *request,
                                         const plughost_endpoint *endpoint, int32_t id, plughost_value value);
    static int32_t get_attribute(void *context, const plughost_request *request, const plughost_endpoint *endpoint,
                                 int32_t id, plughost_value *out);
    static plughost_status put_numbers(void *context, const plughost_request *request,
                                       const plughost_endpoint *const *endpoints, std::size_t count, int32_t id,
                                       const double *values);
    static std::size_t get_numbers(void *context, const plughost_request *request,
                                   const plughost_endpoint *const *endpoints, std::size_t count, int32_t id,
                                   double *out);
    static plughost_status set_header(void *context, const plughost_request *request, int32_t where, plughost_str name,
                                      plughost_str value);
    static int32_t param(void *context, plughost_str name, plughost_value *out);
    // What the instance declared about attribute `id`: kRead (consumes or produces it),
    // kPublish (produces it). One load on every put and get, instead of a search.
    enum Access : std::uint8_t { kRead = 1, kPublish = 2 };
    bool may(int32_t id, Access what) const {
        return static_cast<std::uint32_t>(id) < access_.size() && (access_[static_cast<std::uint32_t>(id)] & what);
    }
    // The parameters as `param` serves them: the operator's values over the manifest's defaults.
    void resolve_parameters(std::string_view parameters_json);

    struct Parameter {
        std::string name;
        int32_t type = PLUGHOST_VALUE_NONE;
        double number = 0;
        std::string text;  // a string's value, or an array's or object's JSON
    };

    std::shared_ptr<const LoadedPlugin> plugin_;  // released last: the code must outlive the instance
    std::string name_;
    std::string label_;
    std::shared_ptr<spdlog::logger> logger_;
    std::vector<std::pair<std::string, double>> counters_;
    std::vector<DeclaredAttribute> attributes_;
    std::vector<std::uint8_t> access_;  // Access bits, by attribute id
    std::vector<Parameter> parameters_;
    plughost_host_api api_{};
    plughost_instance *handle_ = nullptr;
    Cycle *cycle_ = idle_cycle();  // never null
};

}  // namespace plughost::host
