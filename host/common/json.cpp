#include "common/json.hpp"

#include <plughost/detail/json_kind.hpp>
#include <plughost/detail/json_text.hpp>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

namespace plughost::host {
namespace {

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

std::uint64_t fnv1a(std::uint64_t h, std::string_view s) noexcept {
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * kFnvPrime;
    return h;
}

// Builds the value exactly as boost::json::parser does (a value_stack), and on the side keeps a
// hash of every key of the objects being parsed, so a repeated key is noticed at the end of its
// object for the price of a few comparisons. A hash match only raises a suspicion: the slow
// pass below confirms it and finds the key's JSON Pointer.
struct BuildingHandler {
    static constexpr std::size_t max_object_size = boost::json::object::max_size();
    static constexpr std::size_t max_array_size = boost::json::array::max_size();
    static constexpr std::size_t max_key_size = boost::json::string::max_size();
    static constexpr std::size_t max_string_size = boost::json::string::max_size();

    // The value stack's scratch space, as boost::json::parse gives it: without it every parse
    // starts by allocating, and reallocating, the stack on the heap.
    unsigned char scratch[1024];
    boost::json::value_stack st;
    std::vector<std::uint64_t> keys;   // hashes of the keys of every open object, innermost last
    std::vector<std::size_t> objects;  // where each open object's keys start in `keys`
    std::uint64_t key_hash = kFnvOffset;
    bool suspect_duplicate = false;

    explicit BuildingHandler(boost::json::storage_ptr sp) : st(std::move(sp), scratch, sizeof scratch) {}

    bool on_document_begin(boost::json::error_code &) { return true; }
    bool on_document_end(boost::json::error_code &) { return true; }
    bool on_object_begin(boost::json::error_code &) {
        objects.push_back(keys.size());
        return true;
    }
    bool on_object_end(std::size_t n, boost::json::error_code &) {
        const auto first = keys.begin() + static_cast<std::ptrdiff_t>(objects.back());
        if (n <= 8) {
            for (auto i = first; i != keys.end(); ++i)
                if (std::find(first, i, *i) != i) suspect_duplicate = true;
        } else {
            std::sort(first, keys.end());
            suspect_duplicate |= std::adjacent_find(first, keys.end()) != keys.end();
        }
        keys.erase(first, keys.end());
        objects.pop_back();
        st.push_object(n);
        return true;
    }
    bool on_array_begin(boost::json::error_code &) { return true; }
    bool on_array_end(std::size_t n, boost::json::error_code &) {
        st.push_array(n);
        return true;
    }
    bool on_key_part(boost::json::string_view s, std::size_t, boost::json::error_code &) {
        key_hash = fnv1a(key_hash, s);
        st.push_chars(s);
        return true;
    }
    bool on_key(boost::json::string_view s, std::size_t, boost::json::error_code &) {
        keys.push_back(fnv1a(key_hash, s));
        key_hash = kFnvOffset;
        st.push_key(s);
        return true;
    }
    bool on_string_part(boost::json::string_view s, std::size_t, boost::json::error_code &) {
        st.push_chars(s);
        return true;
    }
    bool on_string(boost::json::string_view s, std::size_t, boost::json::error_code &) {
        st.push_string(s);
        return true;
    }
    bool on_number_part(boost::json::string_view, boost::json::error_code &) { return true; }
    bool on_int64(std::int64_t i, boost::json::string_view, boost::json::error_code &) {
        st.push_int64(i);
        return true;
    }
    bool on_uint64(std::uint64_t u, boost::json::string_view, boost::json::error_code &) {
        st.push_uint64(u);
        return true;
    }
    bool on_double(double d, boost::json::string_view, boost::json::error_code &ec) {
        // 1e400 parses to infinity, which no JSON output can write back and no check expects.
        if (!std::isfinite(d)) {
            ec = boost::json::error::exponent_overflow;
            return false;
        }
        st.push_double(d);
        return true;
    }
    bool on_bool(bool b, boost::json::error_code &) {
        st.push_bool(b);
        return true;
    }
    bool on_null(boost::json::error_code &) {
        st.push_null();
        return true;
    }
    bool on_comment_part(boost::json::string_view, boost::json::error_code &) { return true; }
    bool on_comment(boost::json::string_view, boost::json::error_code &) { return true; }
};

// The slow pass, run only on suspicion: tracks the path and the keys of every open object as
// strings, and stops at the first key seen twice in one object.
struct DuplicateFinder {
    static constexpr std::size_t max_object_size = boost::json::object::max_size();
    static constexpr std::size_t max_array_size = boost::json::array::max_size();
    static constexpr std::size_t max_key_size = boost::json::string::max_size();
    static constexpr std::size_t max_string_size = boost::json::string::max_size();

