#include "common/yaml.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

namespace plughost::host {
namespace {

SourcePosition position_of(const YAML::Mark &mark) {
    return {static_cast<std::uint32_t>(mark.line + 1), static_cast<std::uint32_t>(mark.column + 1)};
}

std::string at_text(SourcePosition p) {
    return "at line " + std::to_string(p.line) + ", column " + std::to_string(p.column);
}

// Thrown by the event handler to stop the parse at a node plughost refuses.
struct Refusal {
    Code code;
    std::string message;
    SourcePosition position;
    std::string pointer;
};

bool is_digits(std::string_view s, bool (*digit)(char)) {
    if (s.empty()) return false;
    for (char c : s)
        if (!digit(c)) return false;
    return true;
}
bool decimal_digit(char c) { return c >= '0' && c <= '9'; }
bool octal_digit(char c) { return c >= '0' && c <= '7'; }
bool hex_digit(char c) { return decimal_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?  (the core schema's float)
bool is_core_float(std::string_view s) {
    std::size_t i = 0;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    const std::size_t int_start = i;
    while (i < s.size() && decimal_digit(s[i])) ++i;
    const bool int_digits = i > int_start;
    bool frac_digits = false;
    if (i < s.size() && s[i] == '.') {
        ++i;
        const std::size_t frac_start = i;
        while (i < s.size() && decimal_digit(s[i])) ++i;
        frac_digits = i > frac_start;
    }
    if (!int_digits && !frac_digits) return false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
        if (!is_digits(s.substr(i), decimal_digit)) return false;
        return true;
    }
    return i == s.size();
}

bool is_one_of(std::string_view s, std::initializer_list<std::string_view> words) {
    for (auto w : words)
        if (s == w) return true;
    return false;
}

// An unsigned integer in `base`, as int64 when it fits, else uint64; nullopt when too large.
std::optional<boost::json::value> unsigned_integer(std::string_view digits, int base, bool negative) {
    std::uint64_t u = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), u, base);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (!negative) return u <= max ? boost::json::value(static_cast<std::int64_t>(u)) : boost::json::value(u);
    if (u <= max) return boost::json::value(-static_cast<std::int64_t>(u));
    if (u == max + 1) return boost::json::value(std::numeric_limits<std::int64_t>::min());
    return std::nullopt;
}

// A plain (unquoted) scalar as the YAML 1.2 core schema types it. yaml-cpp has already turned
// null, Null, NULL, ~ and empty scalars into null events. nullopt: a number JSON cannot hold.
std::optional<boost::json::value> plain_scalar(const std::string &text) {
    if (is_one_of(text, {"true", "True", "TRUE"})) return boost::json::value(true);
    if (is_one_of(text, {"false", "False", "FALSE"})) return boost::json::value(false);
    std::string_view s = text;
    const bool negative = !s.empty() && s.front() == '-';
    const std::string_view unsigned_part = !s.empty() && (s.front() == '-' || s.front() == '+') ? s.substr(1) : s;
    if (is_digits(unsigned_part, decimal_digit)) {
        if (auto v = unsigned_integer(unsigned_part, 10, negative)) return v;
        // Beyond 64 bits: a double, as a JSON reader gives.
    } else if (s.size() > 2 && s.substr(0, 2) == "0o" && is_digits(s.substr(2), octal_digit)) {
        return unsigned_integer(s.substr(2), 8, false);
    } else if (s.size() > 2 && s.substr(0, 2) == "0x" && is_digits(s.substr(2), hex_digit)) {
        return unsigned_integer(s.substr(2), 16, false);
    } else if (is_one_of(unsigned_part, {".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"})) {
        return std::nullopt;
    } else if (!is_core_float(s)) {
        return boost::json::value(text);
    }
    double d = 0;
    const std::string_view number = !s.empty() && s.front() == '+' ? s.substr(1) : s;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), d);
    if (ec != std::errc() || end != number.data() + number.size() || !std::isfinite(d)) return std::nullopt;
    return boost::json::value(d);
}

// Builds the value from yaml-cpp's parse events, recording each node's position as it goes.
class Builder : public YAML::EventHandler {
public:
    Builder(std::size_t max_depth, SourceMap &positions) : max_depth_(max_depth), positions_(positions) {}

