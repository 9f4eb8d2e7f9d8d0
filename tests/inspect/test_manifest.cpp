// Every manifest field's validation, in memory: no .so needed.
#include "inspect/manifest.hpp"

#include "manifests.hpp"

#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <string>

using namespace plughost::host;
namespace json = boost::json;

namespace {

json::object valid_object() {
    return {
        {"type", "queue-scorer"},
        {"role", "scorer"},
        {"version", "1.2.3"},
        {"abiVersion", host_abi_version().str()},
        {"stability", "beta"},
        {"featureGate", "QueueScorer"},
        {"description", "Prefers short queues."},
        {"threadSafe", true},
        {"parameters", json::array{json::object{
                           {"name", "maxQueueSize"}, {"type", "integer"}, {"default", 0}, {"description", "Cap."}}}}};
}

ManifestReading read(const json::object &o) { return read_manifest(json::serialize(o)); }

// The errors of a document with `key` set to `value` (or removed when value is "remove").
std::vector<FieldError> errors_with(const std::string &key, const json::value &value, bool remove = false) {
    json::object o = valid_object();
    if (remove) o.erase(key);
    else o[key] = value;
    return read(o).errors;
}

bool has_error(const std::vector<FieldError> &errors, const std::string &field, const std::string &text) {
    for (const auto &e : errors)
        if (e.field == field && e.message.find(text) != std::string::npos) return true;
    return false;
}

std::string dump(const std::vector<FieldError> &errors) {
    std::string s;
    for (const auto &e : errors) s += e.field + ": " + e.message + "\n";
    return s;
}

}  // namespace

TEST_CASE("a complete manifest is read into every field") {
    const auto r = read(valid_object());
    REQUIRE_MESSAGE(r.manifest, dump(r.errors));
    const Manifest &m = *r.manifest;
    CHECK(m.type == "queue-scorer");
    CHECK(m.role == Role::scorer);
    CHECK(m.version.str() == "1.2.3");
    CHECK(m.abi_version == host_abi_version());
    CHECK(m.stability == Stability::beta);
    CHECK(m.feature_gate == "QueueScorer");
    CHECK(m.description == "Prefers short queues.");
    CHECK(m.thread_safe);
    REQUIRE(m.parameters.size() == 1);
    CHECK(m.parameters[0].name == "maxQueueSize");
    CHECK(m.parameters[0].type == ParamType::integer);
    CHECK(*m.parameters[0].default_value == json::value(0));
    CHECK(!m.deprecation);
}

TEST_CASE("type: [a-z0-9-], 1 to 63 characters, mandatory") {
    CHECK(has_error(errors_with("type", "", true), "type", "missing"));
    CHECK(has_error(errors_with("type", ""), "type", "expected a plugin type"));
    CHECK(has_error(errors_with("type", "Queue-Scorer"), "type", "found string \"Queue-Scorer\""));
    CHECK(has_error(errors_with("type", "queue_scorer"), "type", "expected a plugin type"));
    CHECK(has_error(errors_with("type", json::string(64, 'a')), "type", "expected a plugin type"));
    CHECK(has_error(errors_with("type", 5), "type", "found integer 5"));
    CHECK(errors_with("type", json::string(63, 'a')).empty());
    CHECK(errors_with("type", "a-1").empty());
}

TEST_CASE("role: filter, scorer or picker") {
    for (const char *ok : {"filter", "scorer", "picker"}) CHECK(errors_with("role", ok).empty());
    CHECK(has_error(errors_with("role", "ranker"), "role", "one of filter, scorer, picker"));
    CHECK(has_error(errors_with("role", "", true), "role", "missing"));
}

TEST_CASE("version and abiVersion: semantic versions") {
    CHECK(has_error(errors_with("version", "1.0"), "version", "expected a semantic version"));
    CHECK(has_error(errors_with("version", "", true), "version", "missing"));
    CHECK(errors_with("version", "2.0.0-rc.1+sha.abc").empty());
    CHECK(has_error(errors_with("abiVersion", "one"), "abiVersion", "expected a semantic version"));
    CHECK(has_error(errors_with("abiVersion", "", true), "abiVersion", "missing"));
}

