// `plughost run`: plays an event stream through the scheduler and writes one JSON line per
// request (its decision, or an error), one error line per invalid event, and a summary.
#pragma once

#include "run/event_stream.hpp"
#include "run/output_sink.hpp"
#include "schedule/endpoint_table.hpp"
#include "schedule/scheduler.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace plughost::host {

/// Removed endpoints named in the summary at most; the others are summed in one line.
inline constexpr std::size_t kNamedRemovedEndpoints = 100;
/// Decided requests whose response the run waits for at most; beyond, the oldest is given up
/// (its plugins are told it was lost) so memory stays bounded.
inline constexpr std::size_t kMaxInFlight = 65536;

/// Why a run ended.
enum class RunEnd {
    input_ended,    ///< the whole input was processed
    input_failed,   ///< reading the input failed (RunSummary::error)
    output_failed,  ///< writing the output failed (RunSummary::error); the output holds whole lines
    stopped,        ///< a stop signal (RunSummary::signal) came: the line in progress was finished
};

struct RunSummary {
    std::uint64_t lines = 0;
    std::uint64_t requests = 0;
    std::uint64_t decided = 0;
    std::uint64_t error_lines = 0;
    std::map<std::string, std::uint64_t> errors_by_code;
    /// Endpoint name -> times picked, for every live endpoint picked at least once and the
    /// (at most kNamedRemovedEndpoints) removed endpoints picked most; an endpoint removed and
    /// added again under its name counts once.
    std::map<std::string, std::uint64_t, std::less<>> picks;
    /// The other removed endpoints that were picked, and their picks together.
    std::uint64_t other_removed_endpoints = 0;
    std::uint64_t other_removed_picks = 0;
    /// Responses by outcome (started, complete, failed, cancelled), requests given up as lost,
    /// and requests still in flight at the end.
    std::uint64_t responses_started = 0, responses_complete = 0, responses_failed = 0, responses_cancelled = 0;
    std::uint64_t responses_lost = 0, in_flight = 0;
    double seconds = 0;
    RunEnd end = RunEnd::input_ended;
    int error = 0;   ///< errno, for input_failed and output_failed
    int signal = 0;  ///< the stop signal, for stopped
};

/// The picks of removed endpoints in bounded memory, however many come and go: the
/// kNamedRemovedEndpoints names with the most picks, and the others as one count.
class RemovedPicks {
public:
    /// An endpoint was removed after `picks` picks (never picked: nothing to remember).
    void add(std::string_view name, std::uint64_t picks);
    /// Adds the named endpoints to `summary.picks` and the others to its totals.
    void fill(RunSummary &summary) const;

private:
    struct Named {
        std::uint64_t picks = 0;
        std::uint64_t removals = 0;
    };
    std::map<std::string, Named, std::less<>> named_;
    std::set<std::pair<std::uint64_t, std::string>> by_picks_;  // the fewest picks first: the one to fold
    std::uint64_t other_endpoints_ = 0, other_picks_ = 0;
};

class Runner {
public:
    /// Writes decisions to `out` (flushed whenever the input would block, so a live feed sees
    /// each decision as soon as it is made).
    Runner(Scheduler &scheduler, OutputSink &out, bool explain);

    /// Processes lines until the input ends, fails or is stopped, or the output fails; then
    /// flushes the output. The summary says which.
    void run(LineReader &input);
    /// One line of input (exposed for tests and the fuzzer).
    void process(std::string_view line, std::size_t number);

    /// The counts so far, with the picks of the live endpoints and of the removed ones.
    RunSummary summary() const;
    const EndpointTable &endpoints() const { return endpoints_; }

private:
    // A decided request, until its response completes.
    struct InFlight {
        RequestEvent request;
        std::vector<std::uint64_t> endpoints;  ///< the primary pick, then each extra
        bool started = false;
        std::list<std::string>::iterator order;  ///< its place in in_flight_order_
    };
    using FlightMap = std::unordered_map<std::string, InFlight>;
    void request(const RequestEvent &r, std::size_t line);
    void response(const ResponseEvent &r, std::size_t line);
    void track(const RequestEvent &r, const Decision &d);
    // Ends a request in flight: its endpoints are released and its plugins told the outcome.
    void finish(InFlight &done, const ResponseEvent &r);
    void respond(const InFlight &flight, const ResponseEvent &r);
    // Ends a request in flight that will get no response (its id reused, or too many in flight).
    void lose(FlightMap::iterator flight);
    void forget(FlightMap::iterator flight);
    // The request as plugins see it; valid until the next call (it uses reused buffers).
    plughost_request to_abi(const RequestEvent &r);
    void error_line(std::size_t line, Code code, std::string_view message, const std::optional<std::string> &id);
    void write(const std::string &text);

    Scheduler &scheduler_;
    EndpointTable endpoints_;
    OutputSink &out_;
    bool explain_;
    RunSummary summary_;  // without picks: those are counted in endpoints_ and removed_
    RemovedPicks removed_;
    std::string line_;  // output line being built, reused
    std::vector<plughost_header> headers_;
    std::vector<plughost_chat_message> messages_;
    std::vector<Explanation> explanations_;
    FlightMap in_flight_;
    std::list<std::string> in_flight_order_;  // the ids in flight, oldest first
};

/// "SIGTERM", "SIGINT"...
std::string signal_name(int signal);

/// The two output lines of a run, in one place: a decision ({"id", "profile", "picked":[names],
/// "extras"?:{profile: name}, "headers"?:{name: value}, "explain"?:{...}}, what each stage did
/// when `explanations` is given, the primary profile's first), and an error ({"line", "id"?,
/// "error":{"code", "message"}}). Each ends with a newline.
struct DecisionLine {
    std::string_view id;
    std::string_view profile;
    std::span<const plughost_endpoint *const> picked;
    std::vector<std::pair<std::string_view, std::string_view>> extras;  ///< profile, endpoint
    std::span<const std::pair<std::string, std::string>> headers;
    const std::vector<Explanation> *explanations = nullptr;
};
void put_decision_line(std::string &out, const DecisionLine &line);
void put_error_line(std::string &out, std::size_t line, const std::optional<std::string> &id, Code code,
                    std::string_view message);

/// The human summary printed to stderr at the end of a run.
std::string summary_text(const RunSummary &summary, const Scheduler &scheduler);

}  // namespace plughost::host