    boost::json::value take() { return std::move(root_); }

    void OnDocumentStart(const YAML::Mark &) override {}
    void OnDocumentEnd() override {}

    void OnNull(const YAML::Mark &mark, YAML::anchor_t anchor) override {
        if (expecting_key()) refuse(mark, "a key must be a string, found null", "quote it if it is meant as a text");
        // An empty value (`key:`) is marked at the next token, often the next line: report it at
        // its key instead.
        SourcePosition at = position_of(mark);
        if (!frames_.empty() && frames_.back().object && frames_.back().key_at.line != at.line)
            at = frames_.back().key_at;
        place(boost::json::value(nullptr), at, anchor, 1, 0);
    }

    void OnScalar(const YAML::Mark &mark, const std::string &tag, YAML::anchor_t anchor,
                  const std::string &text) override {
        check_tag(mark, tag, true);
        if (expecting_key()) {
            take_key(mark, tag, anchor, text);
            return;
        }
        std::optional<boost::json::value> v = tag == "?" ? plain_scalar(text) : boost::json::value(text);
        if (!v)
            refuse(mark, "\"" + text + "\" is a number JSON cannot hold (infinite, not a number, or out of range)",
                   "write a finite number, or quote it to make it a text");
        place(std::move(*v), position_of(mark), anchor, 1, 0);
    }

    void OnAlias(const YAML::Mark &mark, YAML::anchor_t anchor) override {
        if (expecting_key()) refuse(mark, "an alias (*name) cannot be a key", "write the key out");
        const auto it = anchors_.find(anchor);
        if (it == anchors_.end()) refuse(mark, "alias to an anchor that is not complete yet", "");
        if (++aliases_ > kMaxYamlAliases)
            refuse(mark, "more than " + std::to_string(kMaxYamlAliases) + " aliases (*name)",
                   "write the repeated settings out; plughost bounds aliases so a small text cannot grow large");
        alias_nodes_ += it->second.nodes;
        if (alias_nodes_ > kMaxYamlAliasNodes)
            refuse(mark, "aliases (*name) copy more than " + std::to_string(kMaxYamlAliasNodes) + " nodes in all",
                   "write the repeated settings out; plughost bounds aliases so a small text cannot grow large");
        // Every node of the copy is reported where the alias is.
        const std::string pointer = child_pointer();
        place(it->second.value, position_of(mark), 0, it->second.nodes, it->second.depth);
        record_copy(it->second.value, pointer, position_of(mark));
    }

    void OnSequenceStart(const YAML::Mark &mark, const std::string &tag, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value) override {
        open(mark, tag, anchor, false);
    }
    void OnSequenceEnd() override { close(); }
    void OnMapStart(const YAML::Mark &mark, const std::string &tag, YAML::anchor_t anchor,
                    YAML::EmitterStyle::value) override {
        open(mark, tag, anchor, true);
    }
    void OnMapEnd() override { close(); }

private:
    struct Frame {
        bool object;
        boost::json::value value;  // the object or array being filled
        std::size_t pointer_size;  // pointer_ ends with this collection's own pointer at this size
        YAML::anchor_t anchor;
        std::size_t first_node;  // nodes_ when it opened, to size an anchored copy
        std::size_t depth = 1;   // of its deepest child, counting itself
        bool has_key = false;
        std::string key = {};
        SourcePosition key_at = {};
        SourcePosition at = {};  // where it starts
    };
    struct Anchored {
        boost::json::value value;
        std::size_t nodes;
        std::size_t depth;
    };

    [[noreturn]] void refuse(const YAML::Mark &mark, std::string what, std::string hint) {
        refuse(position_of(mark), std::move(what), std::move(hint));
    }
    [[noreturn]] void refuse(SourcePosition at, std::string what, std::string hint) {
        throw Refusal{Code::not_yaml, what + " " + at_text(at) + (hint.empty() ? "" : ": " + hint), at,
                      child_pointer()};
    }

    bool expecting_key() const { return !frames_.empty() && frames_.back().object && !frames_.back().has_key; }