TEST_CASE("stability is mandatory and has no unknown tier") {
    for (const char *ok : {"dev", "alpha", "beta", "stable"}) {
        json::object o = valid_object();
        o["stability"] = ok;
        CHECK_MESSAGE(read(o).manifest, ok);
    }
    CHECK(has_error(errors_with("stability", "", true), "stability", "missing"));
    CHECK(has_error(errors_with("stability", "unknown"), "stability", "one of dev, alpha, beta, stable"));
    CHECK(has_error(errors_with("stability", "Stable"), "stability", "one of dev, alpha, beta, stable"));
}

TEST_CASE("featureGate: UpperCamelCase, mandatory for dev and alpha only") {
    CHECK(has_error(errors_with("featureGate", "queueScorer"), "featureGate", "UpperCamelCase"));
    CHECK(has_error(errors_with("featureGate", "Queue-Scorer"), "featureGate", "UpperCamelCase"));
    CHECK(has_error(errors_with("featureGate", ""), "featureGate", "UpperCamelCase"));
    for (const char *tier : {"dev", "alpha"}) {
        json::object o = valid_object();
        o["stability"] = tier;
        o.erase("featureGate");
        CHECK(has_error(read(o).errors, "featureGate", std::string("mandatory for ") + tier));
    }
    for (const char *tier : {"beta", "stable"}) {
        json::object o = valid_object();
        o["stability"] = tier;
        o.erase("featureGate");
        CHECK(read(o).manifest);
    }
}

TEST_CASE("description: one line, mandatory") {
    CHECK(has_error(errors_with("description", "", true), "description", "missing"));
    CHECK(has_error(errors_with("description", ""), "description", "one-line"));
    CHECK(has_error(errors_with("description", "two\nlines"), "description", "one-line"));
    CHECK(has_error(errors_with("description", json::string(301, 'x')), "description", "1-300"));
}

TEST_CASE("threadSafe is a boolean") {
    CHECK(has_error(errors_with("threadSafe", "yes"), "threadSafe", "expected true or false"));
}

TEST_CASE("parameters: name, type, default matching the type, description") {
    auto with_param = [](json::object p) { return errors_with("parameters", json::array{std::move(p)}); };
    CHECK(has_error(errors_with("parameters", "x"), "parameters", "expected an array"));
    CHECK(has_error(errors_with("parameters", json::array{1}), "parameters[0]", "expected an object"));
    CHECK(has_error(with_param({{"type", "integer"}, {"description", "d"}}), "parameters[0].name", "missing"));
    CHECK(has_error(with_param({{"name", "9lives"}, {"type", "integer"}, {"description", "d"}}), "parameters[0].name",
                    "parameter name"));
    CHECK(has_error(with_param({{"name", "a"}, {"type", "int"}, {"description", "d"}}), "parameters[0].type",
                    "one of boolean, integer, number, string, array, object"));
    CHECK(has_error(with_param({{"name", "a"}, {"type", "integer"}, {"default", "3"}, {"description", "d"}}),
                    "parameters[0].default", "expected a value of type integer, found string \"3\""));
    CHECK(has_error(with_param({{"name", "a"}, {"type", "integer"}, {"default", 1.5}, {"description", "d"}}),
                    "parameters[0].default", "type integer"));
    CHECK(with_param({{"name", "a"}, {"type", "number"}, {"default", 1}, {"description", "d"}}).empty());
    CHECK(has_error(with_param({{"name", "a"}, {"type", "string"}}), "parameters[0].description", "missing"));
    CHECK(has_error(with_param({{"name", "a"}, {"type", "string"}, {"description", "d"}, {"unit", "ms"}}),
                    "parameters[0].unit", "is not a parameter field"));
    const json::object p{{"name", "a"}, {"type", "string"}, {"description", "d"}};
    CHECK(has_error(errors_with("parameters", json::array{p, p}), "parameters[1].name", "repeats parameter \"a\""));
}

