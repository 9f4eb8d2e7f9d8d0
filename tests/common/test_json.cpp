#include "common/json.hpp"

#include "test_support.hpp"

#include <boost/json/parse.hpp>
#include <doctest/doctest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace plughost::host;

namespace {
JsonParse parse(std::string_view text) { return parse_json(text, JsonLimits{}); }
}  // namespace

TEST_CASE("parse_json accepts strict JSON and builds the same value as Boost.JSON") {
    const std::string text = R"({"a":[1,2.5,-3,"x",true,null,{"b":{}}],"c":"\u00e9\n","d":18446744073709551615})";
    const JsonParse p = parse(text);
    REQUIRE_FALSE(p.error);
    CHECK(p.value == boost::json::parse(text));
}

TEST_CASE("parse_json refuses a duplicate key and names it with a JSON Pointer and a position") {
    SUBCASE("top level") {
        const JsonParse p = parse("{\"minStability\":\"stable\",\n \"minStability\":\"alpha\"}");
        REQUIRE(p.error);
        CHECK(p.error->code == Code::duplicate_key);
        CHECK(p.error->pointer == "/minStability");
        CHECK(plughost::test::contains(p.error->message, "duplicate key \"minStability\" in the top-level object"));
        CHECK(plughost::test::contains(p.error->message, "line 2"));
    }
    SUBCASE("nested in an array") {
        const JsonParse p = parse(R"({"plugins":[{"type":"a"},{"type":"b","name":"x","type":"c"}]})");
        REQUIRE(p.error);
        CHECK(p.error->pointer == "/plugins/1/type");
        CHECK(plughost::test::contains(p.error->message, "in /plugins/1 "));
    }
    SUBCASE("in a large object (the sorted check)") {
        std::string text = "{";
        for (int i = 0; i < 1000; ++i) text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
        text += "\"k500\":0}";
        const JsonParse p = parse(text);
        REQUIRE(p.error);
        CHECK(p.error->pointer == "/k500");
    }
    SUBCASE("keys needing escapes in the pointer") {
        const JsonParse p = parse(R"({"a/b":{"~x":1,"~x":2}})");
        REQUIRE(p.error);
        CHECK(p.error->pointer == "/a~1b/~0x");
    }
}

TEST_CASE("parse_json allows the same key in different objects, and many distinct keys") {
    CHECK_FALSE(parse(R"({"a":{"x":1},"b":{"x":2},"c":[{"x":1},{"x":2}],"x":3})").error);
    std::string text = "{";
    for (int i = 0; i < 5000; ++i)
        text += std::string(i ? "," : "") + "\"k" + std::to_string(i) + "\":" + std::to_string(i);
    text += "}";
    const JsonParse p = parse(text);
    REQUIRE_FALSE(p.error);
    CHECK(p.value.as_object().size() == 5000);
}

TEST_CASE("parse_json says where invalid UTF-8 is, and which byte") {
    const JsonParse p = parse("{\"a\":\"ok\",\n\"b\":\"caf\xff\"}");
    REQUIRE(p.error);
    CHECK(p.error->code == Code::not_json);
    CHECK(p.error->message == "invalid UTF-8 (byte 0xff) at line 2, column 9");
    // An overlong encoding and a lone surrogate are invalid too.
    CHECK(parse("[\"\xc0\xaf\"]").error);
    CHECK(parse("[\"\xed\xa0\x80\"]").error);
    CHECK_FALSE(parse("[\"\xe2\x82\xac \xf0\x9f\x98\x80\"]").error);
}

TEST_CASE("parse_json refuses a number beyond the range of a double instead of making it infinite") {
    for (const char *text : {"{\"w\": 1e400}", "{\"w\": -1e309}", "[1.8e308]"}) {
        CAPTURE(std::string(text));
        const JsonParse p = parse(text);
        REQUIRE(p.error);
        CHECK(p.error->code == Code::not_json);
        CHECK(plughost::test::contains(p.error->message, "a number beyond the range of a double"));
    }
    const JsonParse largest = parse("[1.7976931348623157e308, 4.9e-324, 1e-400]");  // underflow is fine: 0
    REQUIRE_FALSE(largest.error);
    CHECK(largest.value.at(0).as_double() == std::numeric_limits<double>::max());
    CHECK(largest.value.at(2).as_double() == 0.0);
}

