// One scheduling cycle's shared state, reached by plugins through the host API while the host
// schedules a request: the attributes producers publish (per request and per endpoint) and the
// headers plugins set. plughost_request.host_cycle points at it.
//
// No heap allocation in steady state: storage grows to the largest endpoint count and string
// size seen, and a cycle only re-stamps it.
#pragma once

#include <plughost/plugin.h>
#include <plughost/vocabulary.hpp>

#include <cstddef>
#include <cstdint>
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
class AttributeStore {
public:
    explicit AttributeStore(std::vector<AttributeSpec> specs = {});

    /// Starts a cycle over these endpoints: every value is absent.
    void begin(const plughost_endpoint *const *endpoints, std::size_t count);
    /// Sets a value; false (nothing stored) when the endpoint is not one of the cycle's, or the
    /// scope or type do not match the attribute's.
    bool put(const plughost_endpoint *endpoint, std::int32_t id, const plughost_value &value);
    /// The value, or false when absent.
    bool get(const plughost_endpoint *endpoint, std::int32_t id, plughost_value &out) const;

    const std::vector<AttributeSpec> &specs() const { return specs_; }

private:
    std::int64_t slot_of(const plughost_endpoint *endpoint) const;  // -1: not in this cycle
    std::size_t cell(std::int32_t id, std::size_t slot) const { return static_cast<std::size_t>(id) * stride_ + slot; }
    std::string_view keep(std::string_view text);  // copied into this cycle's string storage

    std::vector<AttributeSpec> specs_;
    std::size_t stride_ = 1;                       // endpoint slots per attribute, plus one for the request scope
    std::vector<const plughost_endpoint *> keys_;  // open addressing: endpoint pointer -> slot
    std::vector<std::uint32_t> key_slots_;
    std::vector<plughost_value> values_;
    std::vector<std::uint64_t> stamps_;
    std::uint64_t stamp_ = 0;
    // Strings of this cycle, in blocks that never move (a value's pointer stays valid).
    std::vector<std::unique_ptr<char[]>> blocks_;
    std::vector<std::size_t> block_sizes_;
    std::size_t block_ = 0, used_ = 0;
};

/// Where in a request's life the host is: what the host API allows.
enum class CyclePhase { producing, scheduling, pre_request, response_started, response_complete };

/// What plughost_request.host_cycle points at.
struct Cycle {
    AttributeStore *attributes = nullptr;  ///< null outside scheduling and pre_request
    CyclePhase phase = CyclePhase::scheduling;
    const void *producing = nullptr;  ///< the instance whose `produce` runs (an Instance*)
    /// Headers set by plugins: for the endpoint (pre_request) or the client (response_started).
    std::vector<std::pair<std::string, std::string>> upstream_headers, client_headers;
};

/// Checks a header set through the host API: name 1-64 bytes of [A-Za-z0-9-], value at most
/// 4096 bytes without control characters.
bool valid_header(std::string_view name, std::string_view value);

/// Sets (or replaces, comparing names case-insensitively) a header in `headers`.
void set_header(std::vector<std::pair<std::string, std::string>> &headers, std::string_view name,
                std::string_view value);

}  // namespace plughost::host