    // The pointer of the node about to be placed in the innermost collection.
    std::string child_pointer() const {
        if (frames_.empty()) return pointer_;
        const Frame &f = frames_.back();
        if (f.object) return f.has_key ? pointer_ + "/" + pointer_token(f.key) : pointer_;
        return pointer_ + "/" + std::to_string(f.value.get_array().size());
    }

    void check_tag(const YAML::Mark &mark, const std::string &tag, bool scalar) {
        // "?" is an untagged plain node, "!" an untagged quoted or block scalar.
        if (tag == "?" || (scalar && tag == "!")) return;
        refuse(mark, "YAML tags (" + tag + ") are not supported",
               scalar ? "remove the tag; quote the value to make it a text" : "remove the tag");
    }

    void take_key(const YAML::Mark &mark, const std::string &tag, YAML::anchor_t anchor, const std::string &text) {
        if (anchor != 0) refuse(mark, "an anchor (&name) on a key", "anchor values, not keys");
        if (tag == "?" && text == "<<")
            refuse(mark, "YAML merge keys (<<) are not supported", "write the merged keys out");
        Frame &f = frames_.back();
        if (f.value.get_object().contains(text)) {
            const SourcePosition at = position_of(mark);
            const std::string where = pointer_.empty() ? "the top-level object" : pointer_;
            throw Refusal{Code::duplicate_key,
                          "duplicate key \"" + text + "\" in " + where + " " + at_text(at) +
                              "; YAML readers disagree on which of the two counts, so keep only one",
                          at, pointer_ + "/" + pointer_token(text)};
        }
        f.has_key = true;
        f.key = text;
        f.key_at = position_of(mark);
    }

    void open(const YAML::Mark &mark, const std::string &tag, YAML::anchor_t anchor, bool object) {
        if (expecting_key())
            refuse(mark, std::string("a ") + (object ? "mapping" : "sequence") + " as a key (a complex key)",
                   "keys must be texts");
        check_tag(mark, tag, false);
        if (frames_.size() + 1 > max_depth_)
            refuse(mark, "nested deeper than " + std::to_string(max_depth_) + " levels", "");
        const std::string pointer = child_pointer();
        record(pointer, position_of(mark));
        ++nodes_;
        frames_.push_back(
            {object, object ? boost::json::value(boost::json::object()) : boost::json::value(boost::json::array()),
             pointer.size(), anchor, nodes_ - 1});
        frames_.back().at = position_of(mark);
        pointer_ = pointer;
    }

    void close() {
        Frame done = std::move(frames_.back());
        frames_.pop_back();
        pointer_.resize(frames_.empty() ? 0 : frames_.back().pointer_size);
        if (done.anchor != 0) remember(done.anchor, done.value, nodes_ - done.first_node, done.depth, done.at);
        attach(std::move(done.value), done.depth);
    }

    void remember(YAML::anchor_t anchor, const boost::json::value &value, std::size_t nodes, std::size_t depth,
                  SourcePosition at) {
        if (anchors_.size() >= kMaxYamlAliases && !anchors_.count(anchor))
            refuse(at, "more than " + std::to_string(kMaxYamlAliases) + " anchors (&name)",
                   "write the repeated settings out; plughost bounds anchors and aliases");
        anchors_[anchor] = {value, nodes, depth};
    }

    void place(boost::json::value v, SourcePosition at, YAML::anchor_t anchor, std::size_t nodes, std::size_t depth) {
        if (frames_.size() + depth > max_depth_)
            refuse(at, "nested deeper than " + std::to_string(max_depth_) + " levels", "");
        record(child_pointer(), at);
        nodes_ += nodes;
        if (anchor != 0) remember(anchor, v, nodes, depth, at);
        attach(std::move(v), depth);
    }

    // The nodes below an alias's copy, all at the alias (bounded by kMaxYamlAliasNodes).
    void record_copy(const boost::json::value &v, const std::string &pointer, SourcePosition at) {
        if (v.is_object())
            for (const auto &kv : v.get_object()) {
                const std::string p = pointer + "/" + pointer_token(kv.key());
                positions_.add(p, at, at);
                record_copy(kv.value(), p, at);
            }
        else if (v.is_array())
            for (std::size_t i = 0; i < v.get_array().size(); ++i) {
                const std::string p = pointer + "/" + std::to_string(i);
                positions_.add(p, at);
                record_copy(v.get_array()[i], p, at);
            }
    }

