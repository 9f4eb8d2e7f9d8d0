// Plugin instances on the host side: create and destroy through the C entry, and the host API
// a plugin talks back through (logs into the host's sinks, tagged with the instance name).
#include "admission/admission.hpp"
#include "deployment.hpp"
#include "load/instance.hpp"
#include "load/plugin_loader.hpp"

#include <doctest/doctest.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

using namespace plughost::host;
using namespace plughost::test;

namespace {

std::shared_ptr<const LoadedPlugin> load(const std::string &path) {
    TempDir dir;
    copy_to(path, dir / "p.so");
    auto a = admit_directory(dir.path(), foundation_rules(), true);
    REQUIRE(a.candidates.at(0).admitted());
    auto r = load_plugin(a.candidates[0]);
    REQUIRE(r.plugin);
    return r.plugin;
}

void call_score(Instance &instance, double &score) {
    plughost_request request{};
    request.struct_size = sizeof request;
    plughost_endpoint endpoint{};
    endpoint.struct_size = sizeof endpoint;
    const plughost_endpoint *endpoints[] = {&endpoint};
    char buffer[256];
    plughost_message message{buffer, sizeof buffer, 0};
    REQUIRE(instance.entry().score(instance.handle(), &request, endpoints, 1, &score, &message) == PLUGHOST_OK);
}

}  // namespace

TEST_CASE("a plugin's log lines go through the host's sinks, tagged with its instance name, sanitized") {
    CapturedLog log;
    std::string error;
    auto instance = Instance::create(load(paths::host_api_user), "my-scorer", R"({"greeting":"hi"})", error);
    REQUIRE_MESSAGE(instance, error);
    double score = 0;
    call_score(*instance, score);
    const std::string text = log.text.str();
    CHECK(contains(text, "[my-scorer] [info] created as my-scorer with greeting hi"));
    // Untrusted text cannot forge log lines or colour the terminal.
    CHECK(contains(text, "[my-scorer] [warning] scoring\\x0awith a newline and \\x1b[31mcolour"));
}

TEST_CASE("counters published by a plugin are kept per instance") {
    std::string error;
    auto a = Instance::create(load(paths::host_api_user), "a", "{}", error);
    auto b = Instance::create(load(paths::host_api_user), "b", "{}", error);
    REQUIRE(a);
    REQUIRE(b);
    double score = 0;
    call_score(*a, score);
    call_score(*a, score);
    call_score(*b, score);
    REQUIRE(a->counters().size() == 2);
    CHECK(a->counters()[0] == std::pair<std::string, double>{"scored", 2});
    CHECK(a->counters()[1] == std::pair<std::string, double>{"calls", 2});
    CHECK(b->counters()[1].second == 1);
}

TEST_CASE("a failing create reports the plugin's own message and leaves nothing to destroy") {
    std::string error;
    auto instance = Instance::create(load(paths::throwing_plugin), "t", R"({"throwInCreate":true})", error);
    CHECK(!instance);
    CHECK(error == "refusing to start: throwInCreate is set");
    instance = Instance::create(load(paths::host_api_user), "u", R"({"greting":"x"})", error);
    CHECK(!instance);
    CHECK(error == "unknown parameter 'greting'; known parameters: greeting");
}

TEST_CASE("log lines are cut and control characters escaped") {
    CHECK(sanitize_line("a\tb\x7f") == "a\\x09b\\x7f");
    CHECK(sanitize_line(std::string(5000, 'x'), 10) == "xxxxxxxxxx...");
}

TEST_CASE("a C plugin reads its parameters through the host API: the operator's values over the manifest's defaults") {
    CapturedLog log;
    std::string error;
    {
        auto defaults = Instance::create(load(paths::c_params), "defaults", R"({"bias": 3})", error);
        REQUIRE_MESSAGE(defaults, error);
        double score = 0;
        call_score(*defaults, score);
        CHECK(score == 0.25);  // the manifest's default weight
    }
    CHECK(contains(log.text.str(), "params: weight=0.25 mode=flat(string) bias=3 enabled=true tags=(none) "
                                   "undeclared=(none)"));
    {
        auto given = Instance::create(load(paths::c_params), "given",
                                      R"({"bias": 0, "weight": 0.75, "mode": "half", "enabled": false,
                                          "tags": ["a", "b"]})",
                                      error);
        REQUIRE_MESSAGE(given, error);
        double score = 0;
        call_score(*given, score);
        CHECK(score == 0.75);
    }
    CHECK(contains(
        log.text.str(),
        R"(params: weight=0.75 mode=half(string) bias=0 enabled=false tags=["a","b"](json) undeclared=(none))"));
}
