// Admission over real plugin files: the foundation rules, and the guarantee that no code of a
// rejected plugin runs.
#include "admission/admission.hpp"
#include "load/plugin_loader.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

using namespace plughost::host;
using namespace plughost::test;

namespace {

const Candidate &find(const Admission &a, const std::string &file) {
    for (const auto &c : a.candidates)
        if (c.file.path.filename() == file) return c;
    FAIL("no candidate " << file);
    throw 0;
}

bool has_reason(const Candidate &c, Code code, const std::string &text = "") {
    for (const auto &r : c.reasons)
        if (r.code == code && contains(r.message, text)) return true;
    return false;
}

bool has_warning(const Candidate &c, Code code, const std::string &text = "") {
    for (const auto &w : c.warnings)
        if (w.code == code && contains(w.message, text)) return true;
    return false;
}

}  // namespace

TEST_CASE("each fixture gets the decision and reason code it was built to show") {
    TempDir dir;
    for (const auto &path : {paths::good_scorer, paths::no_note, paths::note_not_json, paths::missing_mandatory_field,
                             paths::abi_major_mismatch, paths::abi_minor_newer, paths::two_manifests})
        copy_to(path, dir / std::filesystem::path(path).filename().string());
    const auto a = admit_directory(dir.path(), foundation_rules(), false);
    REQUIRE(!a.error);
    REQUIRE(a.candidates.size() == 7);

    CHECK(find(a, "good_scorer.so").admitted());
    CHECK(has_reason(find(a, "no_note.so"), Code::no_manifest));
    CHECK(has_reason(find(a, "note_not_json.so"), Code::bad_manifest, "not valid JSON"));
    CHECK(has_reason(find(a, "missing_mandatory_field.so"), Code::bad_manifest, "field stability is missing"));
    CHECK(has_reason(find(a, "abi_major_mismatch.so"), Code::abi_major_mismatch,
                     "built against plughost ABI 2.0.0, this host implements ABI " PLUGHOST_ABI_VERSION_STRING
                     " (major 2 != 1)"));
    // Only the ABI reason: the fields of another major are not judged by this host's schema.
    CHECK(find(a, "abi_major_mismatch.so").reasons.size() == 1);
    CHECK(has_reason(find(a, "abi_minor_newer.so"), Code::abi_minor_newer,
                     "(minor 99 > " + std::to_string(PLUGHOST_ABI_VERSION_MINOR) + "); upgrade plughost"));
    CHECK(find(a, "abi_minor_newer.so").reasons.size() == 1);
    CHECK(has_reason(find(a, "two_manifests.so"), Code::multiple_manifests));
    // Rejected files are closed at once; nothing is kept for them.
    for (const auto &c : a.candidates) CHECK(!c.file.fd);
}

TEST_CASE("two files of one type are both refused, naming each other") {
    TempDir dir;
    copy_to(paths::good_scorer, dir / "one.so");
    copy_to(paths::good_scorer, dir / "two.so");
    copy_to(paths::plugin_queue_scorer, dir / "queue-scorer.so");
    const auto a = admit_directory(dir.path(), foundation_rules(), true);
    CHECK(has_reason(find(a, "one.so"), Code::duplicate_type,
                     "declares plugin type \"good-scorer\", as do " + (dir / "two.so").string() +
                         "; a type has one provider and none is chosen, so all of them are refused"));
    CHECK(has_reason(find(a, "two.so"), Code::duplicate_type, (dir / "one.so").string()));
    CHECK(find(a, "queue-scorer.so").admitted());  // a good plugin is never held back by bad ones
    CHECK(find(a, "queue-scorer.so").file.fd);

    for (int i = 3; i <= 6; ++i) copy_to(paths::good_scorer, dir / ("copy" + std::to_string(i) + ".so"));
    const auto many = admit_directory(dir.path(), foundation_rules(), false);
    CHECK(has_reason(find(many, "one.so"), Code::duplicate_type, "and 2 other files; a type has one provider"));
}

