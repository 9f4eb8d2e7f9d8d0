#include "schedule/cycle.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace plughost::host {
namespace {

constexpr std::size_t kBlockBytes = 16 * 1024;

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x >= 'A' && x <= 'Z' ? x | 0x20 : x) == (y >= 'A' && y <= 'Z' ? y | 0x20 : y);
           });
}

}  // namespace

AttributeStore::AttributeStore(std::vector<AttributeSpec> specs) : specs_(std::move(specs)) {
    for (const AttributeSpec &spec : specs_)
        rows_.push_back({nullptr, spec.scope == AttributeScope::endpoint, spec.type == AttributeType::number});
    // Usable before any begin(): no endpoint is known, and the request's slot is there.
    keys_.resize(16);
    mask_ = 15;
    shift_ = 64 - 4;
    indexed_ = true;
    cells_.resize(rows_.size());
    place_rows();
}

void AttributeStore::place_rows() {
    for (std::size_t id = 0; id < rows_.size(); ++id) rows_[id].cells = cells_.data() + id * (request_slot_ + 1);
}

void AttributeStore::begin(const plughost_endpoint *const *endpoints, std::size_t count) {
    ++stamp_;
    block_ = used_ = 0;
    cycle_endpoints_ = endpoints;
    cycle_count_ = count;
    indexed_ = false;
    scans_ = 0;
    if (request_slot_ < count) {  // more endpoints than ever: rows grow, every value is absent
        request_slot_ = std::max(count, 2 * request_slot_ + 1);
        cells_.assign(rows_.size() * (request_slot_ + 1), Cell{});
        place_rows();
    }
}

void AttributeStore::index() const {
    if (keys_.size() < 2 * cycle_count_) {
        unsigned bits = 64 - shift_;
        while ((std::size_t{1} << bits) < 2 * cycle_count_) ++bits;
        keys_.assign(std::size_t{1} << bits, Key{});
        mask_ = keys_.size() - 1;
        shift_ = 64 - bits;
    } else {
        std::fill(keys_.begin(), keys_.end(), Key{});
    }
    for (std::size_t i = 0; i < cycle_count_; ++i) {
        std::size_t h = home(cycle_endpoints_[i]);
        while (keys_[h].endpoint && keys_[h].endpoint != cycle_endpoints_[i]) h = (h + 1) & mask_;
        keys_[h] = {cycle_endpoints_[i], i};
    }
    indexed_ = true;
}

plughost_str AttributeStore::keep(plughost_str text) {
    if (!text.size) return {nullptr, 0};
    while (block_ < blocks_.size() && used_ + text.size > block_sizes_[block_]) {
        ++block_;
        used_ = 0;
    }
    if (block_ == blocks_.size()) {
        const std::size_t size = std::max(kBlockBytes, text.size);
        blocks_.push_back(std::make_unique<char[]>(size));
        block_sizes_.push_back(size);
        used_ = 0;
    }
    char *at = blocks_[block_].get() + used_;
    std::memcpy(at, text.data, text.size);
    used_ += text.size;
    return {at, text.size};
}

AttributeStore *no_attributes() {
    static AttributeStore none;
    return &none;
}

Cycle *idle_cycle() {
    static Cycle idle;
    return &idle;
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
