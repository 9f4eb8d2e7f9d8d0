#include "load/instance.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <cmath>

namespace plughost::host {

std::string sanitize_line(std::string_view text, std::size_t limit) {
    std::string out;
    out.reserve(std::min(text.size(), limit));
    for (char c : text) {
        if (out.size() >= limit) {
            out += "...";
            break;
        }
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 0xf];
        } else {
            out += c;
        }
    }
    return out;
}

Instance::Instance(std::shared_ptr<const LoadedPlugin> plugin, std::string name)
    : plugin_(std::move(plugin)), name_(std::move(name)), logger_(spdlog::default_logger()->clone(name_)) {
    api_.struct_size = sizeof(plughost_host_api);
    api_.context = this;
    api_.log = &Instance::log;
    api_.count = &Instance::count;
}

std::unique_ptr<Instance> Instance::create(std::shared_ptr<const LoadedPlugin> plugin, std::string name,
                                           std::string_view parameters_json, std::string &error) {
    std::unique_ptr<Instance> self(new Instance(std::move(plugin), std::move(name)));
    std::array<char, 1024> buffer{};
    plughost_message message{buffer.data(), buffer.size(), 0};
    plughost_instance *handle = nullptr;
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

Instance::~Instance() {
    if (handle_) entry().destroy(handle_);
}

void Instance::log(void *context, int32_t level, plughost_str message) {
    auto *self = static_cast<Instance *>(context);
    const auto lvl =
        static_cast<spdlog::level::level_enum>(std::clamp<int32_t>(level, PLUGHOST_LOG_TRACE, PLUGHOST_LOG_CRITICAL));
    if (!self->logger_->should_log(lvl)) return;
    self->logger_->log(lvl, "{}",
                       sanitize_line(message.data ? std::string_view(message.data, message.size) : std::string_view()));
}

void Instance::count(void *context, plughost_str name, double delta) {
    auto *self = static_cast<Instance *>(context);
    if (!std::isfinite(delta)) return;
    const std::string_view key = name.data ? std::string_view(name.data, name.size) : std::string_view();
    for (auto &[k, v] : self->counters_)
        if (k == key) {
            v += delta;
            return;
        }
    if (self->counters_.size() < 64) self->counters_.emplace_back(sanitize_line(key, 64), delta);
}

}  // namespace plughost::host
