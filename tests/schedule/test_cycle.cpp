#include "schedule/cycle.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

using namespace plughost;
using namespace plughost::host;

namespace {

plughost_value number(double x) { return {PLUGHOST_VALUE_NUMBER, x, {nullptr, 0}}; }
plughost_value text(std::string_view s) { return {PLUGHOST_VALUE_STRING, 0, {s.data(), s.size()}}; }

// Endpoints as the host passes them: an array of pointers to separately allocated structs.
struct Endpoints {
    std::vector<std::unique_ptr<plughost_endpoint>> owned;
    std::vector<const plughost_endpoint *> pointers;
    explicit Endpoints(std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            owned.push_back(std::make_unique<plughost_endpoint>());
            owned.back()->id = i + 1;
            pointers.push_back(owned.back().get());
        }
    }
};

constexpr std::int32_t kLoad = 0;    // endpoint scope, number
constexpr std::int32_t kModel = 1;   // request scope, string
constexpr std::int32_t kRegion = 2;  // endpoint scope, string

AttributeStore make_store() {
    return AttributeStore({{"load", AttributeScope::endpoint, AttributeType::number},
                           {"model", AttributeScope::request, AttributeType::string},
                           {"region", AttributeScope::endpoint, AttributeType::string}});
}

}  // namespace

TEST_CASE("attribute store: every endpoint of a cycle holds its own value, across fleets that grow") {
    AttributeStore store = make_store();
    // 40 endpoints outgrow the first index (16 keys), 300 the value rows sized for 40.
    for (std::size_t n : {3, 40, 300, 40}) {
        CAPTURE(n);
        Endpoints eps(n);
        store.begin(eps.pointers.data(), n);
        plughost_value out{};
        for (const plughost_endpoint *e : eps.pointers) {
            CHECK_FALSE(store.get(e, kLoad, out));  // absent until published in this cycle
            CHECK(out.type == PLUGHOST_VALUE_NONE);
        }
        for (std::size_t i = 0; i < n; ++i) REQUIRE(store.put(eps.pointers[i], kLoad, number(double(i))));
        for (std::size_t i = 0; i < n; ++i) {
            REQUIRE(store.get(eps.pointers[i], kLoad, out));
            CHECK(out.type == PLUGHOST_VALUE_NUMBER);
            CHECK(out.number == double(i));
        }
    }
}

TEST_CASE("attribute store: refuses what the attribute's spec or the cycle does not allow") {
    AttributeStore store = make_store();
    Endpoints eps(5), strangers(2);
    store.begin(eps.pointers.data(), eps.pointers.size());
    const plughost_endpoint *e = eps.pointers[2];
    plughost_value out{};

    CHECK_FALSE(store.put(strangers.pointers[0], kLoad, number(1)));  // not one of the cycle's
    CHECK_FALSE(store.get(strangers.pointers[0], kLoad, out));
    CHECK_FALSE(store.put(nullptr, kLoad, number(1)));   // an endpoint attribute about the request
    CHECK_FALSE(store.put(e, kModel, text("m")));        // a request attribute about an endpoint
    CHECK_FALSE(store.put(e, kLoad, text("1")));         // a string for a number
    CHECK_FALSE(store.put(nullptr, kModel, number(1)));  // a number for a string
    CHECK_FALSE(store.put(e, kLoad, number(std::nan(""))));
    CHECK_FALSE(store.put(e, kLoad, number(INFINITY)));
    CHECK_FALSE(store.put(e, 3, number(1)));  // no such id
    CHECK_FALSE(store.put(e, -1, number(1)));
    CHECK_FALSE(store.get(e, 3, out));
    CHECK_FALSE(store.get(e, -1, out));
    CHECK_FALSE(store.get(e, kLoad, out));  // nothing above was stored
}

