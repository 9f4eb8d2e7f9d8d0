#include "common/json_document.hpp"

#include "common/json.hpp"
#include "common/yaml.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace plughost::host {

namespace {

void read_yaml(std::string_view text, JsonDocument &doc) {
    YamlParse parsed = parse_yaml(text, {kMaxDocumentBytes, kMaxDocumentDepth});
    if (!parsed.error) {
        static_cast<boost::json::value &>(doc.value) = std::move(parsed.value);
        doc.value.positions = std::move(parsed.positions);
        return;
    }
    const YamlError &e = *parsed.error;
    if (e.code == Code::duplicate_key)
        doc.problem = Issue{e.pointer, Code::duplicate_key, doc.source + ": " + e.message,
                            "remove one of the two; which one a reader keeps is not defined"};
    else
        doc.problem =
            Issue{e.pointer, Code::not_yaml, doc.source + " is not a YAML document plughost reads: " + e.message,
                  "fix the YAML at that position (a document starting with '{' is read as JSON)"};
    doc.problem->line = e.position.line;
    doc.problem->column = e.position.column;
}

/// The first character that is not white space, or '\0' when there is none.
char first_char(std::string_view text) {
    const std::size_t first = text.find_first_not_of(" \t\r\n");
    return first == std::string_view::npos ? '\0' : text[first];
}

void read_json(std::string_view text, JsonDocument &doc) {
    doc.format = DocumentFormat::json;
    JsonParse parsed = parse_json(text, {kMaxDocumentBytes, kMaxDocumentDepth});
    if (!parsed.error) {
        static_cast<boost::json::value &>(doc.value) = std::move(parsed.value);
        return;
    }
    const JsonError &e = *parsed.error;
    switch (e.code) {
    case Code::too_large:
        doc.problem = Issue{"", Code::too_large, doc.source + " is " + e.message,
                            "a plughost config is small: check that the right file was given"};
        break;
    case Code::duplicate_key:
        doc.problem = Issue{e.pointer, Code::duplicate_key, doc.source + ": " + e.message,
                            "remove one of the two; which one a reader keeps is not defined"};
        break;
    default:
        doc.problem = Issue{"", Code::not_json, doc.source + " is not valid JSON: " + e.message,
                            "fix the JSON syntax at that position (strict JSON: no comments, no trailing commas)"};
    }
}

}  // namespace

DocumentFormat format_of(std::string_view text) {
    return first_char(text) == '{' ? DocumentFormat::json : DocumentFormat::yaml;
}

JsonDocument parse_json_document(std::string_view text, std::string source) {
    JsonDocument doc;
    doc.source = std::move(source);
    if (text.size() > kMaxDocumentBytes || format_of(text) == DocumentFormat::json) {
        read_json(text, doc);
        return doc;
    }
    doc.format = DocumentFormat::yaml;
    read_yaml(text, doc);
    // A document opening with '[' that YAML refuses is almost always JSON cut short or broken,
    // and yaml-cpp's words for that ("a sequence as a key") point nowhere near the mistake.
    if (doc.problem && doc.problem->code == Code::not_yaml && first_char(text) == '[') {
        JsonDocument as_json;
        as_json.source = std::move(doc.source);
        read_json(text, as_json);
        return as_json;
    }
    return doc;
}

std::optional<JsonDocument> load_json_document(const std::filesystem::path &path, std::string &io_error) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        io_error = "cannot open " + path.string() + ": " + std::strerror(errno);
        return std::nullopt;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        io_error = path.string() + " is not a regular file";
        return std::nullopt;
    }
    std::string text;
    // Read one byte past the limit, so an oversized file is reported as such, not cut silently.
    const std::size_t want = std::min<std::size_t>(static_cast<std::size_t>(st.st_size), kMaxDocumentBytes + 1);
    text.resize(want);
    std::size_t got = 0;
    while (got < want) {
        const ssize_t n = ::read(fd, text.data() + got, want - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    text.resize(got);
    if (static_cast<std::size_t>(st.st_size) > kMaxDocumentBytes) {
        JsonDocument doc;
        doc.source = path.string();
        doc.problem = Issue{"", Code::too_large,
                            path.string() + " is " + std::to_string(st.st_size) + " bytes; the limit is " +
                                std::to_string(kMaxDocumentBytes) + " bytes",
                            "a plughost config is small: check that the right file was given"};
        return doc;
    }
    return parse_json_document(text, path.string());
}

}  // namespace plughost::host

#include "common/suggest.hpp"
#include "inspect/manifest.hpp"

namespace plughost::host {

std::string child(std::string_view parent, std::string_view key) {
    return std::string(parent) + "/" + pointer_token(key);
}

std::string child(std::string_view parent, std::size_t index) {
    return std::string(parent) + "/" + std::to_string(index);
}

void check_keys(const boost::json::object &object, std::string_view path, const std::vector<std::string> &allowed,
                std::vector<Issue> &issues) {
    for (const auto &kv : object) {
        const std::string key(kv.key());
        if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
        issues.push_back({child(path, key), Code::unknown_field,
                          "unknown field \"" + key + "\"" + did_you_mean(key, allowed),
                          "allowed here: " + quoted_list(allowed)});
    }
}

Issue wrong_type(std::string path, std::string_view expected, const boost::json::value &found, std::string hint) {
    return {std::move(path), Code::wrong_type, "expected " + std::string(expected) + ", found " + describe(found),
            std::move(hint)};
}

}  // namespace plughost::host
