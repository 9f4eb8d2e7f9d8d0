#include "schedule/endpoint_table.hpp"

#include <algorithm>

namespace plughost::host {

void EndpointTable::Entry::refresh_views() {
    lora_views.clear();
    for (const auto &l : loras) lora_views.push_back({l.data(), l.size()});
    extra_views.clear();
    for (const auto &[k, v] : extra) extra_views.push_back({{k.data(), k.size()}, v});
    raw.struct_size = sizeof raw;
    raw.name = {name.data(), name.size()};
    raw.address = {address.data(), address.size()};
    raw.active_loras = lora_views.data();
    raw.active_lora_count = lora_views.size();
    raw.metrics = extra_views.data();
    raw.metric_count = extra_views.size();
}

void EndpointTable::upsert(const EndpointUpdate &u) {
    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const auto &e) { return e->name == u.name; });
    Entry *e = nullptr;
    if (it == entries_.end()) {
        entries_.push_back(std::make_unique<Entry>());
        e = entries_.back().get();
        e->name = u.name;
        e->raw.id = next_id_++;
        pointers_.push_back(&e->raw);
    } else {
        e = it->get();
    }
    if (u.address) e->address = *u.address;
    if (u.waiting_queue_size) e->raw.waiting_queue_size = *u.waiting_queue_size;
    if (u.running_requests) e->raw.running_requests = *u.running_requests;
    if (u.kv_cache_usage_percent) e->raw.kv_cache_usage_percent = *u.kv_cache_usage_percent;
    if (u.active_loras) e->loras = *u.active_loras;
    if (u.max_active_loras) e->raw.max_active_loras = *u.max_active_loras;
    for (const auto &metric : u.extra) {
        auto m = std::find_if(e->extra.begin(), e->extra.end(), [&](const auto &p) { return p.first == metric.first; });
        if (m == e->extra.end()) e->extra.push_back(metric);
        else m->second = metric.second;
    }
    e->refresh_views();
}

bool EndpointTable::remove(std::string_view name) {
    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const auto &e) { return e->name == name; });
    if (it == entries_.end()) return false;
    pointers_.erase(std::find(pointers_.begin(), pointers_.end(), &(*it)->raw));
    entries_.erase(it);
    return true;
}

const plughost_endpoint *EndpointTable::find(std::string_view name) const {
    for (const auto &e : entries_)
        if (e->name == name) return &e->raw;
    return nullptr;
}

}  // namespace plughost::host
