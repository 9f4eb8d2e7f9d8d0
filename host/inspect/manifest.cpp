#include "inspect/manifest.hpp"

#include "common/json.hpp"

#include <plughost/detail/json_kind.hpp>
#include <plughost/plugin.h>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace plughost::host {

const ParameterSpec *Manifest::find_parameter(std::string_view name) const {
    for (const auto &p : parameters)
        if (p.name == name) return &p;
    return nullptr;
}

const SemVer &host_abi_version() {
    static const SemVer v{PLUGHOST_ABI_VERSION_MAJOR, PLUGHOST_ABI_VERSION_MINOR, PLUGHOST_ABI_VERSION_PATCH, {}, {}};
    return v;
}

bool is_plugin_type_name(std::string_view s) {
    return !s.empty() && s.size() <= 63 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

bool is_gate_name(std::string_view s) {
    return !s.empty() && s.size() <= 63 && s[0] >= 'A' && s[0] <= 'Z' && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    });
}

namespace {

bool is_parameter_name(std::string_view s) {
    return !s.empty() && s.size() <= 63 && ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')) &&
           std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
           });
}

// One line of printable text: no control characters (this is shown in terminals and logs).
bool is_one_line(std::string_view s) {
    // No early exit: a loop the compiler vectorises (descriptions are most of a manifest's text).
    unsigned char control = 0;
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        control |= static_cast<unsigned char>((u < 0x20) | (u == 0x7f));
    }
    return control == 0;
}

}  // namespace

namespace {

constexpr std::size_t kMaxDescription = 300;
constexpr std::size_t kMaxMessage = 1000;
constexpr std::size_t kMaxParameters = 64;
constexpr std::size_t kMaxEnumValues = 64;
constexpr std::size_t kMaxAttributes = 64;
constexpr std::string_view kAttributeNameRule =
    "an attribute name (1-63 characters of [a-z0-9.-], starting with a letter, e.g. \"prefix.match-ratio\")";

// Reads the fields of one JSON object, recording an error per problem, and remembers which
// keys were consumed so leftovers can be reported as unknown.
class FieldReader {
public:
    FieldReader(const boost::json::object &object, std::string prefix, std::vector<FieldError> &errors)
        : object_(object), prefix_(std::move(prefix)), errors_(errors) {
        seen_.reserve(object_.size());
    }

    std::string field(std::string_view key) const { return prefix_ + std::string(key); }

    void error(std::string_view key, std::string message) { errors_.push_back({field(key), std::move(message)}); }

    const boost::json::value *find(std::string_view key, bool required) {
        const auto it = object_.find(key);
        if (it == object_.end()) {
            if (required) error(key, "is missing; it is mandatory");
            return nullptr;
        }
        seen_.push_back(it->key());  // a view of the object's own key: no copy, no allocation per key
        return &it->value();
    }

    // A string satisfying `valid`; `expected` says what valid means.
    std::optional<std::string> text(std::string_view key, bool required, std::string_view expected,
                                    bool (*valid)(std::string_view)) {
        const boost::json::value *v = find(key, required);
        if (!v) return std::nullopt;
        if (!v->is_string() || !valid(v->get_string())) {
            error(key, "expected " + std::string(expected) + ", found " + describe(*v));
            return std::nullopt;
        }
        return std::string(v->get_string());
    }

    std::optional<SemVer> semver(std::string_view key, bool required) {
        const boost::json::value *v = find(key, required);
        if (!v) return std::nullopt;
        std::optional<SemVer> parsed;
        if (v->is_string()) parsed = SemVer::parse(v->get_string());
        if (!parsed) error(key, "expected a semantic version such as \"1.2.0\", found " + describe(*v));
        return parsed;
    }

    std::optional<bool> boolean(std::string_view key) {
        const boost::json::value *v = find(key, false);
        if (!v) return std::nullopt;
        if (!v->is_bool()) {
            error(key, "expected true or false, found " + describe(*v));
            return std::nullopt;
        }
        return v->get_bool();
    }

