// How plughost writes a JSON string literal: the one escaping rule shared by the manifest
// renderer (at compile time) and every JSON output of the host, so they never disagree.
// Internal to the SDK and the host; not part of the plugin API.
#ifndef PLUGHOST_DETAIL_JSON_TEXT_HPP
#define PLUGHOST_DETAIL_JSON_TEXT_HPP

#include <string_view>

namespace plughost::detail {

/// Writes `s` as a JSON string literal to `out` (anything with put(char) and
/// put(std::string_view)). `"` and `\` are escaped, as are all control characters: \b \f \n \r
/// \t by name, the others and DEL (0x7f) as \u00XX, so the text is safe in a terminal too.
/// Other bytes are copied as they are (input is expected to be UTF-8).
template <class Out> constexpr void put_json_string(Out &out, std::string_view s) {
    constexpr std::string_view hex = "0123456789abcdef";
    out.put('"');
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
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
    }
    out.put('"');
}

}  // namespace plughost::detail

#endif  // PLUGHOST_DETAIL_JSON_TEXT_HPP
