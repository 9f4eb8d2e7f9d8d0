#include "run/event_stream.hpp"

#include "common/json.hpp"
#include "common/suggest.hpp"
#include "run/stop_signals.hpp"

#include <boost/json/monotonic_resource.hpp>

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

namespace plughost::host {
namespace {

EventError bad(Code code, std::string message, std::optional<std::string> id = std::nullopt) {
    return {code, std::move(message), std::move(id)};
}

std::optional<EventError> unknown_keys(const boost::json::object &o, std::string_view where,
                                       const std::vector<std::string> &allowed) {
    for (const auto &kv : o)
        if (std::find(allowed.begin(), allowed.end(), kv.key()) == allowed.end())
            return bad(Code::unknown_field, "unknown field \"" + std::string(kv.key()) + "\" in " + std::string(where) +
                                                did_you_mean(kv.key(), allowed) + "; allowed: " + quoted_list(allowed));
    return std::nullopt;
}

std::optional<std::uint32_t> count_value(const boost::json::value &v) {
    if (v.is_int64() && v.get_int64() >= 0 && v.get_int64() <= std::numeric_limits<std::uint32_t>::max())
        return static_cast<std::uint32_t>(v.get_int64());
    if (v.is_uint64() && v.get_uint64() <= std::numeric_limits<std::uint32_t>::max())
        return static_cast<std::uint32_t>(v.get_uint64());
    return std::nullopt;
}

Event parse_endpoint(const boost::json::value &v) {
    if (!v.is_object()) return bad(Code::wrong_type, "\"endpoint\" must be an object, found " + describe(v));
    const auto &o = v.get_object();
    if (auto e = unknown_keys(o, "endpoint", {"name", "address", "labels", "metrics"})) return *e;
    EndpointUpdate u;
    const auto *name = o.if_contains("name");
    if (!name) return bad(Code::missing_field, "endpoint has no \"name\"");
    if (!name->is_string() || name->get_string().empty() || name->get_string().size() > 253)
        return bad(Code::wrong_type,
                   "endpoint \"name\" must be a string of 1-253 characters, found " + describe(*name));
    u.name = std::string(name->get_string());
    if (const auto *a = o.if_contains("address")) {
        if (!a->is_string())
            return bad(Code::wrong_type, "endpoint \"address\" must be a string, found " + describe(*a));
        u.address = std::string(a->get_string());
    }
    if (const auto *l = o.if_contains("labels")) {
        if (!l->is_object())
            return bad(Code::wrong_type, "endpoint \"labels\" must be an object of strings, found " + describe(*l));
        std::vector<std::pair<std::string, std::string>> labels;
        for (const auto &kv : l->get_object()) {
            if (!kv.value().is_string())
                return bad(Code::wrong_type,
                           "label \"" + std::string(kv.key()) + "\" must be a string, found " + describe(kv.value()));
            labels.emplace_back(std::string(kv.key()), std::string(kv.value().get_string()));
        }
        u.labels = std::move(labels);
    }
    const auto *m = o.if_contains("metrics");
    if (!m) return u;
    if (!m->is_object()) return bad(Code::wrong_type, "endpoint \"metrics\" must be an object, found " + describe(*m));
    u.metrics = true;
    const auto &metrics = m->get_object();
    if (auto e = unknown_keys(metrics, "metrics",
                              {"waitingQueueSize", "runningRequests", "kvCacheUsage", "kvCacheUsagePercent",
                               "runningLoras", "activeLoras", "waitingLoras", "maxLoras", "maxActiveLoras", "extra"}))
        return *e;
    // The names plughost 1.0 used are accepted as aliases; giving both spellings is an error.
    auto alias = [&](const char *now, const char *old) -> std::optional<EventError> {
        if (metrics.contains(now) && metrics.contains(old))
            return bad(Code::invalid_value, std::string("metrics.") + now + " and metrics." + old +
                                                " give the same value; keep one (" + now + ")");
        return std::nullopt;
    };
    for (auto [now, old] : {std::pair{"kvCacheUsage", "kvCacheUsagePercent"}, std::pair{"runningLoras", "activeLoras"},
                            std::pair{"maxLoras", "maxActiveLoras"}})
        if (auto e = alias(now, old)) return *e;
    auto count = [&](const char *key, std::optional<std::uint32_t> &out) -> std::optional<EventError> {
        if (const auto *x = metrics.if_contains(key)) {
            out = count_value(*x);
            if (!out)
                return bad(Code::wrong_type,
                           std::string("metrics.") + key + " must be a non-negative integer, found " + describe(*x));
        }
        return std::nullopt;
    };
    if (auto e = count("waitingQueueSize", u.waiting_queue_size)) return *e;
    if (auto e = count("runningRequests", u.running_requests)) return *e;
    if (auto e = count("maxLoras", u.max_active_loras)) return *e;
    if (auto e = count("maxActiveLoras", u.max_active_loras)) return *e;
    if (const auto *kv = metrics.if_contains("kvCacheUsage")) {
        if (!kv->is_number() || !(kv->to_number<double>() >= 0 && kv->to_number<double>() <= 1))
            return bad(Code::wrong_type, "metrics.kvCacheUsage must be a fraction from 0 to 1, found " + describe(*kv) +
                                             (kv->is_number() && kv->to_number<double>() <= 100
                                                  ? " (a percentage? use kvCacheUsagePercent)"
                                                  : ""));
        u.kv_cache_usage = kv->to_number<double>();
    }
    if (const auto *kv = metrics.if_contains("kvCacheUsagePercent")) {
        if (!kv->is_number() || !(kv->to_number<double>() >= 0 && kv->to_number<double>() <= 100))
            return bad(Code::wrong_type,
                       "metrics.kvCacheUsagePercent must be a number from 0 to 100, found " + describe(*kv));
        u.kv_cache_usage = kv->to_number<double>() / 100;
    }
    auto names = [&](const char *key, std::optional<std::vector<std::string>> &out) -> std::optional<EventError> {
        const auto *l = metrics.if_contains(key);
        if (!l) return std::nullopt;
        if (!l->is_array())
            return bad(Code::wrong_type,
                       std::string("metrics.") + key + " must be an array of strings, found " + describe(*l));
        std::vector<std::string> list;
        for (const auto &x : l->get_array()) {
            if (!x.is_string())
                return bad(Code::wrong_type,
                           std::string("metrics.") + key + " holds " + describe(x) + "; expected strings");
            list.emplace_back(x.get_string());
        }
        out = std::move(list);
        return std::nullopt;
    };
    if (auto e = names("runningLoras", u.running_loras)) return *e;
    if (auto e = names("activeLoras", u.running_loras)) return *e;
    if (auto e = names("waitingLoras", u.waiting_loras)) return *e;
    if (const auto *x = metrics.if_contains("extra")) {
        if (!x->is_object())
            return bad(Code::wrong_type, "metrics.extra must be an object of numbers, found " + describe(*x));
        if (x->get_object().size() > kMaxExtraMetrics)
            return bad(Code::too_large, "metrics.extra of endpoint \"" + u.name + "\" holds " +
                                            std::to_string(x->get_object().size()) + " names; the limit is " +
                                            std::to_string(kMaxExtraMetrics) +
                                            " per endpoint: send only the metrics plugins use, under stable names");
        u.extra.reserve(x->get_object().size());
        for (const auto &kv : x->get_object()) {
            if (!kv.value().is_number())
                return bad(Code::wrong_type, "metrics.extra." + std::string(kv.key()) + " must be a number, found " +
                                                 describe(kv.value()));
            u.extra.emplace_back(std::string(kv.key()), kv.value().to_number<double>());
        }
    }
    return u;
}

Event parse_request(const boost::json::value &v) {
    if (!v.is_object()) return bad(Code::wrong_type, "\"request\" must be an object, found " + describe(v));
    const auto &o = v.get_object();
    RequestEvent r;
    std::optional<std::string> id;
    if (const auto *i = o.if_contains("id"); i && i->is_string() && !i->get_string().empty())
        id = std::string(i->get_string());
    if (auto e =
            unknown_keys(o, "request", {"id", "model", "lora", "prompt", "messages", "stream", "headers", "profile"})) {
        e->id = id;
        return *e;
    }
    if (!o.contains("id")) return bad(Code::missing_field, "request has no \"id\"; every request needs one");
    if (!id) return bad(Code::wrong_type, "request \"id\" must be a non-empty string, found " + describe(o.at("id")));
    r.id = *id;
    auto text = [&](const char *key, std::string &out) -> std::optional<EventError> {
        if (const auto *x = o.if_contains(key)) {
            if (!x->is_string())
                return bad(Code::wrong_type,
                           std::string("request \"") + key + "\" must be a string, found " + describe(*x), id);
            out = std::string(x->get_string());
        }
        return std::nullopt;
    };
    if (auto e = text("model", r.model)) return *e;
    if (auto e = text("lora", r.lora)) return *e;
    if (auto e = text("prompt", r.prompt)) return *e;
    if (const auto *p = o.if_contains("profile")) {
        if (!p->is_string())
            return bad(Code::wrong_type, "request \"profile\" must be a string, found " + describe(*p), id);
        r.profile = std::string(p->get_string());
    }
    if (const auto *h = o.if_contains("headers")) {
        if (!h->is_object())
            return bad(Code::wrong_type, "request \"headers\" must be an object of strings, found " + describe(*h), id);
        for (const auto &kv : h->get_object()) {
            if (!kv.value().is_string())
                return bad(Code::wrong_type,
                           "header \"" + std::string(kv.key()) + "\" must be a string, found " + describe(kv.value()),
                           id);
            r.headers.emplace_back(std::string(kv.key()), std::string(kv.value().get_string()));
        }
    }
    if (const auto *st = o.if_contains("stream")) {
        if (!st->is_bool())
            return bad(Code::wrong_type, "request \"stream\" must be true or false, found " + describe(*st), id);
        r.stream = st->get_bool();
    }
    if (const auto *ms = o.if_contains("messages")) {
        if (o.contains("prompt"))
            return bad(Code::invalid_value, "a request has a \"prompt\" (completion) or \"messages\" (chat), not both",
                       id);
        if (!ms->is_array())
            return bad(Code::wrong_type,
                       "request \"messages\" must be an array of {role, content}, found " + describe(*ms), id);
        for (const auto &item : ms->get_array()) {
            if (!item.is_object() || !item.get_object().contains("role") || !item.at("role").is_string())
                return bad(Code::wrong_type, "each message is an object {role, content}, found " + describe(item), id);
            const auto &msg = item.get_object();
            if (auto e = unknown_keys(msg, "message", {"role", "content", "name"})) {
                e->id = id;
                return *e;
            }
            std::string content;
            if (const auto *c = msg.if_contains("content")) {
                if (c->is_string()) {
                    content = std::string(c->get_string());
                } else if (c->is_array()) {
                    // Parts: the text ones count; images and audio are not text a prefix can match.
                    for (const auto &part : c->get_array()) {
                        const auto *words = part.is_object() ? part.get_object().if_contains("text") : nullptr;
                        if (!part.is_object() || !part.get_object().contains("type"))
                            return bad(Code::wrong_type,
                                       "a message content part is {type, ...}, found " + describe(part), id);
                        if (words && words->is_string())
                            content += (content.empty() ? "" : "\n") + std::string(words->get_string());
                    }
                } else if (!c->is_null()) {
                    return bad(Code::wrong_type,
                               "message \"content\" must be a string or an array of parts, found " + describe(*c), id);
                }
            }
            r.messages.emplace_back(std::string(msg.at("role").get_string()), std::move(content));
        }
        r.prompt = render_chat_prompt(r.messages);
    }
    return r;
}

Event parse_response(const boost::json::value &v) {
    if (!v.is_object()) return bad(Code::wrong_type, "\"response\" must be an object, found " + describe(v));
    const auto &o = v.get_object();
    if (auto e =
            unknown_keys(o, "response",
                         {"id", "event", "status", "promptTokens", "completionTokens", "firstByteSeconds", "seconds"}))
        return *e;
    ResponseEvent r;
    const auto *id = o.if_contains("id");
    if (!id || !id->is_string() || id->get_string().empty())
        return bad(Code::missing_field, "response needs the \"id\" of the request it answers");
    r.id = std::string(id->get_string());
    static const std::vector<std::string> events{"started", "complete", "failed", "cancelled"};
    const auto *event = o.if_contains("event");
    if (!event || !event->is_string() || std::find(events.begin(), events.end(), event->get_string()) == events.end())
        return bad(Code::invalid_value,
                   "response \"event\" must be one of " + quoted_list(events) + ", found " +
                       (event ? describe(*event) : std::string("nothing")),
                   r.id);
    const std::string_view kind = event->get_string();
    r.outcome = kind == "started"    ? PLUGHOST_RESPONSE_STARTED
                : kind == "complete" ? PLUGHOST_RESPONSE_COMPLETE
                : kind == "failed"   ? PLUGHOST_RESPONSE_FAILED
                                     : PLUGHOST_RESPONSE_CANCELLED;
    if (const auto *s = o.if_contains("status")) {
        const auto n = count_value(*s);
        if (!n || *n > 999)
            return bad(Code::wrong_type, "response \"status\" must be an HTTP status, found " + describe(*s), r.id);
        r.status = static_cast<std::int32_t>(*n);
    }
    for (auto [key, out] :
         {std::pair{"promptTokens", &r.prompt_tokens}, std::pair{"completionTokens", &r.completion_tokens}})
        if (const auto *t = o.if_contains(key)) {
            const auto n = count_value(*t);
            if (!n)
                return bad(Code::wrong_type,
                           std::string("response \"") + key + "\" must be a count, found " + describe(*t), r.id);
            *out = *n;
        }
    for (auto [key, out] : {std::pair{"firstByteSeconds", &r.seconds_to_first_byte}, std::pair{"seconds", &r.seconds}})
        if (const auto *t = o.if_contains(key)) {
            if (!t->is_number() || !(t->to_number<double>() >= 0) || !std::isfinite(t->to_number<double>()))
                return bad(Code::wrong_type,
                           std::string("response \"") + key + "\" must be seconds >= 0, found " + describe(*t), r.id);
            *out = t->to_number<double>();
        }
    return r;
}

}  // namespace

std::string render_chat_prompt(const std::vector<std::pair<std::string, std::string>> &messages) {
    std::string out;
    for (const auto &[role, content] : messages) out += role + ": " + content + "\n";
    return out;
}

Event parse_event(std::string_view line) {
    unsigned char stack[8192];
    boost::json::monotonic_resource arena(stack, sizeof stack);
    JsonParse parsed = parse_json(line, {kMaxEventLine, 16}, &arena);
    if (parsed.error)
        return bad(parsed.error->code,
                   (parsed.error->code == Code::not_json ? "not valid JSON: " : "") + parsed.error->message);
    const boost::json::value &v = parsed.value;
    if (!v.is_object()) return bad(Code::unknown_event, "an event is a JSON object, found " + describe(v));
    const auto &o = v.get_object();
    if (o.size() != 1) {
        if (o.empty())
            return bad(Code::unknown_event,
                       "empty object: an event holds one of \"endpoint\", \"endpointRemoved\", \"request\", "
                       "\"response\"");
        std::optional<std::string> id;
        if (const auto *r = o.if_contains("request"); r && r->is_object())
            if (const auto *i = r->get_object().if_contains("id"); i && i->is_string())
                id = std::string(i->get_string());
        EventError e = bad(Code::unknown_event,
                           "an event holds exactly one of \"endpoint\", \"endpointRemoved\", "
                           "\"request\"; found " +
                               std::to_string(o.size()) + " members",
                           id);
        e.request = o.contains("request");
        return e;
    }
    const auto &kv = *o.begin();
    if (kv.key() == "endpoint") return parse_endpoint(kv.value());
    if (kv.key() == "request") {
        Event e = parse_request(kv.value());
        if (auto *error = std::get_if<EventError>(&e)) error->request = true;
        return e;
    }
    if (kv.key() == "response") return parse_response(kv.value());
    if (kv.key() == "endpointRemoved") {
        if (!kv.value().is_string() || kv.value().get_string().empty())
            return bad(Code::wrong_type, "\"endpointRemoved\" must be an endpoint name, found " + describe(kv.value()));
        return RemovalEvent{std::string(kv.value().get_string())};
    }
    return bad(Code::unknown_event, "unknown event \"" + std::string(kv.key()) + "\"" +
                                        did_you_mean(kv.key(), {"endpoint", "endpointRemoved", "request", "response"}) +
                                        "; events are \"endpoint\", \"endpointRemoved\", \"request\" and \"response\"");
}

LineReader::LineReader(int fd, std::size_t max_line, const StopSignals *stop)
    : fd_(fd), max_line_(max_line), stop_(stop), buffer_(64 * 1024) {
    // A regular file never blocks; anything else may wait for input, and then a stop signal must
    // be able to wake the reader.
    struct stat st {};
    poll_first_ = stop_ && !(::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode));
}

