#include "schedule/endpoint_table.hpp"

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <type_traits>

namespace plughost::host {

void EndpointTable::Entry::refresh_views() {
    lora_views.clear();
    for (const auto &l : loras) lora_views.push_back({l.data(), l.size()});
    waiting_lora_views.clear();
    for (const auto &l : waiting_loras) waiting_lora_views.push_back({l.data(), l.size()});
    label_views.clear();
    for (const auto &[k, v] : labels) label_views.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
    extra_views.clear();
    for (const auto &[k, v] : extra) extra_views.push_back({{k.data(), k.size()}, v});
    plughost_endpoint &raw = slot.raw;
    raw.struct_size = sizeof raw;
    raw.name = {name.data(), name.size()};
    raw.address = {address.data(), address.size()};
    raw.active_loras = lora_views.data();
    raw.active_lora_count = lora_views.size();
    raw.metrics = extra_views.data();
    raw.metric_count = extra_views.size();
    raw.labels = label_views.data();
    raw.label_count = label_views.size();
    raw.waiting_loras = waiting_lora_views.data();
    raw.waiting_lora_count = waiting_lora_views.size();
    raw.host_entry = this;
}

// Sorts the update's names and looks each up by binary search in the endpoint's names, kept
// sorted: O(k log k + k log n), where scanning the list for each name was quadratic (80,000
// names took seconds). Nothing changes when the names would exceed the limit. New names are
// appended in the order the update gives them, so plugins see metrics in the order they came.
std::optional<UpsertRefusal>
EndpointTable::Entry::merge_extra(const std::vector<std::pair<std::string, double>> &update) {
    if (update.empty()) return std::nullopt;
    auto given = [&](std::size_t i) -> const std::string & { return update[i].first; };
    auto known = [&](std::size_t i) -> const std::string & { return extra[i].first; };
    std::vector<std::size_t> order(update.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](auto x, auto y) { return given(x) < given(y); });

    struct New {
        std::size_t first, last;  // where the update gives the name first (its order) and last (its value)
    };
    std::vector<New> fresh;                                    // in name order
    std::vector<std::pair<std::size_t, std::size_t>> matched;  // (index in extra, index in update)
    for (std::size_t start = 0, k = 0; start < order.size(); start = k) {
        while (k < order.size() && given(order[k]) == given(order[start])) ++k;
        const std::size_t first = order[start], last = order[k - 1];  // the sort is stable
        const auto at = std::lower_bound(extra_by_name.begin(), extra_by_name.end(), given(first),
                                         [&](std::uint32_t e, const std::string &n) { return known(e) < n; });
        if (at != extra_by_name.end() && known(*at) == given(first)) matched.emplace_back(*at, last);
        else fresh.push_back({first, last});
    }
    if (extra.size() + fresh.size() > kMaxExtraMetrics)
        return UpsertRefusal{Code::too_large,
                             "endpoint \"" + name + "\" would have " + std::to_string(extra.size() + fresh.size()) +
                                 " extra metric names (" + std::to_string(extra.size()) + " known, " +
                                 std::to_string(fresh.size()) + " new); the limit is " +
                                 std::to_string(kMaxExtraMetrics) +
                                 " per endpoint: send a stable set of metric names (remove and add the endpoint "
                                 "again to start from none)"};

    for (const auto &[e, u] : matched) extra[e].second = update[u].second;
    if (fresh.empty()) return std::nullopt;
    // Indexes the new names will have in extra, listed in name order (as `fresh` is) for the merge.
    std::vector<std::size_t> by_order(fresh.size());
    std::iota(by_order.begin(), by_order.end(), std::size_t{0});
    std::sort(by_order.begin(), by_order.end(), [&](auto x, auto y) { return fresh[x].first < fresh[y].first; });
    std::vector<std::uint32_t> added(fresh.size());
    for (std::size_t r = 0; r < by_order.size(); ++r) {
        added[by_order[r]] = static_cast<std::uint32_t>(extra.size());
        extra.push_back(update[fresh[by_order[r]].last]);
    }
    std::vector<std::uint32_t> merged(extra_by_name.size() + added.size());
    std::merge(extra_by_name.begin(), extra_by_name.end(), added.begin(), added.end(), merged.begin(),
               [&](auto x, auto y) { return known(x) < known(y); });
    extra_by_name = std::move(merged);
    return std::nullopt;
}

