#include "common/suggest.hpp"

#include <doctest/doctest.h>

using namespace plughost::host;

TEST_CASE("edit distance counts insertions, deletions, substitutions and transpositions") {
    CHECK(edit_distance("queue-scorer", "queue-scorer") == 0);
    CHECK(edit_distance("queue-scorer", "queue-scorre") == 1);
    CHECK(edit_distance("queue-scorer", "queue-score") == 1);
    CHECK(edit_distance("queue-scorer", "QUEUE-SCORER") == 0);
    CHECK(edit_distance("abc", "xyz") == 3);
    CHECK(edit_distance("", "abc") == 3);
}

TEST_CASE("did-you-mean proposes only plausible typos") {
    const std::vector<std::string> types{"queue-scorer", "kv-cache-utilization-scorer", "max-score-picker"};
    CHECK(did_you_mean("queue-scorr", types) == " (did you mean \"queue-scorer\"?)");
    CHECK(did_you_mean("max-scor-picker", types) == " (did you mean \"max-score-picker\"?)");
    CHECK(did_you_mean("totally-different", types).empty());
    CHECK(did_you_mean("x", {}).empty());
    CHECK(quoted_list({"a", "b", "c"}) == "\"a\", \"b\" and \"c\"");
}
