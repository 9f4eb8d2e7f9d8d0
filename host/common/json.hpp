// JSON in and out, the one way the host does both. In: strict parsing of untrusted text (size and
// depth limits, duplicate keys refused, errors with a position and, for duplicates, a JSON
// Pointer). Out: one writer for every document the host prints or hands to a plugin, with the
// SDK's string escaping and only finite numbers.
#pragma once

#include "common/diagnostic.hpp"

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace plughost::host {

struct JsonLimits {
    std::size_t max_bytes = 4 * 1024 * 1024;
    std::size_t max_depth = 64;
};

/// Why a text is not a usable JSON document.
struct JsonError {
    Code code;            ///< not_json, too_large or duplicate_key
    std::string message;  ///< what is wrong and where ("duplicate key \"a\" at /x (line 2, column 3)")
    std::size_t offset = 0;
    std::string pointer;  ///< the JSON Pointer of a duplicate key; empty otherwise
};

struct JsonParse {
    boost::json::value value;
    std::optional<JsonError> error;
};

/// Parses one complete document: strict RFC 8259 (no comments, no trailing commas, valid UTF-8),
/// at most `limits.max_bytes` bytes and `limits.max_depth` levels, and no object with the same
/// key twice (which a plain parser resolves silently, last one wins). The value is allocated
/// from `storage` (the default heap when null).
JsonParse parse_json(std::string_view text, const JsonLimits &limits, boost::json::storage_ptr storage = {});

/// "line 3, column 14" (both 1-based) of byte `offset` in `text`.
std::string line_column(std::string_view text, std::size_t offset);

// Offset of the first byte of `text` that is not valid UTF-8, if any.
std::optional<std::size_t> invalid_utf8(std::string_view text);

/// Appends `text` as a JSON string literal (the SDK's escaping: plughost/detail/json_text.hpp).
void put_json(std::string &out, std::string_view text);
/// Appends a number in its shortest exact form ("0.5", "3", "1e+20"); a non-finite value, which
/// JSON cannot hold, is written as null.
void put_json(std::string &out, double value);
/// Appends any value, compactly.
void put_json(std::string &out, const boost::json::value &value);

/// Short human description of a value for messages: `string "abc"`, `integer 5`, `null`; long
/// values are cut.
std::string describe(const boost::json::value &value);

/// `value` as compact JSON text.
std::string to_json(const boost::json::value &value);

}  // namespace plughost::host