    struct Level {
        bool object;
        std::size_t index = 0;  // arrays: the element being parsed
        std::string key;        // objects: the member being parsed
        std::set<std::string, std::less<>> seen;
    };
    std::vector<Level> path;
    std::string key;
    std::optional<std::string> duplicate_pointer;
    std::string duplicate_key;

    explicit DuplicateFinder(int) {}

    // The pointer of the innermost open object or array: each outer level contributes the
    // member or element being parsed in it.
    std::string pointer() const {
        std::string out;
        for (std::size_t i = 0; i + 1 < path.size(); ++i)
            out += "/" + (path[i].object ? pointer_token(path[i].key) : std::to_string(path[i].index));
        return out;
    }
    void value_done() {
        if (!path.empty() && !path.back().object) ++path.back().index;
    }
    bool on_document_begin(boost::json::error_code &) { return true; }
    bool on_document_end(boost::json::error_code &) { return true; }
    bool on_object_begin(boost::json::error_code &) {
        path.push_back(Level{true, 0, {}, {}});
        return true;
    }
    bool on_object_end(std::size_t, boost::json::error_code &) {
        path.pop_back();
        value_done();
        return true;
    }
    bool on_array_begin(boost::json::error_code &) {
        path.push_back(Level{false, 0, {}, {}});
        return true;
    }
    bool on_array_end(std::size_t, boost::json::error_code &) {
        path.pop_back();
        value_done();
        return true;
    }
    bool on_key_part(boost::json::string_view s, std::size_t, boost::json::error_code &) {
        key.append(s.data(), s.size());
        return true;
    }
    bool on_key(boost::json::string_view s, std::size_t, boost::json::error_code &ec) {
        key.append(s.data(), s.size());
        Level &level = path.back();
        if (!level.seen.insert(key).second) {
            duplicate_pointer = pointer();
            duplicate_key = key;
            ec = boost::json::error::syntax;  // stops the parse here, at the second occurrence
            return false;
        }
        level.key = std::move(key);
        key.clear();
        return true;
    }
    bool on_string_part(boost::json::string_view, std::size_t, boost::json::error_code &) { return true; }
    bool on_string(boost::json::string_view, std::size_t, boost::json::error_code &) {
        value_done();
        return true;
    }
    bool on_number_part(boost::json::string_view, boost::json::error_code &) { return true; }
    bool on_int64(std::int64_t, boost::json::string_view, boost::json::error_code &) {
        value_done();
        return true;
    }
    bool on_uint64(std::uint64_t, boost::json::string_view, boost::json::error_code &) {
        value_done();
        return true;
    }
    bool on_double(double, boost::json::string_view, boost::json::error_code &) {
        value_done();
        return true;
    }
    bool on_bool(bool, boost::json::error_code &) {
        value_done();
        return true;
    }
    bool on_null(boost::json::error_code &) {
        value_done();
        return true;
    }
    bool on_comment_part(boost::json::string_view, boost::json::error_code &) { return true; }
    bool on_comment(boost::json::string_view, boost::json::error_code &) { return true; }
};

boost::json::parse_options options_for(const JsonLimits &limits) {
    boost::json::parse_options options;
    options.max_depth = limits.max_depth;
    return options;  // strict: no comments, no trailing commas, no invalid UTF-8
}

JsonError syntax_error(std::string_view text, std::size_t used, const boost::json::error_code &ec,
                       const JsonLimits &limits) {
    if (ec == boost::json::error::too_deep)
        return {Code::not_json,
                "nested deeper than " + std::to_string(limits.max_depth) + " levels at " + line_column(text, used),
                used,
                {}};
    if (ec == boost::json::error::exponent_overflow)
        return {Code::not_json,
                "a number beyond the range of a double (about 1.8e308) ending at " + line_column(text, used),
                used,
                {}};
    if (text.substr(used).starts_with("\xEF\xBB\xBF"))  // what some editors put first in a file
        return {Code::not_json,
                "a UTF-8 byte-order mark (EF BB BF) at " + line_column(text, used) +
                    ": JSON has none; save the text without it",
                used,
                {}};
    // The parser stops at a byte that is not valid UTF-8 with a bare "syntax error": say so.
    if (const auto bad = invalid_utf8(text.substr(0, std::min(text.size(), used + 4))); bad && *bad <= used)
        return {Code::not_json,
                fmt::format("invalid UTF-8 (byte 0x{:02x}) at {}", static_cast<unsigned char>(text[*bad]),
                            line_column(text, *bad)),
                *bad,
                {}};
    return {Code::not_json, ec.message() + " at " + line_column(text, used), used, {}};
}

struct StringOut {
    std::string &s;
    void put(char c) { s += c; }
    void put(std::string_view v) { s += v; }
};

}  // namespace

std::string line_column(std::string_view text, std::size_t offset) {
    if (text.find('\n') == std::string_view::npos) {  // one line: its number says nothing
        std::size_t column = 1;
        for (std::size_t i = 0; i < offset && i < text.size(); ++i)
            if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) ++column;
        return "column " + std::to_string(column);
    }
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) {  // count characters, not bytes
            ++column;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

std::optional<std::size_t> invalid_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t len = plughost::detail::utf8_sequence_length(text.substr(i));
        if (len == 0) return i;
        i += len;
    }
    return std::nullopt;
}