TEST_CASE("deprecation: since, removedIn and message mandatory when deprecated, replacements one-to-many") {
    json::object o = valid_object();
    o["deprecated"] = true;
    o["deprecation"] = {{"since", "1.2.0"},
                        {"removedIn", "1.4.0"},
                        {"message", "Split in two."},
                        {"replacements", json::array{"a-scorer", "b-scorer"}}};
    auto r = read(o);
    REQUIRE_MESSAGE(r.manifest, dump(r.errors));
    REQUIRE(r.manifest->deprecation);
    CHECK(r.manifest->deprecation->removed_in.str() == "1.4.0");
    CHECK(r.manifest->deprecation->replacements == std::vector<std::string>{"a-scorer", "b-scorer"});

    json::object missing = o;
    missing["deprecation"] = {{"replacements", json::array{}}};
    const auto errors = read(missing).errors;
    CHECK(has_error(errors, "deprecation.since", "missing"));
    CHECK(has_error(errors, "deprecation.removedIn", "missing"));
    CHECK(has_error(errors, "deprecation.message", "missing"));

    json::object no_object = valid_object();
    no_object["deprecated"] = true;
    CHECK(has_error(read(no_object).errors, "deprecation", "missing"));

    json::object not_deprecated = o;
    not_deprecated["deprecated"] = false;
    CHECK(has_error(read(not_deprecated).errors, "deprecation", "\"deprecated\" is not true"));

    json::object backwards = o;
    backwards["deprecation"].as_object()["removedIn"] = "1.1.0";
    CHECK(has_error(read(backwards).errors, "deprecation.removedIn", "later than since"));

    json::object bad_replacement = o;
    bad_replacement["deprecation"].as_object()["replacements"] = json::array{"Bad Name"};
    CHECK(has_error(read(bad_replacement).errors, "deprecation.replacements[0]", "expected a plugin type"));
}

TEST_CASE("deprecation versions are the plugin's own: since <= version < removedIn's order, two releases for beta") {
    auto deprecated = [](const std::string &version, const std::string &stability, const std::string &since,
                         const std::string &removed_in) {
        json::object o = valid_object();
        o["version"] = version;
        o["stability"] = stability;
        o["deprecated"] = true;
        o["deprecation"] = {{"since", since}, {"removedIn", removed_in}, {"message", "Gone soon."}};
        return read(o);
    };
    // A third-party 0.x plugin: its numbering, not the host's, is the scale.
    const auto third_party = deprecated("0.4.0", "beta", "0.3.0", "0.6.0");
    CHECK_MESSAGE(third_party.manifest, dump(third_party.errors));

    // since later than the file's own version: the author used another scale (e.g. the host's).
    const auto future = deprecated("0.4.0", "beta", "1.0.0", "1.2.0");
    CHECK(has_error(future.errors, "deprecation.since", "expected 0.4.0 or earlier, found 1.0.0"));

    // At or past removedIn is not a manifest error: admission refuses it as past-removal.
    CHECK(deprecated("0.6.0", "beta", "0.3.0", "0.6.0").manifest);

    // Beta and stable: at least two minor releases between since and removedIn.
    CHECK(has_error(deprecated("0.4.0", "beta", "0.4.0", "0.5.0").errors, "deprecation.removedIn",
                    "expected 0.6.0 or later after since 0.4.0, found 0.5.0"));
    CHECK(has_error(deprecated("1.3.1", "stable", "1.3.1", "1.4.9").errors, "deprecation.removedIn",
                    "expected 1.5.0 or later"));
    CHECK(deprecated("1.3.0", "beta", "1.3.0", "2.0.0").manifest);  // a later major is later
    // Alpha may go in any release.
    CHECK(deprecated("0.4.0", "alpha", "0.4.0", "0.4.1").manifest);
}

TEST_CASE("parameter defaults of every type outlive the parsing") {
    json::object o = valid_object();
    o["parameters"] = json::array{
        json::object{{"name", "s"},
                     {"type", "string"},
                     {"default", "a string longer than any small-buffer storage"},
                     {"description", "d"}},
        json::object{
            {"name", "a"}, {"type", "array"}, {"default", json::array{1, "two", json::array{3}}}, {"description", "d"}},
        json::object{{"name", "o"},
                     {"type", "object"},
                     {"default", json::object{{"k", json::array{"v"}}}},
                     {"description", "d"}}};
    const std::string text = json::serialize(o);
    std::optional<Manifest> m;
    {
        auto reading = read_manifest(text);
        REQUIRE_MESSAGE(reading.manifest, dump(reading.errors));
        m = std::move(reading.manifest);
    }
    CHECK(m->parameters[0].default_value->as_string() == "a string longer than any small-buffer storage");
    CHECK(m->parameters[1].default_value->as_array().at(2).as_array().at(0).as_int64() == 3);
    CHECK(m->parameters[2].default_value->as_object().at("k").as_array().at(0).as_string() == "v");
}

