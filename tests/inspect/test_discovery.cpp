#include "inspect/discovery.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

using namespace plughost::host;
using namespace plughost::test;

TEST_CASE("finds the .so files directly in the directory, in name order") {
    TempDir dir;
    for (const char *name : {"b.so", "a.so", "C.so", "notes.txt", "lib.so.1", ".hidden.so", ".so"})
        write_file(dir / name, "x");
    std::filesystem::create_directory(dir / "sub");
    write_file(dir / "sub" / "deep.so", "x");
    std::filesystem::create_directory(dir / "dir.so");

    const auto found = discover_plugins(dir.path());
    REQUIRE(!found.error);
    std::vector<std::string> names;
    for (const auto &p : found.files) names.push_back(p.filename().string());
    // Byte order puts upper case first; a directory named .so is still reported (as not a file).
    CHECK(names == std::vector<std::string>{"C.so", "a.so", "b.so", "dir.so"});
}

TEST_CASE("a missing directory is an error naming it") {
    const auto found = discover_plugins("/nonexistent/plughost-plugins");
    REQUIRE(found.error);
    CHECK(contains(*found.error, "/nonexistent/plughost-plugins"));
    CHECK(contains(*found.error, "--plugin-dir"));
    CHECK(found.files.empty());
}

TEST_CASE("an empty directory finds nothing") {
    TempDir dir;
    const auto found = discover_plugins(dir.path());
    CHECK(!found.error);
    CHECK(found.files.empty());
}