TEST_CASE("the operator's choice of provider: the chosen file alone provides the type, the others name it") {
    TempDir dir;
    copy_to(paths::good_scorer, dir / "one.so");
    copy_to(paths::good_scorer, dir / "two.so");
    auto choice = std::make_shared<TypeProviders>();
    choice->chosen["good-scorer"] = {"two.so", "policy.providers"};
    auto rules = file_rules();
    rules.push_back(unique_types(choice));
    const auto a = admit_directory(dir.path(), rules, false);
    CHECK(find(a, "two.so").admitted());
    CHECK(has_warning(find(a, "two.so"), Code::provider_chosen, "chosen by policy.providers over"));
    CHECK(has_reason(find(a, "one.so"), Code::provider_not_chosen,
                     "which policy.providers gives to " + (dir / "two.so").string()));

    // A choice naming no file of the type refuses every file of it, even a single one.
    choice->chosen["good-scorer"] = {"three.so", "policy.providers"};
    std::filesystem::remove(dir / "two.so");
    const auto none = admit_directory(dir.path(), rules, false);
    CHECK(has_reason(find(none, "one.so"), Code::provider_not_chosen, "gives to \"three.so\", but no file"));

    // With a lock, only the files it pins under the type take part.
    copy_to(paths::good_scorer, dir / "two.so");
    auto locked = std::make_shared<TypeProviders>();
    locked->locked.emplace();
    (*locked->locked)["one.so"] = "good-scorer";
    auto lock_rules = file_rules();
    lock_rules.push_back(unique_types(locked));
    const auto pinned = admit_directory(dir.path(), lock_rules, false);
    CHECK(find(pinned, "one.so").admitted());
    CHECK(find(pinned, "two.so").reasons.empty());  // refused by the lock rule, not by this one
}

TEST_CASE("rules are independent: a custom rule adds its reason after the foundation's") {
    TempDir dir;
    copy_to(paths::good_scorer, dir / "good.so");
    auto rules = foundation_rules();
    rules.push_back([](std::vector<Candidate> &cs) {
        for (auto &c : cs)
            if (c.manifest() && c.manifest()->type == "good-scorer") c.reject(Code::below_min_stability, "test rule");
    });
    const auto a = admit_directory(dir.path(), rules, true);
    CHECK(has_reason(find(a, "good.so"), Code::below_min_stability, "test rule"));
    CHECK(!find(a, "good.so").file.fd);
}

TEST_CASE("no code of a rejected plugin runs, its admitted twin's does, once loaded") {
    TempDir dir;
    const auto marker = dir / "marker.txt";
    REQUIRE(::setenv("PLUGHOST_TEST_MARKER", marker.c_str(), 1) == 0);
    TempDir plugins;
    copy_to(paths::marker_rejected, plugins / "marker_rejected.so");
    copy_to(paths::marker_admitted, plugins / "marker_admitted.so");

    auto a = admit_directory(plugins.path(), foundation_rules(), true);
    CHECK(!find(a, "marker_rejected.so").admitted());
    CHECK(find(a, "marker_admitted.so").admitted());
    CHECK(!std::filesystem::exists(marker));  // admission read both; neither ran

    for (auto &c : a.candidates)
        if (c.admitted()) {
            const auto loaded = load_plugin(c);
            REQUIRE(loaded.plugin);
        }
    REQUIRE(std::filesystem::exists(marker));
    CHECK(read_file(marker) == "marker-admitted loaded\n");

    auto &rejected = const_cast<Candidate &>(find(a, "marker_rejected.so"));
    const auto refused = load_plugin(rejected);  // the loader refuses what admission refused
    CHECK(refused.error);
    CHECK(read_file(marker) == "marker-admitted loaded\n");
    ::unsetenv("PLUGHOST_TEST_MARKER");
}
