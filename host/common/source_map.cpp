#include "common/source_map.hpp"

#include <algorithm>
#include <string>

namespace plughost::host {
namespace {

std::uint64_t hash_pointer(std::string_view pointer) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
    for (char c : pointer) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    return h;
}

}  // namespace

void SourceMap::add(std::string_view pointer, SourcePosition value, std::optional<SourcePosition> key) {
    entries_.push_back({hash_pointer(pointer), value, key.value_or(SourcePosition{})});
}

void SourceMap::seal() {
    // Stable: of two pointers with one hash, the first in the document wins.
    std::stable_sort(entries_.begin(), entries_.end(), [](const Entry &a, const Entry &b) { return a.hash < b.hash; });
}

std::optional<SourcePosition> SourceMap::find(std::string_view pointer, bool key) const {
    const auto lookup = [this](std::string_view p) -> const Entry * {
        const std::uint64_t h = hash_pointer(p);
        const auto it = std::lower_bound(entries_.begin(), entries_.end(), h,
                                         [](const Entry &e, std::uint64_t v) { return e.hash < v; });
        return it != entries_.end() && it->hash == h ? &*it : nullptr;
    };
    if (const Entry *e = lookup(pointer)) return key && e->key.line != 0 ? e->key : e->value;
    // A field that is not there (missing) is reported at its object; anything further away (a
    // setting whose whole section is absent) has no place in the text.
    if (pointer.empty()) return std::nullopt;
    if (const Entry *parent = lookup(pointer.substr(0, pointer.rfind('/')))) return parent->value;
    return std::nullopt;
}

void locate(Issue &issue, const SourceMap &map) {
    if (issue.line != 0 || (!issue.path.empty() && issue.path.front() != '/')) return;
    const bool at_key = issue.code == Code::unknown_field || issue.code == Code::duplicate_key;
    const auto position = map.find(issue.path, at_key);
    if (!position) return;
    issue.line = position->line;
    issue.column = position->column;
    issue.message += " (line " + std::to_string(position->line) + ", column " + std::to_string(position->column) + ")";
}

}  // namespace plughost::host
