#include "admission/tombstones.hpp"
#include "common/json_document.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

using namespace plughost::host;
using namespace plughost::test;

TEST_CASE("the bundled tombstones record a plugin split in two, and a removed gate") {
    const Tombstones &t = bundled_tombstones();
    const Tombstone *plugin = t.find_plugin("queue-kv-blend-scorer");
    REQUIRE(plugin);
    CHECK(plugin->replacements == std::vector<std::string>{"queue-scorer", "kv-cache-utilization-scorer"});
    CHECK(plugin->removed_in.str() == "1.0.0");
    CHECK(t.find_gate("QueueKvBlendScorer"));
    CHECK(!t.find_plugin("queue-scorer"));
    CHECK(replacement_hint(*plugin) == "replace it with \"queue-scorer\" and \"kv-cache-utilization-scorer\"");
}

TEST_CASE("reading a tombstones document: entries added, problems located") {
    Tombstones t;
    const auto doc = parse_json_document(R"({"plugins":[{"type":"gone-scorer","removedIn":"0.5.0","message":"use x",
        "replacements":["x"]},{"type":"Bad Type","removedIn":"1.0.0","message":"m"},
        {"type":"no-version","message":"m"}],"gates":[{"name":"OldGate","removedIn":"0.4.0","message":"m"}],
        "extra":1})",
                                         "t.json");
    REQUIRE(!doc.problem);
    const auto issues = read_tombstones(doc.value, "t.json", t);
    REQUIRE(t.find_plugin("gone-scorer"));
    CHECK(t.find_plugin("gone-scorer")->source == "t.json");
    CHECK(t.find_gate("OldGate"));
    std::vector<std::string> paths;
    for (const auto &i : issues) paths.push_back(i.path);
    CHECK(paths == std::vector<std::string>{"/extra", "/plugins/1/type", "/plugins/2/removedIn"});
}
