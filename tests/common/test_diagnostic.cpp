// The closed vocabulary of codes: stable spellings, each documented for operators.
#include "common/diagnostic.hpp"

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace plughost::host;
using namespace plughost::test;

TEST_CASE("every code has its own kebab-case spelling, and kCodeCount covers them all") {
    std::set<std::string> seen;
    for (std::size_t i = 0; i < kCodeCount; ++i) {
        const std::string name(to_string(static_cast<Code>(i)));
        CAPTURE(i);
        CHECK(name != "unknown");
        CHECK(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz-") == std::string::npos);
        CHECK(seen.insert(name).second);
    }
    // A code appended after the last one without raising kCodeCount would be missed above.
    CHECK(to_string(static_cast<Code>(kCodeCount)) == "unknown");
}

TEST_CASE("every code is documented in docs/operations.md") {
    const std::string docs = read_file(paths::source_dir + "/docs/operations.md");
    for (std::size_t i = 0; i < kCodeCount; ++i) {
        const std::string name(to_string(static_cast<Code>(i)));
        CAPTURE(name);
        CHECK(contains(docs, "`" + name + "`"));
    }
}

TEST_CASE("pointer_token escapes ~ and / as RFC 6901 says") {
    CHECK(pointer_token("a/b~c") == "a~1b~0c");
    CHECK(pointer_token("plain") == "plain");
}