    void record(const std::string &pointer, SourcePosition at) {
        const bool member = !frames_.empty() && frames_.back().object;
        positions_.add(pointer, at, member ? std::optional(frames_.back().key_at) : std::nullopt);
    }

    // Puts a finished node into its collection, or makes it the document.
    void attach(boost::json::value v, std::size_t depth) {
        if (frames_.empty()) {
            root_ = std::move(v);
            return;
        }
        Frame &f = frames_.back();
        f.depth = std::max(f.depth, depth + 1);
        if (f.object) {
            f.value.get_object().emplace(f.key, std::move(v));
            f.has_key = false;
        } else {
            f.value.get_array().push_back(std::move(v));
        }
    }

    std::size_t max_depth_;
    SourceMap &positions_;
    boost::json::value root_;
    std::vector<Frame> frames_;
    std::string pointer_;  // of the innermost open collection
    std::map<YAML::anchor_t, Anchored> anchors_;
    std::size_t nodes_ = 0;
    std::size_t aliases_ = 0;
    std::size_t alias_nodes_ = 0;
};

SourcePosition position_at(std::string_view text, std::size_t offset) {
    SourcePosition p{1, 1};
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++p.line;
            p.column = 1;
        } else if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) {  // characters, not bytes
            ++p.column;
        }
    }
    return p;
}

YamlError error_at(Code code, std::string message, SourcePosition at, std::string pointer = {}) {
    return {code, std::move(message), at, std::move(pointer)};
}

}  // namespace

YamlParse parse_yaml(std::string_view text, const JsonLimits &limits) {
    YamlParse out;
    if (const auto bad = invalid_utf8(text)) {
        const SourcePosition at = position_at(text, *bad);
        out.error = error_at(
            Code::not_yaml,
            fmt::format("invalid UTF-8 (byte 0x{:02x}) {}", static_cast<unsigned char>(text[*bad]), at_text(at)), at);
        return out;
    }
    auto positions = std::make_shared<SourceMap>();
    std::istringstream in{std::string(text)};
    try {
        YAML::Parser parser(in);
        Builder builder(limits.max_depth, *positions);
        if (!parser.HandleNextDocument(builder)) {
            out.error = error_at(Code::not_yaml, "no YAML document (the text is empty or only comments)", {1, 1});
            return out;
        }
        // A second document would be ignored by a reader that takes the first: refuse it.
        YAML::Mark second;
        struct Counter : YAML::EventHandler {
            YAML::Mark &at;
            explicit Counter(YAML::Mark &m) : at(m) {}
            void OnDocumentStart(const YAML::Mark &mark) override { at = mark; }
            void OnDocumentEnd() override {}
            void OnNull(const YAML::Mark &, YAML::anchor_t) override {}
            void OnAlias(const YAML::Mark &, YAML::anchor_t) override {}
            void OnScalar(const YAML::Mark &, const std::string &, YAML::anchor_t, const std::string &) override {}
            void OnSequenceStart(const YAML::Mark &, const std::string &, YAML::anchor_t,
                                 YAML::EmitterStyle::value) override {}
            void OnSequenceEnd() override {}
            void OnMapStart(const YAML::Mark &, const std::string &, YAML::anchor_t,
                            YAML::EmitterStyle::value) override {}
            void OnMapEnd() override {}
        } counter(second);
        if (parser.HandleNextDocument(counter)) {
            const SourcePosition at = position_of(second);
            out.error =
                error_at(Code::not_yaml, "a second YAML document " + at_text(at) + "; a config is one document", at);
            return out;
        }
        out.value = builder.take();
    } catch (const Refusal &r) {
        out.error = error_at(r.code, r.message, r.position, r.pointer);
        return out;
    } catch (const YAML::Exception &e) {
        const SourcePosition at = position_of(e.mark);
        out.error = error_at(Code::not_yaml, e.msg + " " + at_text(at), at);
        return out;
    }
    positions->seal();
    out.positions = std::move(positions);
    return out;
}

}  // namespace plughost::host
