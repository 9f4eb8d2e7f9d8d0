// What kind of JSON value a parameter holds, and whether it is of a declared parameter type:
// one definition for the SDK's parameter checks and the host's config checks.
// Internal to the SDK and the host; not part of the plugin API.
#ifndef PLUGHOST_DETAIL_JSON_KIND_HPP
#define PLUGHOST_DETAIL_JSON_KIND_HPP

#include <plughost/vocabulary.hpp>

#include <boost/json/value.hpp>

#include <cmath>
#include <string_view>

namespace plughost::detail {

/// "null", "boolean", "integer", "number", "string", "array" or "object".
inline std::string_view json_kind(const boost::json::value &v) {
    switch (v.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64: return "integer";
    case boost::json::kind::double_: return "number";
    case boost::json::kind::string: return "string";
    case boost::json::kind::array: return "array";
    case boost::json::kind::object: return "object";
    }
    return "value";
}

/// Whether `v` is a value of parameter type `t`; an integral number such as 2.0 is an integer.
inline bool matches(ParamType t, const boost::json::value &v) {
    switch (t) {
    case ParamType::boolean: return v.is_bool();
    case ParamType::integer:
        return v.is_int64() || v.is_uint64() || (v.is_double() && std::trunc(v.get_double()) == v.get_double());
    case ParamType::number: return v.is_number();
    case ParamType::string: return v.is_string();
    case ParamType::array: return v.is_array();
    case ParamType::object: return v.is_object();
    }
    return false;
}

}  // namespace plughost::detail

#endif  // PLUGHOST_DETAIL_JSON_KIND_HPP