    void report_unknown(std::string_view what) {
        for (const auto &kv : object_)
            if (std::find(seen_.begin(), seen_.end(), std::string_view(kv.key())) == seen_.end())
                errors_.push_back(
                    {prefix_ + std::string(kv.key()), "is not a " + std::string(what) + " field of plughost ABI " +
                                                          host_abi_version().str() + " (check its spelling)"});
    }

private:
    const boost::json::object &object_;
    std::string prefix_;
    std::vector<FieldError> &errors_;
    std::vector<std::string_view> seen_;  ///< keys of object_ that were read
};

bool nonempty_line(std::string_view s) { return !s.empty() && s.size() <= kMaxDescription && is_one_line(s); }
bool message_line(std::string_view s) { return !s.empty() && s.size() <= kMaxMessage && is_one_line(s); }

std::vector<std::string> read_type_list(FieldReader &r, std::string_view key) {
    std::vector<std::string> out;
    const boost::json::value *v = r.find(key, false);
    if (!v) return out;
    if (!v->is_array()) {
        r.error(key, "expected an array of plugin types, found " + describe(*v));
        return out;
    }
    for (std::size_t i = 0; i < v->get_array().size(); ++i) {
        const auto &item = v->get_array()[i];
        if (!item.is_string() || !is_plugin_type_name(item.get_string())) {
            r.error(std::string(key) + "[" + std::to_string(i) + "]",
                    "expected a plugin type ([a-z0-9-], 1-63 characters), found " + describe(item));
        } else if (std::find(out.begin(), out.end(), item.get_string()) != out.end()) {
            r.error(std::string(key) + "[" + std::to_string(i) + "]",
                    "repeats \"" + std::string(item.get_string()) + "\"");
        } else {
            out.emplace_back(item.get_string());
        }
    }
    return out;
}

// "required", "minimum", "maximum" and "enum" of one parameter.
void read_constraints(FieldReader &p, std::optional<ParamType> type, ParameterSpec &spec) {
    spec.required = p.boolean("required").value_or(false);
    const bool numeric = type == ParamType::number || type == ParamType::integer;
    for (auto [key, out] : {std::pair{"minimum", &spec.minimum}, std::pair{"maximum", &spec.maximum}}) {
        const boost::json::value *v = p.find(key, false);
        if (!v || !type) continue;
        if (!numeric) p.error(key, "applies to number and integer parameters only");
        else if (!v->is_number() || !std::isfinite(v->to_number<double>()))
            p.error(key, "expected a finite number, found " + describe(*v));
        else *out = v->to_number<double>();
    }
    if (spec.minimum && spec.maximum && *spec.minimum > *spec.maximum)
        p.error("minimum", "is greater than \"maximum\"");
    const boost::json::value *e = p.find("enum", false);
    if (!e || !type) return;
    if (!e->is_array() || e->get_array().empty() || e->get_array().size() > kMaxEnumValues) {
        p.error("enum", "expected an array of 1 to " + std::to_string(kMaxEnumValues) + " allowed values, found " +
                            describe(*e));
        return;
    }
    if (*type == ParamType::array || *type == ParamType::object || *type == ParamType::boolean) {
        p.error("enum", "applies to string, number and integer parameters only");
        return;
    }
    for (const auto &v : e->get_array()) {
        if (!detail::matches(*type, v)) {
            p.error("enum", "expected values of type " + std::string(to_string(*type)) + ", found " + describe(v));
            spec.one_of.clear();
            return;
        }
        spec.one_of.emplace_back(v, boost::json::storage_ptr());
    }
}

}  // namespace

std::optional<std::string> parameter_violation(const ParameterSpec &spec, const boost::json::value &value) {
    if (!spec.one_of.empty()) {
        for (const auto &allowed : spec.one_of)
            if (allowed == value ||
                (allowed.is_number() && value.is_number() && allowed.to_number<double>() == value.to_number<double>()))
                return std::nullopt;
        std::string list;
        for (const auto &allowed : spec.one_of) list += (list.empty() ? "" : ", ") + boost::json::serialize(allowed);
        return "must be one of " + list + ", found " + describe(value);
    }
    if (!value.is_number()) return std::nullopt;
    const double n = value.to_number<double>();
    auto text = [](double d) { return to_json(boost::json::value(d)); };
    if (spec.minimum && n < *spec.minimum)
        return "must be at least " + text(*spec.minimum) + ", found " + describe(value);
    if (spec.maximum && n > *spec.maximum)
        return "must be at most " + text(*spec.maximum) + ", found " + describe(value);
    return std::nullopt;
}