TEST_CASE("attribute store: strings are copied, and a new cycle forgets every value") {
    AttributeStore store = make_store();
    Endpoints eps(4);
    store.begin(eps.pointers.data(), eps.pointers.size());
    std::string region = "eu-west";
    std::string model = "llama";
    REQUIRE(store.put(eps.pointers[1], kRegion, text(region)));
    REQUIRE(store.put(nullptr, kModel, text(model)));
    REQUIRE(store.put(eps.pointers[1], kLoad, number(0.5)));
    region.assign("XXXXXXX");  // the plugin's buffer changes after the call
    model.assign("XXXXX");
    plughost_value out{};
    REQUIRE(store.get(eps.pointers[1], kRegion, out));
    CHECK(std::string_view(out.string.data, out.string.size) == "eu-west");
    REQUIRE(store.get(nullptr, kModel, out));
    CHECK(std::string_view(out.string.data, out.string.size) == "llama");
    CHECK_FALSE(store.get(eps.pointers[0], kRegion, out));  // another endpoint's is absent

    store.begin(eps.pointers.data(), eps.pointers.size());
    CHECK_FALSE(store.get(eps.pointers[1], kRegion, out));
    CHECK_FALSE(store.get(eps.pointers[1], kLoad, out));
    CHECK_FALSE(store.get(nullptr, kModel, out));
}

TEST_CASE("attribute store: before any cycle began, the request's slot works and no endpoint is known") {
    AttributeStore store = make_store();
    Endpoints eps(1);
    plughost_value out{};
    CHECK_FALSE(store.put(eps.pointers[0], kLoad, number(1)));
    CHECK_FALSE(store.get(nullptr, kModel, out));
    CHECK(store.put(nullptr, kModel, text("m")));
    REQUIRE(store.get(nullptr, kModel, out));
    CHECK(std::string_view(out.string.data, out.string.size) == "m");
}

TEST_CASE("attribute store: batches find each endpoint in the cycle's order, a subset of it, or any other order") {
    AttributeStore store = make_store();
    for (std::size_t n : {3, 40, 300}) {
        CAPTURE(n);
        Endpoints eps(n);
        store.begin(eps.pointers.data(), n);
        // Published through the cycle's own array: endpoint i holds i.
        std::vector<double> values(n), read(n);
        for (std::size_t i = 0; i < n; ++i) values[i] = double(i);
        REQUIRE(store.put_numbers(eps.pointers.data(), n, kLoad, values.data()));
        CHECK(store.get_numbers(eps.pointers.data(), n, kLoad, read.data()) == n);
        CHECK(read == values);
        // Every other endpoint (what a filter lets through), in reverse order, and a copy of the
        // array: the same values, whether the slot is guessed or hashed.
        std::vector<const plughost_endpoint *> odd, reversed(eps.pointers.rbegin(), eps.pointers.rend()),
            copy = eps.pointers;
        for (std::size_t i = 1; i < n; i += 2) odd.push_back(eps.pointers[i]);
        std::vector<double> got(n);
        CHECK(store.get_numbers(odd.data(), odd.size(), kLoad, got.data()) == odd.size());
        for (std::size_t k = 0; k < odd.size(); ++k) CHECK(got[k] == double(2 * k + 1));
        CHECK(store.get_numbers(reversed.data(), n, kLoad, got.data()) == n);
        for (std::size_t k = 0; k < n; ++k) CHECK(got[k] == double(n - 1 - k));
        // Republished in reverse order through a copy: endpoint i now holds 1000 + i.
        for (std::size_t k = 0; k < n; ++k) values[k] = 1000.0 + double(n - 1 - k);
        REQUIRE(store.put_numbers(reversed.data(), n, kLoad, values.data()));
        CHECK(store.get_numbers(copy.data(), n, kLoad, got.data()) == n);
        for (std::size_t i = 0; i < n; ++i) CHECK(got[i] == 1000.0 + double(i));
    }
}

