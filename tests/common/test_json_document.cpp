#include "common/json_document.hpp"
#include "common/yaml.hpp"
#include "test_support.hpp"

#include <boost/json/parse.hpp>
#include <doctest/doctest.h>

#include <cstdint>

using namespace plughost::host;
using namespace plughost::test;

TEST_CASE("text that is not JSON is located by line and column") {
    const auto doc = parse_json_document("{\n  \"a\": 1,\n  \"b\": ]\n}", "c.json");
    REQUIRE(doc.problem);
    CHECK(doc.problem->code == Code::not_json);
    CHECK(contains(doc.problem->message, "c.json is not valid JSON"));
    CHECK(contains(doc.problem->message, "line 3"));
    CHECK(parse_json_document("{} {}", "x").problem);
    CHECK(parse_json_document("", "x").problem);  // no document (read as YAML: no '{')
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

// ---- YAML -------------------------------------------------------------------------------------

namespace {

JsonDocument yaml(const std::string &text) { return parse_json_document(text, "c.yaml"); }

// The value of a YAML document that must read without a problem.
boost::json::value yaml_value(const std::string &text) {
    const auto doc = yaml(text);
    REQUIRE_MESSAGE(!doc.problem, doc.problem->message);
    CHECK(doc.format == DocumentFormat::yaml);
    return doc.value;
}

}  // namespace

TEST_CASE("the format is chosen by content: '{' first is JSON, anything else YAML") {
    CHECK(format_of(R"({"a": 1})") == DocumentFormat::json);
    CHECK(format_of(" \n\t {}") == DocumentFormat::json);
    CHECK(format_of("a: 1") == DocumentFormat::yaml);
    CHECK(format_of("# {comment}\n{}") == DocumentFormat::yaml);
    CHECK(format_of("[1, 2]") == DocumentFormat::yaml);
    CHECK(format_of("") == DocumentFormat::yaml);
    // JSON that starts with '[' reads the same through YAML.
    CHECK(yaml_value(R"([1, "two", {"three": [true, null, 4.5]}])") ==
          boost::json::parse(R"([1, "two", {"three": [true, null, 4.5]}])"));
    CHECK(parse_json_document("{\"a\": 1}", "c").format == DocumentFormat::json);
}

TEST_CASE("YAML scalars are typed by the YAML 1.2 core schema, quoted scalars are strings") {
    const auto v = yaml_value(R"(
nulls: [null, Null, NULL, ~, ]
empty:
bools: [true, True, TRUE, false, False, FALSE]
yaml11: [yes, no, on, off, y, n]
ints: [0, 42, -7, +3, 007, 0o17, 0x1F, 9223372036854775807, -9223372036854775808, 18446744073709551615]
big: 99999999999999999999
floats: [1.5, -0.25, .5, 1., 1e3, 2.5E-2, +1.0]
strings: ["true", '42', "null", 1.2.3, 0x, 0o9, 12:30, 60s, 1Gi, "", text with spaces]
block: |
  two
  lines
folded: >
  one
  line
)");
    for (const auto &n : v.at("nulls").as_array()) CHECK(n.is_null());
    CHECK(v.at("empty").is_null());
    for (std::size_t i = 0; i < 6; ++i) CHECK(v.at("bools").at(i) == (i < 3));
    for (const auto &s : v.at("yaml11").as_array()) CHECK(s.is_string());  // YAML 1.1 booleans are not 1.2's
    const auto &ints = v.at("ints").as_array();
    CHECK(ints[0] == 0);
    CHECK(ints[1] == 42);
    CHECK(ints[2] == -7);
    CHECK(ints[3] == 3);
    CHECK(ints[4] == 7);
    CHECK(ints[5] == 15);
    CHECK(ints[6] == 31);
    CHECK(ints[7].as_int64() == INT64_MAX);
    CHECK(ints[8].as_int64() == INT64_MIN);
    CHECK(ints[9].as_uint64() == UINT64_MAX);
    CHECK(v.at("big").is_double());
    const auto &floats = v.at("floats").as_array();
    CHECK(floats[0] == 1.5);
    CHECK(floats[1] == -0.25);
    CHECK(floats[2] == 0.5);
    CHECK(floats[3] == 1.0);
    CHECK(floats[4] == 1000.0);
    CHECK(floats[5] == 0.025);
    CHECK(floats[6] == 1.0);
    for (const auto &s : v.at("strings").as_array()) CHECK_MESSAGE(s.is_string(), s);
    CHECK(v.at("strings").at(0) == "true");
    CHECK(v.at("block") == "two\nlines\n");
    CHECK(v.at("folded") == "one line\n");
}

TEST_CASE("YAML problems: one issue each, with the line, the column and, for a node, its pointer") {
    struct Case {
        const char *text;
        Code code;
        const char *message;
        std::uint32_t line, column;
        const char *pointer;
    };
    const Case cases[] = {
        {"a: [1, 2\nb: 3\n", Code::not_yaml, "end of sequence flow not found", 2, 2, ""},
        {"a:\n  b: 1\n  b: 2\n", Code::duplicate_key, "duplicate key \"b\" in /a", 3, 3, "/a/b"},
        {"x: !!str 5\n", Code::not_yaml, "YAML tags (tag:yaml.org,2002:str) are not supported", 1, 4, "/x"},
        {"x: !custom {a: 1}\n", Code::not_yaml, "YAML tags (!custom) are not supported", 1, 4, "/x"},
        {"? [1, 2]\n: x\n", Code::not_yaml, "a sequence as a key (a complex key)", 1, 3, ""},
        {"base: &b {a: 1}\nother:\n  <<: *b\n", Code::not_yaml, "merge keys (<<) are not supported", 3, 3, "/other"},
        {"a: &x 1\n*x : 2\n", Code::not_yaml, "an alias (*name) cannot be a key", 2, 1, ""},
        {"a: 1\n---\nb: 2\n", Code::not_yaml, "a second YAML document at line 2", 2, 1, ""},
        {"# only a comment\n", Code::not_yaml, "no YAML document", 1, 1, ""},
        {"x: .inf\n", Code::not_yaml, "\".inf\" is a number JSON cannot hold", 1, 4, "/x"},
        {"x: 1e999\n", Code::not_yaml, "\"1e999\" is a number JSON cannot hold", 1, 4, "/x"},
        {"a: 1\nb: caf\xc3\n", Code::not_yaml, "invalid UTF-8 (byte 0xc3) at line 2, column 7", 2, 7, ""},
    };
    for (const Case &c : cases) {
        CAPTURE(c.text);
        const auto doc = yaml(c.text);
        REQUIRE(doc.problem);
        CHECK(doc.problem->code == c.code);
        CHECK_MESSAGE(contains(doc.problem->message, c.message), doc.problem->message);
        CHECK(contains(doc.problem->message, "c.yaml"));
        CHECK(doc.problem->line == c.line);
        CHECK(doc.problem->column == c.column);
        CHECK(doc.problem->path == c.pointer);
    }
}

TEST_CASE("YAML limits: the JSON documents' depth and size, and bounded aliases") {
    std::string at_limit, over;
    for (int i = 0; i < 64; ++i) at_limit += "[";
    for (int i = 0; i < 64; ++i) at_limit += "]";
    CHECK(!yaml(at_limit).problem);
    const auto deep = yaml("[" + at_limit + "]");
    REQUIRE(deep.problem);
    CHECK(contains(deep.problem->message, "nested deeper than 64 levels"));
    // yaml-cpp's own recursion is never reached: the reader stops at level 65.
    CHECK(contains(yaml(std::string(100000, '[') + std::string(100000, ']')).problem->message, "nested deeper"));
    // An alias's copy counts towards the depth where it lands.
    std::string nested = "a: &n ";
    for (int i = 0; i < 40; ++i) nested += "[";
    for (int i = 0; i < 40; ++i) nested += "]";
    CHECK(!yaml(nested + "\nb: *n\n").problem);
    CHECK(contains(yaml(nested + "\nb: [[[[[[[[[[[[[[[[[[[[[[[[[[*n]]]]]]]]]]]]]]]]]]]]]]]]]]\n").problem->message,
                   "nested deeper"));

    const auto big = yaml("a: " + std::string(kMaxDocumentBytes, 'x'));
    REQUIRE(big.problem);
    CHECK(big.problem->code == Code::too_large);

    // A few aliases of shared settings are fine, and copied.
    const auto shared = yaml_value("defaults: &d {weight: 2, shadow: false}\nx: *d\ny: *d\n");
    CHECK(shared.at("y") == shared.at("defaults"));
    // A billion laughs is not: each level doubles the copies.
    std::string laughs = "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
    for (int i = 1; i < 10; ++i)
        laughs += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [*l" + std::to_string(i - 1) + ", *l" +
                  std::to_string(i - 1) + ", *l" + std::to_string(i - 1) + ", *l" + std::to_string(i - 1) + "]\n";
    const auto bomb = yaml(laughs);
    REQUIRE(bomb.problem);
    CHECK(bomb.problem->code == Code::not_yaml);
    CHECK(contains(bomb.problem->message, "aliases (*name) copy more than 10000 nodes"));
    std::string many = "a: &a 1\nlist:\n";
    for (std::size_t i = 0; i <= kMaxYamlAliases; ++i) many += "- *a\n";
    CHECK(contains(yaml(many).problem->message, "more than 100 aliases"));
}

TEST_CASE("a YAML document maps every JSON Pointer to its line and column, keys too") {
    const auto doc =
        yaml("plugins:\n- type: queue-scorer\n  parameters:\n    x: 1\nname: \"a/b\"\ndefaults: &d {k: v}\n"
             "copy: *d\n");
    REQUIRE(!doc.problem);
    REQUIRE(doc.value.positions);
    const SourceMap &map = *doc.value.positions;
    const auto at = [&](const char *pointer, bool key = false) {
        const auto p = map.find(pointer, key);
        return p ? std::to_string(p->line) + ":" + std::to_string(p->column) : std::string("none");
    };
    CHECK(at("") == "1:1");
    CHECK(at("/plugins") == "2:1");
    CHECK(at("/plugins/0") == "2:3");
    CHECK(at("/plugins/0/type") == "2:9");
    CHECK(at("/plugins/0/type", true) == "2:3");
    CHECK(at("/plugins/0/parameters/x") == "4:8");
    CHECK(at("/plugins/0/name") == "2:3");             // missing: where its object is
    CHECK(at("/plugins/0/parameters/y/z") == "none");  // two levels away: nowhere
    CHECK(at("/name") == "5:7");
    CHECK(at("/copy/k") == "7:7");  // inside an alias's copy: at the alias

    // JSON documents have no map; their syntax errors still say where.
    CHECK(!parse_json_document(R"({"a": 1})", "c.json").value.positions);
}

TEST_CASE("locate: an issue at a pointer gets the line and column, in its fields and its message") {
    const auto doc = yaml("a:\n  b: 1\n");
    REQUIRE(doc.value.positions);
    Issue wrong{"/a/b", Code::wrong_type, "expected a string", ""};
    locate(wrong, *doc.value.positions);
    CHECK(wrong.line == 2);
    CHECK(wrong.column == 6);
    CHECK(wrong.message == "expected a string (line 2, column 6)");
    Issue unknown{"/a/b", Code::unknown_field, "unknown field \"b\"", ""};
    locate(unknown, *doc.value.positions);
    CHECK(unknown.column == 3);  // the key
    locate(unknown, *doc.value.positions);
    CHECK(unknown.message == "unknown field \"b\" (line 2, column 3)");  // located once
    Issue flag{"--feature-gates", Code::unknown_gate, "x", ""};
    locate(flag, *doc.value.positions);
    CHECK(flag.line == 0);
}
