// The live set of model-server endpoints, kept in the exact layout the ABI hands to plugins:
// every endpoint's plughost_endpoint and the strings it points to stay at stable addresses
// until it is updated or removed, and the array of pointers is ready for every request.
#pragma once

#include <plughost/plugin.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plughost::host {

/// One endpoint event's content; absent fields keep the endpoint's current values.
struct EndpointUpdate {
    std::string name;
    std::optional<std::string> address{};
    std::optional<std::uint32_t> waiting_queue_size{};
    std::optional<std::uint32_t> running_requests{};
    std::optional<double> kv_cache_usage_percent{};
    std::optional<std::vector<std::string>> active_loras{};
    std::optional<std::uint32_t> max_active_loras{};
    /// Extra named metrics; each given name is set, others keep their value.
    std::vector<std::pair<std::string, double>> extra{};
};

class EndpointTable {
public:
    /// Adds the endpoint (a new id, insertion order) or updates it in place.
    void upsert(const EndpointUpdate &update);
    /// False when no endpoint has that name.
    bool remove(std::string_view name);

    const plughost_endpoint *const *data() const { return pointers_.data(); }
    std::size_t size() const { return pointers_.size(); }
    const plughost_endpoint *find(std::string_view name) const;

private:
    struct Entry {
        std::string name;
        std::string address;
        std::vector<std::string> loras;
        std::vector<plughost_str> lora_views;
        std::vector<std::pair<std::string, double>> extra;
        std::vector<plughost_metric> extra_views;
        plughost_endpoint raw{};
        void refresh_views();
    };
    std::vector<std::unique_ptr<Entry>> entries_;
    std::vector<const plughost_endpoint *> pointers_;
    std::uint64_t next_id_ = 1;
};

}  // namespace plughost::host
