// The manifest of a C++ plugin, declared once as a constexpr value and rendered at compile
// time into the JSON document that goes both into the ELF note and into the exported entry.
#ifndef PLUGHOST_MANIFEST_HPP
#define PLUGHOST_MANIFEST_HPP

#include <plughost/detail/json_text.hpp>
#include <plughost/plugin.h>
#include <plughost/vocabulary.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace plughost {

/// One parameter the plugin accepts. `default_json` is a JSON literal ("64", "\"name\"",
/// "true"); leave it empty for a parameter without a default.
struct Param {
    std::string_view name;
    ParamType type = ParamType::string;
    std::string_view default_json{};
    std::string_view description{};
};

/// An attribute a producer publishes (Since ABI 1.1): its name, scope, type and meaning.
struct Produces {
    std::string_view name;  ///< [a-z0-9.-], starting with a letter, at most 63 characters
    AttributeScope scope = AttributeScope::endpoint;
    AttributeType type = AttributeType::number;
    std::string_view description{};
};

/// An attribute a plugin reads (Since ABI 1.1). A required one must have a producer in the
/// operator's config, or `plughost check` refuses the config.
struct Consumes {
    std::string_view name;
    bool required = true;
    /// The plugin type the host instantiates with its defaults when the config has no producer
    /// of this attribute (e.g. "approx-prefix-cache-producer"); empty for none.
    std::string_view default_producer{};
};

/// Deprecation notice; `since`, `removed_in` (semver) and `message` are mandatory.
struct Deprecation {
    std::string_view since;
    std::string_view removed_in;
    std::string_view message;
    std::span<const std::string_view> replacements{};
};

/// Everything the host learns about a plugin before loading it.
struct Manifest {
    std::string_view type;  ///< plugin type, [a-z0-9-], at most 63 characters
    Role role = Role::scorer;
    std::string_view version;  ///< the plugin's own semantic version
    Stability stability = Stability::alpha;
    std::string_view feature_gate{};  ///< UpperCamelCase; mandatory for dev and alpha
    std::string_view description{};   ///< one line
    std::span<const Param> parameters{};
    bool thread_safe = false;                  ///< may the host call one instance from several threads at once
    std::optional<Deprecation> deprecation{};  ///< set when the plugin is deprecated
    std::span<const Produces> produces{};      ///< role producer: what it publishes
    std::span<const Consumes> consumes{};      ///< the attributes it reads
};

