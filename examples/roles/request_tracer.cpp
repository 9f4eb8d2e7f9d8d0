// example-request-tracer: an observer, using every lifecycle hook. It tells the endpoint which
// profile chose it (pre_request sets the upstream header x-example-profile, plus
// x-example-prefill when a prefill profile picked too), tells the client which endpoint served it
// (response_started sets x-example-served-by), and counts outcomes and slow responses
// (response_complete), and picks per request (on_picked).
#include <plughost/plugin.hpp>

#include <string>

namespace {

class RequestTracer {
public:
    RequestTracer(const plughost::Params &params, plughost::Host host)
        : slow_seconds_(params.get_in_range<double>("slowSeconds", 0.0, 3600.0)), host_(host) {}

    void on_picked(const plughost::Request &, plughost::Endpoints chosen) {
        host_.count("picks", static_cast<double>(chosen.size()));
    }

    void pre_request(const plughost::Request &request, const plughost::Decision &decision) {
        host_.set_upstream_header(request, "x-example-profile", decision.profile());
        if (const auto prefill = decision.extra("prefill"))
            host_.set_upstream_header(request, "x-example-prefill", prefill->name());
    }

    void response_started(const plughost::Request &request, const plughost::Response &response) {
        if (const auto endpoint = response.endpoint())
            host_.set_client_header(request, "x-example-served-by", endpoint->name());
    }

    void response_complete(const plughost::Request &, const plughost::Response &response) {
        host_.count(response.outcome() == plughost::Response::Outcome::complete ? "completed" : "not-completed");
        if (response.seconds_total().value_or(0) > slow_seconds_) host_.count("slow");
    }

private:
    double slow_seconds_;
    plughost::Host host_;
};

constexpr plughost::Param kParams[] = {
    {"slowSeconds", plughost::ParamType::number, "2.0", "Responses longer than this are counted as slow."},
};

constexpr plughost::Manifest kManifest{
    .type = "example-request-tracer",
    .role = plughost::Role::observer,
    .version = "0.1.0",
    .stability = plughost::Stability::alpha,
    .feature_gate = "ExampleRequestTracer",
    .description = "Sets tracing headers and counts outcomes and slow responses.",
    .parameters = kParams,
};

}  // namespace

PLUGHOST_PLUGIN(RequestTracer, kManifest)
