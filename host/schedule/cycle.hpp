// One scheduling cycle's shared state, reached by plugins through the host API while the host
// schedules a request: the attributes producers publish (per request and per endpoint) and the
// headers plugins set. Each instance a scheduler runs is bound to its cycle (Instance::bind).
//
// No heap allocation in steady state: storage grows to the largest endpoint count and string
// size seen, and a cycle only re-stamps it.
#pragma once

#include <plughost/plugin.h>
#include <plughost/rules.hpp>
#include <plughost/vocabulary.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plughost::host {

/// An attribute of the plan: its id is its index in the plan's list.
struct AttributeSpec {
    std::string name;
    AttributeScope scope = AttributeScope::endpoint;
    AttributeType type = AttributeType::number;
};

/// What one instance declared about one attribute, by id.
struct DeclaredAttribute {
    std::string name;
    std::int32_t id = -1;
    bool produces = false;  ///< else consumes
};

/// The attribute values of one cycle.
///
/// put and get run once per endpoint for every producer and consumer on every request, so they
/// are inline and O(1): the attribute's row is one load by id, the endpoint's slot one hash probe
/// (the pointer is compared, never read: a plugin may pass any pointer). Batches find most slots
/// by position instead, so a cycle builds the hash table only when a lookup needs it.
class AttributeStore {
public:
    explicit AttributeStore(std::vector<AttributeSpec> specs = {});
    // The rows point into cells_: a move keeps its buffer, a copy would not.
    AttributeStore(const AttributeStore &) = delete;
    AttributeStore &operator=(const AttributeStore &) = delete;
    AttributeStore(AttributeStore &&) = default;
    AttributeStore &operator=(AttributeStore &&) = default;

    /// Starts a cycle over these endpoints: every value is absent.
    void begin(const plughost_endpoint *const *endpoints, std::size_t count);
    /// Sets a value; false (nothing stored) when the endpoint is not one of the cycle's, or the
    /// scope or type do not match the attribute's.
    bool put(const plughost_endpoint *endpoint, std::int32_t id, const plughost_value &value) {
        if (static_cast<std::uint32_t>(id) >= rows_.size()) return false;
        const Row &row = rows_[static_cast<std::uint32_t>(id)];
        if (row.endpoint != (endpoint != nullptr)) return false;
        if (row.number ? value.type != PLUGHOST_VALUE_NUMBER || !rules::valid_attribute_number(value.number)
                       : value.type != PLUGHOST_VALUE_STRING)
            return false;
        Cell *c = cell(row, endpoint);
        if (!c) return false;
        c->value = value;
        if (!row.number) c->value.string = keep(value.string);
        c->stamp = stamp_;
        return true;
    }
    /// The value, or false (and `out` empty) when absent.
    bool get(const plughost_endpoint *endpoint, std::int32_t id, plughost_value &out) const {
        const Cell *c = nullptr;
        if (static_cast<std::uint32_t>(id) < rows_.size()) {
            const Row &row = rows_[static_cast<std::uint32_t>(id)];
            if (row.endpoint == (endpoint != nullptr)) c = cell(row, endpoint);
        }
        if (!c || c->stamp != stamp_) {
            out = plughost_value{};
            return false;
        }
        out = c->value;
        return true;
    }

