// load-aware-scorer: 0.5 for an empty queue, down to 0 at `threshold` waiting requests.
#include "plugin_test_helpers.hpp"

#include <string>
#include <vector>

using namespace plughost::test;
using namespace plughost::test::plugin_tests;

TEST_CASE("load-aware-scorer declares a beta scorer behind LoadAwareScorer: threshold 128, countPendingPicks") {
    pt::PluginLibrary lib(paths::plugin_load_aware_scorer);
    const auto m = host_manifest(lib);
    CHECK(m.type == "load-aware-scorer");
    CHECK(m.role == host::Role::scorer);
    CHECK(m.stability == host::Stability::beta);
    CHECK(m.feature_gate == "LoadAwareScorer");
    CHECK(m.thread_safe);
    CHECK(!m.deprecation);
    REQUIRE(m.parameters.size() == 2);
    CHECK(default_of(m, "threshold") == "128");
    CHECK(default_of(m, "countPendingPicks") == "true");
}

// Upstream pkg/epp/framework/plugins/scheduling/scorer/loadaware/load_aware_test.go:
// NewLoadAware(ctx, 10); exact map {pod-a: 0.4, pod-b: 0.5, pod-c: 0}.
TEST_CASE("load-aware-scorer passes upstream's load_aware_test.go case") {
    pt::PluginLibrary lib(paths::plugin_load_aware_scorer);
    auto scorer = make(lib, R"({"threshold": 10})");
    pt::EndpointSet pods{{.name = "pod-a", .waiting_queue_size = 2},
                         {.name = "pod-b", .waiting_queue_size = 0},
                         {.name = "pod-c", .waiting_queue_size = 15}};
    const auto scores = scorer->score(pt::RequestData(), pods);
    REQUIRE(scores.ok());
    CHECK(scores.value == std::vector<double>{0.5 * (1.0 - 2.0 / 10.0), 0.5, 0.0});
    CHECK(scores.value[0] == doctest::Approx(0.4));
}

TEST_CASE("load-aware-scorer scores against the default threshold of 128") {
    pt::PluginLibrary lib(paths::plugin_load_aware_scorer);
    auto scorer = make(lib);
    pt::EndpointSet endpoints{{.name = "a", .waiting_queue_size = 64},
                              {.name = "b", .waiting_queue_size = 128},
                              {.name = "c", .waiting_queue_size = 1}};
    CHECK(scorer->score(pt::RequestData(), endpoints).value ==
          std::vector<double>{0.25, 0.0, 0.5 * (1.0 - 1.0 / 128.0)});
}

TEST_CASE("load-aware-scorer counts pending picks unless told not to") {
    pt::PluginLibrary lib(paths::plugin_load_aware_scorer);
    pt::EndpointSet endpoints{{.name = "a", .pending_picks = 5}, {.name = "b", .waiting_queue_size = 5}};
    auto scorer = make(lib, R"({"threshold": 10})");
    CHECK(scorer->score(pt::RequestData(), endpoints).value == std::vector<double>{0.25, 0.25});
    auto upstream = make(lib, R"({"threshold": 10, "countPendingPicks": false})");
    CHECK(upstream->score(pt::RequestData(), endpoints).value == std::vector<double>{0.5, 0.25});
}

TEST_CASE("load-aware-scorer replaces a threshold <= 0 by 128 with a warning, as upstream") {
    pt::PluginLibrary lib(paths::plugin_load_aware_scorer);
    for (const char *bad : {"0", "-5"}) {
        CAPTURE(bad);
        auto scorer = make(lib, std::string(R"({"threshold": )") + bad + "}");
        REQUIRE(scorer->logs().size() == 1);
        CHECK(scorer->logs()[0].level == PLUGHOST_LOG_WARN);
        CHECK(scorer->logs()[0].text == std::string("threshold ") + bad + " is not positive; using the default 128");
        pt::EndpointSet endpoints{{.name = "a", .waiting_queue_size = 64}};
        CHECK(scorer->score(pt::RequestData(), endpoints).value == std::vector<double>{0.25});
    }
}

TEST_CASE("load-aware-scorer handles an empty endpoint list and rejects invalid parameters") {
    pt::PluginLibrary lib(paths::plugin_load_aware_scorer);
    auto scorer = make(lib);
    pt::EndpointSet none{};
    CHECK(scorer->score(pt::RequestData(), none).value.empty());
    check_rejected(lib, R"({"threshold": "high"})", "parameter 'threshold': expected integer, found string \"high\"");
    check_rejected(lib, R"({"config": {}})",
                   "unknown parameter 'config'; known parameters: threshold, countPendingPicks");
}
