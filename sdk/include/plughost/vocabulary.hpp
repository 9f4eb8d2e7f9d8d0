// The words plugins and the host share: stability tiers, roles, parameter types, and ABI strings
// as string views. One definition, used by the SDK's C++ layer and by the host alike.
// Depends on <plughost/plugin.h> and the C++ standard library only.
#ifndef PLUGHOST_VOCABULARY_HPP
#define PLUGHOST_VOCABULARY_HPP

#include <plughost/plugin.h>

#include <array>
#include <optional>
#include <string_view>

namespace plughost {

/// Maturity tier; ordered dev < alpha < beta < stable.
enum class Stability { dev, alpha, beta, stable };

/// What a plugin does. The first three run in a scheduling profile; a profile handler chooses
/// the profiles and the primary result (Since ABI 1.1); a producer publishes attributes before
/// the profiles run (1.1); an observer only watches requests and responses (1.1).
enum class Role { filter, scorer, picker, profile_handler, producer, observer };

/// Where an attribute belongs: one value per request, or one per endpoint (Since ABI 1.1).
enum class AttributeScope { request, endpoint };

/// What an attribute holds (Since ABI 1.1).
enum class AttributeType { number, string };

/// JSON type of a parameter.
enum class ParamType { boolean, integer, number, string, array, object };

inline constexpr std::array kStabilities{Stability::dev, Stability::alpha, Stability::beta, Stability::stable};
inline constexpr std::array kRoles{Role::filter,          Role::scorer,   Role::picker,
                                   Role::profile_handler, Role::producer, Role::observer};
inline constexpr std::array kAttributeScopes{AttributeScope::request, AttributeScope::endpoint};
inline constexpr std::array kAttributeTypes{AttributeType::number, AttributeType::string};
inline constexpr std::array kParamTypes{ParamType::boolean, ParamType::integer, ParamType::number,
                                        ParamType::string,  ParamType::array,   ParamType::object};

/// The manifest spelling of each value: "beta", "scorer", "integer".
constexpr std::string_view to_string(Stability s) {
    switch (s) {
    case Stability::dev: return "dev";
    case Stability::alpha: return "alpha";
    case Stability::beta: return "beta";
    case Stability::stable: return "stable";
    }
    return "?";
}

constexpr std::string_view to_string(Role r) {
    switch (r) {
    case Role::filter: return "filter";
    case Role::scorer: return "scorer";
    case Role::picker: return "picker";
    case Role::profile_handler: return "profile-handler";
    case Role::producer: return "producer";
    case Role::observer: return "observer";
    }
    return "?";
}

constexpr std::string_view to_string(AttributeScope s) {
    switch (s) {
    case AttributeScope::request: return "request";
    case AttributeScope::endpoint: return "endpoint";
    }
    return "?";
}

constexpr std::string_view to_string(AttributeType t) {
    switch (t) {
    case AttributeType::number: return "number";
    case AttributeType::string: return "string";
    }
    return "?";
}

/// Whether a plugin of this role runs as a stage of a scheduling profile.
constexpr bool in_profile(Role r) { return r == Role::filter || r == Role::scorer || r == Role::picker; }

constexpr std::string_view to_string(ParamType t) {
    switch (t) {
    case ParamType::boolean: return "boolean";
    case ParamType::integer: return "integer";
    case ParamType::number: return "number";
    case ParamType::string: return "string";
    case ParamType::array: return "array";
    case ParamType::object: return "object";
    }
    return "?";
}

namespace detail {
template <class Enum, std::size_t N>
constexpr std::optional<Enum> parse_among(const std::array<Enum, N> &values, std::string_view text) {
    for (Enum v : values)
        if (to_string(v) == text) return v;
    return std::nullopt;
}
}  // namespace detail

/// The value spelled `text` in a manifest, or nullopt.
constexpr std::optional<Stability> parse_stability(std::string_view text) {
    return detail::parse_among(kStabilities, text);
}
constexpr std::optional<Role> parse_role(std::string_view text) { return detail::parse_among(kRoles, text); }
constexpr std::optional<ParamType> parse_param_type(std::string_view text) {
    return detail::parse_among(kParamTypes, text);
}
constexpr std::optional<AttributeScope> parse_attribute_scope(std::string_view text) {
    return detail::parse_among(kAttributeScopes, text);
}
constexpr std::optional<AttributeType> parse_attribute_type(std::string_view text) {
    return detail::parse_among(kAttributeTypes, text);
}

/// Whether `s` is an attribute name: 1-63 characters of [a-z0-9.-], starting with a letter
/// (dots namespace it: "prefix-cache.matched-blocks").
constexpr bool is_attribute_name(std::string_view s) {
    if (s.empty() || s.size() > 63 || !(s[0] >= 'a' && s[0] <= 'z')) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
    return true;
}

/// A borrowed ABI string as a string_view (empty when its size is 0, whatever its pointer).
constexpr std::string_view view(plughost_str s) noexcept {
    return s.size ? std::string_view(s.data, s.size) : std::string_view();
}

}  // namespace plughost

#endif  // PLUGHOST_VOCABULARY_HPP