TEST_CASE("unknown fields are errors, naming the field") {
    CHECK(has_error(errors_with("stabilty", "beta"), "stabilty", "is not a manifest field"));
}

TEST_CASE("all problems are reported at once") {
    json::object o = valid_object();
    o["type"] = "Bad";
    o["role"] = "nope";
    o.erase("stability");
    const auto r = read(o);
    CHECK(!r.manifest);
    CHECK(r.errors.size() >= 3);
    CHECK(r.type == "Bad");  // what is written is still shown to operators
}

TEST_CASE("a newer ABI minor may carry fields this host does not know, another major is not interpreted") {
    json::object newer = valid_object();
    newer["abiVersion"] = "1.99.0";
    newer["fieldFromTheFuture"] = 1;
    const auto r = read(newer);
    CHECK(r.errors.empty());
    CHECK(r.abi_version->minor == 99);

    json::object other_major = valid_object();
    other_major["abiVersion"] = "2.0.0";
    other_major["role"] = 7;
    const auto m = read(other_major);
    CHECK(m.errors.empty());
    CHECK(!m.manifest);
    CHECK(m.type == "queue-scorer");
}

TEST_CASE("text that is not a JSON object") {
    CHECK(has_error(read_manifest("not json").errors, "", "is not valid JSON"));
    CHECK(has_error(read_manifest("[1,2]").errors, "", "expected a JSON object, found array"));
    CHECK(has_error(read_manifest("").errors, "", "is not valid JSON"));
    CHECK(has_error(read_manifest(std::string(10000, '[')).errors, "", "is not valid JSON"));
    CHECK(has_error(
        read_manifest(plughost::test::manifest_json("a", "stable", "", "scorer", ",\"stability\":\"dev\"")).errors, "",
        "duplicate key \"stability\" in the top-level object"));
}

TEST_CASE("parameters: required, minimum, maximum and enum are read and checked for consistency") {
    auto with_param = [](json::object param) {
        json::object o = valid_object();
        param.emplace("name", "p");
        param.emplace("description", "A parameter.");
        o["parameters"] = json::array{param};
        return read(o);
    };
    const auto good = with_param({{"type", "number"}, {"minimum", 0}, {"maximum", 1.5}, {"default", 1}});
    REQUIRE_MESSAGE(good.errors.empty(), dump(good.errors));
    const ParameterSpec &spec = good.manifest->parameters.at(0);
    CHECK(spec.minimum == 0.0);
    CHECK(spec.maximum == 1.5);
    CHECK(!spec.required);
    CHECK(parameter_violation(spec, json::value(1.5)) == std::nullopt);
    CHECK(parameter_violation(spec, json::value(2)) == "must be at most 1.5, found integer 2");

    const auto choices = with_param({{"type", "string"}, {"enum", json::array{"lru", "fifo"}}, {"required", true}});
    REQUIRE_MESSAGE(choices.errors.empty(), dump(choices.errors));
    CHECK(choices.manifest->parameters.at(0).required);
    CHECK(parameter_violation(choices.manifest->parameters.at(0), json::value("lru")) == std::nullopt);
    CHECK(parameter_violation(choices.manifest->parameters.at(0), json::value("mru")) ==
          R"(must be one of "lru", "fifo", found string "mru")");

    CHECK(has_error(with_param({{"type", "number"}, {"required", true}, {"default", 1}}).errors,
                    "parameters[0].required", "a required parameter has no default"));
    CHECK(has_error(with_param({{"type", "string"}, {"minimum", 1}}).errors, "parameters[0].minimum",
                    "applies to number and integer parameters only"));
    CHECK(has_error(with_param({{"type", "number"}, {"minimum", 2}, {"maximum", 1}}).errors, "parameters[0].minimum",
                    "is greater than"));
    CHECK(has_error(with_param({{"type", "integer"}, {"enum", json::array{1, "two"}}}).errors, "parameters[0].enum",
                    "expected values of type integer"));
    CHECK(has_error(with_param({{"type", "boolean"}, {"enum", json::array{true}}}).errors, "parameters[0].enum",
                    "applies to string, number and integer"));
    CHECK(has_error(with_param({{"type", "number"}, {"maximum", 1}, {"default", 5}}).errors, "parameters[0].default",
                    "must be at most 1, found integer 5"));
    CHECK(has_error(with_param({{"type", "boolean"}, {"required", "yes"}}).errors, "parameters[0].required",
                    "expected true or false"));
}
