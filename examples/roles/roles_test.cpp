// Unit tests of the example plugins through their real C entries, with plughost/testing.hpp.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <plughost/testing.hpp>

using namespace plughost::testing;

TEST_CASE("least-pending picker: among near-best totals, the fewest pending picks wins") {
    PluginLibrary lib(PICKER_PATH);
    auto made = lib.create("picker");  // tolerance 0.05, the manifest's default
    REQUIRE_MESSAGE(made.ok(), made.message);
    EndpointSet endpoints{
        {.name = "a", .pending_picks = 5}, {.name = "b", .pending_picks = 1}, {.name = "c", .pending_picks = 0}};
    const std::vector<double> totals{1.0, 0.97, 0.5};  // c is far behind: not a candidate
    auto out = made.value->pick(RequestData(), endpoints, totals);
    REQUIRE(out.ok());
    CHECK(out.value == std::vector<std::size_t>{1});
}

TEST_CASE("prefill-decode handler: long prompts run both profiles, decode decides") {
    PluginLibrary lib(HANDLER_PATH);
    auto made = lib.create("pd", R"({"prefillThreshold": 10})");
    REQUIRE_MESSAGE(made.ok(), made.message);
    EndpointSet endpoints{{.name = "p"}, {.name = "d"}};
    RequestData long_prompt({.prompt = "a prompt longer than ten bytes"});
    ProfileRunSet profiles({"prefill", "decode"});
    CHECK(made.value->pick_profiles(long_prompt, profiles).value == std::vector<std::size_t>{1, 0});
    profiles.picked(0, endpoints, {0});
    profiles.picked(1, endpoints, {1});
    CHECK(made.value->pick_profiles(long_prompt, profiles).value.empty());  // one round
    CHECK(made.value->process_results(long_prompt, profiles).value == 1);

    ProfileRunSet short_run({"prefill", "decode"});
    CHECK(made.value->pick_profiles(RequestData({.prompt = "hi"}), short_run).value == std::vector<std::size_t>{1});
}

TEST_CASE("queue pressure: the producer publishes, the scorer consumes") {
    EndpointSet endpoints{{.name = "idle"}, {.name = "busy", .waiting_queue_size = 3, .running_requests = 0}};
    RequestData request;
    PluginLibrary producer_lib(PRODUCER_PATH);
    auto producer = producer_lib.create("producer");
    REQUIRE_MESSAGE(producer.ok(), producer.message);
    REQUIRE(producer.value->produce(request, endpoints).ok());
    CHECK(producer.value->attribute_number("example.queue-pressure", endpoints.at(0)) == 0.0);
    CHECK(producer.value->attribute_number("example.queue-pressure", endpoints.at(1)) == 0.75);

    PluginLibrary scorer_lib(SCORER_PATH);
    auto scorer = scorer_lib.create("scorer");
    REQUIRE_MESSAGE(scorer.ok(), scorer.message);
    scorer.value->set_attribute("example.queue-pressure", endpoints.at(0), 0.0);  // as the producer published
    scorer.value->set_attribute("example.queue-pressure", endpoints.at(1), 0.75);
    auto scores = scorer.value->score(request, endpoints);
    REQUIRE(scores.ok());
    CHECK(scores.value == std::vector<double>{1.0, 0.25});
}

TEST_CASE("request tracer: headers for the endpoint and the client, outcomes counted") {
    PluginLibrary lib(TRACER_PATH);
    auto made = lib.create("tracer", R"({"slowSeconds": 1})");
    REQUIRE_MESSAGE(made.ok(), made.message);
    auto &tracer = *made.value;
    EndpointSet endpoints{{.name = "p"}, {.name = "d"}};
    RequestData request;
    REQUIRE(tracer.picked(request, endpoints).ok());
    CHECK(tracer.counters().at("picks") == 2);

    REQUIRE(tracer.pre_request(request, DecisionData("decode", endpoints, {1}, {{"prefill", 0}})).ok());
    CHECK(tracer.upstream_headers() == std::vector<std::pair<std::string, std::string>>{{"x-example-profile", "decode"},
                                                                                        {"x-example-prefill", "p"}});

    REQUIRE(tracer.respond(request, {.outcome = PLUGHOST_RESPONSE_STARTED, .endpoint = endpoints.at(1)}).ok());
    CHECK(tracer.client_headers() == std::vector<std::pair<std::string, std::string>>{{"x-example-served-by", "d"}});

    REQUIRE(tracer
                .respond(request,
                         {.outcome = PLUGHOST_RESPONSE_COMPLETE, .endpoint = endpoints.at(1), .seconds_total = 3.0})
                .ok());
    REQUIRE(
        tracer
            .respond(request, {.outcome = PLUGHOST_RESPONSE_FAILED, .endpoint = endpoints.at(1), .seconds_total = 0.1})
            .ok());
    CHECK(tracer.counters().at("completed") == 1);
    CHECK(tracer.counters().at("not-completed") == 1);
    CHECK(tracer.counters().at("slow") == 1);
}