    /// Sets a number attribute of scope endpoint for many endpoints (put_numbers): the
    /// attribute's checks once, then per endpoint only its slot and the value's finiteness.
    /// Stops at the first endpoint that is not the cycle's or value that is not finite, having
    /// stored the values before it (as a loop of put would); false then, or when the attribute
    /// is not a number of scope endpoint.
    bool put_numbers(const plughost_endpoint *const *endpoints, std::size_t count, std::int32_t id,
                     const double *values) {
        const Row *row = number_row(id);
        if (!row) return false;
        Cursor at;
        for (std::size_t i = 0; i < count; ++i) {
            Cell *c = slot(*row, endpoints[i], at);
            if (!c || !rules::valid_attribute_number(values[i])) return false;
            c->value = {PLUGHOST_VALUE_NUMBER, values[i], {nullptr, 0}};
            c->stamp = stamp_;
        }
        return true;
    }
    /// Reads a number attribute of scope endpoint for many endpoints (get_numbers): out[i] is the
    /// value or NaN when absent; returns how many are present.
    std::size_t get_numbers(const plughost_endpoint *const *endpoints, std::size_t count, std::int32_t id,
                            double *out) const {
        const Row *row = number_row(id);
        if (!row) {
            std::fill(out, out + count, std::numeric_limits<double>::quiet_NaN());
            return 0;
        }
        std::size_t present = 0;
        Cursor at;
        for (std::size_t i = 0; i < count; ++i) {
            const Cell *c = slot(*row, endpoints[i], at);
            const bool here = c && c->stamp == stamp_;
            out[i] = here ? c->value.number : std::numeric_limits<double>::quiet_NaN();
            present += here;
        }
        return present;
    }

    const std::vector<AttributeSpec> &specs() const { return specs_; }

private:
    struct Cell {
        plughost_value value{};
        std::uint64_t stamp = 0;  // the cycle that set it
    };
    struct Row {                // one attribute, by id
        Cell *cells = nullptr;  // its slots in cells_: the endpoints', then the request's
        bool endpoint = true;   // scope
        bool number = true;     // type
    };
    struct Key {  // open addressing: endpoint pointer -> slot
        const plughost_endpoint *endpoint = nullptr;
        std::size_t slot = 0;
    };

    // The row of a number attribute of scope endpoint, or null.
    const Row *number_row(std::int32_t id) const {
        if (static_cast<std::uint32_t>(id) >= rows_.size()) return nullptr;
        const Row &row = rows_[static_cast<std::uint32_t>(id)];
        return row.endpoint && row.number ? &row : nullptr;
    }
    // Where a batch expects its next endpoint among the cycle's.
    struct Cursor {
        std::size_t next = 0;
    };
    // How far past the cursor a batch looks for its next endpoint before asking the hash table.
    static constexpr std::size_t kScanAhead = 8;
    // The cell of one endpoint of a batch (null when it is not the cycle's). A hook's endpoints
    // are the cycle's, or a part of them in the same order (what the filters let through), so the
    // endpoint is at the cursor or a few slots after it (past those a filter dropped): compared
    // pointer by pointer, at most kScanAhead of them, before the hash table is asked. Pointers
    // are compared, never read.
    Cell *slot(const Row &row, const plughost_endpoint *endpoint, Cursor &at) const {
        std::size_t s = at.next;
        if (!(s < cycle_count_ && cycle_endpoints_[s] == endpoint)) s = find_after(row, endpoint, s);
        if (s == kNotFound) return nullptr;
        at.next = s + 1;
        return row.cells + s;
    }
    static constexpr std::size_t kNotFound = ~std::size_t{0};
    // The slot of an endpoint the cursor's guess missed: up to kScanAhead slots after it, else
    // the hash table; kNotFound when it is not the cycle's.
    std::size_t find_after(const Row &row, const plughost_endpoint *endpoint, std::size_t s) const {
        const std::size_t end = std::min(cycle_count_, s + kScanAhead);
        for (++s; s < end; ++s)
            if (cycle_endpoints_[s] == endpoint) return s;
        const Cell *c = endpoint ? cell(row, endpoint) : nullptr;
        return c ? static_cast<std::size_t>(c - row.cells) : kNotFound;
    }
    // The value's cell for this endpoint (the request's for null); null when the endpoint is
    // not one of the cycle's.
    Cell *cell(const Row &row, const plughost_endpoint *endpoint) const {
        if (!endpoint) return row.cells + request_slot_;
        if (!indexed_) {
            // Indexing costs about 35 instructions an endpoint, a scan about 2: the first few
            // lookups of a cycle (e.g. one read in pre_request) compare pointers one by one.
            if (cycle_count_ <= kScanAhead || scans_ < kScansBeforeIndex) {
                ++scans_;
                for (std::size_t i = 0; i < cycle_count_; ++i)
                    if (cycle_endpoints_[i] == endpoint) return row.cells + i;
                return nullptr;
            }
            index();
        }
        for (std::size_t h = home(endpoint);; h = (h + 1) & mask_) {
            const Key &k = keys_[h];
            if (k.endpoint == endpoint) return row.cells + k.slot;
            if (!k.endpoint) return nullptr;
        }
    }
    // Where the endpoint's key is looked for first. Fibonacci hashing: a multiply and a shift
    // spread the heap's evenly spaced pointers.
    std::size_t home(const plughost_endpoint *endpoint) const {
        return static_cast<std::size_t>((reinterpret_cast<std::uintptr_t>(endpoint) * 0x9E3779B97F4A7C15ULL) >> shift_);
    }
    // Builds the hash table of the cycle's endpoints: on the first lookup that needs it, not in
    // begin(), since batches over the hook's own endpoints (the common case) never do.
    void index() const;
    void place_rows();                     // points the rows into cells_
    plughost_str keep(plughost_str text);  // copied into this cycle's string storage