namespace detail {

// Counts the characters rendering would produce.
struct JsonCounter {
    std::size_t size = 0;
    constexpr void put(char) { ++size; }
    constexpr void put(std::string_view s) { size += s.size(); }
};

// Writes rendered characters into a buffer sized by JsonCounter.
struct JsonWriter {
    char *out;
    constexpr void put(char c) { *out++ = c; }
    constexpr void put(std::string_view s) {
        for (char c : s) *out++ = c;
    }
};

template <class Out> constexpr void put_member(Out &out, std::string_view key, std::string_view value) {
    out.put(',');
    put_json_string(out, key);
    out.put(':');
    put_json_string(out, value);
}

// One renderer for both passes, so the counted size and the written bytes cannot disagree.
template <class Out> constexpr void render(Out &out, const Manifest &m) {
    out.put('{');
    put_json_string(out, "type");
    out.put(':');
    put_json_string(out, m.type);
    put_member(out, "role", to_string(m.role));
    put_member(out, "version", m.version);
    put_member(out, "abiVersion", PLUGHOST_ABI_VERSION_STRING);
    put_member(out, "stability", to_string(m.stability));
    if (!m.feature_gate.empty()) put_member(out, "featureGate", m.feature_gate);
    put_member(out, "description", m.description);
    out.put(",\"threadSafe\":");
    out.put(m.thread_safe ? "true" : "false");
    out.put(",\"parameters\":[");
    for (std::size_t i = 0; i < m.parameters.size(); ++i) {
        const Param &p = m.parameters[i];
        if (i) out.put(',');
        out.put('{');
        put_json_string(out, "name");
        out.put(':');
        put_json_string(out, p.name);
        put_member(out, "type", to_string(p.type));
        if (!p.default_json.empty()) {
            out.put(",\"default\":");
            out.put(p.default_json);
        }
        put_member(out, "description", p.description);
        out.put('}');
    }
    out.put(']');
    if (!m.produces.empty()) {
        out.put(",\"produces\":[");
        for (std::size_t i = 0; i < m.produces.size(); ++i) {
            const Produces &a = m.produces[i];
            out.put(i ? ",{" : "{");
            put_json_string(out, "name");
            out.put(':');
            put_json_string(out, a.name);
            put_member(out, "scope", to_string(a.scope));
            put_member(out, "type", to_string(a.type));
            put_member(out, "description", a.description);
            out.put('}');
        }
        out.put(']');
    }
    if (!m.consumes.empty()) {
        out.put(",\"consumes\":[");
        for (std::size_t i = 0; i < m.consumes.size(); ++i) {
            out.put(i ? ",{" : "{");
            put_json_string(out, "name");
            out.put(':');
            put_json_string(out, m.consumes[i].name);
            out.put(m.consumes[i].required ? ",\"required\":true" : ",\"required\":false");
            if (!m.consumes[i].default_producer.empty())
                put_member(out, "defaultProducer", m.consumes[i].default_producer);
            out.put('}');
        }
        out.put(']');
    }
    if (m.deprecation) {
        const Deprecation &d = *m.deprecation;
        out.put(",\"deprecated\":true,\"deprecation\":{");
        put_json_string(out, "since");
        out.put(':');
        put_json_string(out, d.since);
        put_member(out, "removedIn", d.removed_in);
        put_member(out, "message", d.message);
        out.put(",\"replacements\":[");
        for (std::size_t i = 0; i < d.replacements.size(); ++i) {
            if (i) out.put(',');
            put_json_string(out, d.replacements[i]);
        }
        out.put("]}");
    }
    out.put('}');
}

constexpr std::size_t json_size(const Manifest &m) {
    JsonCounter counter;
    render(counter, m);
    return counter.size;
}

// The note record exactly as the ELF gABI lays it out: three 4-byte words, the owner name
// padded to 4, the descriptor (our JSON plus a NUL) padded to 4 by the struct's alignment.
template <std::size_t JsonSize> struct alignas(4) ManifestNote {
    std::uint32_t namesz = PLUGHOST_NOTE_OWNER_SIZE;
    std::uint32_t descsz = JsonSize + 1;
    std::uint32_t type = PLUGHOST_NOTE_TYPE_MANIFEST;
    char name[12] = PLUGHOST_NOTE_OWNER;
    char desc[JsonSize + 1] = {};

    constexpr plughost_str json() const { return {desc, JsonSize}; }
};

template <std::size_t JsonSize> constexpr ManifestNote<JsonSize> make_note(const Manifest &m) {
    ManifestNote<JsonSize> note;
    JsonWriter writer{note.desc};
    render(writer, m);
    return note;
}

// Called only from a constant expression when the manifest is invalid: the compiler stops at
// the call and prints the reason passed to it.
void manifest_error(const char *reason);

constexpr bool is_lower_kebab(std::string_view s) {
    if (s.empty() || s.size() > 63) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    return true;
}

constexpr bool is_upper_camel(std::string_view s) {
    if (s.empty() || s.size() > 63 || !(s[0] >= 'A' && s[0] <= 'Z')) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
    return true;
}

// Compile-time checks of what an author most often gets wrong; the host validates the rest
// (and everything again) when it reads the note.
constexpr bool check_manifest(const Manifest &m) {
    if (!is_lower_kebab(m.type)) manifest_error("type must be 1-63 characters of [a-z0-9-]");
    if (m.version.empty()) manifest_error("version is mandatory (semantic version, e.g. 1.0.0)");
    if ((m.stability == Stability::dev || m.stability == Stability::alpha) && m.feature_gate.empty())
        manifest_error("dev and alpha plugins must declare a feature_gate");
    if (!m.feature_gate.empty() && !is_upper_camel(m.feature_gate))
        manifest_error("feature_gate must be UpperCamelCase, e.g. MyPluginGate");
    if (m.description.empty()) manifest_error("description is mandatory (one line)");
    if (m.deprecation) {
        if (m.deprecation->since.empty() || m.deprecation->removed_in.empty() || m.deprecation->message.empty())
            manifest_error("a deprecation needs since, removed_in and message");
    }
    for (const Param &p : m.parameters)
        if (p.name.empty()) manifest_error("every parameter needs a name");
    if (m.role == Role::producer && m.produces.empty()) manifest_error("a producer declares what it produces");
    if (m.role != Role::producer && !m.produces.empty()) manifest_error("only producers publish attributes");
    for (const Produces &a : m.produces)
        if (!is_attribute_name(a.name) || a.description.empty())
            manifest_error("every produced attribute needs a name of [a-z0-9.-] and a description");
    for (const Consumes &a : m.consumes)
        if (!is_attribute_name(a.name)) manifest_error("consumed attribute names are [a-z0-9.-]");
    return true;
}

}  // namespace detail
}  // namespace plughost

#endif  // PLUGHOST_MANIFEST_HPP
