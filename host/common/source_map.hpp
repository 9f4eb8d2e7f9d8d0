// Where each node of a document is in its text, by JSON Pointer: built once while a YAML
// document is read, then used to give every issue at a pointer its line and column.
#pragma once

#include "common/diagnostic.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace plughost::host {

struct SourcePosition {
    std::uint32_t line = 0;    ///< 1-based
    std::uint32_t column = 0;  ///< 1-based, in characters
};

class SourceMap {
public:
    /// Records the node at `pointer`; `key` is where the member's key is, for object members.
    /// Call seal() once every node is added.
    void add(std::string_view pointer, SourcePosition value, std::optional<SourcePosition> key = std::nullopt);
    void seal();

    /// The position of the node at `pointer`, or, when there is no such node, of its parent (a
    /// missing field is reported where its object is); nullopt when neither is in the map. With
    /// `key`, a member's key rather than its value (an unknown field is its key).
    std::optional<SourcePosition> find(std::string_view pointer, bool key = false) const;

    std::size_t size() const { return entries_.size(); }

private:
    // Keyed by a 64-bit hash of the pointer rather than the pointer itself: 24 bytes per node,
    // so the map of a 4 MiB document of a million nodes stays small. A collision could only
    // misplace a line number.
    struct Entry {
        std::uint64_t hash;
        SourcePosition value;
        SourcePosition key;  ///< line 0 when the node is not an object member
    };
    std::vector<Entry> entries_;
};

/// Gives `issue` the position of its path, unless it has one or its path is not a JSON Pointer
/// (a flag name): sets line and column and appends " (line L, column C)" to the message.
void locate(Issue &issue, const SourceMap &map);

}  // namespace plughost::host