    std::vector<AttributeSpec> specs_;
    std::vector<Row> rows_;         // by id
    std::vector<Cell> cells_;       // rows of request_slot_ + 1 cells
    std::size_t request_slot_ = 0;  // the endpoint slots, then the request's
    // The hash table, built by index() (hence mutable: a const lookup may build it).
    mutable std::vector<Key> keys_;  // a power of two, at least twice the endpoints: never full
    mutable std::size_t mask_ = 0;   // keys_.size() - 1
    mutable unsigned shift_ = 64;    // 64 - log2(keys_.size())
    mutable bool indexed_ = false;   // keys_ holds this cycle's endpoints
    mutable unsigned scans_ = 0;     // lookups this cycle answered by a scan
    static constexpr unsigned kScansBeforeIndex = 8;
    std::uint64_t stamp_ = 1;
    // The cycle's endpoints as begin() was given them (the caller keeps the array for the
    // cycle): slot i is endpoint i, which batches check first.
    const plughost_endpoint *const *cycle_endpoints_ = nullptr;
    std::size_t cycle_count_ = 0;
    // Strings of this cycle, in blocks that never move (a value's pointer stays valid).
    std::vector<std::unique_ptr<char[]>> blocks_;
    std::vector<std::size_t> block_sizes_;
    std::size_t block_ = 0, used_ = 0;
};

/// A store of no attribute: every put and get of it fails on the id, before reading or writing
/// anything else, so all threads may share it.
AttributeStore *no_attributes();

/// Where in a request's life the host is: what the host API allows.
enum class CyclePhase { producing, scheduling, pre_request, response_started, response_complete };

/// What the host-API callbacks of the instances bound to it serve.
struct Cycle {
    /// The scheduling cycle's store during scheduling and pre_request; no_attributes() otherwise,
    /// never null (a read then fails on the id, with no check of its own).
    AttributeStore *attributes = no_attributes();
    CyclePhase phase = CyclePhase::scheduling;
    /// The instance whose `produce` runs (an Instance*); set only then, and only while the
    /// attributes are live, so a publisher's callbacks check this alone.
    const void *producing = nullptr;
    /// Headers set by plugins: for the endpoint (pre_request) or the client (response_started).
    std::vector<std::pair<std::string, std::string>> upstream_headers, client_headers;
};

/// The cycle of no scheduler: an instance's callbacks serve it while no scheduler runs the
/// instance. Nothing is live in it (no attributes, no producer, a phase that takes no header), so
/// every callback refuses, without a null check of its own.
Cycle *idle_cycle();

/// Checks a header set through the host API: name 1-64 bytes of [A-Za-z0-9-], value at most
/// 4096 bytes without control characters.
bool valid_header(std::string_view name, std::string_view value);

/// Sets (or replaces, comparing names case-insensitively) a header in `headers`.
void set_header(std::vector<std::pair<std::string, std::string>> &headers, std::string_view name,
                std::string_view value);

}  // namespace plughost::host
