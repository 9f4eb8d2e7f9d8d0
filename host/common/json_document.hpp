// Reading the JSON documents an operator gives (config, tombstones, maturity list) with bounds:
// a size limit, a nesting limit, and errors that say where.
#pragma once

#include "common/diagnostic.hpp"
#include "common/json.hpp"

#include <boost/json/value.hpp>

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plughost::host {

struct JsonDocument {
    std::string source;  ///< file name, or a description of where the text came from
    boost::json::value value;
    /// Set when the text is not a usable JSON document (not JSON, too large, too deep).
    std::optional<Issue> problem;
};

inline constexpr std::size_t kMaxDocumentBytes = 4 * 1024 * 1024;
inline constexpr std::size_t kMaxDocumentDepth = 64;

/// Parses `text`; `source` names it in messages.
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