std::optional<UpsertRefusal> EndpointTable::upsert(const EndpointUpdate &u) {
    std::unique_ptr<Entry> fresh;
    Entry *e = nullptr;
    if (auto it = entries_.find(u.name); it != entries_.end()) {
        e = it->second.get();
    } else {
        if (entries_.size() >= kMaxEndpoints)
            return UpsertRefusal{Code::too_large,
                                 "endpoint \"" + u.name + "\" would be live endpoint " +
                                     std::to_string(entries_.size() + 1) + "; the limit is " +
                                     std::to_string(kMaxEndpoints) +
                                     " live endpoints: remove the endpoints that are gone (\"endpointRemoved\") "
                                     "before adding new ones"};
        fresh = std::make_unique<Entry>();
        e = fresh.get();
        e->name = u.name;
    }
    if (auto refused = e->merge_extra(u.extra)) return refused;
    if (fresh) {
        e->slot.raw.id = next_id_++;
        pointers_.push_back(&e->slot.raw);
        by_id_.emplace(e->slot.raw.id, e);
        entries_.emplace(u.name, std::move(fresh));
    }
    plughost_endpoint &raw = e->slot.raw;
    if (u.address) e->address = *u.address;
    if (u.waiting_queue_size) raw.waiting_queue_size = *u.waiting_queue_size;
    if (u.running_requests) raw.running_requests = *u.running_requests;
    if (u.kv_cache_usage) {
        raw.kv_cache_usage = *u.kv_cache_usage;
        raw.kv_cache_usage_percent = *u.kv_cache_usage * 100;  // ABI 1.0's view of the same value
    }
    if (u.running_loras) e->loras = *u.running_loras;
    if (u.waiting_loras) e->waiting_loras = *u.waiting_loras;
    if (u.max_active_loras) raw.max_active_loras = *u.max_active_loras;
    if (u.labels) e->labels = *u.labels;
    if (u.metrics) raw.pending_picks = 0;
    e->refresh_views();
    return std::nullopt;
}

std::optional<std::uint64_t> EndpointTable::remove(std::string_view name) {
    const auto it = entries_.find(name);
    if (it == entries_.end()) return std::nullopt;
    // Linear in the live endpoints (at most kMaxEndpoints): keeps the others in insertion order.
    pointers_.erase(std::find(pointers_.begin(), pointers_.end(), &it->second->slot.raw));
    const std::uint64_t picks = it->second->slot.picks;
    by_id_.erase(it->second->slot.raw.id);
    entries_.erase(it);
    return picks;
}

const plughost_endpoint *EndpointTable::find(std::string_view name) const {
    const auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second->slot.raw;
}

// raw is the first member of the standard-layout Slot, so the two addresses are the same
// object's ([basic.compound]: pointer-interconvertible); every Slot lives in a non-const Entry.
static_assert(std::is_standard_layout_v<plughost_endpoint>);

void EndpointTable::count_pick(const plughost_endpoint *endpoint) {
    static_assert(std::is_standard_layout_v<Slot> && offsetof(Slot, raw) == 0);
    Slot &slot = *reinterpret_cast<Slot *>(const_cast<plughost_endpoint *>(endpoint));
    ++slot.picks;
    ++slot.raw.pending_picks;
    ++slot.raw.requests_in_flight;
}

void EndpointTable::release(std::uint64_t id) {
    const auto it = by_id_.find(id);
    if (it != by_id_.end() && it->second->slot.raw.requests_in_flight > 0) --it->second->slot.raw.requests_in_flight;
}

const plughost_endpoint *EndpointTable::find(std::uint64_t id) const {
    const auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &it->second->slot.raw;
}

std::uint64_t EndpointTable::picks(const plughost_endpoint *endpoint) const {
    return reinterpret_cast<const Slot *>(endpoint)->picks;
}

}  // namespace plughost::host
