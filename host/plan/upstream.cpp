// The upstream plugin types, one row each. docs/upstream.md shows this table; a test checks that
// every row appears there, so edit both together.
#include "plan/upstream.hpp"

#include <array>

namespace plughost::host {
namespace {

using S = UpstreamStatus;
using K = UpstreamKind;

// Why a not-provided type is missing, in one phrase each (shared by the rows it applies to).
constexpr std::string_view kMulticluster = "it schedules across clusters, which plughost does not do";
constexpr std::string_view kLatencyPredictor = "it needs upstream's latency-predictor sidecar";
constexpr std::string_view kKvEvents = "it needs the model servers' KV-cache event stream (ZMQ) and a real tokenizer";
constexpr std::string_view kMultimodal = "it works on multimodal (image, audio, video) request content";
constexpr std::string_view kDcgm = "it needs GPU telemetry from a DCGM exporter";
constexpr std::string_view kFlowControl = "it is a flow-control policy, and plughost has no flow control (request "
                                          "queuing, fairness, priority bands): it decides every request at once";
constexpr std::string_view kKubernetes = "it needs the Kubernetes API";
constexpr std::string_view kTestOnly = "it exists for upstream's conformance tests";
constexpr std::string_view kAttributes = "it reads endpoint attributes that upstream's data-layer extractors "
                                         "produce (GPU telemetry, /v1/models), which plughost does not collect";
constexpr std::string_view kNoFlowControl = "remove it (and the flowControl gate): plughost has no flow control";

constexpr std::array kTable = {
    // Scheduling: filters.
    UpstreamType{"label-selector-filter", S::plugin, K::filter,
                 "in-tree filter: keeps endpoints whose labels match a "
                 "Kubernetes-style label selector"},
    UpstreamType{"by-label-selector", S::plugin, K::filter,
                 "upstream's deprecated name of label-selector-filter: read as label-selector-filter, with a "
                 "deprecation warning"},
    UpstreamType{"by-label", S::plugin, K::filter,
                 "in-tree filter: keeps endpoints whose label has one of the "
                 "given values (deprecated upstream)"},
    UpstreamType{"decode-filter", S::plugin, K::filter,
                 "in-tree filter: keeps decode-capable endpoints (by the "
                 "llm-d.ai/role label; unlabelled ones too)"},
    UpstreamType{"prefill-filter", S::plugin, K::filter,
                 "in-tree filter: keeps prefill-capable endpoints (by the "
                 "llm-d.ai/role label)"},
    UpstreamType{"encode-filter", S::plugin, K::filter,
                 "in-tree filter: keeps encode-capable endpoints (by the "
                 "llm-d.ai/role label)"},
    UpstreamType{"session-affinity-filter", S::not_provided, K::filter,
                 "plughost has not ported the filter variant of session affinity",
                 "use session-affinity-scorer with a high weight"},
    UpstreamType{"multicluster-session-affinity-filter", S::not_provided, K::filter, kMulticluster,
                 "use session-affinity-scorer within one cluster"},
    UpstreamType{"endpoint-attribute-filter", S::not_provided, K::filter, kAttributes,
                 "use utilization-filter on the core metrics"},
    UpstreamType{"topology-affinity-filter", S::not_provided, K::filter,
                 "it needs node topology (host, rack, zone) from Kubernetes node labels",
                 "use label-selector-filter on endpoint labels"},
    UpstreamType{"utilization-filter", S::plugin, K::filter,
                 "in-tree filter: drops endpoints over metric limits "
                 "(requests in flight, running, waiting, KV-cache use)"},
    UpstreamType{"prefix-cache-affinity-filter", S::not_provided, K::filter,
                 "plughost has not ported it (its TTFT estimate needs prefill throughput or the latency predictor)",
                 "use prefix-cache-scorer"},
    UpstreamType{"slo-headroom-tier-filter", S::not_provided, K::filter, kLatencyPredictor, "remove it"},
    UpstreamType{"header-based-testing-filter", S::not_provided, K::filter, kTestOnly, "remove it"},
    // Scheduling: scorers.
    UpstreamType{"queue-scorer", S::plugin, K::scorer,
                 "in-tree scorer: prefers endpoints with shorter waiting "
                 "queues"},
    UpstreamType{"multicluster-queue-scorer", S::not_provided, K::scorer, kMulticluster, "use queue-scorer"},
    UpstreamType{"kv-cache-utilization-scorer", S::plugin, K::scorer,
                 "in-tree scorer: prefers endpoints with "
                 "more free KV cache"},
    UpstreamType{"multicluster-kv-cache-utilization-scorer", S::not_provided, K::scorer, kMulticluster,
                 "use kv-cache-utilization-scorer"},
    UpstreamType{"prefix-cache-scorer", S::plugin, K::scorer,
                 "in-tree scorer: prefers endpoints likely to hold the "
                 "prompt's prefix in their KV cache"},
    UpstreamType{"multicluster-prefix-cache-scorer", S::not_provided, K::scorer, kMulticluster,
                 "use prefix-cache-scorer"},
    UpstreamType{"running-requests-size-scorer", S::plugin, K::scorer,
                 "in-tree scorer: prefers endpoints running "
                 "fewer requests"},
    UpstreamType{"lora-affinity-scorer", S::plugin, K::scorer,
                 "in-tree scorer: prefers endpoints with the request's "
                 "LoRA adapter loaded, or room to load it"},
    UpstreamType{"token-load-scorer", S::not_provided, K::scorer,
                 "plughost has not ported it (it weighs tokens in flight, plughost counts requests)",
                 "use active-request-scorer"},
    UpstreamType{"no-hit-lru-scorer", S::plugin, K::scorer,
                 "in-tree scorer: spreads requests without a prefix hit "
                 "over the least recently used endpoints"},
    UpstreamType{"active-request-scorer", S::plugin, K::scorer,
                 "in-tree scorer: prefers endpoints with fewer "
                 "requests in flight (counted by the host)"},
    UpstreamType{"load-aware-scorer", S::plugin, K::scorer,
                 "in-tree scorer: prefers endpoints with shorter waiting "
                 "queues, up to a threshold"},
    UpstreamType{"context-length-aware", S::not_provided, K::scorer,
                 "plughost has not ported it (it matches prompt lengths to context-length labels)",
                 "use label-selector-filter on the endpoints' labels"},
    UpstreamType{"session-affinity-scorer", S::plugin, K::scorer,
                 "in-tree scorer: prefers the endpoint a session's "
                 "earlier requests went to"},
    UpstreamType{"header-label-affinity-scorer", S::not_provided, K::scorer,
                 "plughost has not ported it (it matches a request header to an endpoint label)",
                 "use header-profile-handler with a profile per label value"},
    UpstreamType{"endpoint-attribute-scorer", S::not_provided, K::scorer, kAttributes,
                 "use the scorers of the core metrics (queue-scorer, kv-cache-utilization-scorer)"},
    UpstreamType{"topology-affinity-scorer", S::not_provided, K::scorer,
                 "it needs node topology (host, rack, zone) from Kubernetes node labels", "remove it"},
    UpstreamType{"latency-scorer", S::not_provided, K::scorer, kLatencyPredictor,
                 "use queue-scorer and kv-cache-utilization-scorer"},
    UpstreamType{"precise-prefix-cache-scorer", S::not_provided, K::scorer, kKvEvents,
                 "use prefix-cache-scorer with approx-prefix-cache-producer"},
    UpstreamType{"mm-embeddings-cache-scorer", S::not_provided, K::scorer, kMultimodal, "remove it"},
    // Scheduling: pickers, profile handlers and deciders.
    UpstreamType{"max-score-picker", S::plugin, K::picker,
                 "in-tree picker: the endpoint with the highest total "
                 "score"},
    UpstreamType{"random-picker", S::plugin, K::picker, "in-tree picker: an endpoint at random"},
    UpstreamType{"weighted-random-picker", S::plugin, K::picker,
                 "in-tree picker: an endpoint at random, in "
                 "proportion to its score"},
    UpstreamType{"single-profile-handler", S::plugin, K::profile_handler,
                 "in-tree profile handler: runs the one "
                 "scheduling profile"},
    UpstreamType{"disagg-profile-handler", S::plugin, K::profile_handler,
                 "in-tree profile handler: prefill/decode (and encode) disaggregation, with its deciders inline"},
    UpstreamType{"pd-profile-handler", S::not_provided, K::profile_handler,
                 "it is deprecated upstream, replaced by disagg-profile-handler",
                 "use disagg-profile-handler with deciders.prefill"},
    UpstreamType{"disagg-headers-handler", S::not_provided, K::request_control,
                 "it is deprecated upstream: disagg-profile-handler sets the prefill and encode headers itself",
                 "remove it; use disagg-profile-handler"},
    UpstreamType{"prefill-header-handler", S::not_provided, K::request_control,
                 "it is deprecated upstream: disagg-profile-handler sets the prefill header itself",
                 "remove it; use disagg-profile-handler"},
    UpstreamType{"prefix-based-pd-decider",
                 S::built_in,
                 K::decider,
                 "built into disagg-profile-handler: the entry is folded into the handler that names it",
                 {},
                 "nonCachedTokens promptTokens"},
    UpstreamType{"always-disagg-pd-decider", S::built_in, K::decider,
                 "built into disagg-profile-handler: the entry is folded into the handler that names it"},
    UpstreamType{"always-disagg-multimodal-decider", S::not_provided, K::decider, kMultimodal,
                 "remove it and the encode stage"},
    UpstreamType{"data-parallel-profile-handler", S::not_provided, K::profile_handler,
                 "it rewrites the target's port for data-parallel ranks (deprecated upstream); plughost picks "
                 "endpoints and leaves ports alone",
                 "use single-profile-handler and list each rank as an endpoint"},
    UpstreamType{"header-profile-handler", S::plugin, K::profile_handler,
                 "in-tree profile handler: runs the "
                 "profile a request header names"},
    // Request control: producers, admitters, screeners, request and response processors.
    UpstreamType{"approx-prefix-cache-producer", S::plugin, K::producer,
                 "in-tree producer: estimates which endpoints hold the prompt's prefix blocks, from where earlier "
                 "requests went"},
    UpstreamType{"multicluster-approx-prefix-cache-producer", S::not_provided, K::producer, kMulticluster,
                 "use approx-prefix-cache-producer"},
    UpstreamType{"burst-prefix-cache-producer", S::not_provided, K::producer,
                 "plughost has not ported it (it holds requests for a time window to place bursts together)",
                 "use approx-prefix-cache-producer"},
    UpstreamType{"inflight-load-producer",
                 S::built_in,
                 K::producer,
                 "built in: the host counts the requests in flight on each endpoint and gives plugins that count",
                 {},
                 "addEstimatedOutputTokens outputRatio maxEstimatedOutputTokens prefixMatchInfoProducerName "
                 "syncCrossReplicaState"},
    UpstreamType{"session-id-producer", S::not_provided, K::producer,
                 "plughost has not ported it (session ids from a header or cookie)",
                 "use session-affinity-scorer, which reads its session header itself"},
    UpstreamType{"token-producer",
                 S::built_in,
                 K::producer,
                 "built in (without a tokenizer backend): plughost estimates tokens from the request's bytes, as "
                 "upstream's estimate backend does; a vllm backend is not provided",
                 {},
                 "modelName vllm udsTokenizerConfig estimate"},
    UpstreamType{"tokenizer",
                 S::built_in,
                 K::producer,
                 "built in, as token-producer (upstream's deprecated name for it)",
                 {},
                 "modelName vllm udsTokenizerConfig estimate"},
    UpstreamType{"precise-prefix-cache-producer", S::not_provided, K::producer, kKvEvents,
                 "use approx-prefix-cache-producer, which estimates prefix hits without events"},
    UpstreamType{"mm-embeddings-cache-producer", S::not_provided, K::producer, kMultimodal, "remove it"},
    UpstreamType{"p2p-source-producer", S::not_provided, K::producer,
                 "plughost has not ported it (it names a KV-cache source endpoint in a header)", "remove it"},
    UpstreamType{"predicted-latency-producer", S::not_provided, K::producer, kLatencyPredictor, "remove it"},
    UpstreamType{"latency-slo-admitter", S::not_provided, K::request_control, kLatencyPredictor, "remove it"},
    UpstreamType{"probabilistic-admitter", S::not_provided, K::request_control,
                 "it rejects requests before scheduling (admission control), and plughost decides every request",
                 "remove it"},
    UpstreamType{"disaggregatedset-rollout-screener", S::not_provided, K::request_control,
                 "it needs the Kubernetes API (pod revisions of a rollout)", "remove it"},
    UpstreamType{"request-attribute-reporter", S::not_provided, K::request_control,
                 "it evaluates CEL expressions over responses, and plughost has no CEL", "remove it"},
    UpstreamType{"agent-identity", S::not_provided, K::request_control,
                 "plughost has not ported it (agent session headers into the fairness id)", "remove it"},
    UpstreamType{"destination-endpoint-served-verifier", S::not_provided, K::request_control, kTestOnly, "remove it"},
    // Data layer.
    UpstreamType{"metrics-data-source",
                 S::built_in,
                 K::data_source,
                 "built in: endpoint metrics come from the event stream in run; serve will scrape each endpoint's "
                 "/metrics itself",
                 {},
                 "scheme path port insecureSkipVerify caCertPath clientCertPath clientKeyPath interval"},
    UpstreamType{"core-metrics-extractor",
                 S::built_in,
                 K::extractor,
                 "built in: the host reads the core metrics (waiting and running requests, KV-cache use, LoRA "
                 "adapters) itself",
                 {},
                 "engineLabelKey defaultEngine engineConfigs"},
    UpstreamType{"multicluster-metrics-data-source", S::not_provided, K::data_source, kMulticluster, "remove it"},
    UpstreamType{"multicluster-metrics-extractor", S::not_provided, K::extractor, kMulticluster, "remove it"},
    UpstreamType{"models-data-source", S::not_provided, K::data_source,
                 "plughost does not poll the model servers' /v1/models", "remove it"},
    UpstreamType{"models-data-extractor", S::not_provided, K::extractor,
                 "plughost does not poll the model servers' /v1/models", "remove it"},
    UpstreamType{"dcgm-data-source", S::not_provided, K::data_source, kDcgm,
                 "remove it; utilization-filter and the core-metric scorers work without it"},
    UpstreamType{"dcgm-extractor", S::not_provided, K::extractor, kDcgm, "remove it"},
    UpstreamType{"topology-extractor", S::not_provided, K::extractor,
                 "it needs node topology (host, rack, zone) from Kubernetes node labels", "remove it"},
    UpstreamType{"k8s-notification-source", S::not_provided, K::data_source, kKubernetes, "remove it"},
    UpstreamType{"endpoint-notification-source", S::built_in, K::data_source,
                 "built in: the host tracks endpoints being added and removed itself"},
    UpstreamType{"file-discovery", S::not_provided, K::discovery,
                 "plughost learns its endpoints from the event stream, not from a discovery plugin",
                 "remove it and dataLayer.discovery; send endpoint events"},
    UpstreamType{"multicluster-file-discovery", S::not_provided, K::discovery, kMulticluster, "remove it"},
    // Request handling: parsers.
    UpstreamType{"openai-parser", S::built_in, K::parser,
                 "built in: plughost parses OpenAI-compatible request "
                 "bodies itself"},
    UpstreamType{"anthropic-parser", S::not_provided, K::parser,
                 "plughost parses OpenAI-compatible bodies, not Anthropic's /v1/messages", "remove it"},
    UpstreamType{"vllmhttp-parser", S::built_in, K::parser, "built in: plughost parses request bodies itself"},
    UpstreamType{"sglanghttp-parser", S::not_provided, K::parser,
                 "plughost parses OpenAI-compatible bodies, not SGLang's /generate", "remove it"},
    UpstreamType{"vllmgrpc-parser", S::not_provided, K::parser, "plughost takes no gRPC requests", "remove it"},
    UpstreamType{"vertexai-parser", S::not_provided, K::parser, "plughost takes no gRPC requests", "remove it"},
    UpstreamType{"passthrough-parser", S::built_in, K::parser, "built in: plughost reads request bodies itself"},
    // Flow control.
    UpstreamType{"global-strict-fairness-policy", S::not_provided, K::flow_control, kFlowControl, kNoFlowControl},
    UpstreamType{"round-robin-fairness-policy", S::not_provided, K::flow_control, kFlowControl, kNoFlowControl},
    UpstreamType{"program-aware-fairness", S::not_provided, K::flow_control, kFlowControl, kNoFlowControl},
    UpstreamType{"fcfs-ordering-policy", S::not_provided, K::flow_control, kFlowControl, kNoFlowControl},
    UpstreamType{"edf-ordering-policy", S::not_provided, K::flow_control, kFlowControl, kNoFlowControl},
    UpstreamType{"slo-deadline-ordering-policy", S::not_provided, K::flow_control, kFlowControl, kNoFlowControl},
    UpstreamType{"static-usage-limit-policy", S::not_provided, K::flow_control, kFlowControl, kNoFlowControl},
    UpstreamType{"priority-holdback-policy", S::not_provided, K::flow_control, kFlowControl, kNoFlowControl},
    UpstreamType{"soft-reflective-ceiling-policy", S::not_provided, K::flow_control, kFlowControl, kNoFlowControl},
    UpstreamType{"sheddable-eviction-filter", S::not_provided, K::flow_control, kFlowControl, kNoFlowControl},
    UpstreamType{"priority-then-time-eviction-order-policy", S::not_provided, K::flow_control, kFlowControl,
                 kNoFlowControl},
    // Saturation detectors.
    UpstreamType{"utilization-detector",
                 S::built_in,
                 K::saturation_detector,
                 "built in: with flow control off there is nothing to detect saturation for; named in a profile "
                 "(or in a config without profiles) it filters as utilization-filter on its thresholds",
                 {},
                 "queueDepthThreshold kvCacheUtilThreshold metricsStalenessThreshold headroom"},
    UpstreamType{"concurrency-detector",
                 S::built_in,
                 K::saturation_detector,
                 "built in: with flow control off there is nothing to detect saturation for; named in a profile "
                 "(or in a config without profiles) it filters as utilization-filter on requests in flight",
                 {},
                 "maxConcurrency headroom concurrencyMode maxTokenConcurrency inFlightLoadProducerName"},
};

}  // namespace

std::span<const UpstreamType> upstream_types() { return kTable; }

const UpstreamType *find_upstream_type(std::string_view type) {
    for (const UpstreamType &row : kTable)
        if (row.type == type) return &row;
    return nullptr;
}

std::string_view to_string(UpstreamStatus status) {
    switch (status) {
    case UpstreamStatus::plugin: return "plugin";
    case UpstreamStatus::built_in: return "built-in";
    case UpstreamStatus::not_provided: return "not-provided";
    }
    return "unknown";
}

std::string_view to_string(UpstreamKind kind) {
    switch (kind) {
    case UpstreamKind::filter: return "filter";
    case UpstreamKind::scorer: return "scorer";
    case UpstreamKind::picker: return "picker";
    case UpstreamKind::profile_handler: return "profile handler";
    case UpstreamKind::decider: return "decider";
    case UpstreamKind::producer: return "data producer";
    case UpstreamKind::request_control: return "request control";
    case UpstreamKind::data_source: return "data source";
    case UpstreamKind::extractor: return "extractor";
    case UpstreamKind::discovery: return "endpoint discovery";
    case UpstreamKind::parser: return "parser";
    case UpstreamKind::flow_control: return "flow-control policy";
    case UpstreamKind::saturation_detector: return "saturation detector";
    }
    return "unknown";
}

}  // namespace plughost::host
