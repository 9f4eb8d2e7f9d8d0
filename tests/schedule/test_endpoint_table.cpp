#include "schedule/endpoint_table.hpp"

#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string_view>

using namespace plughost::host;

namespace {
std::string_view view(plughost_str s) { return {s.data, s.size}; }
}  // namespace

TEST_CASE("endpoints are added in order with fresh ids, updated in place, removed") {
    EndpointTable t;
    t.upsert({.name = "a",
              .address = "10.0.0.1:8000",
              .waiting_queue_size = 3,
              .running_loras = std::vector<std::string>{"x", "y"},
              .max_active_loras = 4,
              .extra = {{"gpuTemp", 61.5}}});
    t.upsert({.name = "b", .kv_cache_usage = 0.4});
    REQUIRE(t.size() == 2);
    const plughost_endpoint *a = t.data()[0];
    CHECK(view(a->name) == "a");
    CHECK(view(a->address) == "10.0.0.1:8000");
    CHECK(a->waiting_queue_size == 3);
    CHECK(a->active_lora_count == 2);
    CHECK(view(a->active_loras[1]) == "y");
    CHECK(a->metric_count == 1);
    CHECK(view(a->metrics[0].name) == "gpuTemp");
    CHECK(a->struct_size == sizeof(plughost_endpoint));
    const auto id_a = a->id;
    CHECK(t.data()[1]->id != id_a);

    // A partial update keeps what it does not mention.
    t.upsert({.name = "a", .running_requests = 7, .extra = {{"gpuTemp", 70.0}, {"fanRpm", 900.0}}});
    CHECK(t.find("a") == a);  // same storage, same id
    CHECK(a->id == id_a);
    CHECK(a->waiting_queue_size == 3);
    CHECK(a->running_requests == 7);
    CHECK(view(a->address) == "10.0.0.1:8000");
    CHECK(a->active_lora_count == 2);
    CHECK(a->metric_count == 2);
    CHECK(a->metrics[0].value == 70.0);

    CHECK(t.remove("a") == 0u);  // removed, never picked
    CHECK(!t.remove("a"));
    REQUIRE(t.size() == 1);
    CHECK(view(t.data()[0]->name) == "b");
    t.upsert({.name = "a"});  // back as a new endpoint: new id, at the end
    CHECK(t.data()[1]->id > id_a);
    CHECK(t.data()[1]->waiting_queue_size == 0);
}

namespace {

std::vector<std::pair<std::string, double>> metrics(std::size_t first, std::size_t count, double value = 1.0) {
    std::vector<std::pair<std::string, double>> out;
    for (std::size_t i = first; i < first + count; ++i) out.emplace_back("m" + std::to_string(i), value);
    return out;
}

std::map<std::string, double> metrics_of(const plughost_endpoint *e) {
    std::map<std::string, double> out;
    for (std::size_t i = 0; i < e->metric_count; ++i) out[std::string(view(e->metrics[i].name))] = e->metrics[i].value;
    return out;
}

}  // namespace

TEST_CASE("extra metrics merge by name: the last value given wins, first-seen order is kept") {
    EndpointTable t;
    REQUIRE(!t.upsert({.name = "a", .extra = {{"b", 1}, {"a", 2}, {"b", 3}}}));
    const plughost_endpoint *a = t.find("a");
    REQUIRE(a->metric_count == 2);
    CHECK(view(a->metrics[0].name) == "b");
    CHECK(a->metrics[0].value == 3);
    CHECK(view(a->metrics[1].name) == "a");
    REQUIRE(!t.upsert({.name = "a", .extra = {{"c", 4}, {"a", 5}, {"aa", 6}}}));
    REQUIRE(a->metric_count == 4);
    CHECK(metrics_of(a) == std::map<std::string, double>{{"a", 5}, {"aa", 6}, {"b", 3}, {"c", 4}});
    CHECK(view(a->metrics[2].name) == "c");
    CHECK(view(a->metrics[3].name) == "aa");

    // Random updates against a plain map: the sorted merge must agree with it.
    std::mt19937 rng(7);
    std::map<std::string, double> expected = metrics_of(a);
    for (int round = 0; round < 200; ++round) {
        std::vector<std::pair<std::string, double>> update;
        for (auto k = rng() % 8; k > 0; --k) update.emplace_back("n" + std::to_string(rng() % 60), round);
        auto refused = t.upsert({.name = "a", .extra = update});
        REQUIRE(!refused);
        for (const auto &[name, value] : update) expected[name] = value;
        REQUIRE(metrics_of(a) == expected);
    }
}

TEST_CASE("the table refuses an update beyond its limits, whole, with a too-large reason") {
    EndpointTable t;
    // 80,000 names at once: refused (quadratic merging once made this take seconds).
    const auto huge = t.upsert({.name = "a", .extra = metrics(0, 80000)});
    REQUIRE(huge);
    CHECK(huge->code == plughost::host::Code::too_large);
    CHECK(huge->message.find("80000") != std::string::npos);
    CHECK(huge->message.find("the limit is 256") != std::string::npos);
    CHECK(t.size() == 0);

    REQUIRE(!t.upsert({.name = "a", .waiting_queue_size = 1, .extra = metrics(0, kMaxExtraMetrics)}));
    const auto over = t.upsert({.name = "a", .waiting_queue_size = 9, .extra = metrics(kMaxExtraMetrics - 1, 2, 5.0)});
    REQUIRE(over);
    CHECK(over->message.find("257 extra metric names (256 known, 1 new)") != std::string::npos);
    const plughost_endpoint *a = t.find("a");
    CHECK(a->waiting_queue_size == 1);  // nothing of the refused update applied
    CHECK(a->metric_count == kMaxExtraMetrics);
    CHECK(a->metrics[kMaxExtraMetrics - 1].value == 1.0);

    for (std::size_t i = 1; i < kMaxEndpoints; ++i) REQUIRE(!t.upsert({.name = "e" + std::to_string(i)}));
    CHECK(t.size() == kMaxEndpoints);
    const auto full = t.upsert({.name = "one-more"});
    REQUIRE(full);
    CHECK(full->message.find("the limit is 10000 live endpoints") != std::string::npos);
    CHECK(!t.find("one-more"));
    CHECK(!t.upsert({.name = "e5", .running_requests = 2}));  // updates still apply
    CHECK(t.remove("e5"));
    CHECK(!t.upsert({.name = "one-more"}));
    CHECK(t.size() == kMaxEndpoints);
}

TEST_CASE("picks are counted on the endpoint and handed back when it is removed") {
    EndpointTable t;
    t.upsert({.name = "a"});
    t.upsert({.name = "b"});
    const plughost_endpoint *a = t.data()[0];
    const plughost_endpoint *b = t.data()[1];
    t.count_pick(b);
    t.count_pick(b);
    t.count_pick(a);
    CHECK(t.picks(a) == 1);
    CHECK(t.picks(b) == 2);
    t.upsert({.name = "b", .waiting_queue_size = 3});  // an update keeps the count
    CHECK(t.picks(b) == 2);
    CHECK(t.remove("b") == 2u);
    t.upsert({.name = "b"});
    CHECK(t.picks(t.find("b")) == 0);  // a new endpoint
}
