#include "load/instance.hpp"

#include "common/plugin_call.hpp"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace plughost::host {

Instance::Instance(std::shared_ptr<const LoadedPlugin> plugin, std::string name)
    : plugin_(std::move(plugin)), name_(std::move(name)), logger_(spdlog::default_logger()->clone(name_)) {
    api_.struct_size = sizeof(plughost_host_api);
    api_.context = this;
    api_.log = &Instance::log;
    api_.count = &Instance::count;
    api_.attribute = &Instance::attribute;
    api_.put_attribute = &Instance::put_attribute;
    api_.get_attribute = &Instance::get_attribute;
    api_.set_header = &Instance::set_header;
    api_.param = &Instance::param;
    api_.put_numbers = &Instance::put_numbers;
    api_.get_numbers = &Instance::get_numbers;
}

std::unique_ptr<Instance> Instance::create(std::shared_ptr<const LoadedPlugin> plugin, std::string name,
                                           std::string_view parameters_json, std::string &error,
                                           std::vector<DeclaredAttribute> attributes) {
    std::unique_ptr<Instance> self(new Instance(std::move(plugin), std::move(name)));
    self->label_ = "instance \"" + sanitize_line(self->name_, 200) + "\" of plugin \"" + self->manifest().type + "\" " +
                   self->manifest().version.str() + " (" + sanitize_line(self->plugin().path().string(), 500) + ")";
    self->attributes_ = std::move(attributes);
    for (const DeclaredAttribute &a : self->attributes_) {
        if (a.id < 0) continue;
        const auto id = static_cast<std::size_t>(a.id);
        if (self->access_.size() <= id) self->access_.resize(id + 1, 0);
        self->access_[id] |= a.produces ? kRead | kPublish : kRead;
    }
    self->resolve_parameters(parameters_json);
    std::array<char, 1024> buffer{};
    plughost_message message{buffer.data(), buffer.size(), 0};
    plughost_instance *handle = nullptr;
    const PluginCall running(self->call_label());
    const plughost_status status =
        self->entry().create(&self->api_, {self->name_.data(), self->name_.size()},
                             {parameters_json.data(), parameters_json.size()}, &handle, &message);
    if (status != PLUGHOST_OK || !handle) {
        // On failure the plugin owns whatever it stored in `handle`: the ABI says it stores
        // nothing, so nothing is destroyed here.
        const std::string_view text(buffer.data(), std::min(message.size, buffer.size()));
        error = status != PLUGHOST_OK ? sanitize_line(text.empty() ? "create failed without a message" : text)
                                      : "create returned success but no instance";
        return nullptr;
    }
    self->handle_ = handle;
    return self;
}

void Instance::resolve_parameters(std::string_view parameters_json) {
    // The pre-flight checked the parameters against the manifest; text that does not parse (a
    // caller that skipped it) leaves only the defaults, and the plugin's own checks decide.
    boost::system::error_code ec;
    const boost::json::value given = boost::json::parse(parameters_json, ec);
    const boost::json::object *object = !ec && given.is_object() ? &given.get_object() : nullptr;
    for (const ParameterSpec &spec : manifest().parameters) {
        const boost::json::value *v = object ? object->if_contains(spec.name) : nullptr;
        if (!v && spec.default_value) v = &*spec.default_value;
        Parameter p;
        p.name = spec.name;
        if (v && !v->is_null()) {
            switch (spec.type) {
            case ParamType::boolean:
                p.type = PLUGHOST_VALUE_BOOLEAN;
                p.number = v->is_bool() && v->get_bool() ? 1 : 0;
                break;
            case ParamType::integer:
            case ParamType::number:
                p.type = PLUGHOST_VALUE_NUMBER;
                p.number = v->is_number() ? v->to_number<double>() : 0;
                break;
            case ParamType::string:
                p.type = PLUGHOST_VALUE_STRING;
                p.text = v->is_string() ? std::string(v->get_string()) : boost::json::serialize(*v);
                break;
            case ParamType::array:
            case ParamType::object:
                p.type = PLUGHOST_VALUE_JSON;
                p.text = boost::json::serialize(*v);
                break;
            }
        }
        parameters_.push_back(std::move(p));
    }
}

int32_t Instance::param(void *context, plughost_str name, plughost_value *out) {
    if (!out) return 0;
    *out = plughost_value{};
    const auto *self = static_cast<const Instance *>(context);
    const std::string_view wanted = name.data ? std::string_view(name.data, name.size) : std::string_view();
    for (const Parameter &p : self->parameters_) {
        if (p.name != wanted) continue;
        if (p.type == PLUGHOST_VALUE_NONE) return 0;
        out->type = p.type;
        out->number = p.number;
        out->string = {p.text.data(), p.text.size()};
        return 1;
    }
    return 0;
}

Instance::~Instance() {
    if (!handle_) return;
    const PluginCall running(call_label());
    entry().destroy(handle_);
}

