// The ABI 1.1 roles bench_pipeline adds to its profile, as plain SDK classes: built into .so
// files (bench-load-producer.so, bench-load-scorer.so, bench-single-handler.so, from
// roles_*.cpp) for the dynamic pipeline, and compiled into bench_pipeline for the static one.
//   bench-load-producer  publishes, per endpoint, "bench.load" = waiting + running requests;
//   bench-load-scorer    consumes it: 1 / (1 + load);
//   bench-single-handler runs the first profile in round one, nothing after; it is the primary.
// Small on purpose: they measure what the host pays to call a producer and a handler and to move
// an attribute from one plugin to another, not plugin work.
#pragma once

#include <plughost/plugin.hpp>

#include <cmath>
#include <vector>

namespace plughost::bench {

class LoadProducer {
public:
    LoadProducer(const Params &, Host host) : host_(std::move(host)), load_(host_.attribute("bench.load")) {}
    void produce(const Request &request, Endpoints endpoints) {
        loads_.resize(endpoints.size());
        for (std::size_t i = 0; i < endpoints.size(); ++i)
            loads_[i] = static_cast<double>(endpoints[i].waiting_queue_size() + endpoints[i].running_requests());
        host_.put(request, endpoints, load_, loads_);
    }

private:
    Host host_;
    Attribute load_;
    std::vector<double> loads_;  // grows to the most endpoints seen, then reused
};

inline constexpr Produces kLoadProduces[] = {
    {"bench.load", AttributeScope::endpoint, AttributeType::number, "Waiting plus running requests."},
};
inline constexpr Manifest kLoadProducerManifest{
    .type = "bench-load-producer",
    .role = Role::producer,
    .version = "1.0.0",
    .stability = Stability::stable,
    .description = "Benchmark producer: publishes each endpoint's load.",
    .produces = kLoadProduces,
};

class LoadScorer {
public:
    LoadScorer(const Params &, Host host) : host_(std::move(host)), load_(host_.attribute("bench.load")) {}
    void score(const Request &request, Endpoints endpoints, std::span<double> scores) const {
        host_.numbers(request, endpoints, load_, scores);  // the loads, NaN where absent
        for (double &s : scores) s = 1.0 / (1.0 + (std::isnan(s) ? 0.0 : s));
    }

private:
    Host host_;
    Attribute load_;
};

inline constexpr Consumes kLoadConsumes[] = {{"bench.load", true, "bench-load-producer"}};
inline constexpr Manifest kLoadScorerManifest{
    .type = "bench-load-scorer",
    .role = Role::scorer,
    .version = "1.0.0",
    .stability = Stability::stable,
    .description = "Benchmark consumer: scores by the producer's load.",
    .consumes = kLoadConsumes,
};

class SingleHandler {
public:
    void pick_profiles(const Request &, ProfileRuns profiles, Selection &run) const {
        if (!profiles[0].ran()) run.add(0);
    }
    std::size_t process_results(const Request &, ProfileRuns) const { return 0; }
};

inline constexpr Manifest kSingleHandlerManifest{
    .type = "bench-single-handler",
    .role = Role::profile_handler,
    .version = "1.0.0",
    .stability = Stability::stable,
    .description = "Benchmark profile handler: the first profile, in one round.",
};

}  // namespace plughost::bench
