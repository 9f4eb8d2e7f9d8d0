// plughost gates, run as a real process.
#include "test_support.hpp"

#include <doctest/doctest.h>

using namespace plughost::test;
namespace json = boost::json;

namespace {

const json::object *gate(const json::value &doc, const std::string &name) {
    for (const auto &g : doc.at("gates").as_array())
        if (g.at("name") == name.c_str()) return &g.as_object();
    return nullptr;
}

}  // namespace

TEST_CASE("gates lists every known gate with its tier, default, lock, declarer and value, and removed gates") {
    TempDir plugins;
    copy_to(paths::alpha_gated, plugins / "alpha.so");
    copy_to(paths::beta_gated, plugins / "beta.so");
    copy_to(paths::stable_gated, plugins / "stable.so");
    copy_to(paths::dev_gated, plugins / "dev.so");
    const auto r = run_plughost(
        {"gates", "--plugin-dir", plugins.path().string(), "-o", "json", "--feature-gates", "AllAlpha=true"});
    CHECK(r.exit_code == 0);
    const auto doc = parse_json(r.out);
    const auto *alpha = gate(doc, "AlphaScorer");
    REQUIRE(alpha);
    CHECK(alpha->at("stability") == "alpha");
    CHECK(alpha->at("default") == false);
    CHECK(alpha->at("locked") == false);
    CHECK(alpha->at("declaredBy").at(0) == "alpha-scorer");
    CHECK(alpha->at("enabled") == true);  // AllAlpha
    CHECK(gate(doc, "DevScorer")->at("enabled") == false);
    CHECK(gate(doc, "BetaScorer")->at("default") == true);
    CHECK(gate(doc, "StableScorer")->at("locked") == true);
    CHECK(gate(doc, "AllAlpha")->at("stability").is_null());
    CHECK(doc.at("tombstoned").at(0).at("name") == "QueueKvBlendScorer");

    const auto table = run_plughost({"gates", "--plugin-dir", plugins.path().string()});
    CHECK(table.exit_code == 0);
    CHECK(contains(table.out, "StableScorer"));
    CHECK(contains(table.out, "locked"));
    CHECK(contains(table.out, "removed gates:"));
    CHECK(contains(table.out, "QueueKvBlendScorer"));

    const auto locked =
        run_plughost({"gates", "--plugin-dir", plugins.path().string(), "--feature-gates", "StableScorer=false"});
    CHECK(locked.exit_code == 1);
    CHECK(contains(locked.err, "locked to true"));
}
