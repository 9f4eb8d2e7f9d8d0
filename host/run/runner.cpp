#include "run/runner.hpp"

#include "common/json.hpp"
#include "common/suggest.hpp"
#include "load/instance.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>  // strerror, and GNU sigabbrev_np

namespace plughost::host {

namespace {

// {"name": number, ...} in the given order.
void put_numbers_by_name(std::string &out, const std::vector<std::pair<std::string, double>> &numbers) {
    out += '{';
    for (std::size_t k = 0; k < numbers.size(); ++k) {
        if (k) out += ',';
        put_json(out, numbers[k].first);
        out += ':';
        put_json(out, numbers[k].second);
    }
    out += '}';
}

// The fields of one profile's explanation: filters, scorers, totals, and shadows when any ran.
void put_explanation_fields(std::string &out, const Explanation &e) {
    out += "\"filters\":[";
    for (std::size_t i = 0; i < e.filters.size(); ++i) {
        const auto &f = e.filters[i];
        out += i ? ",{\"plugin\":" : "{\"plugin\":";
        put_json(out, f.plugin);
        if (f.disabled) out += ",\"disabled\":true";
        else if (f.fault) out += ",\"fault\":true";
        else {
            out += ",\"passed\":[";
            for (std::size_t k = 0; k < f.passed.size(); ++k) {
                if (k) out += ',';
                put_json(out, f.passed[k]);
            }
            out += ']';
        }
        out += '}';
    }
    out += "],\"scorers\":[";
    for (std::size_t i = 0; i < e.scorers.size(); ++i) {
        const auto &s = e.scorers[i];
        out += i ? ",{\"plugin\":" : "{\"plugin\":";
        put_json(out, s.plugin);
        out += ",\"weight\":";
        put_json(out, s.weight);
        if (s.disabled) out += ",\"disabled\":true";
        else if (s.fault) out += ",\"fault\":true";
        else {
            out += ",\"scores\":";
            put_numbers_by_name(out, s.scores);
        }
        out += '}';
    }
    out += "],\"totals\":";
    put_numbers_by_name(out, e.totals);
    if (!e.shadows.empty()) {
        out += ",\"shadows\":[";
        for (std::size_t i = 0; i < e.shadows.size(); ++i) {
            const auto &sh = e.shadows[i];
            out += i ? ",{\"plugin\":" : "{\"plugin\":";
            put_json(out, sh.plugin);
            if (sh.fault) out += ",\"fault\":true";
            else {
                out += sh.changed ? ",\"changed\":true" : ",\"changed\":false";
                if (!sh.would_pick.empty()) {
                    out += ",\"wouldPick\":";
                    put_json(out, sh.would_pick);
                }
            }
            out += '}';
        }
        out += ']';
    }
}

// "explain": the primary profile's stages at the top (the shape of single-profile runs), and
// the other profiles that ran under "otherProfiles", in the order they ran.
void append_explanations(std::string &out, const std::vector<Explanation> &all, std::string_view primary) {
    const Explanation *main = nullptr;
    for (const Explanation &e : all)
        if (e.profile == primary) main = &e;
    out += ",\"explain\":{";
    if (main) put_explanation_fields(out, *main);
    bool others = false;
    for (const Explanation &e : all) {
        if (&e == main) continue;
        out += others ? ",{\"profile\":"
                      : (main ? ",\"otherProfiles\":[{\"profile\":" : "\"otherProfiles\":[{\"profile\":");
        put_json(out, e.profile);
        out += ',';
        put_explanation_fields(out, e);
        out += '}';
        others = true;
    }
    if (others) out += ']';
    out += '}';
}

}  // namespace

Runner::Runner(Scheduler &scheduler, OutputSink &out, bool explain)
    : scheduler_(scheduler), out_(out), explain_(explain) {}

void Runner::write(const std::string &text) { out_.append(text); }

void put_error_line(std::string &out, std::size_t line, const std::optional<std::string> &id, Code code,
                    std::string_view message) {
    fmt::format_to(std::back_inserter(out), "{{\"line\":{}", line);
    if (id) {
        out += ",\"id\":";
        put_json(out, *id);
    }
    out += ",\"error\":{\"code\":";
    put_json(out, to_string(code));
    out += ",\"message\":";
    put_json(out, message);
    out += "}}\n";
}

void put_decision_line(std::string &out, const DecisionLine &line) {
    out += "{\"id\":";
    put_json(out, line.id);
    out += ",\"profile\":";
    put_json(out, line.profile);
    out += ",\"picked\":[";
    for (std::size_t i = 0; i < line.picked.size(); ++i) {
        if (i) out += ',';
        put_json(out, view(line.picked[i]->name));
    }
    out += ']';
    if (!line.extras.empty()) {
        out += ",\"extras\":{";
        for (std::size_t i = 0; i < line.extras.size(); ++i) {
            if (i) out += ',';
            put_json(out, line.extras[i].first);
            out += ':';
            put_json(out, line.extras[i].second);
        }
        out += '}';
    }
    if (!line.headers.empty()) {
        out += ",\"headers\":{";
        for (std::size_t i = 0; i < line.headers.size(); ++i) {
            if (i) out += ',';
            put_json(out, line.headers[i].first);
            out += ':';
            put_json(out, line.headers[i].second);
        }
        out += '}';
    }
    if (line.explanations) append_explanations(out, *line.explanations, line.profile);
    out += "}\n";
}

void Runner::error_line(std::size_t line, Code code, std::string_view message, const std::optional<std::string> &id) {
    ++summary_.error_lines;
    ++summary_.errors_by_code[std::string(to_string(code))];
    line_.clear();
    put_error_line(line_, line, id, code, message);
    write(line_);
}

void Runner::request(const RequestEvent &r, std::size_t line) {
    ++summary_.requests;
    std::optional<std::size_t> profile;
    if (r.profile) {
        profile = scheduler_.find_profile(*r.profile);
        if (!profile) {
            std::vector<std::string> names;
            for (const auto &p : scheduler_.profiles()) names.push_back(p.name);
            error_line(line, Code::unknown_profile,
                       "no scheduling profile \"" + *r.profile + "\"" + did_you_mean(*r.profile, names), r.id);
            return;
        }
    }
    const plughost_request req = to_abi(r);
    explanations_.clear();
    const Decision &d =
        scheduler_.schedule(req, endpoints_.data(), endpoints_.size(), profile, explain_ ? &explanations_ : nullptr);
    if (d.error) {
        error_line(line, *d.error, d.message, r.id);
        return;
    }
    ++summary_.decided;
    line_.clear();
    DecisionLine out{r.id,      scheduler_.profiles()[d.profile].name, d.picked, {},
                     d.headers, explain_ ? &explanations_ : nullptr};
    for (const DecisionExtra &extra : d.extras)
        out.extras.emplace_back(scheduler_.profiles()[extra.profile].name, view(extra.endpoint->name));
    put_decision_line(line_, out);
    write(line_);
    track(r, d);
}

plughost_request Runner::to_abi(const RequestEvent &r) {
    headers_.clear();
    for (const auto &[k, v] : r.headers) headers_.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
    messages_.clear();
    for (const auto &[role, content] : r.messages)
        messages_.push_back({{role.data(), role.size()}, {content.data(), content.size()}});
    plughost_request req{};
    req.struct_size = sizeof req;
    req.id = {r.id.data(), r.id.size()};
    req.model = {r.model.data(), r.model.size()};
    req.lora = {r.lora.data(), r.lora.size()};
    req.prompt = {r.prompt.data(), r.prompt.size()};
    req.headers = headers_.data();
    req.header_count = headers_.size();
    req.messages = messages_.data();
    req.message_count = messages_.size();
    req.streaming = r.stream ? 1 : 0;
    return req;
}

// The endpoints a decision sends the request to (its primary pick and each extra) count it as
// sent (their pending picks and requests in flight) until its response completes.
void Runner::track(const RequestEvent &r, const Decision &d) {
    InFlight flight;
    flight.endpoints.push_back(d.picked[0]->id);
    endpoints_.count_pick(d.picked[0]);
    for (const DecisionExtra &extra : d.extras) {
        flight.endpoints.push_back(extra.endpoint->id);
        endpoints_.count_pick(extra.endpoint);
    }
    if (auto old = in_flight_.find(r.id); old != in_flight_.end()) lose(old);  // an id used again
    while (in_flight_.size() >= kMaxInFlight) lose(in_flight_.find(in_flight_order_.front()));
    flight.request = r;
    flight.order = in_flight_order_.insert(in_flight_order_.end(), r.id);
    in_flight_.emplace(r.id, std::move(flight));
}

void Runner::lose(FlightMap::iterator flight) {
    ResponseEvent lost;
    lost.id = flight->first;
    lost.outcome = PLUGHOST_RESPONSE_LOST;
    finish(flight->second, lost);
    forget(flight);
}

void Runner::forget(FlightMap::iterator flight) {
    in_flight_order_.erase(flight->second.order);
    in_flight_.erase(flight);
}

void Runner::finish(InFlight &done, const ResponseEvent &r) {
    for (std::uint64_t id : done.endpoints) endpoints_.release(id);
    switch (r.outcome) {
    case PLUGHOST_RESPONSE_COMPLETE: ++summary_.responses_complete; break;
    case PLUGHOST_RESPONSE_FAILED: ++summary_.responses_failed; break;
    case PLUGHOST_RESPONSE_CANCELLED: ++summary_.responses_cancelled; break;
    default: ++summary_.responses_lost; break;
    }
    respond(done, r);
}

void Runner::respond(const InFlight &flight, const ResponseEvent &r) {
    plughost_response response{};
    response.struct_size = sizeof response;
    response.endpoint_id = flight.endpoints.front();
    response.endpoint = endpoints_.find(response.endpoint_id);
    response.outcome = r.outcome;
    response.http_status = r.status;
    response.seconds_to_first_byte = r.seconds_to_first_byte;
    response.seconds_total = r.outcome == PLUGHOST_RESPONSE_STARTED ? -1 : r.seconds;
    response.prompt_tokens = r.prompt_tokens;
    response.completion_tokens = r.completion_tokens;
    scheduler_.respond(to_abi(flight.request), response);
}

void Runner::response(const ResponseEvent &r, std::size_t line) {
    const auto it = in_flight_.find(r.id);
    if (it == in_flight_.end()) {
        error_line(line, Code::unknown_request,
                   "response for request \"" + r.id +
                       "\", which is not in flight (never decided, already answered, "
                       "or given up after " +
                       std::to_string(kMaxInFlight) + " newer requests)",
                   r.id);
        return;
    }
    if (r.outcome == PLUGHOST_RESPONSE_STARTED) {
        if (it->second.started) {
            error_line(line, Code::invalid_value, "request \"" + r.id + "\" already started its response", r.id);
            return;
        }
        it->second.started = true;
        ++summary_.responses_started;
        respond(it->second, r);
        return;
    }
    finish(it->second, r);
    forget(it);
}

void Runner::process(std::string_view text, std::size_t number) {
    ++summary_.lines;
    if (text.find_first_not_of(" \t\r") == std::string_view::npos) return;  // blank lines are not events
    Event event = parse_event(text);
    if (auto *u = std::get_if<EndpointUpdate>(&event)) {
        if (auto refused = endpoints_.upsert(*u)) error_line(number, refused->code, refused->message, std::nullopt);
    } else if (auto *rm = std::get_if<RemovalEvent>(&event)) {
        if (const auto picks = endpoints_.remove(rm->name)) removed_.add(rm->name, *picks);
        else
            error_line(number, Code::unknown_endpoint, "endpointRemoved names unknown endpoint \"" + rm->name + "\"",
                       std::nullopt);
    } else if (auto *r = std::get_if<RequestEvent>(&event)) {
        request(*r, number);
    } else if (auto *resp = std::get_if<ResponseEvent>(&event)) {
        response(*resp, number);
    } else {
        const auto &e = std::get<EventError>(event);
        if (e.request) ++summary_.requests;
        error_line(number, e.code, e.message, e.id);
    }
}

void Runner::run(LineReader &input) {
    const auto start = std::chrono::steady_clock::now();
    while (auto line = input.next()) {
        if (line->too_long) {
            error_line(line->number, Code::too_large, "line is longer than " + std::to_string(kMaxEventLine) + " bytes",
                       std::nullopt);
            ++summary_.lines;
        } else {
            process(line->text, line->number);
        }
        if (input.would_block()) out_.flush();
        if (out_.failed()) break;
    }
    out_.flush();
    summary_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (out_.failed()) {
        summary_.end = RunEnd::output_failed;
        summary_.error = out_.error();
    } else if (input.error()) {
        summary_.end = RunEnd::input_failed;
        summary_.error = input.error();
    } else if (input.stopped_by()) {
        summary_.end = RunEnd::stopped;
        summary_.signal = input.stopped_by();
    }
}

std::string signal_name(int signal) {
    if (const char *abbreviation = ::sigabbrev_np(signal)) return std::string("SIG") + abbreviation;
    return "signal " + std::to_string(signal);
}

void RemovedPicks::add(std::string_view name, std::uint64_t picks) {
    if (picks == 0) return;
    if (auto it = named_.find(name); it != named_.end()) {
        by_picks_.erase({it->second.picks, it->first});
        it->second.picks += picks;
        ++it->second.removals;
        by_picks_.emplace(it->second.picks, it->first);
        return;
    }
    if (named_.size() == kNamedRemovedEndpoints) {
        const auto fewest = by_picks_.begin();
        if (fewest->first >= picks) {  // ties keep the name already listed
            ++other_endpoints_;
            other_picks_ += picks;
            return;
        }
        const auto folded = named_.find(fewest->second);
        other_endpoints_ += folded->second.removals;
        other_picks_ += folded->second.picks;
        named_.erase(folded);
        by_picks_.erase(fewest);
    }
    named_.emplace(std::string(name), Named{picks, 1});
    by_picks_.emplace(picks, std::string(name));
}

void RemovedPicks::fill(RunSummary &summary) const {
    for (const auto &[name, named] : named_) summary.picks[name] += named.picks;
    summary.other_removed_endpoints += other_endpoints_;
    summary.other_removed_picks += other_picks_;
}

RunSummary Runner::summary() const {
    RunSummary s = summary_;
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
        const plughost_endpoint *e = endpoints_.data()[i];
        if (const auto n = endpoints_.picks(e)) s.picks[std::string(view(e->name))] += n;
    }
    removed_.fill(s);
    s.in_flight = in_flight_.size();
    return s;
}

