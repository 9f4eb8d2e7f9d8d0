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

/// What a plugin does in a scheduling profile.
enum class Role { filter, scorer, picker };

/// JSON type of a parameter.
enum class ParamType { boolean, integer, number, string, array, object };

inline constexpr std::array kStabilities{Stability::dev, Stability::alpha, Stability::beta, Stability::stable};
inline constexpr std::array kRoles{Role::filter, Role::scorer, Role::picker};
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
    }
    return "?";
}

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

/// A borrowed ABI string as a string_view (empty when its size is 0, whatever its pointer).
constexpr std::string_view view(plughost_str s) noexcept {
    return s.size ? std::string_view(s.data, s.size) : std::string_view();
}

}  // namespace plughost

#endif  // PLUGHOST_VOCABULARY_HPP