void Instance::log(void *context, int32_t level, plughost_str message) {
    auto *self = static_cast<Instance *>(context);
    const auto lvl =
        static_cast<spdlog::level::level_enum>(std::clamp<int32_t>(level, PLUGHOST_LOG_TRACE, PLUGHOST_LOG_CRITICAL));
    if (!self->logger_->should_log(lvl)) return;
    self->logger_->log(lvl, "{}",
                       sanitize_line(message.data ? std::string_view(message.data, message.size) : std::string_view()));
}

void add_to_counter(std::vector<std::pair<std::string, double>> &counters, plughost_str name, double delta) {
    if (!std::isfinite(delta)) return;
    const std::string_view key = name.data ? std::string_view(name.data, name.size) : std::string_view();
    for (auto &[k, v] : counters)
        if (k == key) {
            v += delta;
            return;
        }
    if (counters.size() < 64) counters.emplace_back(sanitize_line(key, 64), delta);
}

// flatten: the function is its whole body, not a second call per count.
[[gnu::flatten]] void Instance::count(void *context, plughost_str name, double delta) {
    add_to_counter(static_cast<Instance *>(context)->counters_, name, delta);
}

}  // namespace plughost::host

namespace plughost::host {

int32_t Instance::attribute(void *context, plughost_str name) {
    const auto *self = static_cast<const Instance *>(context);
    const std::string_view key = name.size ? std::string_view(name.data, name.size) : std::string_view();
    for (const auto &a : self->attributes_)
        if (a.name == key) return a.id;
    return -1;
}

// put and get run once per endpoint per producer or consumer on every request: each check is a
// load or two (the instance's access by id, its scheduler's cycle), the store O(1). The request
// argument is not read: an instance is run by one scheduler, one request at a time, so the cycle
// the instance is bound to is the request's (and a plugin cannot name another one).
plughost_status Instance::put_attribute(void *context, const plughost_request * /*request*/,
                                        const plughost_endpoint *endpoint, int32_t id, plughost_value value) {
    const auto *self = static_cast<const Instance *>(context);
    Cycle *cycle = self->cycle_;
    if (cycle->producing != self || !self->may(id, kPublish)) return PLUGHOST_INVALID_ARGUMENT;
    return cycle->attributes->put(endpoint, id, value) ? PLUGHOST_OK : PLUGHOST_INVALID_ARGUMENT;
}

int32_t Instance::get_attribute(void *context, const plughost_request * /*request*/, const plughost_endpoint *endpoint,
                                int32_t id, plughost_value *out) {
    const auto *self = static_cast<const Instance *>(context);
    if (!out) return 0;
    const Cycle *cycle = self->cycle_;
    if (!self->may(id, kRead)) {
        *out = plughost_value{};
        return 0;
    }
    return cycle->attributes->get(endpoint, id, *out) ? 1 : 0;
}

// The batches check the call once (as put_attribute and get_attribute check each call), then
// leave the store only what differs per endpoint: the endpoint's slot and the value.
plughost_status Instance::put_numbers(void *context, const plughost_request * /*request*/,
                                      const plughost_endpoint *const *endpoints, std::size_t count, int32_t id,
                                      const double *values) {
    const auto *self = static_cast<const Instance *>(context);
    Cycle *cycle = self->cycle_;
    if (cycle->producing != self || !self->may(id, kPublish) || (count && (!endpoints || !values)))
        return PLUGHOST_INVALID_ARGUMENT;
    return cycle->attributes->put_numbers(endpoints, count, id, values) ? PLUGHOST_OK : PLUGHOST_INVALID_ARGUMENT;
}

std::size_t Instance::get_numbers(void *context, const plughost_request * /*request*/,
                                  const plughost_endpoint *const *endpoints, std::size_t count, int32_t id,
                                  double *out) {
    const auto *self = static_cast<const Instance *>(context);
    if (!out) return 0;
    const Cycle *cycle = self->cycle_;
    if (!endpoints || !self->may(id, kRead)) {
        std::fill(out, out + count, std::numeric_limits<double>::quiet_NaN());
        return 0;
    }
    return cycle->attributes->get_numbers(endpoints, count, id, out);
}

plughost_status Instance::set_header(void *context, const plughost_request * /*request*/, int32_t where,
                                     plughost_str name, plughost_str value) {
    Cycle *cycle = static_cast<const Instance *>(context)->cycle_;
    const std::string_view n = name.size ? std::string_view(name.data, name.size) : std::string_view();
    const std::string_view v = value.size ? std::string_view(value.data, value.size) : std::string_view();
    if (!valid_header(n, v)) return PLUGHOST_INVALID_ARGUMENT;
    if (where == PLUGHOST_HEADER_UPSTREAM && cycle->phase == CyclePhase::pre_request)
        host::set_header(cycle->upstream_headers, n, v);
    else if (where == PLUGHOST_HEADER_CLIENT && cycle->phase == CyclePhase::response_started)
        host::set_header(cycle->client_headers, n, v);
    else return PLUGHOST_INVALID_ARGUMENT;
    return PLUGHOST_OK;
}

}  // namespace plughost::host
