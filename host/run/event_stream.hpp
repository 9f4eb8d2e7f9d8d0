// The event stream `plughost run` reads: JSON Lines of endpoint updates, endpoint removals and
// requests. Parsing is strict (unknown fields are errors) and every bad line becomes an error
// for that line only.
#pragma once

#include "common/diagnostic.hpp"
#include "schedule/endpoint_table.hpp"

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace plughost::host {

struct RequestEvent {
    std::string id;
    std::string model;
    std::string lora;
    /// The prompt; for a chat request, its messages rendered as "<role>: <content>\n" each.
    std::string prompt;
    std::vector<std::pair<std::string, std::string>> headers;
    std::optional<std::string> profile;
    /// A chat request's messages (role, content); empty for a completion request.
    std::vector<std::pair<std::string, std::string>> messages;
    bool stream = false;
};

/// What became of a request the run decided: {"response": {"id", "event", ...}}.
struct ResponseEvent {
    std::string id;
    std::int32_t outcome = PLUGHOST_RESPONSE_COMPLETE;  ///< PLUGHOST_RESPONSE_*
    std::int32_t status = 0;                            ///< HTTP status; 0 unknown
    std::uint64_t prompt_tokens = 0, completion_tokens = 0;
    double seconds_to_first_byte = -1, seconds = -1;  ///< negative: unknown
};

/// The text a scorer sees as the prompt of a chat request: each message as
/// "<role>: <content>\n", in order.
std::string render_chat_prompt(const std::vector<std::pair<std::string, std::string>> &messages);

struct RemovalEvent {
    std::string name;
};

/// A line that is not a valid event; `id` is set when it was a request whose id could be read.
struct EventError {
    Code code;
    std::string message;
    std::optional<std::string> id;
    bool request = false;  ///< the line was a (malformed) request
};

using Event = std::variant<EndpointUpdate, RemovalEvent, RequestEvent, ResponseEvent, EventError>;

/// Parses one line. An endpoint event with more than kMaxExtraMetrics extra metric names is a
/// too-large error (the endpoint table enforces the limit across updates too).
Event parse_event(std::string_view line);

class StopSignals;

/// Reads lines of bounded length from a file descriptor, however long the input's lines are.
/// Reads wait in poll() when the descriptor is non-blocking (EAGAIN) and, given `stop`, whenever
/// the input is not a regular file, so that a stop signal wakes a reader waiting for input. A
/// read error ends the input and is kept (error()); so does a stop signal (stopped_by()).
class LineReader {
public:
    LineReader(int fd, std::size_t max_line, const StopSignals *stop = nullptr);
    /// The next line (without its newline) and its 1-based number; nullopt at end of input, after
    /// a read error, or once a stop signal came (checked before each line: the line in progress
    /// is finished, the lines after it are not returned).
    /// A line longer than the limit comes back empty with `too_long` set.
    struct Line {
        std::string_view text;
        std::size_t number;
        bool too_long;
    };
    std::optional<Line> next();
    /// True when no complete line is buffered: the next call would wait for input.
    bool would_block() const;
    /// errno of the read that failed; 0 when none did.
    int error() const { return error_; }
    /// The stop signal that ended the reading; 0 when none did.
    int stopped_by() const { return stopped_by_; }

private:
    bool fill();
    bool wait_readable();
    bool stopping();
    int fd_;
    std::size_t max_line_;
    const StopSignals *stop_;
    bool poll_first_ = false;  // wait in poll() before each read
    std::vector<char> buffer_;
    std::size_t begin_ = 0, end_ = 0;
    std::size_t number_ = 0;
    bool eof_ = false;
    int error_ = 0;
    int stopped_by_ = 0;
};

inline constexpr std::size_t kMaxEventLine = 1024 * 1024;

}  // namespace plughost::host