namespace {

std::vector<ParameterSpec> read_parameters(FieldReader &r, std::vector<FieldError> &errors) {
    std::vector<ParameterSpec> out;
    const boost::json::value *v = r.find("parameters", false);
    if (!v) return out;
    if (!v->is_array()) {
        r.error("parameters", "expected an array of parameter descriptions, found " + describe(*v));
        return out;
    }
    if (v->get_array().size() > kMaxParameters) {
        r.error("parameters", "declares " + std::to_string(v->get_array().size()) + " parameters; at most " +
                                  std::to_string(kMaxParameters) + " are allowed");
        return out;
    }
    for (std::size_t i = 0; i < v->get_array().size(); ++i) {
        const auto &item = v->get_array()[i];
        const std::string at = "parameters[" + std::to_string(i) + "]";
        if (!item.is_object()) {
            r.error(at,
                    "expected an object {name, type, description, default, required, minimum, maximum, enum}, found " +
                        describe(item));
            continue;
        }
        FieldReader p(item.get_object(), at + ".", errors);
        ParameterSpec spec;
        auto name =
            p.text("name", true, "a parameter name ([A-Za-z][A-Za-z0-9_]*, 1-63 characters)", is_parameter_name);
        const auto type_text = p.text("type", true, "one of boolean, integer, number, string, array, object",
                                      [](std::string_view s) { return parse_param_type(s).has_value(); });
        const auto type = type_text ? parse_param_type(*type_text) : std::nullopt;
        auto description = p.text("description", true, "a one-line description", nonempty_line);
        if (const boost::json::value *d = p.find("default", false); d && type) {
            if (detail::matches(*type, *d)) spec.default_value.emplace(*d, boost::json::storage_ptr());
            else p.error("default", "expected a value of type " + *type_text + ", found " + describe(*d));
        }
        read_constraints(p, type, spec);
        if (spec.required && spec.default_value)
            p.error("required", "a required parameter has no default: drop \"default\" or \"required\"");
        if (spec.default_value)
            if (auto problem = parameter_violation(spec, *spec.default_value)) p.error("default", *problem);
        p.report_unknown("parameter");
        if (name && std::any_of(out.begin(), out.end(), [&](const ParameterSpec &s) { return s.name == *name; }))
            p.error("name", "repeats parameter \"" + *name + "\"");
        if (!name || !type || !description) continue;
        spec.name = std::move(*name);
        spec.type = *type;
        spec.description = std::move(*description);
        out.push_back(std::move(spec));
    }
    return out;
}

std::vector<ProducedAttribute> read_produces(FieldReader &r, std::vector<FieldError> &errors) {
    std::vector<ProducedAttribute> out;
    const boost::json::value *v = r.find("produces", false);
    if (!v) return out;
    if (!v->is_array() || v->get_array().size() > kMaxAttributes) {
        r.error("produces", "expected an array of at most " + std::to_string(kMaxAttributes) +
                                " attributes {name, scope, type, description}, found " + describe(*v));
        return out;
    }
    for (std::size_t i = 0; i < v->get_array().size(); ++i) {
        const auto &item = v->get_array()[i];
        const std::string at = "produces[" + std::to_string(i) + "]";
        if (!item.is_object()) {
            r.error(at, "expected an object {name, scope, type, description}, found " + describe(item));
            continue;
        }
        FieldReader a(item.get_object(), at + ".", errors);
        const auto name = a.text("name", true, kAttributeNameRule, plughost::is_attribute_name);
        const auto scope = a.text("scope", true, "\"request\" or \"endpoint\"",
                                  [](std::string_view s) { return parse_attribute_scope(s).has_value(); });
        const auto type = a.text("type", true, "\"number\" or \"string\"",
                                 [](std::string_view s) { return parse_attribute_type(s).has_value(); });
        const auto description = a.text("description", true, "a one-line description", nonempty_line);
        a.report_unknown("produced attribute");
        if (name && std::any_of(out.begin(), out.end(), [&](const auto &p) { return p.name == *name; }))
            a.error("name", "repeats attribute \"" + *name + "\"");
        else if (name && scope && type && description)
            out.push_back({*name, *parse_attribute_scope(*scope), *parse_attribute_type(*type), *description});
    }
    return out;
}

std::vector<ConsumedAttribute> read_consumes(FieldReader &r, std::vector<FieldError> &errors) {
    std::vector<ConsumedAttribute> out;
    const boost::json::value *v = r.find("consumes", false);
    if (!v) return out;
    if (!v->is_array() || v->get_array().size() > kMaxAttributes) {
        r.error("consumes", "expected an array of at most " + std::to_string(kMaxAttributes) +
                                " attributes {name, required, defaultProducer}, found " + describe(*v));
        return out;
    }
    for (std::size_t i = 0; i < v->get_array().size(); ++i) {
        const auto &item = v->get_array()[i];
        const std::string at = "consumes[" + std::to_string(i) + "]";
        if (!item.is_object()) {
            r.error(at, "expected an object {name, required, defaultProducer}, found " + describe(item));
            continue;
        }
        FieldReader a(item.get_object(), at + ".", errors);
        const auto name = a.text("name", true, kAttributeNameRule, plughost::is_attribute_name);
        const bool required = a.boolean("required").value_or(true);
        const auto producer =
            a.text("defaultProducer", false, "a plugin type ([a-z0-9-], 1-63 characters)", is_plugin_type_name);
        a.report_unknown("consumed attribute");
        if (name && std::any_of(out.begin(), out.end(), [&](const auto &c) { return c.name == *name; }))
            a.error("name", "repeats attribute \"" + *name + "\"");
        else if (name) out.push_back({*name, required, producer.value_or("")});
    }
    return out;
}

// The two releases of a beta or stable plugin's deprecation period (docs/plugin-lifecycle.md):
// the first version that may remove it, two minor releases after `since` (X.Y.* -> X.(Y+2).0).
SemVer earliest_removal(const SemVer &since) { return SemVer{since.major, since.minor + 2, 0, {}, {}}; }

// since and removedIn are versions of the plugin itself (its manifest "version"), never of the
// host: a third-party plugin deprecates on its own release scale. A build at or past removedIn is
// not an error here: admission refuses it as past-removal (the operator may allow it).
void check_deprecation_versions(FieldReader &d, const std::optional<SemVer> &version,
                                const std::optional<std::string> &stability, const std::optional<SemVer> &since,
                                const std::optional<SemVer> &removed_in) {
    if (since && version && *version < *since)
        d.error("since", "is a version of this plugin and cannot be later than its own version: expected " +
                             version->str() + " or earlier, found " + since->str());
    if (since && removed_in && !(*since < *removed_in)) {
        d.error("removedIn", "must be later than since (" + since->str() + "), found " + removed_in->str());
        return;
    }
    const auto tier = stability ? parse_stability(*stability) : std::nullopt;
    if (since && removed_in && tier && *tier >= Stability::beta && *removed_in < earliest_removal(*since))
        d.error("removedIn", "a " + *stability +
                                 " plugin stays deprecated for at least two releases before it is removed "
                                 "(docs/plugin-lifecycle.md): expected " +
                                 earliest_removal(*since).str() + " or later after since " + since->str() + ", found " +
                                 removed_in->str());
}

}  // namespace