// A batch looks for its next endpoint at the cursor, then a few slots past it, then in the hash
// table (built on the first lookup that needs it): every path, at fleet sizes on either side of
// the few slots, in cycles whose endpoints change.
TEST_CASE("attribute store: batches find endpoints past long gaps, and refuse strangers and null, at any size") {
    AttributeStore store = make_store();
    Endpoints strangers(1);
    for (std::size_t n : {5, 8, 9, 40, 9}) {
        CAPTURE(n);
        Endpoints eps(n);
        store.begin(eps.pointers.data(), n);
        std::vector<double> values(n), got(n);
        for (std::size_t i = 0; i < n; ++i) values[i] = 10.0 * double(i);
        REQUIRE(store.put_numbers(eps.pointers.data(), n, kLoad, values.data()));
        // The first and the last endpoint: a gap of n - 2 slots after the first.
        const plughost_endpoint *ends[] = {eps.pointers[0], eps.pointers[n - 1]};
        CHECK(store.get_numbers(ends, 2, kLoad, got.data()) == 2);
        CHECK(got[0] == 0.0);
        CHECK(got[1] == 10.0 * double(n - 1));
        // The last one first, then one before it: the scan ahead must not stop the hash.
        const plughost_endpoint *back[] = {eps.pointers[n - 1], eps.pointers[1]};
        CHECK(store.get_numbers(back, 2, kLoad, got.data()) == 2);
        CHECK(got[1] == 10.0);
        // A stranger and null in a batch read as absent, the others as published.
        const plughost_endpoint *mixed[] = {eps.pointers[1], strangers.pointers[0], nullptr, eps.pointers[2]};
        CHECK(store.get_numbers(mixed, 4, kLoad, got.data()) == 2);
        CHECK(got[0] == 10.0);
        CHECK(std::isnan(got[1]));
        CHECK(std::isnan(got[2]));
        CHECK(got[3] == 20.0);
        // ... and stop a put there, keeping what came before.
        const double two[] = {7, 8};
        const plughost_endpoint *bad[] = {eps.pointers[n - 1], strangers.pointers[0]};
        CHECK_FALSE(store.put_numbers(bad, 2, kLoad, two));
        plughost_value out{};
        REQUIRE(store.get(eps.pointers[n - 1], kLoad, out));
        CHECK(out.number == 7.0);
        CHECK_FALSE(store.get(strangers.pointers[0], kLoad, out));
        CHECK_FALSE(store.put(strangers.pointers[0], kLoad, number(1)));
    }
}

TEST_CASE("attribute store: a batch refuses what a single put refuses, keeping the values before a bad element") {
    AttributeStore store = make_store();
    Endpoints eps(4), others(1);
    store.begin(eps.pointers.data(), 4);
    const double values[] = {1, 2, 3, 4};
    double read[4];
    // The attribute's rules: scope endpoint, type number, an id that exists.
    CHECK_FALSE(store.put_numbers(eps.pointers.data(), 4, kModel, values));
    CHECK_FALSE(store.put_numbers(eps.pointers.data(), 4, kRegion, values));
    CHECK_FALSE(store.put_numbers(eps.pointers.data(), 4, 7, values));
    CHECK_FALSE(store.put_numbers(eps.pointers.data(), 4, -1, values));
    CHECK(store.get_numbers(eps.pointers.data(), 4, kLoad, read) == 0);  // nothing was published
    for (double v : read) CHECK(std::isnan(v));
    CHECK(store.get_numbers(eps.pointers.data(), 4, kRegion, read) == 0);
    CHECK(store.get_numbers(eps.pointers.data(), 4, kModel, read) == 0);
    // A value that is not finite stops the batch there: endpoint 0 holds 1, the others nothing.
    const double bad[] = {1, std::nan(""), 3, 4};
    CHECK_FALSE(store.put_numbers(eps.pointers.data(), 4, kLoad, bad));
    CHECK(store.get_numbers(eps.pointers.data(), 4, kLoad, read) == 1);
    CHECK(read[0] == 1);
    CHECK(std::isnan(read[1]));
    CHECK(std::isnan(read[2]));
    // An endpoint that is not the cycle's (and a null one) stops it too, and reads as absent.
    const plughost_endpoint *mixed[] = {eps.pointers[1], others.pointers[0], eps.pointers[2]};
    CHECK_FALSE(store.put_numbers(mixed, 3, kLoad, values));
    CHECK(store.get_numbers(mixed, 3, kLoad, read) == 1);
    CHECK(read[0] == 1);
    CHECK(std::isnan(read[1]));
    CHECK(std::isnan(read[2]));
    const plughost_endpoint *none[] = {nullptr};
    CHECK_FALSE(store.put_numbers(none, 1, kLoad, values));
    CHECK(store.get_numbers(none, 1, kLoad, read) == 0);
    // A new cycle forgets what the batches published.
    store.begin(eps.pointers.data(), 4);
    CHECK(store.get_numbers(eps.pointers.data(), 4, kLoad, read) == 0);
}
