// The maturity list, including the check that the in-tree list matches the in-tree plugins.
#include "admission/maturity.hpp"
#include "common/json_document.hpp"
#include "inspect/discovery.hpp"
#include "inspect/manifest_reader.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace plughost::host;
using namespace plughost::test;

TEST_CASE("the in-tree maturity list pins every in-tree plugin at the tier its manifest declares") {
    const MaturityList &list = bundled_maturity();
    const auto found = discover_plugins(paths::plugin_dir);
    REQUIRE(!found.error);
    REQUIRE(found.files.size() >= 2);
    std::set<std::string> built;
    for (const auto &file : found.files) {
        const auto f = read_plugin_file(file, false);
        REQUIRE_MESSAGE(f.reading, file);
        REQUIRE_MESSAGE(f.reading->manifest, file);
        const Manifest &m = *f.reading->manifest;
        built.insert(m.type);
        const MaturityPin *pin = list.find(m.type);
        REQUIRE_MESSAGE(pin, "plugins/maturity.json does not list " << m.type);
        CHECK_MESSAGE(pin->stability == m.stability, m.type << " declares " << to_string(m.stability)
                                                            << " but plugins/maturity.json pins "
                                                            << to_string(pin->stability));
    }
    for (const auto &[type, pin] : list.pins)
        CHECK_MESSAGE(built.count(type), "plugins/maturity.json lists " << type << ", which is not built");
}

TEST_CASE("reading a maturity list: later documents override, problems are located") {
    MaturityList m;
    auto doc = parse_json_document(R"({"plugins":{"a-scorer":"beta","b-scorer":"gold","Bad":"beta"}})", "m.json");
    const auto issues = read_maturity(doc.value, "m.json", m);
    REQUIRE(issues.size() == 2);
    CHECK(issues[0].path == "/plugins/b-scorer");
    CHECK(
        contains(issues[0].message, "expected one of \"dev\", \"alpha\", \"beta\", \"stable\", found string \"gold\""));
    CHECK(issues[1].path == "/plugins/Bad");
    CHECK(m.find("a-scorer")->stability == Stability::beta);
    auto doc2 = parse_json_document(R"({"plugins":{"a-scorer":"stable"}})", "n.json");
    CHECK(read_maturity(doc2.value, "n.json", m).empty());
    CHECK(m.find("a-scorer")->stability == Stability::stable);
    CHECK(m.find("a-scorer")->source == "n.json");
}