TEST_CASE("parse_json names a byte-order mark, which JSON does not have") {
    const JsonParse p = parse("\xEF\xBB\xBF{\"a\": 1}");
    REQUIRE(p.error);
    CHECK(p.error->message ==
          "a UTF-8 byte-order mark (EF BB BF) at column 1: JSON has none; save the text without it");
}

TEST_CASE("parse_json enforces its limits and reports syntax errors with a position") {
    CHECK(parse_json("[[[[1]]]]", {1024, 3}).error->message == "nested deeper than 3 levels at column 4");
    const JsonParse big = parse_json("[1,2,3]", {4, 64});
    REQUIRE(big.error);
    CHECK(big.error->code == Code::too_large);
    const JsonParse trailing = parse("{\"a\":1,}");
    REQUIRE(trailing.error);
    CHECK(plughost::test::contains(trailing.error->message, "column 8"));
    CHECK(parse("{\"a\":1} x").error);      // extra data
    CHECK(parse("// c\n{\"a\":1}").error);  // no comments
}

TEST_CASE("put_json escapes every ASCII character the way the SDK's manifest renderer does, and parses back") {
    for (int c = 0; c < 128; ++c) {
        const std::string text(1, static_cast<char>(c));
        std::string out;
        put_json(out, std::string_view(text));
        CHECK(boost::json::parse(out).as_string() == text);
        const bool control = c < 0x20 || c == 0x7f;
        if (control) CHECK(out.find(static_cast<char>(c)) == std::string::npos);  // never raw in output
    }
    std::string out;
    put_json(out, std::string_view("\b\f\n\r\t\x01\x7f\"\\"));
    CHECK(out == R"("\b\f\n\r\t\u0001\u007f\"\\")");
}

// Boost.JSON 1.81 parses numbers fast but not always correctly rounded (about 10% of random
// doubles come back 1-2 units in the last place away; precise parsing came in 1.83): the
// exactness of what we write is checked with std::from_chars, Boost's reading of it to 4 ulps.
TEST_CASE("put_json writes numbers in their shortest exact form and never a non-finite number") {
    std::mt19937_64 random(42);
    for (int i = 0; i < 10000; ++i) {
        double v;
        std::uint64_t bits = random();
        std::memcpy(&v, &bits, sizeof v);
        if (!std::isfinite(v)) continue;
        std::string out;
        put_json(out, v);
        double back = 0;
        std::from_chars(out.data(), out.data() + out.size(), back);
        CHECK(back == v);
        const double boost_back = boost::json::parse(out).to_number<double>();
        CHECK(plughost::test::ulps_apart(boost_back, v) <= 4);
    }
    for (double v : {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::quiet_NaN()}) {
        std::string out;
        put_json(out, v);
        CHECK(out == "null");
    }
    std::string out;
    put_json(out, 0.5);
    put_json(out, 3.0);
    CHECK(out == "0.53");
}

TEST_CASE("to_json writes any value compactly and describe cuts long values at a character boundary") {
    const boost::json::value v = boost::json::parse(R"({"a":[1,2.5,"x\u007f"],"b":null,"c":true})");
    CHECK(to_json(v) == R"({"a":[1,2.5,"x\u007f"],"b":null,"c":true})");
    CHECK(describe(boost::json::value(5)) == "integer 5");
    CHECK(describe(nullptr) == "null");
    std::string euros;
    for (int i = 0; i < 40; ++i) euros += "\xe2\x82\xac";
    const std::string cut = describe(boost::json::value(euros));
    CHECK(cut.ends_with("..."));
    REQUIRE(cut.starts_with("string \""));
    CHECK_FALSE(parse("[\"" + cut.substr(8, cut.size() - 11) + "\"]").error);  // still valid UTF-8
}
