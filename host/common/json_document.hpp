// Reading the documents an operator gives (config, tombstones, maturity list) with bounds: a
// size limit, a nesting limit, and errors that say where. A document is JSON or YAML, told apart
// by its content: JSON when its first character other than white space is '{', YAML otherwise
// (JSON that starts with '[' reads the same as YAML; one that YAML refuses is reported as JSON).
#pragma once

#include "common/diagnostic.hpp"
#include "common/json.hpp"
#include "common/source_map.hpp"

#include <boost/json/value.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plughost::host {

/// A document's value and, when it was YAML, where each of its nodes is in the text. Where a
/// plain boost::json::value is expected it is one (without the positions); a function that can
/// use the positions takes a DocumentValue (read_config does).
struct DocumentValue : boost::json::value {
    std::shared_ptr<const SourceMap> positions;  ///< null for JSON documents
};

enum class DocumentFormat { json, yaml };

struct JsonDocument {
    std::string source;  ///< file name, or a description of where the text came from
    DocumentFormat format = DocumentFormat::json;
    DocumentValue value;
    /// Set when the text is not a usable document (not JSON or YAML, too large, too deep).
    std::optional<Issue> problem;
};

/// JSON when the first character that is not white space is '{', YAML otherwise.
DocumentFormat format_of(std::string_view text);

inline constexpr std::size_t kMaxDocumentBytes = 4 * 1024 * 1024;
inline constexpr std::size_t kMaxDocumentDepth = 64;

/// Parses `text`, JSON or YAML as format_of says; `source` names it in messages.
JsonDocument parse_json_document(std::string_view text, std::string source);

/// Data bundled with the host (tombstones, maturity list): `read(document, name, into)` fills a
/// T and returns its issues. Bundled data is checked by the tests, so a problem is a programming
/// error.
template <class T, class Read> T read_bundled(std::string_view text, const std::string &name, Read read) {
    T out;
    const JsonDocument doc = parse_json_document(text, name);
    if (doc.problem || !read(doc.value, name, out).empty())
        throw std::logic_error("the bundled " + name + " is invalid");
    return out;
}

/// Reads and parses a file. Returns nullopt, with `io_error` set, when the file cannot be read
/// at all (missing, not a regular file, unreadable): that is a usage problem, not bad content.
std::optional<JsonDocument> load_json_document(const std::filesystem::path &path, std::string &io_error);

}  // namespace plughost::host

namespace plughost::host {

/// JSON Pointer of a member or element below `parent`.
std::string child(std::string_view parent, std::string_view key);
std::string child(std::string_view parent, std::size_t index);

/// Reports every key of `object` not in `allowed` as unknown-field, with a did-you-mean.
void check_keys(const boost::json::object &object, std::string_view path, const std::vector<std::string> &allowed,
                std::vector<Issue> &issues);

/// A wrong-type issue: "<path>: expected <what>, found <describe(found)>".
Issue wrong_type(std::string path, std::string_view expected, const boost::json::value &found, std::string hint = {});

}  // namespace plughost::host
