#include "common/json_document.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

using namespace plughost::host;
using namespace plughost::test;

TEST_CASE("text that is not JSON is located by line and column") {
    const auto doc = parse_json_document("{\n  \"a\": 1,\n  \"b\": ]\n}", "c.json");
    REQUIRE(doc.problem);
    CHECK(doc.problem->code == Code::not_json);
    CHECK(contains(doc.problem->message, "c.json is not valid JSON"));
    CHECK(contains(doc.problem->message, "line 3"));
    CHECK(parse_json_document("{} {}", "x").problem);
    CHECK(parse_json_document("", "x").problem);
}

TEST_CASE("deep nesting and huge documents are refused with a clear reason") {
    const auto deep = parse_json_document(std::string(100000, '[') + std::string(100000, ']'), "deep.json");
    REQUIRE(deep.problem);
    CHECK(contains(deep.problem->message, "nested deeper than 64 levels"));
    const auto big = parse_json_document(std::string(kMaxDocumentBytes + 1, ' '), "big.json");
    REQUIRE(big.problem);
    CHECK(big.problem->code == Code::too_large);
}

TEST_CASE("files: unreadable is an I/O error, bad content is a problem of the document") {
    TempDir dir;
    std::string io;
    CHECK(!load_json_document(dir / "missing.json", io));
    CHECK(contains(io, "missing.json"));
    io.clear();
    CHECK(!load_json_document(dir.path(), io));
    CHECK(contains(io, "not a regular file"));
    write_file(dir / "big.json", std::string(10 * 1024 * 1024, ' '));
    const auto big = load_json_document(dir / "big.json", io);
    REQUIRE(big);
    REQUIRE(big->problem);
    CHECK(contains(big->problem->message, "10485760 bytes; the limit is"));
    write_file(dir / "ok.json", R"({"a": [1, 2]})");
    const auto ok = load_json_document(dir / "ok.json", io);
    REQUIRE(ok);
    CHECK(!ok->problem);
    CHECK(ok->value.at("a").as_array().size() == 2);
}

TEST_CASE("JSON Pointers escape ~ and /") {
    CHECK(child("/featureGates", "a/b~c") == "/featureGates/a~1b~0c");
    CHECK(child("/plugins", std::size_t{3}) == "/plugins/3");
}