std::string summary_text(const RunSummary &s, const Scheduler &scheduler) {
    std::string out = "plughost run summary\n";
    fmt::format_to(std::back_inserter(out), "  lines {}, requests {}, decided {}, error lines {}\n", s.lines,
                   s.requests, s.decided, s.error_lines);
    switch (s.end) {
    case RunEnd::input_ended: break;
    case RunEnd::input_failed:
        fmt::format_to(std::back_inserter(out), "  stopped early: reading the input failed ({}) after line {}\n",
                       std::strerror(s.error), s.lines);
        break;
    case RunEnd::output_failed:
        fmt::format_to(std::back_inserter(out), "  stopped early: writing the output failed ({}) at line {}\n",
                       std::strerror(s.error), s.lines);
        break;
    case RunEnd::stopped:
        fmt::format_to(std::back_inserter(out), "  interrupted by {}: stopped after line {}, the rest was not read\n",
                       signal_name(s.signal), s.lines);
        break;
    }
    for (const auto &[code, n] : s.errors_by_code) fmt::format_to(std::back_inserter(out), "    {}: {}\n", code, n);
    fmt::format_to(std::back_inserter(out), "  throughput: {:.0f} requests/s ({:.3f} s)\n",
                   s.seconds > 0 ? static_cast<double>(s.requests) / s.seconds : 0.0, s.seconds);
    out += "  picks per endpoint:\n";
    auto share = [&](std::uint64_t n) {
        return s.decided ? 100.0 * static_cast<double>(n) / static_cast<double>(s.decided) : 0.0;
    };
    for (const auto &[name, n] : s.picks)
        fmt::format_to(std::back_inserter(out), "    {:<24} {:>8}  {:5.1f}%\n", name, n, share(n));
    if (s.other_removed_endpoints)
        fmt::format_to(std::back_inserter(out), "    {} other removed endpoints: {} picks  {:5.1f}%\n",
                       s.other_removed_endpoints, s.other_removed_picks, share(s.other_removed_picks));
    if (s.responses_started + s.responses_complete + s.responses_failed + s.responses_cancelled + s.responses_lost +
        s.in_flight)
        fmt::format_to(std::back_inserter(out),
                       "  responses: started {}, complete {}, failed {}, cancelled {}, given up {}; in flight at the "
                       "end {}\n",
                       s.responses_started, s.responses_complete, s.responses_failed, s.responses_cancelled,
                       s.responses_lost, s.in_flight);
    out += "  plugin instances:\n";
    for (const RuntimeInstance &r : scheduler.instances()) {
        fmt::format_to(std::back_inserter(out), "    {:<24} calls {:>8}  faults {:>5}{}{}\n", r.instance->name(),
                       r.calls, r.faults,
                       r.faults ? fmt::format(" (plugin-error {}, bad-score {}, bad-index {})", r.errors, r.bad_scores,
                                              r.bad_indexes)
                                : std::string(),
                       r.disabled ? "  DISABLED" : "");
        double hits = -1, lookups = -1;
        for (const auto &[name, value] : r.instance->counters()) {
            fmt::format_to(std::back_inserter(out), "      {} = {}\n", name, value);
            if (name == "hits") hits = value;
            if (name == "lookups") lookups = value;
        }
        if (hits >= 0 && lookups > 0)
            fmt::format_to(std::back_inserter(out), "      hit rate = {:.1f}%\n", 100.0 * hits / lookups);
        if (r.shadow_requests) {
            const double n = static_cast<double>(r.shadow_requests);
            fmt::format_to(
                std::back_inserter(out),
                "      shadow: {} requests, would have changed {} ({:.1f}%), mean gap {:.4g} in total score, "
                "{:.1f} us per call\n",
                r.shadow_requests, r.shadow_changed, 100.0 * static_cast<double>(r.shadow_changed) / n,
                r.shadow_changed ? r.shadow_gap / static_cast<double>(r.shadow_changed) : 0.0,
                static_cast<double>(r.shadow_nanoseconds) / n / 1000.0);
        }
    }
    return out;
}

}  // namespace plughost::host