bool LineReader::stopping() {
    if (stop_ && !stopped_by_) stopped_by_ = stop_->received();
    return stopped_by_ != 0;
}

// Waits until the input can be read; false when a stop signal came first or poll() failed.
bool LineReader::wait_readable() {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_ ? stop_->wake_fd() : -1, POLLIN, 0}};
    while (::poll(fds, 2, -1) < 0) {
        if (errno != EINTR) {
            error_ = errno;
            return false;
        }
        if (stopping()) return false;
    }
    if (stopping()) return false;
    if (fds[0].revents & POLLNVAL) {
        error_ = EBADF;
        return false;
    }
    return true;  // readable, at its end, or in error: the read says which
}

// Reads more input; false at its end, on a read error or a stop signal.
bool LineReader::fill() {
    while (true) {
        if (stopping()) return false;
        if (poll_first_ && !wait_readable()) return false;
        const ssize_t n = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
        if (n > 0) {
            end_ += static_cast<std::size_t>(n);
            return true;
        }
        if (n == 0) {
            eof_ = true;
            return false;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            poll_first_ = true;  // a non-blocking descriptor: wait for input from now on
            continue;
        }
        error_ = errno;
        return false;
    }
}

bool LineReader::would_block() const {
    return !eof_ && !error_ && !stopped_by_ && !std::memchr(buffer_.data() + begin_, '\n', end_ - begin_);
}

