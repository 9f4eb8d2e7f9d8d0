// Helpers shared by the tests of the in-tree plugins: the manifest as the host reads it, and
// the checks every plugin's parameters go through.
#pragma once

#include "inspect/manifest.hpp"
#include "test_support.hpp"

#include <plughost/testing.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plughost::test::plugin_tests {

namespace pt = plughost::testing;
namespace host = plughost::host;

/// The plugin's embedded manifest as the host validates it; fails the test when the host
/// would refuse it.
inline host::Manifest host_manifest(const pt::PluginLibrary &lib) {
    const auto reading = host::read_manifest(lib.manifest_json());
    std::string errors;
    for (const auto &e : reading.errors) errors += e.field + " " + e.message + "\n";
    REQUIRE_MESSAGE(reading.manifest, errors << lib.manifest_json());
    return *reading.manifest;
}

/// The declared default of `name`, serialized ("" when the parameter has none).
inline std::string default_of(const host::Manifest &m, std::string_view name) {
    const host::ParameterSpec *p = m.find_parameter(name);
    REQUIRE_MESSAGE(p, "no parameter " << name);
    return p->default_value ? boost::json::serialize(*p->default_value) : std::string();
}

/// Creating an instance with `parameters` fails as invalid arguments with exactly `message`.
inline void check_rejected(pt::PluginLibrary &lib, const std::string &parameters, const std::string &message) {
    INFO("parameters: " << parameters);
    const auto made = lib.create("bad", parameters);
    CHECK(made.status == PLUGHOST_INVALID_ARGUMENT);
    CHECK(made.message == message);
    CHECK(!made.value);
}

/// Creating an instance with `parameters` fails as invalid arguments with the SDK's range
/// message "parameter '<name>': expected a value in [<lo>, <hi>], found <value>". The numbers
/// are compared as numbers, since how the SDK spells them (1.5 or 1.5E0) is not ours to pin.
inline void check_out_of_range(pt::PluginLibrary &lib, const std::string &parameters, const std::string &name,
                               double lo, double hi, double value) {
    INFO("parameters: " << parameters);
    const auto made = lib.create("bad", parameters);
    CHECK(made.status == PLUGHOST_INVALID_ARGUMENT);
    CHECK(!made.value);
    INFO("message: " << made.message);
    static const std::regex shape(R"(parameter '(\w+)': expected a value in \[(\S+), (\S+)\], found (\S+))");
    std::smatch m;
    REQUIRE(std::regex_match(made.message, m, shape));
    const auto number = [](const std::string &text) { return boost::json::parse(text).to_number<double>(); };
    CHECK(m[1].str() == name);
    CHECK(number(m[2].str()) == lo);
    CHECK(number(m[3].str()) == hi);
    CHECK(number(m[4].str()) == value);
}

/// Like check_rejected, for a message whose number formatting is not ours to pin down: it
/// starts with `head` and the rest parses as a number equal to `value`.
inline void check_rejected_number(pt::PluginLibrary &lib, const std::string &parameters, const std::string &head,
                                  double value) {
    INFO("parameters: " << parameters);
    const auto made = lib.create("bad", parameters);
    CHECK(made.status == PLUGHOST_INVALID_ARGUMENT);
    CHECK(!made.value);
    INFO("message: " << made.message);
    REQUIRE(made.message.rfind(head, 0) == 0);
    CHECK(boost::json::parse(made.message.substr(head.size())).to_number<double>() == value);
}

/// Creates an instance that must succeed.
inline std::unique_ptr<pt::PluginInstance> make(pt::PluginLibrary &lib, const std::string &parameters = "{}") {
    auto made = lib.create("under-test", parameters);
    REQUIRE_MESSAGE(made.ok(), parameters << ": " << made.message);
    return std::move(made.value);
}

/// Endpoint indexes, as filters and pickers return them.
using Indexes = std::vector<std::size_t>;

/// `n` endpoints named e0, e1, ...
inline pt::EndpointSet endpoints_named(std::size_t n) {
    std::vector<pt::EndpointSpec> specs;
    for (std::size_t i = 0; i < n; ++i) specs.push_back({.name = "e" + std::to_string(i)});
    return pt::EndpointSet(specs);
}

/// `calls` decisions of one picker instance over endpoints_named(totals.size()), each checked to
/// have succeeded.
inline std::vector<Indexes> decisions(pt::PluginInstance &picker, const std::vector<double> &totals, int calls) {
    const auto endpoints = endpoints_named(totals.size());
    std::vector<Indexes> out;
    for (int c = 0; c < calls; ++c) {
        auto picked = picker.pick(pt::RequestData(), endpoints, totals);
        REQUIRE_MESSAGE(picked.ok(), picked.message);
        out.push_back(std::move(picked.value));
    }
    return out;
}

}  // namespace plughost::test::plugin_tests
