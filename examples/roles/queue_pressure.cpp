// A producer and its consumer, two plugins in one source file built twice (PRODUCER defined or
// not): the producer publishes each endpoint's queue pressure, waiting / (waiting + running + 1),
// as the attribute "example.queue-pressure"; the scorer reads it and prefers low pressure. The
// scorer declares the attribute required with the producer as its default producer, so a config
// naming only the scorer gets the producer added by the host.
#include <plughost/plugin.hpp>

#include <span>
#include <stdexcept>
#include <string>

namespace {

constexpr std::string_view kAttribute = "example.queue-pressure";

#ifdef PRODUCER

class QueuePressureProducer {
public:
    QueuePressureProducer(const plughost::Params &, plughost::Host host)
        : host_(host), pressure_(host_.attribute(kAttribute)) {}

    void produce(const plughost::Request &request, plughost::Endpoints endpoints) {
        for (plughost::Endpoint e : endpoints) {
            const double waiting = e.waiting_queue_size();
            if (!host_.put(request, e, pressure_, waiting / (waiting + e.running_requests() + 1.0)))
                throw std::runtime_error("the host refused the queue pressure of " + std::string(e.name()));
        }
    }

private:
    plughost::Host host_;
    plughost::Attribute pressure_;
};

constexpr plughost::Produces kProduces[] = {
    {kAttribute, plughost::AttributeScope::endpoint, plughost::AttributeType::number,
     "Waiting / (waiting + running + 1), in [0, 1)."},
};

constexpr plughost::Manifest kManifest{
    .type = "example-queue-pressure-producer",
    .role = plughost::Role::producer,
    .version = "0.1.0",
    .stability = plughost::Stability::alpha,
    .feature_gate = "ExampleQueuePressure",
    .description = "Publishes each endpoint's queue pressure.",
    .produces = kProduces,
};

#else

class QueuePressureScorer {
public:
    QueuePressureScorer(const plughost::Params &, plughost::Host host)
        : host_(host), pressure_(host_.attribute(kAttribute)) {}

    // 1 - pressure; 0.5 for an endpoint without a value (the producer did not run for it).
    void score(const plughost::Request &request, plughost::Endpoints endpoints, std::span<double> scores) {
        for (std::size_t i = 0; i < endpoints.size(); ++i)
            scores[i] = 1.0 - host_.number(request, endpoints[i], pressure_).value_or(0.5);
    }

private:
    plughost::Host host_;
    plughost::Attribute pressure_;
};

constexpr plughost::Consumes kConsumes[] = {
    {kAttribute, true, "example-queue-pressure-producer"},
};

constexpr plughost::Manifest kManifest{
    .type = "example-queue-pressure-scorer",
    .role = plughost::Role::scorer,
    .version = "0.1.0",
    .stability = plughost::Stability::alpha,
    .feature_gate = "ExampleQueuePressure",
    .description = "Prefers endpoints with low queue pressure (from the producer).",
    .consumes = kConsumes,
};

#endif

}  // namespace

#ifdef PRODUCER
PLUGHOST_PLUGIN(QueuePressureProducer, kManifest)
#else
PLUGHOST_PLUGIN(QueuePressureScorer, kManifest)
#endif