ManifestReading read_manifest(std::string_view json, const SemVer &host_abi) {
    ManifestReading reading;
    auto &errors = reading.errors;

    // The document lives only during this call: build it in a local arena instead of making a
    // heap allocation per string, array and object (the one value kept, a parameter's default,
    // is copied out to the default heap storage).
    unsigned char arena[4096];
    boost::json::monotonic_resource resource(arena, sizeof arena);
    JsonParse parsed = parse_json(json, {kMaxManifestBytes, kMaxManifestDepth}, &resource);
    if (parsed.error) {
        errors.push_back(
            {"", (parsed.error->code == Code::duplicate_key ? "is not usable JSON: " : "is not valid JSON: ") +
                     parsed.error->message});
        return reading;
    }
    const boost::json::value document = std::move(parsed.value);
    if (!document.is_object()) {
        errors.push_back({"", "expected a JSON object, found " + describe(document)});
        return reading;
    }
    const boost::json::object &object = document.get_object();
    auto peek = [&](std::string_view key) -> std::optional<std::string> {
        const boost::json::value *v = object.if_contains(key);
        if (v && v->is_string()) return std::string(v->get_string());
        return std::nullopt;
    };
    reading.type = peek("type");
    reading.role = peek("role");
    reading.version = peek("version");
    reading.stability = peek("stability");

    FieldReader r(object, "", errors);
    reading.abi_version = r.semver("abiVersion", true);
    if (reading.abi_version && reading.abi_version->major != host_abi.major) {
        errors.clear();  // another major's schema: nothing else can be interpreted
        return reading;
    }
    const bool newer_minor = reading.abi_version && reading.abi_version->minor > host_abi.minor;

    Manifest m;
    const auto type = r.text("type", true, "a plugin type ([a-z0-9-], 1-63 characters)", is_plugin_type_name);
    const auto role = r.text("role", true, "one of filter, scorer, picker, profile-handler, producer, observer",
                             [](std::string_view s) { return parse_role(s).has_value(); });
    const auto version = r.semver("version", true);
    const auto stability = r.text("stability", true, "one of dev, alpha, beta, stable",
                                  [](std::string_view s) { return parse_stability(s).has_value(); });
    const auto gate =
        r.text("featureGate", false, "an UpperCamelCase gate name ([A-Z][A-Za-z0-9]*, 1-63 characters)", is_gate_name);
    const auto description = r.text("description", true, "a one-line description (1-300 characters)", nonempty_line);
    m.thread_safe = r.boolean("threadSafe").value_or(false);
    m.parameters = read_parameters(r, errors);
    m.produces = read_produces(r, errors);
    m.consumes = read_consumes(r, errors);
    // What ABI 1.1 added cannot be in a plugin built against 1.0: its entry has no hooks for it.
    const bool before_1_1 = reading.abi_version && reading.abi_version->minor < 1;
    const auto parsed_role = role ? parse_role(*role) : std::nullopt;
    if (before_1_1 && parsed_role && !in_profile(*parsed_role))
        r.error("role", "\"" + *role + "\" needs abiVersion 1.1 or later (this manifest says " +
                            reading.abi_version->str() + "); rebuild the plugin with a plughost SDK of ABI 1.1");
    for (const char *field : {"produces", "consumes"})
        if (before_1_1 && object.contains(field))
            r.error(field, "needs abiVersion 1.1 or later (this manifest says " + reading.abi_version->str() + ")");
    if (parsed_role && *parsed_role != Role::producer && !m.produces.empty())
        r.error("produces", "only plugins of role producer publish attributes; this one is a " + *role);
    if (parsed_role && *parsed_role == Role::producer && m.produces.empty() && object.contains("role"))
        r.error("produces", "is missing or empty; a producer declares the attributes it publishes");

    const auto deprecated = r.boolean("deprecated");
    const boost::json::value *dep = r.find("deprecation", deprecated.value_or(false));
    if (dep && !deprecated.value_or(false)) {
        r.error("deprecation", "is given but \"deprecated\" is not true; set \"deprecated\": true or remove it");
    } else if (dep && !dep->is_object()) {
        r.error("deprecation", "expected an object {since, removedIn, message, replacements}, found " + describe(*dep));
    } else if (dep) {
        FieldReader d(dep->get_object(), "deprecation.", errors);
        Deprecation out;
        const auto since = d.semver("since", true);
        const auto removed_in = d.semver("removedIn", true);
        const auto message = d.text("message", true, "a one-line migration message (1-1000 characters)", message_line);
        out.replacements = read_type_list(d, "replacements");
        d.report_unknown("deprecation");
        check_deprecation_versions(d, version, stability, since, removed_in);
        if (since && removed_in && message) {
            out.since = *since;
            out.removed_in = *removed_in;
            out.message = *message;
            m.deprecation = std::move(out);
        }
    }

    if (stability && gate == std::nullopt && !object.contains("featureGate") &&
        (*stability == "dev" || *stability == "alpha"))
        r.error("featureGate", "is missing; it is mandatory for " + *stability + " plugins");
    if (!newer_minor) r.report_unknown("manifest");

    if (!errors.empty() || !type || !role || !version || !stability || !description || !reading.abi_version)
        return reading;
    m.type = *type;
    m.role = *parse_role(*role);
    m.version = *version;
    m.abi_version = *reading.abi_version;
    m.stability = *parse_stability(*stability);
    m.feature_gate = gate.value_or("");
    m.description = *description;
    reading.manifest = std::move(m);
    return reading;
}

}  // namespace plughost::host
