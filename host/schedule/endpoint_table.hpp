// The live set of model-server endpoints, kept in the exact layout the ABI hands to plugins:
// every endpoint's plughost_endpoint and the strings it points to stay at stable addresses
// until it is updated or removed, and the array of pointers is ready for every request.
//
// Bounded: at most kMaxEndpoints live endpoints and kMaxExtraMetrics extra metric names per
// endpoint; an update beyond either is refused whole. Lookups by name are hashed, and merging
// an update's extra metrics costs O(k log k) for k names, so no input makes an update slow.
#pragma once

#include "common/diagnostic.hpp"

#include <plughost/plugin.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace plughost::host {

/// Live endpoints at most; an update adding one more is refused (documented in operations.md).
inline constexpr std::size_t kMaxEndpoints = 10000;
/// Extra metric names per endpoint at most, counting the names of all its updates.
inline constexpr std::size_t kMaxExtraMetrics = 256;

/// One endpoint event's content; absent fields keep the endpoint's current values.
struct EndpointUpdate {
    std::string name;
    std::optional<std::string> address{};
    std::optional<std::uint32_t> waiting_queue_size{};
    std::optional<std::uint32_t> running_requests{};
    /// KV-cache usage as a fraction, 0 to 1 (plugins also see it as a percentage, ABI 1.0).
    std::optional<double> kv_cache_usage{};
    /// The LoRA adapters running (ABI: active_loras) and waiting to be loaded.
    std::optional<std::vector<std::string>> running_loras{};
    std::optional<std::vector<std::string>> waiting_loras{};
    std::optional<std::uint32_t> max_active_loras{};
    /// The endpoint's labels, replacing the ones it had.
    std::optional<std::vector<std::pair<std::string, std::string>>> labels{};
    /// True when the update reports the endpoint's metrics (a scrape, a "metrics" object): the
    /// endpoint's pending picks start again from 0.
    bool metrics = false;
    /// Extra named metrics; each given name is set, others keep their value. When a name is
    /// given twice, the last value wins.
    std::vector<std::pair<std::string, double>> extra{};
};

/// Why an update was refused (the table is unchanged): a limit, and what to do about it.
struct UpsertRefusal {
    Code code;
    std::string message;
};

class EndpointTable {
public:
    /// Adds the endpoint (a new id, insertion order) or updates it in place; refused, with the
    /// table unchanged, when it would exceed kMaxEndpoints or kMaxExtraMetrics.
    std::optional<UpsertRefusal> upsert(const EndpointUpdate &update);
    /// The removed endpoint's pick count; nullopt when no endpoint has that name.
    std::optional<std::uint64_t> remove(std::string_view name);

    const plughost_endpoint *const *data() const { return pointers_.data(); }
    std::size_t size() const { return pointers_.size(); }
    const plughost_endpoint *find(std::string_view name) const;

    /// Counts a request sent to `endpoint`, which must be one of data()'s pointers (the
    /// scheduler's decisions only hold those): its picks, its pending picks (until its next
    /// metrics update) and its requests in flight (until release()).
    void count_pick(const plughost_endpoint *endpoint);
    /// A request sent to the endpoint with this id has ended; nothing when it is gone.
    void release(std::uint64_t id);
    /// How often `endpoint` (one of data()'s pointers) was picked since it was added.
    std::uint64_t picks(const plughost_endpoint *endpoint) const;
    /// The endpoint with this id, or null.
    const plughost_endpoint *find(std::uint64_t id) const;

private:
    // The ABI struct first in a standard-layout struct, so a plughost_endpoint pointer handed
    // out by data() converts back to its slot without a lookup.
    struct Slot {
        plughost_endpoint raw;
        std::uint64_t picks;
    };
    struct Entry {
        Slot slot{};
        std::string name;
        std::string address;
        std::vector<std::string> loras, waiting_loras;
        std::vector<plughost_str> lora_views, waiting_lora_views;
        std::vector<std::pair<std::string, std::string>> labels;
        std::vector<plughost_header> label_views;
        std::vector<std::pair<std::string, double>> extra;  ///< in the order names first came
        std::vector<std::uint32_t> extra_by_name;           ///< indexes into extra, sorted by name
        std::vector<plughost_metric> extra_views;
        void refresh_views();
        std::optional<UpsertRefusal> merge_extra(const std::vector<std::pair<std::string, double>> &update);
    };
    struct NameHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, std::unique_ptr<Entry>, NameHash, std::equal_to<>> entries_;
    std::vector<const plughost_endpoint *> pointers_;  ///< insertion order
    std::unordered_map<std::uint64_t, Entry *> by_id_;
    std::uint64_t next_id_ = 1;
};

}  // namespace plughost::host
