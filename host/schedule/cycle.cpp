#include "schedule/cycle.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace plughost::host {
namespace {

constexpr std::uint32_t kEmpty = UINT32_MAX;
constexpr std::size_t kBlockBytes = 16 * 1024;

std::size_t hash_pointer(const void *p, std::size_t mask) {
    auto x = reinterpret_cast<std::uintptr_t>(p);
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 32;
    return static_cast<std::size_t>(x) & mask;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x >= 'A' && x <= 'Z' ? x | 0x20 : x) == (y >= 'A' && y <= 'Z' ? y | 0x20 : y);
           });
}

}  // namespace

AttributeStore::AttributeStore(std::vector<AttributeSpec> specs) : specs_(std::move(specs)) {}

void AttributeStore::begin(const plughost_endpoint *const *endpoints, std::size_t count) {
    ++stamp_;
    block_ = used_ = 0;
    std::size_t slots = 16;
    while (slots < 2 * count) slots *= 2;
    if (keys_.size() < slots) {
        keys_.assign(slots, nullptr);
        key_slots_.assign(slots, kEmpty);
    } else {
        std::fill(keys_.begin(), keys_.end(), nullptr);
    }
    const std::size_t mask = keys_.size() - 1;
    for (std::size_t i = 0; i < count; ++i) {
        std::size_t h = hash_pointer(endpoints[i], mask);
        while (keys_[h] && keys_[h] != endpoints[i]) h = (h + 1) & mask;
        keys_[h] = endpoints[i];
        key_slots_[h] = static_cast<std::uint32_t>(i);
    }
    if (stride_ < count + 1) {
        stride_ = std::max(count + 1, 2 * stride_);
        values_.assign(specs_.size() * stride_, plughost_value{});
        stamps_.assign(specs_.size() * stride_, 0);
    }
}

std::int64_t AttributeStore::slot_of(const plughost_endpoint *endpoint) const {
    if (!endpoint) return static_cast<std::int64_t>(stride_ - 1);  // the request's own slot
    if (keys_.empty()) return -1;
    const std::size_t mask = keys_.size() - 1;
    for (std::size_t h = hash_pointer(endpoint, mask); keys_[h]; h = (h + 1) & mask)
        if (keys_[h] == endpoint) return key_slots_[h];
    return -1;
}

std::string_view AttributeStore::keep(std::string_view text) {
    if (text.empty()) return {};
    while (block_ < blocks_.size() && used_ + text.size() > block_sizes_[block_]) {
        ++block_;
        used_ = 0;
    }
    if (block_ == blocks_.size()) {
        const std::size_t size = std::max(kBlockBytes, text.size());
        blocks_.push_back(std::make_unique<char[]>(size));
        block_sizes_.push_back(size);
        used_ = 0;
    }
    char *at = blocks_[block_].get() + used_;
    std::memcpy(at, text.data(), text.size());
    used_ += text.size();
    return {at, text.size()};
}

bool AttributeStore::put(const plughost_endpoint *endpoint, std::int32_t id, const plughost_value &value) {
    if (id < 0 || static_cast<std::size_t>(id) >= specs_.size()) return false;
    const AttributeSpec &spec = specs_[static_cast<std::size_t>(id)];
    if ((spec.scope == AttributeScope::endpoint) != (endpoint != nullptr)) return false;
    const bool number = spec.type == AttributeType::number;
    if (value.type != (number ? PLUGHOST_VALUE_NUMBER : PLUGHOST_VALUE_STRING)) return false;
    if (number && !std::isfinite(value.number)) return false;
    const std::int64_t slot = slot_of(endpoint);
    if (slot < 0) return false;
    const std::size_t c = cell(id, static_cast<std::size_t>(slot));
    plughost_value stored = value;
    if (!number) {
        const std::string_view text =
            keep(value.string.size ? std::string_view(value.string.data, value.string.size) : std::string_view());
        stored.string = {text.data(), text.size()};
    }
    values_[c] = stored;
    stamps_[c] = stamp_;
    return true;
}

bool AttributeStore::get(const plughost_endpoint *endpoint, std::int32_t id, plughost_value &out) const {
    out = plughost_value{};
    if (id < 0 || static_cast<std::size_t>(id) >= specs_.size()) return false;
    const AttributeSpec &spec = specs_[static_cast<std::size_t>(id)];
    if ((spec.scope == AttributeScope::endpoint) != (endpoint != nullptr)) return false;
    const std::int64_t slot = slot_of(endpoint);
    if (slot < 0) return false;
    const std::size_t c = cell(id, static_cast<std::size_t>(slot));
    if (c >= stamps_.size() || stamps_[c] != stamp_) return false;
    out = values_[c];
    return true;
}

bool valid_header(std::string_view name, std::string_view value) {
    if (name.empty() || name.size() > 64 || value.size() > 4096) return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) return false;
    for (char c : value)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
    return true;
}

void set_header(std::vector<std::pair<std::string, std::string>> &headers, std::string_view name,
                std::string_view value) {
    for (auto &[n, v] : headers)
        if (equal_ignoring_case(n, name)) {
            v.assign(value);
            return;
        }
    headers.emplace_back(std::string(name), std::string(value));
}

}  // namespace plughost::host
