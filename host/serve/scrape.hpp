// Reading a model server's Prometheus text exposition (/metrics) into an endpoint update: the
// waiting and running request counts, KV-cache usage and LoRA adapters, under the configured
// metric names (vLLM's by default, as upstream's core-metrics-extractor reads them).
#pragma once

#include "plan/serve_config.hpp"
#include "schedule/endpoint_table.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plughost::host {

/// One sample line: `name{label="value",...} value [timestamp]`.
struct Sample {
    std::string_view name;
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;
};

/// Parses one line; false for comments, blank lines and lines that are not a sample.
bool parse_sample(std::string_view line, Sample &out);

/// Fills `update` (its metrics fields, `metrics` = true) from a scrape body. Returns an empty
/// string, or why the body is unusable (none of the configured metrics is in it). As upstream:
/// a missing LoRA family is no error; among LoRA series the largest value (its creation time) wins.
std::string extract_metrics(std::string_view body, const MetricNames &names, EndpointUpdate &update);

}  // namespace plughost::host