JsonParse parse_json(std::string_view text, const JsonLimits &limits, boost::json::storage_ptr storage) {
    // The result lives in `storage` from the start: a value only moves into a value of the same
    // storage; into another one it is copied whole (every string, array and object again).
    JsonParse out{boost::json::value(storage), std::nullopt};
    if (text.size() > limits.max_bytes) {
        out.error = JsonError{Code::too_large,
                              std::to_string(text.size()) + " bytes; the limit is " + std::to_string(limits.max_bytes) +
                                  " bytes",
                              limits.max_bytes,
                              {}};
        return out;
    }
    boost::json::basic_parser<BuildingHandler> parser(options_for(limits), storage);
    parser.handler().st.reset(storage);
    boost::json::error_code ec;
    const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
    if (!ec && used < text.size()) ec = boost::json::error::extra_data;
    if (ec) {
        out.error = syntax_error(text, used, ec, limits);
        return out;
    }
    if (parser.handler().suspect_duplicate) {
        boost::json::basic_parser<DuplicateFinder> finder(options_for(limits), 0);
        boost::json::error_code ec2;
        const std::size_t at = finder.write_some(false, text.data(), text.size(), ec2);
        if (const auto &pointer = finder.handler().duplicate_pointer) {
            const std::string where = pointer->empty() ? "the top-level object" : *pointer;
            out.error = JsonError{Code::duplicate_key,
                                  "duplicate key \"" + finder.handler().duplicate_key + "\" in " + where + " at " +
                                      line_column(text, at) +
                                      "; JSON readers disagree on which of the two counts, so keep only one",
                                  at, *pointer + "/" + pointer_token(finder.handler().duplicate_key)};
            return out;
        }
        // Two different keys with the same 64-bit hash: no duplicate after all.
    }
    out.value = parser.handler().st.release();
    return out;
}

void put_json(std::string &out, std::string_view text) {
    StringOut o{out};
    plughost::detail::put_json_string(o, text);
}

void put_json(std::string &out, double value) {
    if (!std::isfinite(value)) {
        out += "null";
        return;
    }
    fmt::format_to(std::back_inserter(out), "{}", value);
}

void put_json(std::string &out, const boost::json::value &value) {
    switch (value.kind()) {
    case boost::json::kind::null: out += "null"; break;
    case boost::json::kind::bool_: out += value.get_bool() ? "true" : "false"; break;
    case boost::json::kind::int64: fmt::format_to(std::back_inserter(out), "{}", value.get_int64()); break;
    case boost::json::kind::uint64: fmt::format_to(std::back_inserter(out), "{}", value.get_uint64()); break;
    case boost::json::kind::double_: put_json(out, value.get_double()); break;
    case boost::json::kind::string: put_json(out, std::string_view(value.get_string())); break;
    case boost::json::kind::array: {
        out += '[';
        bool first = true;
        for (const auto &item : value.get_array()) {
            if (!first) out += ',';
            first = false;
            put_json(out, item);
        }
        out += ']';
        break;
    }
    case boost::json::kind::object: {
        out += '{';
        bool first = true;
        for (const auto &kv : value.get_object()) {
            if (!first) out += ',';
            first = false;
            put_json(out, std::string_view(kv.key()));
            out += ':';
            put_json(out, kv.value());
        }
        out += '}';
        break;
    }
    }
}

std::string describe(const boost::json::value &v) {
    std::string text = to_json(v);
    if (text.size() > 60) {
        std::size_t cut = 57;
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;  // whole characters
        text = text.substr(0, cut) + "...";
    }
    if (v.is_null()) return "null";
    return std::string(plughost::detail::json_kind(v)) + " " + text;
}

std::string to_json(const boost::json::value &value) {
    std::string out;
    put_json(out, value);
    return out;
}

}  // namespace plughost::host
