#include "schedule/endpoint_table.hpp"

#include <doctest/doctest.h>

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
              .active_loras = std::vector<std::string>{"x", "y"},
              .max_active_loras = 4,
              .extra = {{"gpuTemp", 61.5}}});
    t.upsert({.name = "b", .kv_cache_usage_percent = 40.0});
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

    CHECK(t.remove("a"));
    CHECK(!t.remove("a"));
    REQUIRE(t.size() == 1);
    CHECK(view(t.data()[0]->name) == "b");
    t.upsert({.name = "a"});  // back as a new endpoint: new id, at the end
    CHECK(t.data()[1]->id > id_a);
    CHECK(t.data()[1]->waiting_queue_size == 0);
}
