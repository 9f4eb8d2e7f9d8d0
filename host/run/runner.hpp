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
#include <map>
#include <string>

namespace plughost::host {

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
    std::map<std::string, std::uint64_t, std::less<>> picks;  ///< endpoint name -> times picked
    double seconds = 0;
    RunEnd end = RunEnd::input_ended;
    int error = 0;   ///< errno, for input_failed and output_failed
    int signal = 0;  ///< the stop signal, for stopped
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

    const RunSummary &summary() const { return summary_; }
    const EndpointTable &endpoints() const { return endpoints_; }

private:
    void request(const RequestEvent &r, std::size_t line);
    void error_line(std::size_t line, Code code, std::string_view message, const std::optional<std::string> &id);
    void write(const std::string &text);

    Scheduler &scheduler_;
    EndpointTable endpoints_;
    OutputSink &out_;
    bool explain_;
    RunSummary summary_;
    std::string line_;  // output line being built, reused
    std::vector<plughost_header> headers_;
};

/// "SIGTERM", "SIGINT"...
std::string signal_name(int signal);

/// The human summary printed to stderr at the end of a run.
std::string summary_text(const RunSummary &summary, const Scheduler &scheduler);

/// Appends `text` as a JSON string literal.
void append_json_string(std::string &out, std::string_view text);

}  // namespace plughost::host
