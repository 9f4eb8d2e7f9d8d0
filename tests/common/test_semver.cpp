#include "common/semver.hpp"

#include <doctest/doctest.h>

using plughost::host::SemVer;

TEST_CASE("parses releases, prereleases and build metadata") {
    const auto v = SemVer::parse("1.22.333-rc.1+build.7");
    REQUIRE(v);
    CHECK(v->major == 1);
    CHECK(v->minor == 22);
    CHECK(v->patch == 333);
    CHECK(v->prerelease == "rc.1");
    CHECK(v->build == "build.7");
    CHECK(v->str() == "1.22.333-rc.1+build.7");
}

TEST_CASE("rejects what is not semver") {
    for (const char *bad :
         {"", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "a.b.c", "1.2.3-", "1.2.3+", "1.2.3-01", "1..3", ".1.2",
          "1.2.", "1.2.3.", " 1.2.3", "1.2.3 ", "v1.2.3", "1.2.-3", "99999999999999999999.0.0"})
        CHECK_MESSAGE(!SemVer::parse(bad), bad);
}

TEST_CASE("orders by precedence, ignoring build metadata") {
    auto v = [](const char *s) { return *SemVer::parse(s); };
    CHECK(v("1.0.0") < v("1.0.1"));
    CHECK(v("1.9.0") < v("1.10.0"));
    CHECK(v("1.0.0-alpha") < v("1.0.0"));
    CHECK(v("1.0.0-alpha") < v("1.0.0-alpha.1"));
    CHECK(v("1.0.0-alpha.1") < v("1.0.0-alpha.beta"));
    CHECK(v("1.0.0-beta.2") < v("1.0.0-beta.11"));
    CHECK(v("1.0.0-rc.1") < v("1.0.0"));
    CHECK(v("1.0.0+a") == v("1.0.0+b"));
    CHECK(v("2.0.0") > v("1.99.99"));
}
