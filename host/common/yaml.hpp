// YAML in, as the same boost::json values JSON documents give, so the config reader has one
// input. Scalars are typed as the YAML 1.2 core schema says; what has no JSON form, or would let
// a small text grow large (tags, complex keys, many aliases), is refused.
#pragma once

#include "common/json.hpp"
#include "common/source_map.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace plughost::host {

/// Aliases (`*name`) a document may use, and the nodes they may copy in all: a few aliases of
/// shared settings are fine, a "billion laughs" is not.
inline constexpr std::size_t kMaxYamlAliases = 100;
inline constexpr std::size_t kMaxYamlAliasNodes = 10'000;

/// Why a text is not a document plughost reads.
struct YamlError {
    Code code;            ///< not_yaml or duplicate_key
    std::string message;  ///< what is wrong, ending with "at line L, column C"
    SourcePosition position;
    std::string pointer;  ///< where in the document, when the problem is a node (a duplicate key, a tag)
};

struct YamlParse {
    boost::json::value value;
    std::shared_ptr<const SourceMap> positions;  ///< every node of `value`, by JSON Pointer
    std::optional<YamlError> error;
};

/// Parses one YAML document (a second document, or none, is an error), at most
/// `limits.max_depth` levels deep, refusing duplicate keys as JSON documents do. Plain scalars:
/// null, ~ and empty are null; true/false (also True, TRUE...) are booleans; decimal, 0o octal
/// and 0x hex integers and decimal floats are numbers; anything else, and every quoted or block
/// scalar, is a string. The size limit is the caller's to check.
YamlParse parse_yaml(std::string_view text, const JsonLimits &limits);

}  // namespace plughost::host
