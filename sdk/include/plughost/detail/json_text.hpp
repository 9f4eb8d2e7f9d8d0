// How plughost writes a JSON string literal: the one escaping rule shared by the manifest
// renderer (at compile time) and every JSON output of the host, so they never disagree.
// Internal to the SDK and the host; not part of the plugin API.
#ifndef PLUGHOST_DETAIL_JSON_TEXT_HPP
#define PLUGHOST_DETAIL_JSON_TEXT_HPP

#include <cstddef>
#include <string_view>

namespace plughost::detail {

/// Length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629: no overlong forms,
/// no surrogates, nothing above U+10FFFF); 0 when the first byte does not start one.
constexpr std::size_t utf8_sequence_length(std::string_view s) {
    const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char c = b(0);
    if (c < 0x80) return 1;
    std::size_t len = 0;
    unsigned lo = 0x80, hi = 0xbf;  // the range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;  // no overlong form
        hi = c == 0xed ? 0x9f : 0xbf;  // no surrogate
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;  // no overlong form
        hi = c == 0xf4 ? 0x8f : 0xbf;  // nothing above U+10FFFF
    } else {
        return 0;
    }
    if (s.size() < len || b(1) < lo || b(1) > hi) return 0;
    for (std::size_t i = 2; i < len; ++i)
        if ((b(i) & 0xc0) != 0x80) return 0;
    return len;
}

/// Writes `s` as a JSON string literal to `out` (anything with put(char) and
/// put(std::string_view)). `"` and `\` are escaped, as are all control characters: \b \f \n \r
/// \t by name, the others and DEL (0x7f) as \u00XX, so the text is safe in a terminal too. A
/// byte that is not part of well-formed UTF-8 becomes \ufffd (the replacement character), so the
/// output is valid JSON whatever the input.
template <class Out> constexpr void put_json_string(Out &out, std::string_view s) {
    constexpr std::string_view hex = "0123456789abcdef";
    out.put('"');
    for (std::size_t i = 0; i < s.size();) {
        const char c = s[i];
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x80) {
            const std::size_t len = utf8_sequence_length(s.substr(i));
            if (len == 0) {
                out.put("\\ufffd");
                ++i;
            } else {
                out.put(s.substr(i, len));
                i += len;
            }
            continue;
        }
        switch (c) {
        case '"': out.put("\\\""); break;
        case '\\': out.put("\\\\"); break;
        case '\b': out.put("\\b"); break;
        case '\f': out.put("\\f"); break;
        case '\n': out.put("\\n"); break;
        case '\r': out.put("\\r"); break;
        case '\t': out.put("\\t"); break;
        default:
            if (u < 0x20 || u == 0x7f) {
                out.put("\\u00");
                out.put(hex[u >> 4]);
                out.put(hex[u & 0xf]);
            } else {
                out.put(c);
            }
        }
        ++i;
    }
    out.put('"');
}

}  // namespace plughost::detail

#endif  // PLUGHOST_DETAIL_JSON_TEXT_HPP
