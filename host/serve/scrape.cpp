#include "serve/scrape.hpp"

#include <charconv>
#include <cmath>

namespace plughost::host {

namespace {

bool name_char(char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (!first && c >= '0' && c <= '9');
}

std::vector<std::string> split_names(std::string_view list) {
    std::vector<std::string> out;
    while (!list.empty()) {
        const auto comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (!item.empty()) out.emplace_back(item);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return out;
}

std::uint32_t as_count(double v) {
    if (!(v >= 0)) return 0;
    return v > 4e9 ? 4000000000u : static_cast<std::uint32_t>(v);
}

}  // namespace

bool parse_sample(std::string_view line, Sample &out) {
    std::size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size() || line[i] == '#') return false;
    const std::size_t start = i;
    while (i < line.size() && name_char(line[i], i == start)) ++i;
    if (i == start) return false;
    out.name = line.substr(start, i - start);
    out.labels.clear();
    if (i < line.size() && line[i] == '{') {
        ++i;
        for (;;) {
            while (i < line.size() && (line[i] == ' ' || line[i] == ',')) ++i;
            if (i < line.size() && line[i] == '}') {
                ++i;
                break;
            }
            const std::size_t ks = i;
            while (i < line.size() && name_char(line[i], i == ks)) ++i;
            if (i == ks || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') return false;
            std::string key(line.substr(ks, i - ks));
            i += 2;
            std::string value;
            for (;;) {
                if (i >= line.size()) return false;
                const char c = line[i++];
                if (c == '"') break;
                if (c == '\\' && i < line.size()) {
                    const char e = line[i++];
                    value += e == 'n' ? '\n' : e;
                } else {
                    value += c;
                }
            }
            out.labels.emplace_back(std::move(key), std::move(value));
        }
    }
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::string_view rest = line.substr(i);
    const auto space = rest.find_first_of(" \t");
    std::string_view number = rest.substr(0, space);
    if (number == "NaN") out.value = std::nan("");
    else if (number == "+Inf") out.value = HUGE_VAL;
    else if (number == "-Inf") out.value = -HUGE_VAL;
    else {
        const auto r = std::from_chars(number.data(), number.data() + number.size(), out.value);
        if (r.ec != std::errc() || r.ptr != number.data() + number.size()) return false;
    }
    return true;
}

std::string extract_metrics(std::string_view body, const MetricNames &names, EndpointUpdate &update) {
    bool found = false;
    std::size_t kv_rank = names.kv_usage.size();  // the earliest configured name found wins
    double lora_best = -HUGE_VAL;
    Sample s;
    while (!body.empty()) {
        const auto nl = body.find('\n');
        std::string_view line = body.substr(0, nl);
        body.remove_prefix(nl == std::string_view::npos ? body.size() : nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!parse_sample(line, s)) continue;
        if (!names.waiting.empty() && s.name == names.waiting) {
            update.waiting_queue_size = as_count(s.value);
            found = true;
        } else if (!names.running.empty() && s.name == names.running) {
            update.running_requests = as_count(s.value);
            found = true;
        } else if (!names.lora.empty() && s.name == names.lora) {
            if (!(s.value > lora_best)) continue;
            lora_best = s.value;
            update.running_loras.emplace();
            update.waiting_loras.emplace();
            for (const auto &[k, v] : s.labels) {
                if (k == "running_lora_adapters") update.running_loras = split_names(v);
                else if (k == "waiting_lora_adapters") update.waiting_loras = split_names(v);
                else if (k == "max_lora") {
                    std::uint32_t n = 0;
                    const auto r = std::from_chars(v.data(), v.data() + v.size(), n);
                    if (r.ec == std::errc() && r.ptr == v.data() + v.size()) update.max_active_loras = n;
                }
            }
        } else {
            for (std::size_t k = 0; k < kv_rank; ++k)
                if (s.name == names.kv_usage[k] && std::isfinite(s.value)) {
                    update.kv_cache_usage = std::clamp(s.value, 0.0, 1.0);
                    kv_rank = k;
                    found = true;
                }
        }
    }
    if (!found) return "none of the configured metrics (" + names.waiting + ", " + names.running + ", ...) is present";
    update.metrics = true;
    return {};
}

}  // namespace plughost::host