std::optional<LineReader::Line> LineReader::next() {
    if (stopping()) return std::nullopt;
    while (true) {
        const char *start = buffer_.data() + begin_;
        if (const auto *nl = static_cast<const char *>(std::memchr(start, '\n', end_ - begin_))) {
            std::size_t len = static_cast<std::size_t>(nl - start);
            begin_ += len + 1;
            if (len && start[len - 1] == '\r') --len;
            return Line{std::string_view(start, len), ++number_, false};
        }
        if (eof_) {
            if (begin_ == end_) return std::nullopt;
            const std::size_t len = end_ - begin_;
            begin_ = end_;
            return Line{std::string_view(start, len), ++number_, false};
        }
        if (error_ || stopped_by_) return std::nullopt;  // a partial last line is not an event
        if (begin_ > 0) {
            std::memmove(buffer_.data(), start, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
        }
        if (end_ == buffer_.size()) {
            if (buffer_.size() <= max_line_) {
                buffer_.resize(std::min(buffer_.size() * 2, max_line_ + 1));
            } else {
                // Too long: drop it up to its newline without holding it in memory.
                const std::size_t number = ++number_;
                begin_ = end_ = 0;
                while (fill()) {
                    if (const auto *nl = static_cast<const char *>(std::memchr(buffer_.data(), '\n', end_))) {
                        begin_ = static_cast<std::size_t>(nl - buffer_.data()) + 1;
                        break;
                    }
                    end_ = 0;
                }
                if (error_ || stopped_by_) return std::nullopt;
                return Line{{}, number, true};
            }
        }
        fill();
    }
}

}  // namespace plughost::host
