#include "serve/server.hpp"

#include "common/json.hpp"
#include "common/json_document.hpp"
#include "run/event_stream.hpp"
#include "run/runner.hpp"
#include "serve/scrape.hpp"

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <boost/intrusive/list.hpp>
#include <boost/json.hpp>
#include <boost/version.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <map>
#include <memory_resource>
#include <mutex>
#include <thread>
#include <type_traits>
#include <unordered_map>

namespace plughost::host {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::string_view_literals;
// Every I/O object and coroutine is bound to its worker's io_context by type, not through the
// type-erased any_io_executor: no executor copies through `prefer`, no shared-pointer counting
// on each operation.
using Executor = asio::io_context::executor_type;
template <class T> using awaitable = asio::awaitable<T, Executor>;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable_t<Executor>{});
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Stream = beast::basic_stream<tcp, Executor, beast::unlimited_rate_policy>;
using Acceptor = asio::basic_socket_acceptor<tcp, Executor>;
using Timer =
    asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, Executor>;
using Resolver = asio::ip::basic_resolver<tcp, Executor>;
using SignalSet = asio::basic_signal_set<Executor>;
using Descriptor = asio::posix::basic_stream_descriptor<Executor>;

// How often each worker checks its connections' deadlines: a time-out fires between its
// setting and that plus this period.
constexpr std::chrono::milliseconds deadline_sweep_period(100);

// Reads that skip the receive Asio tries at once. When a read starts, Asio's epoll reactor
// receives at once unless the descriptor's "try speculative" flag is off; the flag is turned on
// by every readiness event (epoll, edge-triggered) and off only at end of file. A connection's
// next bytes (the model server's response right after its request is written, the client's next
// request) are nearly never there yet, so that receive fails (EAGAIN): a system call per read.
// nginx's rule avoids it: a read that came back short emptied the socket, so the next one waits
// for the next readiness event. Here: after a short read that the reactor performed on a
// readiness event (its completion runs right after the receive, with no epoll poll in between,
// so no event can have been lost), the flag is turned off; the next read is queued without a
// receive, and the next readiness event (new bytes, end of file, an error) turns the flag on
// and performs it. A read whose immediate receive succeeded leaves the flag as it is (its
// completion is queued, and an event may come before it), and so does one during which a write
// waited in the reactor on the same socket (both may complete on one event: the read's completion
// is queued then). Asio 1.81 offers no public way to do
// this: the flag and the queue are reached through their members (explicit instantiation may
// name private members); with another Boost or reactor both functions do nothing.
#if BOOST_VERSION == 108100 && defined(BOOST_ASIO_HAS_EPOLL) && !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
namespace reactor_access {
using Reactor = asio::detail::epoll_reactor;
static_assert(std::is_same_v<asio::detail::reactor, Reactor>);
using State = Reactor::descriptor_state;
using Flags = bool (State::*)[Reactor::max_ops];
using Queues = asio::detail::op_queue<asio::detail::reactor_op> (State::*)[Reactor::max_ops];
Flags speculative();
Queues queues();
template <Flags F> struct ExposeFlags {
    friend Flags speculative() { return F; }
};
template <Queues Q> struct ExposeQueues {
    friend Queues queues() { return Q; }
};
template struct ExposeFlags<&State::try_speculative_>;
template struct ExposeQueues<&State::op_queue_>;
// basic_socket's implementation is protected: a derived class may name it.
struct Implementation : Socket {
    static auto member() { return &Implementation::impl_; }
};
inline State *state(Socket &s) { return (s.*Implementation::member()).get_implementation().reactor_data_; }
}  // namespace reactor_access

// Just after a read was started on `s`: whether it waits in the reactor for a readiness event
// (its completion will come from one) rather than having completed at once.
inline bool read_queued(Socket &s) {
    using namespace reactor_access;
    State *d = state(s);
    return d && !(d->*queues())[Reactor::read_op].empty();
}
// After a queued read came back short: the socket is empty, the next read waits for an event.
inline void read_drained(Socket &s) {
    using namespace reactor_access;
    if (State *d = state(s)) (d->*speculative())[Reactor::read_op] = false;
}
#else
inline bool read_queued(Socket &) { return false; }
inline void read_drained(Socket &) {}
#endif

// A TCP socket whose reads, writes and connects end with beast::error::timeout once the deadline
// set by expires_after has passed while one of them was under way: the socket is closed then, as
// beast::tcp_stream does. Not a timer armed and cancelled around each operation (a timer queue
// update, often a timerfd_settime, per read and write): the worker's sweep looks at every
// connection's deadline once per deadline_sweep_period. The socket links itself into its
// worker's list and out again when destroyed; only that worker's thread touches either.
class TimedSocket
    : public boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
public:
    using List = boost::intrusive::list<TimedSocket, boost::intrusive::constant_time_size<false>>;
    using executor_type = Executor;

    TimedSocket(List &list, Socket socket) : socket_(std::move(socket)) { list.push_back(*this); }
    TimedSocket(List &list, const Executor &ex) : socket_(ex) { list.push_back(*this); }
    TimedSocket(const TimedSocket &) = delete;
    TimedSocket &operator=(const TimedSocket &) = delete;

    Socket &socket() { return socket_; }
    executor_type get_executor() { return socket_.get_executor(); }

    void expires_after(std::chrono::milliseconds timeout) {
        expiry_ = Clock::now() + timeout;
        expired_ = false;
    }
    void expires_never() { expiry_ = Clock::time_point::max(); }

    // For an operation not started through this class (the session's kept read) while it is
    // waited for: the deadline applies, and the error it ends with reads as here.
    void hold() { ++pending_; }
    void release() { --pending_; }
    beast::error_code result(beast::error_code ec) const { return ec && expired_ ? beast::error::timeout : ec; }

    // From the sweep: closes the socket if an operation is under way past the deadline.
    void check(Clock::time_point now) {
        if (pending_ == 0 || expired_ || now < expiry_) return;
        expired_ = true;
        beast::error_code ignored;
        socket_.close(ignored);
    }

    // A short read that waited for readiness leaves the next read waiting for it (read_drained).
    template <class Buffers, class Token> auto async_read_some(const Buffers &buffers, Token &&token) {
        return asio::async_initiate<Token, void(beast::error_code, std::size_t)>(
            [this](auto handler, const Buffers &b) {
                const std::size_t size = beast::buffer_bytes(b);
                const std::uint64_t writes = writes_;
                socket_.async_read_some(b, complete([this, size, writes, h = std::move(handler)](
                                                        beast::error_code ec, std::size_t n) mutable {
                                            if (!ec && n < size && read_queued_ && writes == writes_)
                                                read_drained(socket_);
                                            std::move(h)(ec, n);
                                        }));
                read_queued_ = read_queued(socket_);
            },
            token, buffers);
    }
    // Writes started through the reactor so far (see read_drained).
    std::uint64_t writes() const { return writes_; }
    template <class Buffers, class Token> auto async_write_some(const Buffers &buffers, Token &&token) {
        return asio::async_initiate<Token, void(beast::error_code, std::size_t)>(
            [this](auto handler, const Buffers &b) {
                ++writes_;
                socket_.async_write_some(b, complete(std::move(handler)));
            },
            token, buffers);
    }
    template <class Token> auto async_connect(const tcp::endpoint &where, Token &&token) {
        return asio::async_initiate<Token, void(beast::error_code)>(
            [this](auto handler, const tcp::endpoint &w) { socket_.async_connect(w, complete(std::move(handler))); },
            token, where);
    }

private:
    // Counts the operation under way; its completion reports a time-out as beast::error::timeout.
    template <class Handler> auto complete(Handler handler) {
        ++pending_;
        return [this, h = std::move(handler)](beast::error_code ec, auto... n) mutable {
            --pending_;
            if (ec && expired_) ec = beast::error::timeout;
            std::move(h)(ec, n...);
        };
    }

    Socket socket_;
    Clock::time_point expiry_ = Clock::time_point::max();
    int pending_ = 0;
    bool expired_ = false;
    bool read_queued_ = false;  // the read under way waits for readiness (read_queued)
    std::uint64_t writes_ = 0;
};

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Prometheus label value escaping.
std::string label(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

std::string number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    return fmt::format("{}", v);
}

struct Histogram {
    static constexpr std::array<double, 14> bounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                   0.025,  0.05,    0.1,    0.25,  0.5,    1,     5};
    std::array<std::uint64_t, bounds.size() + 1> counts{};
    double sum = 0;
    std::uint64_t count = 0;
    void observe(double s) {
        std::size_t i = 0;
        while (i < bounds.size() && s > bounds[i]) ++i;
        ++counts[i];
        sum += s;
        ++count;
    }
    void write(std::string &out, std::string_view name, std::string_view help) const {
        fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < bounds.size(); ++i) {
            cumulative += counts[i];
            fmt::format_to(std::back_inserter(out), "{}_bucket{{le=\"{}\"}} {}\n", name, bounds[i], cumulative);
        }
        fmt::format_to(std::back_inserter(out), "{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, count,
                       name, number(sum), name, count);
    }
};

// The request as plugins see it, with the storage its views point into.
struct AbiRequest {
    std::vector<plughost_header> headers;
    std::vector<plughost_chat_message> messages;
    plughost_request req{};
    AbiRequest() = default;
    explicit AbiRequest(const RequestEvent &r) { assign(r); }
    // Rebuilt in place for the next request: the vectors keep their storage.
    void assign(const RequestEvent &r) {
        headers.clear();
        messages.clear();
        headers.reserve(r.headers.size());
        messages.reserve(r.messages.size());
        req = {};
        for (const auto &[k, v] : r.headers) headers.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
        for (const auto &[role, content] : r.messages)
            messages.push_back({{role.data(), role.size()}, {content.data(), content.size()}});
        req.struct_size = sizeof req;
        req.id = {r.id.data(), r.id.size()};
        req.model = {r.model.data(), r.model.size()};
        req.lora = {r.lora.data(), r.lora.size()};
        req.prompt = {r.prompt.data(), r.prompt.size()};
        req.headers = headers.data();
        req.header_count = headers.size();
        req.messages = messages.data();
        req.message_count = messages.size();
        req.streaming = r.stream ? 1 : 0;
    }
};

// Hop-by-hop headers (RFC 9110 7.6.1) are the proxy's own on each side, never forwarded. All of
// them are fields Beast knows, so a parsed field is told by its enum, with no name comparison.
bool hop_by_hop(http::field f) {
    switch (f) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_connection:
    case http::field::te:
    case http::field::transfer_encoding:
    case http::field::upgrade:
    case http::field::trailer:
    case http::field::proxy_authorization: return true;
    default: return false;
    }
}

bool hop_by_hop(std::string_view name) { return hop_by_hop(http::string_to_field(name)); }

std::pair<std::string, std::string> split_host_port(const std::string &address) {
    const auto colon = address.rfind(':');
    std::string host = address.substr(0, colon);
    if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    return {host, address.substr(colon + 1)};
}

// Sets a string kept from request to request: clear and append, cheaper than assign's general
// path (std::string::assign handles a source inside the string itself).
void set(std::string &s, std::string_view v) {
    s.clear();
    s.append(v);
}

// A gateway request's OpenAI body, in the terms of the event stream's request: the model (also
// the LoRA adapter, as upstream maps it), the prompt or messages, stream.
std::optional<std::string> read_openai(std::string_view body, bool chat, RequestEvent &r) {
    // Parsed into stack storage (heap only past it): the values are copied out below.
    std::array<unsigned char, 4096> storage;
    boost::json::monotonic_resource arena(storage.data(), storage.size());
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(body, ec, &arena);
    if (ec) return "the body is not JSON: " + ec.message();
    if (!v.is_object()) return "the body must be a JSON object";
    const auto &o = v.get_object();
    if (const auto *m = o.if_contains("model")) {
        if (!m->is_string()) return "\"model\" must be a string";
        set(r.model, m->get_string());  // into the reused request's storage (see Scratch)
        set(r.lora, r.model);
    }
    if (const auto *s = o.if_contains("stream")) {
        if (!s->is_bool()) return "\"stream\" must be true or false";
        r.stream = s->get_bool();
    }
    if (chat) {
        const auto *ms = o.if_contains("messages");
        if (!ms || !ms->is_array() || ms->get_array().empty())
            return "invalid chat completions request: must have valid messages field";
        for (const auto &item : ms->get_array()) {
            if (!item.is_object()) return "each message must be an object {role, content}";
            const auto &msg = item.get_object();
            std::string role, content;
            if (const auto *x = msg.if_contains("role"); x && x->is_string()) role = std::string(x->get_string());
            if (const auto *c = msg.if_contains("content")) {
                if (c->is_string()) content = std::string(c->get_string());
                else if (c->is_array())
                    for (const auto &part : c->get_array())
                        if (const auto *t = part.is_object() ? part.get_object().if_contains("text") : nullptr;
                            t && t->is_string())
                            content += (content.empty() ? "" : "\n") + std::string(t->get_string());
            }
            r.messages.emplace_back(std::move(role), std::move(content));
        }
        r.prompt = render_chat_prompt(r.messages);
    } else {
        const auto *p = o.if_contains("prompt");
        if (!p) return "invalid completions request: must have prompt field";
        if (p->is_string()) set(r.prompt, p->get_string());
        else if (p->is_array()) {
            for (const auto &x : p->get_array())
                if (x.is_string()) r.prompt += std::string(x.get_string());
        } else return "\"prompt\" must be a string or an array";
    }
    return std::nullopt;
}

// The storage of one worker's header fields (Beast allocates a block per field): freed blocks
// are kept by size, in 16-byte classes up to 1 KiB, and handed out again, a few instructions
// each way. std::pmr::unsynchronized_pool_resource, used before, cost about 300 instructions per
// allocation and free (it looks up the chunk a freed block came from). Blocks are never given
// back before the pool goes: it holds at most what the worker's fields held at their peak.
// One thread only.
class FieldPool final : public std::pmr::memory_resource {
public:
    FieldPool() = default;
    FieldPool(const FieldPool &) = delete;
    FieldPool &operator=(const FieldPool &) = delete;
    ~FieldPool() override {
        for (Free *f : free_)
            while (f) ::operator delete(std::exchange(f, f->next));
    }

private:
    static constexpr std::size_t step = 16, classes = 64;
    struct Free {
        Free *next;
    };
    static bool pooled(std::size_t bytes, std::size_t align) {
        return bytes <= step * classes && align <= __STDCPP_DEFAULT_NEW_ALIGNMENT__;
    }
    static std::size_t size_class(std::size_t bytes) { return bytes == 0 ? 0 : (bytes - 1) / step; }

    void *do_allocate(std::size_t bytes, std::size_t align) override {
        if (!pooled(bytes, align)) return ::operator new(bytes, std::align_val_t(align));
        const std::size_t c = size_class(bytes);
        if (Free *f = free_[c]) {
            free_[c] = f->next;
            return f;
        }
        return ::operator new((c + 1) * step);
    }
    void do_deallocate(void *p, std::size_t bytes, std::size_t align) override {
        // Unsized: clang before 19 has no sized deallocation unless asked (-fsized-deallocation).
        if (!pooled(bytes, align)) return ::operator delete(p, std::align_val_t(align));
        const std::size_t c = size_class(bytes);
        free_[c] = ::new (p) Free{free_[c]};
    }
    bool do_is_equal(const std::pmr::memory_resource &other) const noexcept override { return this == &other; }

    std::array<Free *, classes> free_{};
};

// Header fields are allocated from their worker's pool (see Worker::fields_pool), not one
// malloc each.
using FieldAllocator = std::pmr::polymorphic_allocator<char>;
using Fields = http::basic_fields<FieldAllocator>;
using Request = http::request<http::string_body, Fields>;

// A head written piece by piece into storage kept from one request to the next: a size check
// per piece, no more (std::string::append cost about 35 instructions per piece, and a head has
// some 30: about 1,000 instructions per forwarded request).
class HeadBuffer {
public:
    HeadBuffer() { grow(1024); }
    void clear() { size_ = 0; }
    HeadBuffer &operator<<(std::string_view piece) {
        if (piece.empty()) return *this;  // its data may be null: never passed to memcpy
        if (capacity_ - size_ < piece.size()) grow(piece.size());
        std::memcpy(data_.get() + size_, piece.data(), piece.size());
        size_ += piece.size();
        return *this;
    }
    HeadBuffer &operator<<(std::uint64_t n) {
        constexpr std::size_t digits = 20;  // the most a std::uint64_t takes
        if (capacity_ - size_ < digits) grow(digits);
        size_ =
            static_cast<std::size_t>(std::to_chars(data_.get() + size_, data_.get() + capacity_, n).ptr - data_.get());
        return *this;
    }
    // "name: value\r\n": one size check, two copies (most of a head's pieces are these).
    void field(std::string_view name, std::string_view value) {
        const std::size_t n = name.size() + value.size() + 4;
        if (capacity_ - size_ < n) grow(n);
        char *p = data_.get() + size_;
        if (!name.empty()) std::memcpy(p, name.data(), name.size());
        p += name.size();
        *p++ = ':';
        *p++ = ' ';
        if (!value.empty()) std::memcpy(p, value.data(), value.size());
        p += value.size();
        *p++ = '\r';
        *p = '\n';
        size_ += n;
    }
    asio::const_buffer buffer() const { return {data_.get(), size_}; }
    std::string_view view() const { return {data_.get(), size_}; }

private:
    void grow(std::size_t more) {
        const std::size_t capacity = std::max(2 * capacity_, size_ + more);
        auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
        if (size_ != 0) std::memcpy(bigger.get(), data_.get(), size_);
        data_ = std::move(bigger);
        capacity_ = capacity;
    }
    std::unique_ptr<char[]> data_;
    std::size_t size_ = 0, capacity_ = 0;
};

// The model server's response head as the relay forwards it: its status, reason and fields
// (name and value, in order), as text in storage reused from one response to the next.
struct UpstreamHead {
    struct Field {
        http::field known;                        // field::unknown for a name Beast does not know
        std::uint32_t at, name_size, value_size;  // in text: the name, then the value
    };
    int status = 0;
    std::size_t reason_size = 0;
    std::string text;  // the reason, then each field's name and value
    std::vector<Field> fields;
    std::string_view reason() const { return std::string_view(text).substr(0, reason_size); }
    std::string_view name(const Field &f) const { return std::string_view(text).substr(f.at, f.name_size); }
    std::string_view value(const Field &f) const {
        return std::string_view(text).substr(f.at + f.name_size, f.value_size);
    }
};

// The model server's response, parsed by Beast's parser into an UpstreamHead and a buffer for
// the body, with no message: http::response_parser's basic_fields allocated each field and
// indexed it in a tree, and the framing was read from those fields again, where the parser has
// it already (chunked(), content_length(), keep_alive()). The body goes into the space given to
// body(), as buffer_body's reader puts it.
class UpstreamParser final : public http::basic_parser<false> {
public:
    explicit UpstreamParser(UpstreamHead &head) : head_(head) {
        head_.status = 0;
        head_.reason_size = 0;
        head_.text.clear();
        head_.fields.clear();
    }
    // Where the next bytes of the body go; space() of them are left after put().
    void body(char *data, std::size_t size) {
        data_ = data;
        size_ = size;
    }
    std::size_t space() const { return size_; }

private:
    void on_request_impl(http::verb, beast::string_view, beast::string_view, int, beast::error_code &) override {}
    void on_response_impl(int code, beast::string_view reason, int, beast::error_code &) override {
        head_.status = code;
        head_.reason_size = reason.size();
        head_.text.assign(reason.data(), reason.size());
    }
    void on_field_impl(http::field known, beast::string_view name, beast::string_view value,
                       beast::error_code &) override {
        const auto at = static_cast<std::uint32_t>(head_.text.size());
        head_.text.append(name.data(), name.size()).append(value.data(), value.size());
        head_.fields.push_back(
            {known, at, static_cast<std::uint32_t>(name.size()), static_cast<std::uint32_t>(value.size())});
    }
    void on_header_impl(beast::error_code &) override {}
    void on_body_init_impl(const boost::optional<std::uint64_t> &, beast::error_code &) override {}
    std::size_t on_body_impl(beast::string_view body, beast::error_code &ec) override { return take(body, ec); }
    void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code &) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, beast::error_code &ec) override {
        return take(body, ec);
    }
    void on_finish_impl(beast::error_code &) override {}

    // What fits; need_buffer when the rest does not (buffer_body's reader does the same).
    std::size_t take(beast::string_view body, beast::error_code &ec) {
        if (!data_) {
            ec = http::error::need_buffer;
            return 0;
        }
        const std::size_t n = std::min(size_, body.size());
        if (n != 0) std::memcpy(data_, body.data(), n);
        data_ += n;
        size_ -= n;
        if (n != body.size()) ec = http::error::need_buffer;
        return n;
    }

    UpstreamHead &head_;
    char *data_ = nullptr;
    std::size_t size_ = 0;
};

// JSON bodies are built outside the coroutines: GCC 12 miscompiles braced initializers holding
// string literals inside a coroutine ("array used as initializer").
boost::json::object error_body(std::string_view code, std::string_view message) {
    boost::json::object e{{"code", code}, {"message", message}, {"type", "plughost_error"}};
    return boost::json::object{{"error", e}};
}

boost::json::object status_body(std::string_view status) { return boost::json::object{{"status", status}}; }

bool known_path(std::string_view path) {
    static const std::set<std::string, std::less<>> known{
        "/healthz", "/readyz", "/v1/status", "/metrics", "/v1/pick", "/v1/completions", "/v1/chat/completions"};
    return known.count(path) > 0;
}

}  // namespace

struct Server::Impl {
    // ---- state -------------------------------------------------------------------------------
    struct EndpointState {
        EndpointConfig config;
        bool healthy = false;
        bool failing = false;
        bool removed = false;
        Clock::time_point last_success{}, failing_since{};
        std::uint64_t scrapes = 0, scrape_errors = 0;
        std::string last_error = "not scraped yet";
    };
    // What a decision sends the gateway to; everything copied out of the lock.
    struct Pick {
        std::shared_ptr<Generation> generation;
        std::optional<Code> error;
        std::string message;
        std::string profile;
        std::vector<std::uint64_t> endpoints;  // primary, then extras
        std::string name, address;
        std::vector<std::tuple<std::string, std::string, std::string>> extras;  // profile, name, address
        std::vector<std::pair<std::string, std::string>> headers;
        // Emptied for the next decision; the strings and vectors keep their storage.
        void clear() {
            error.reset();
            message.clear();
            profile.clear();
            endpoints.clear();
            name.clear();
            address.clear();
            extras.clear();
            headers.clear();
        }
    };

    ServeOptions options;
    // The serve settings in force: an immutable snapshot that a reload swaps whole. Whoever reads
    // them (a request, a scrape, the drain) pins one snapshot and reads only it, never a struct a
    // reload is rewriting on another thread.
    std::atomic<std::shared_ptr<const ServeSettings>> settings_now{std::make_shared<const ServeSettings>()};
    std::shared_ptr<const ServeSettings> pin_settings() const { return settings_now.load(); }
    std::string bound;

    std::mutex core;  // the endpoint table, endpoint states, generations, schedulers and counters
    std::shared_ptr<Generation> current;
    std::set<FileIdentity> loaded;
    EndpointTable table;
    std::map<std::string, std::shared_ptr<EndpointState>, std::less<>> endpoints;
    std::vector<const plughost_endpoint *> healthy;
    std::vector<EndpointConfig> file_endpoints;
    std::uint64_t generations_applied = 0, generations_refused = 0, next_generation = 1;
    std::vector<Issue> last_reload_errors;
    std::string last_reload_time;
    // Counters keyed by a pair, ordered as std::pair orders them, looked up by views of the
    // strings (no copies per request).
    struct PairLess {
        using is_transparent = void;
        template <class A, class B> bool operator()(const A &a, const B &b) const {
            const int first = std::string_view(a.first).compare(std::string_view(b.first));
            return first < 0 || (first == 0 && a.second < b.second);
        }
    };
    template <class Map, class Key> static void bump(Map &map, const Key &key) {
        auto it = map.find(key);
        if (it == map.end()) it = map.emplace(typename Map::key_type(key.first, key.second), 0).first;
        ++it->second;
    }
    std::map<std::pair<std::string, std::string>, std::uint64_t, PairLess> decisions;  // profile, endpoint
    std::map<std::pair<std::string, int>, std::uint64_t, PairLess> requests;           // path, status
    std::map<std::string, std::uint64_t, std::less<>> outcomes;
    std::uint64_t retries = 0, endpoints_file_errors = 0;
    std::atomic<std::uint64_t> accept_errors{0};
    Histogram decide_seconds, first_byte_seconds, total_seconds;
    std::uint64_t in_flight = 0;

    std::atomic<bool> draining{false};
    std::map<std::string, std::string> quarantined;  // file -> why, from the child-process probe (core)
    std::atomic<long> active{0};
    std::atomic<std::uint64_t> request_counter{0};
    // A connection to a model server with its read buffer, pooled whole: a reused connection
    // costs no allocation (Beast's stream state and timers, the buffer's storage).
    struct Upstream {
        TimedSocket stream;
        beast::flat_buffer buffer;
        Clock::time_point since{};  // idle since (while pooled)
        Upstream(TimedSocket::List &deadlines, const Executor &ex) : stream(deadlines, ex) {}
    };
    // How one attempt to relay a request on one model server connection ended.
    struct Relay {
        bool reused = false;  // in: the upstream connection came from the pool
        int outcome = PLUGHOST_RESPONSE_FAILED;
        int status = 0;
        double first_byte = -1;
        bool keep_alive = false;
        bool http10 = false;           // in: the client speaks HTTP/1.0 (no chunked framing)
        bool client_answered = false;  // a response (or part of one) went to the client
        // A reused connection the model server had closed: nothing of the request was read
        // and nothing answered, so it is sent again on a fresh connection (not a failure).
        bool stale = false;
        bool pooled = false;  // the response was read to its end on a keep-alive connection, now pooled
        std::string error_code, error_message;
        http::status error_status = http::status::bad_gateway;
    };
    // A forwarded request's state, reused (each worker keeps the ones not in use): the relay
    // buffer, the heads written to the model server and to the client, the request as the
    // plugins see it, the decision, the model server's response parser. Not in the gateway's and
    // the relay's coroutine frames: kept there, it made them larger than the 1,020 bytes Asio's
    // per-thread cache recycles, so each was malloc'd and freed per request; reused, the
    // strings and vectors keep their storage from one request to the next.
    struct Scratch {
        std::array<char, 16384> body;
        HeadBuffer request_head, response_head;
        RequestEvent ev;
        AbiRequest abi;
        Pick pick;
        std::vector<std::uint64_t> excluded;  // endpoints that could not be connected to
        std::string last_failure;
        Relay relay;
        UpstreamHead head;
        std::optional<UpstreamParser> parser;  // the model server's response, into `head` and `body`
        // The request's event for the next request: every field as read_openai expects it.
        void reset_request() {
            ev.id.clear();
            ev.model.clear();
            ev.lora.clear();
            ev.prompt.clear();
            ev.profile.reset();
            ev.messages.clear();
            ev.stream = false;
            excluded.clear();
            last_failure.clear();
        }
    };
    // One worker per thread: its own io_context, run by that thread only, so its sessions, their
    // upstream connections and its pool need neither strands nor locks; the scheduler runs with
    // concurrency hint 1 (one thread: handlers stay in the thread's private queue). A client
    // connection stays on the worker that accepted it for its whole life.
    struct Worker {
        // The connections whose deadlines this worker's sweep checks. First: it outlives them all.
        TimedSocket::List deadlines;
        // The header fields of the requests and model server responses parsed here: freed fields
        // are reused by the next (Beast allocates each field on its own). Only this worker's
        // thread uses it; before io, so it outlives every message.
        FieldPool fields_pool;
        // Scratch spaces not in use (one per request being forwarded at most; reused, never freed).
        // Before io: a request's coroutine destroyed with the io_context gives its scratch back.
        std::vector<std::unique_ptr<Scratch>> spare;
        asio::io_context io{1};
        asio::executor_work_guard<Executor> busy{io.get_executor()};
        // Idle keep-alive connections to the model servers by address, oldest first: an entry per
        // live endpoint address (apply_endpoints keeps them in step, by a task posted here). Only
        // this worker's thread touches it. After io, so the sockets close before their io_context.
        std::map<std::string, std::deque<std::unique_ptr<Upstream>>, std::less<>> pools;
        std::atomic<std::size_t> sessions{0};  // client connections open here (picked at accept)
        std::thread thread;                    // none for worker 0: run() runs it
    };
    // Reloads (pre-flight, the probe's child processes, loading, instantiation) run on their own
    // thread, one at a time in the order asked: a worker never stalls while a generation is built;
    // the swap at the end is a pointer exchange under `core`. Only tasks are queued here (no I/O
    // objects); run() stops and joins the thread after the workers.
    asio::io_context reloads{1};
    asio::executor_work_guard<asio::io_context::executor_type> reloads_busy{reloads.get_executor()};
    std::thread reload_thread;
    // Last, so they go first: the coroutines still pending are destroyed while the state they
    // point into is alive. The acceptor (on worker 0) goes before the workers.
    std::vector<std::unique_ptr<Worker>> workers;
    std::optional<Acceptor> acceptor;
    std::atomic<std::size_t> next_scraper{0};

    explicit Impl(ServeOptions o) : options(std::move(o)) {}

    // ---- endpoints and scraping --------------------------------------------------------------
    void refresh_healthy() {
        healthy.clear();
        for (std::size_t i = 0; i < table.size(); ++i) {
            const plughost_endpoint *e = table.data()[i];
            const auto it = endpoints.find(view(e->name));
            if (it != endpoints.end() && it->second->healthy) healthy.push_back(e);
        }
    }

    // Makes the live endpoints `wanted` (config endpoints, then the endpoints file's); under core.
    void apply_endpoints(const std::vector<EndpointConfig> &wanted) {
        std::set<std::string, std::less<>> names;
        for (const auto &w : wanted) {
            if (!names.insert(w.name).second) continue;  // the config's wins over the file's
            EndpointUpdate u;
            u.name = w.name;
            u.address = w.address;
            u.labels = w.labels;
            if (auto refused = table.upsert(u)) {
                spdlog::error("endpoint {}: {}", w.name, refused->message);
                continue;
            }
            auto it = endpoints.find(w.name);
            if (it == endpoints.end()) {
                auto st = std::make_shared<EndpointState>();
                st->config = w;
                endpoints.emplace(w.name, st);
                spdlog::info("endpoint {} at {} added", w.name, w.address);
                // Scrapers spread over the workers. Posted, never dispatched: called under `core`,
                // and a scrape started inline on this thread would take `core` again (a deadlock).
                Worker &worker = *workers[next_scraper++ % workers.size()];
                asio::post(worker.io,
                           [this, st, &worker] { asio::co_spawn(worker.io, scrape_loop(st), asio::detached); });
            } else {
                it->second->config = w;
            }
        }
        for (auto it = endpoints.begin(); it != endpoints.end();) {
            if (names.count(it->first)) {
                ++it;
                continue;
            }
            spdlog::info("endpoint {} removed", it->first);
            it->second->removed = true;
            table.remove(it->first);
            it = endpoints.erase(it);
        }
        refresh_healthy();
        // A pool per live address in every worker; a removed or moved endpoint's idle connections
        // close. Each worker updates its own pools (nobody else touches them).
        auto addresses = std::make_shared<std::set<std::string, std::less<>>>();
        for (const auto &[name, st] : endpoints) addresses->insert(st->config.address);
        for (auto &w : workers)
            asio::post(w->io, [addresses, &pools = w->pools] {
                for (auto it = pools.begin(); it != pools.end();)
                    it = addresses->count(it->first) ? std::next(it) : pools.erase(it);
                for (const auto &a : *addresses) pools.try_emplace(a);
            });
    }

    // ---- upstream connection pool ------------------------------------------------------------
    // An idle connection the peer has not closed (nor sent anything on: a stray byte would be
    // read as the next response).
    static bool still_open(Socket &socket) {
        char byte;
        const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }

    // The most recently used idle connection to `address` that is still open, if any. On the
    // worker's own thread.
    std::unique_ptr<Upstream> take_idle(Worker &w, std::string_view address, const ServeSettings &settings) {
        const auto it = w.pools.find(address);
        if (it == w.pools.end()) return nullptr;
        auto &idle = it->second;
        const auto max_age = std::chrono::milliseconds(settings.upstream_idle_timeout_ms);
        const auto now = Clock::now();
        while (!idle.empty() && now - idle.front()->since > max_age) idle.pop_front();
        while (!idle.empty()) {
            std::unique_ptr<Upstream> conn = std::move(idle.back());
            idle.pop_back();
            // One idle for a moment is taken without the check (a syscall per request): a server
            // that closed it meanwhile sends no byte back, and the request goes again on a new
            // connection (Relay::stale), as for one it closes just as the request arrives.
            if (now - conn->since < std::chrono::milliseconds(250) || still_open(conn->stream.socket())) return conn;
            // Closed by the model server while idle (its keep-alive time-out): try the next.
        }
        return nullptr;
    }

    // Keeps a connection whose response ended cleanly for the next request to `address`; the
    // oldest idle one closes when serve.upstreamMaxIdle are already kept (per worker).
    void put_idle(Worker &w, std::string_view address, std::unique_ptr<Upstream> conn, const ServeSettings &settings) {
        const std::size_t max_idle = settings.upstream_max_idle;
        if (max_idle == 0 || draining) return;
        const auto it = w.pools.find(address);
        if (it == w.pools.end()) return;  // the endpoint went away meanwhile
        auto &idle = it->second;
        while (idle.size() >= max_idle) idle.pop_front();
        conn->since = Clock::now();
        idle.push_back(std::move(conn));
    }

    // Closes the worker's connections idle longer than serve.upstreamIdleTimeoutMs, every scrape
    // interval, so idle descriptors go without traffic to notice them.
    awaitable<void> prune_idle(Worker &w) {
        Timer timer(w.io);
        while (!draining) {
            const auto pinned = pin_settings();
            const auto max_age = std::chrono::milliseconds(pinned->upstream_idle_timeout_ms);
            const auto now = Clock::now();
            for (auto &[address, idle] : w.pools)
                while (!idle.empty() && now - idle.front()->since > max_age) idle.pop_front();
            timer.expires_after(std::chrono::milliseconds(pinned->scrape_interval_ms));
            co_await timer.async_wait(nothrow);
        }
    }

    // Closes the worker's connections whose read, write or connect has run past its deadline.
    awaitable<void> sweep_deadlines(Worker &w) {
        Timer timer(w.io);
        for (;;) {
            timer.expires_after(deadline_sweep_period);
            co_await timer.async_wait(nothrow);
            const auto now = Clock::now();
            for (auto &socket : w.deadlines) socket.check(now);
        }
    }

    // All of the worker's idle connections to `address` (one of them turned out closed: the
    // server restarted or closed them all).
    static void drop_idle(Worker &w, std::string_view address) {
        if (const auto it = w.pools.find(address); it != w.pools.end()) it->second.clear();
    }

    // A scratch space on the worker's thread, given back (by its destructor) when the request ends.
    struct ScratchLease {
        Worker &w;
        std::unique_ptr<Scratch> s;
        explicit ScratchLease(Worker &worker) : w(worker) {
            if (w.spare.empty()) s = std::make_unique<Scratch>();
            else {
                s = std::move(w.spare.back());
                w.spare.pop_back();
            }
        }
        ~ScratchLease() {
            s->parser.reset();
            s->pick.generation.reset();  // a spare scratch does not keep a generation alive
            w.spare.push_back(std::move(s));
        }
        ScratchLease(const ScratchLease &) = delete;
        ScratchLease &operator=(const ScratchLease &) = delete;
    };

    std::vector<EndpointConfig> all_endpoints(const Generation &g) const {
        std::vector<EndpointConfig> all = g.pf.config.endpoints;
        all.insert(all.end(), file_endpoints.begin(), file_endpoints.end());
        return all;
    }

    std::filesystem::path endpoints_file_path() const {
        const auto pinned = pin_settings();
        const ServeSettings &settings = *pinned;
        if (!settings.endpoints_file) return {};
        std::filesystem::path p = *settings.endpoints_file;
        if (p.is_relative() && options.inputs.config_source == ConfigSource::file)
            p = options.inputs.config_file.parent_path() / p;
        return p;
    }

    // Reads the endpoints file ({"endpoints": [...]} or a bare list); false (keeping the old
    // list) when it cannot be used.
    bool read_endpoints_file() {
        const auto path = endpoints_file_path();
        if (path.empty()) {
            file_endpoints.clear();
            return true;
        }
        std::string io_error;
        auto doc = load_json_document(path, io_error);
        std::vector<Issue> issues;
        std::vector<EndpointConfig> list;
        // A problem with the whole file (its message names the file) has no path; the others' are
        // JSON Pointers into it.
        if (!doc) issues.push_back({"", Code::io_error, io_error, ""});
        else if (doc->problem) issues.push_back({"", Code::not_json, doc->problem->message, ""});
        else {
            const auto &v = doc->value;
            if (v.is_object() && v.get_object().contains("endpoints"))
                read_endpoint_list(v.get_object().at("endpoints"), "/endpoints", list, issues);
            else read_endpoint_list(v, "", list, issues);
        }
        if (!issues.empty()) {
            ++endpoints_file_errors;
            for (const auto &i : issues)
                if (i.path.empty()) spdlog::error("endpoints file: {} (the endpoints stay as they were)", i.message);
                else
                    spdlog::error("endpoints file {}: {}: {} (the endpoints stay as they were)", path.string(), i.path,
                                  i.message);
            return false;
        }
        file_endpoints = std::move(list);
        return true;
    }

    void scrape_succeeded(EndpointState &st, EndpointUpdate &update) {
        std::lock_guard lock(core);
        if (st.removed) return;
        ++st.scrapes;
        st.last_success = Clock::now();
        st.failing = false;
        update.name = st.config.name;
        if (auto refused = table.upsert(update)) spdlog::warn("endpoint {}: {}", st.config.name, refused->message);
        if (!st.healthy) {
            st.healthy = true;
            spdlog::info("endpoint {} is healthy", st.config.name);
            refresh_healthy();
        }
    }

    void scrape_failed(EndpointState &st, const std::string &why) {
        const auto pinned = pin_settings();
        const ServeSettings &settings = *pinned;
        std::lock_guard lock(core);
        if (st.removed) return;
        ++st.scrapes;
        ++st.scrape_errors;
        st.last_error = why;
        const auto now = Clock::now();
        if (!st.failing) {
            st.failing = true;
            st.failing_since = now;
        }
        if (st.healthy && now - st.failing_since >= std::chrono::milliseconds(settings.unhealthy_after_ms)) {
            st.healthy = false;
            spdlog::warn("endpoint {} is unhealthy: its scrapes have failed for {} ms ({})", st.config.name,
                         settings.unhealthy_after_ms, why);
            refresh_healthy();
        }
    }

    // Connects to "HOST:PORT" within `timeout`: an IP address is used as it is (no resolver: its
    // thread hop costs tens of microseconds on every request), a name is resolved and each of its
    // addresses tried in turn, as asio::async_connect does. `Connection` is a scrape's Stream
    // (Beast's own timer) or a model server's TimedSocket (deadline swept by its worker): both
    // end an operation past the deadline with beast::error::timeout.
    template <class Connection> static awaitable<beast::error_code>
    connect_to(Connection &connection, const std::string &address, std::chrono::milliseconds timeout) {
        const auto [host, port] = split_host_port(address);
        boost::system::error_code ec;
        const auto ip = asio::ip::make_address(host, ec);
        connection.expires_after(timeout);
        if (!ec) {
            const tcp::endpoint where(ip, static_cast<unsigned short>(std::stoul(port)));
            auto [cec] = co_await connection.async_connect(where, nothrow);
            co_return cec;
        }
        Resolver resolver(connection.get_executor());
        auto [rec, results] = co_await resolver.async_resolve(host, port, nothrow);
        if (rec) co_return rec;
        connection.expires_after(timeout);
        beast::error_code cec = asio::error::host_not_found;
        for (const auto &entry : results) {
            beast::error_code ignored;
            connection.socket().close(ignored);
            const tcp::endpoint where = entry.endpoint();
            std::tie(cec) = co_await connection.async_connect(where, nothrow);
            if (!cec || cec == beast::error::timeout) break;
        }
        co_return cec;
    }

    awaitable<void> scrape_loop(std::shared_ptr<EndpointState> st) {
        auto ex = co_await asio::this_coro::executor;
        Stream stream(ex);
        beast::flat_buffer buffer;
        Timer timer(ex);
        bool connected = false;
        std::string connected_to;
        for (;;) {
            std::string address;
            MetricNames names;
            std::chrono::milliseconds interval, timeout;
            {
                std::lock_guard lock(core);
                if (st->removed || draining) break;
                address = st->config.address;
                const auto settings = pin_settings();
                names = settings->metrics;
                interval = std::chrono::milliseconds(settings->scrape_interval_ms);
                timeout = std::chrono::milliseconds(settings->scrape_timeout_ms);
            }
            const auto started = Clock::now();
            std::string error;
            std::string body;
            if (connected && connected_to != address) {
                beast::error_code ignored;
                stream.socket().close(ignored);
                connected = false;
            }
            if (!connected) {
                buffer.clear();
                const beast::error_code cec = co_await connect_to(stream, address, timeout);
                if (cec) error = "cannot connect to " + address + ": " + cec.message();
                else {
                    connected = true;
                    connected_to = address;
                }
            }
            if (connected) {
                http::request<http::empty_body> req{http::verb::get, "/metrics", 11};
                req.set(http::field::host, address);
                req.set(http::field::user_agent, "plughost-serve");
                stream.expires_after(timeout);
                auto [wec, wn] = co_await http::async_write(stream, req, nothrow);
                http::response_parser<http::string_body> parser;
                parser.body_limit(16 * 1024 * 1024);
                beast::error_code rec;
                if (!wec) std::tie(rec, std::ignore) = co_await http::async_read(stream, buffer, parser, nothrow);
                if (wec || rec) {
                    error = "scraping " + address + "/metrics failed: " + (wec ? wec : rec).message();
                    beast::error_code ignored;
                    stream.socket().close(ignored);
                    connected = false;
                } else {
                    auto &res = parser.get();
                    if (res.result() != http::status::ok)
                        error = fmt::format("{}/metrics answered HTTP {}", address, res.result_int());
                    else body = std::move(res.body());
                    if (!res.keep_alive()) {
                        beast::error_code ignored;
                        stream.socket().close(ignored);
                        connected = false;
                    }
                }
            }
            if (error.empty()) {
                EndpointUpdate update;
                error = extract_metrics(body, names, update);
                if (error.empty()) scrape_succeeded(*st, update);
            }
            if (!error.empty()) scrape_failed(*st, error);
            timer.expires_at(started + interval);
            co_await timer.async_wait(nothrow);
        }
        beast::error_code ignored;
        stream.socket().close(ignored);
    }

    // ---- generations and reloads -------------------------------------------------------------
    GenerationBuild build() {
        std::uint64_t number;
        {
            std::lock_guard lock(core);
            number = next_generation++;
        }
        NewFilesHook hook;
        if (options.new_files_hook)
            hook = [this](Preflight &pf, const std::vector<std::size_t> &fresh) {
                auto refused = options.new_files_hook(pf, fresh);
                std::lock_guard lock(core);
                for (const auto &[index, why] : refused) quarantined[pf.candidates[index].file.path.string()] = why;
                return refused;
            };
        return build_generation(options.inputs, number, options.max_consecutive_faults, hook, loaded);
    }

    // Rebuilds the generation (plugins or config changed): swapped in whole, or refused whole.
    void reload(const std::string &why) {
        spdlog::info("reloading ({})", why);
        GenerationBuild b = build();
        std::lock_guard lock(core);
        last_reload_time = fmt::format("{:%FT%TZ}", fmt::gmtime(std::chrono::system_clock::now()));
        if (!b.generation) {
            ++generations_refused;
            last_reload_errors = b.errors;
            spdlog::error("the new generation is refused; generation {} keeps serving:", current->number);
            for (const auto &e : b.errors)
                spdlog::error("  {}{}{}", e.path.empty() ? "" : e.path + ": ", e.message,
                              e.hint.empty() ? "" : " (" + e.hint + ")");
            return;
        }
        last_reload_errors.clear();
        ++generations_applied;
        if (current && b.generation->pf.config.plugin_dir != current->pf.config.plugin_dir)
            spdlog::warn("the config's pluginDir changed: plugins are still read from {} until plughost serve restarts",
                         options.inputs.plugin_dir.string());
        const auto old = current ? current->number : 0;
        // Limits and scraping apply at once; the listener and threads stay as they started.
        auto next = std::make_shared<ServeSettings>(b.generation->pf.config.serve);
        const auto was = pin_settings();
        next->listen = was->listen;
        next->threads = was->threads;
        settings_now.store(std::move(next));
        current = b.generation;
        read_endpoints_file();
        apply_endpoints(all_endpoints(*current));
        spdlog::info("generation {} serving (was {}): {} instances", current->number, old,
                     current->live.instances.size());
    }

    void request_reload(std::string why) {
        asio::post(reloads, [this, why = std::move(why)] {
            if (!draining) reload(why);
        });
    }

    void reload_endpoints() {
        std::lock_guard lock(core);
        if (read_endpoints_file()) apply_endpoints(all_endpoints(*current));
    }

    // inotify on the plugin directory and the config's and endpoints file's directories.
    awaitable<void> watch() {
        const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd < 0) {
            spdlog::warn("cannot watch for changes (inotify: {}); send SIGHUP to reload", std::strerror(errno));
            co_return;
        }
        Descriptor in(co_await asio::this_coro::executor, fd);
        constexpr std::uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ATTRIB;
        std::map<int, std::filesystem::path> dirs;
        auto add = [&](const std::filesystem::path &dir) {
            const int wd = ::inotify_add_watch(fd, dir.empty() ? "." : dir.c_str(), mask);
            if (wd < 0) spdlog::warn("cannot watch {}: {}", dir.string(), std::strerror(errno));
            else dirs[wd] = dir;
        };
        add(options.inputs.plugin_dir);
        const auto config =
            options.inputs.config_source == ConfigSource::file ? options.inputs.config_file : std::filesystem::path();
        if (!config.empty()) add(config.parent_path());
        std::filesystem::path endpoints_file;
        {
            std::lock_guard lock(core);
            endpoints_file = endpoints_file_path();
        }
        if (!endpoints_file.empty()) add(endpoints_file.parent_path());
        Timer settle(in.get_executor());
        alignas(inotify_event) std::array<char, 8192> buf;
        bool full = false, eps = false;
        for (;;) {
            auto [ec, n] = co_await in.async_read_some(asio::buffer(buf), nothrow);
            if (ec) co_return;
            for (std::size_t off = 0; off < n;) {
                const auto *e = reinterpret_cast<const inotify_event *>(buf.data() + off);
                off += sizeof(inotify_event) + e->len;
                const std::string name = e->len ? std::string(e->name) : std::string();
                const auto dir = dirs.count(e->wd) ? dirs[e->wd] : std::filesystem::path();
                if (dir == options.inputs.plugin_dir && name.ends_with(".so")) full = true;
                if (!config.empty() && dir == config.parent_path() && name == config.filename()) full = true;
                if (!endpoints_file.empty() && dir == endpoints_file.parent_path() && name == endpoints_file.filename())
                    eps = true;
            }
            if (!full && !eps) continue;
            // Let a burst of events (a copy, a rename, an editor's save) settle first.
            settle.expires_after(std::chrono::milliseconds(100));
            co_await settle.async_wait(nothrow);
            // Drain whatever arrived meanwhile without blocking.
            for (;;) {
                const ssize_t r = ::read(fd, buf.data(), buf.size());
                if (r <= 0) break;
                for (std::size_t off = 0; off < static_cast<std::size_t>(r);) {
                    const auto *e = reinterpret_cast<const inotify_event *>(buf.data() + off);
                    off += sizeof(inotify_event) + e->len;
                    const std::string name = e->len ? std::string(e->name) : std::string();
                    if (name.ends_with(".so") || name == config.filename()) full = true;
                    if (!endpoints_file.empty() && name == endpoints_file.filename()) eps = true;
                }
            }
            if (draining) co_return;
            if (full) request_reload("a file changed in the plugin directory or the config");
            else if (eps) reload_endpoints();
            full = eps = false;
        }
    }

    // ---- scheduling --------------------------------------------------------------------------
    // `abi` is `r` as plugins see it (built once per request, for the decision and the responses).
    // Fills `p` (reused from request to request: its strings and vectors keep their storage).
    void decide(const RequestEvent &r, const AbiRequest &abi, const std::vector<std::uint64_t> &excluded, Pick &p) {
        const auto t0 = Clock::now();
        p.clear();
        std::lock_guard lock(core);
        p.generation = current;
        Scheduler &s = *current->scheduler;
        std::optional<std::size_t> profile;
        if (r.profile) {
            profile = s.find_profile(*r.profile);
            if (!profile) {
                p.error = Code::unknown_profile;
                p.message = "no scheduling profile \"" + *r.profile + "\"";
                return;
            }
        }
        const plughost_endpoint *const *list = healthy.data();
        std::size_t count = healthy.size();
        std::vector<const plughost_endpoint *> filtered;
        if (!excluded.empty()) {  // a re-pick: rare, so the copy is fine
            for (auto *e : healthy)
                if (std::find(excluded.begin(), excluded.end(), e->id) == excluded.end()) filtered.push_back(e);
            list = filtered.data();
            count = filtered.size();
        }
        if (count == 0) {
            p.error = Code::no_endpoints;
            p.message = table.size() ? "no healthy endpoint to send the request to" : "no endpoints are configured";
            return;
        }
        const Decision &d = s.schedule(abi.req, list, count, profile);
        if (d.error) {
            p.error = *d.error;
            p.message = d.message;
            return;
        }
        set(p.profile, s.profiles()[d.profile].name);
        const plughost_endpoint *chosen = d.picked[0];
        p.endpoints.push_back(chosen->id);
        set(p.name, view(chosen->name));
        set(p.address, view(chosen->address));
        table.count_pick(chosen);
        for (const DecisionExtra &x : d.extras) {
            p.endpoints.push_back(x.endpoint->id);
            p.extras.emplace_back(s.profiles()[x.profile].name, std::string(view(x.endpoint->name)),
                                  std::string(view(x.endpoint->address)));
            table.count_pick(x.endpoint);
        }
        for (const auto &h : d.headers) p.headers.push_back(h);
        bump(decisions, std::pair<std::string_view, std::string_view>(p.profile, p.name));
        ++in_flight;
        decide_seconds.observe(seconds_since(t0));
    }

    // Tells the deciding generation's plugins how the response went; ends the request's
    // in-flight count unless it only started. Returns the headers plugins set for the client.
    // `answered`: the path of the request whose response (status `status`) went to the client, to
    // count in the requests by path and status.
    std::vector<std::pair<std::string, std::string>> respond(const Pick &p, const AbiRequest &abi, int outcome,
                                                             int status, double first_byte, double total,
                                                             const std::string *answered = nullptr) {
        std::lock_guard lock(core);
        if (answered) bump(requests, std::pair<std::string_view, int>(*answered, status));
        plughost_response res{};
        res.struct_size = sizeof res;
        res.endpoint_id = p.endpoints.front();
        res.endpoint = table.find(res.endpoint_id);
        res.outcome = outcome;
        res.http_status = status;
        res.seconds_to_first_byte = first_byte;
        res.seconds_total = total;
        const auto headers = p.generation->scheduler->respond(abi.req, res);
        std::vector<std::pair<std::string, std::string>> out(headers.begin(), headers.end());
        if (outcome != PLUGHOST_RESPONSE_STARTED) {
            for (auto id : p.endpoints) table.release(id);
            --in_flight;
            const char *name = outcome == PLUGHOST_RESPONSE_COMPLETE    ? "complete"
                               : outcome == PLUGHOST_RESPONSE_CANCELLED ? "cancelled"
                                                                        : "failed";
            if (const auto it = outcomes.find(std::string_view(name)); it != outcomes.end()) ++it->second;
            else outcomes.emplace(name, 1);
            if (total >= 0) total_seconds.observe(total);
        } else if (first_byte >= 0) {
            first_byte_seconds.observe(first_byte);
        }
        return out;
    }

    // ---- HTTP --------------------------------------------------------------------------------
    // Whether the client's connection stays open after an answer, and whether the answer says
    // so: an HTTP/1.0 client keeps its connection only when the answer carries
    // `Connection: keep-alive` (ab -k otherwise waits for the close), an HTTP/1.1 one unless
    // it carries `close`.
    struct Persistence {
        bool keep;
        bool http10;
    };
    static Persistence persistence(const Request &req) { return {req.keep_alive(), req.version() < 11}; }
    static constexpr Persistence kClose{false, false};

    // GCC 12 destroys some temporaries of a co_await expression twice (a double free): every
    // argument of a co_await here is a named object or a trivially destructible value.
    template <class Body>
    awaitable<bool> send(TimedSocket &client, http::response<Body> &res, std::string_view path, Persistence persist) {
        res.keep_alive(persist.keep && !draining);
        if (persist.http10 && res.keep_alive()) res.set(http::field::connection, "keep-alive");
        res.prepare_payload();
        {
            std::lock_guard lock(core);
            bump(requests, std::pair<std::string_view, int>(path, res.result_int()));
        }
        client.expires_after(std::chrono::milliseconds(pin_settings()->idle_timeout_ms));
        auto [ec, n] = co_await http::async_write(client, res, nothrow);
        co_return !ec && res.keep_alive();
    }

    awaitable<bool> send_json(TimedSocket &client, http::status status, const boost::json::value &body,
                              std::string_view path, Persistence persist) {
        http::response<http::string_body> res{status, 11};
        res.set(http::field::content_type, "application/json");
        res.body() = to_json(body) + "\n";
        co_return co_await send(client, res, path, persist);
    }

    // {"error": {"code", "message", "type"}}: OpenAI's error shape with plughost's code.
    awaitable<bool> send_error(TimedSocket &client, http::status status, std::string_view code,
                               std::string_view message, std::string_view path, Persistence persist) {
        const boost::json::value body = error_body(code, message);
        co_return co_await send_json(client, status, body, path, persist);
    }

    static http::status status_for(Code c) {
        switch (c) {
        case Code::no_endpoints:
        case Code::no_candidates: return http::status::service_unavailable;
        case Code::unknown_profile: return http::status::bad_request;
        default: return http::status::internal_server_error;
        }
    }

    // Watches the client's connection while its request is forwarded. A client that closes it
    // (EOF or error, not more bytes: a pipelined request) cancels the upstream request: closing
    // the upstream connection ends whatever the relay waits for there and tells the model server
    // to stop generating.
    struct ClientWatch {
        Socket *upstream = nullptr;  // null once the relay has ended or its connection is pooled
        bool gone = false;
    };

    // The watch is a read of the client's next bytes started when a request is forwarded and
    // left pending after it: it is also the read of the client's next request on that
    // connection. Not a wait for readability per request: Asio registers each such wait with
    // epoll anew (an epoll_ctl per request), and the session's next read would then start with
    // a receive that finds nothing; a read kept pending costs neither. Its bytes (a pipelined or
    // the next request) go into the session's buffer when the session takes them (take_read).
    //
    // A session waiting for the read (take_read) is resumed by the read's handler itself, not
    // through a timer or a post: either would queue one more handler, and the worker polls epoll
    // (a system call) before running each such handler.
    using Resume = asio::async_result<asio::use_awaitable_t<Executor>, void()>::handler_type;
    // Where a waiting session's resumption is kept: owned by the pending read's handler (never by
    // the session's frame, which the resumption owns in turn: destroyed with a pending read at
    // shutdown, the handler takes the session with it), and lent back to the session after it.
    using Waiter = std::unique_ptr<std::optional<Resume>>;
    struct ClientRead {
        beast::flat_buffer &buffer;  // the session's: untouched while the read is pending
        bool pending = false, done = false;
        bool queued = false;  // the pending read waits for readiness (read_queued)
        beast::error_code ec;
        std::size_t n = 0;
        ClientWatch watch;
        Waiter spare = std::make_unique<std::optional<Resume>>();  // while no read is pending
        std::optional<Resume> *waiter = nullptr;                   // while one is (the handler's)
        explicit ClientRead(beast::flat_buffer &b) : buffer(b) {}
    };

    // The client has closed or reset its connection (not: this proxy cancelled the read).
    static bool client_gone(const beast::error_code &ec) { return ec && ec != asio::error::operation_aborted; }

    static void watch_client(TimedSocket &client, ClientRead &read, Socket &upstream) {
        read.watch = ClientWatch{&upstream, false};
        if (read.done) {  // ended before this attempt: a client already gone cancels it at once
            if (client_gone(read.ec)) {
                read.watch.gone = true;
                beast::error_code ignored;
                upstream.close(ignored);
            }
            return;
        }
        if (read.pending) return;
        // A pipelined request already buffered: the session parses it next, with no read. A read
        // kept pending would wait for bytes this client will not send before its answers (and the
        // buffer must stay untouched while one is pending); without it, this request has no
        // disconnect watch, and the next request's read notices a client that left.
        if (read.buffer.size() != 0) return;
        read.pending = true;
        read.waiter = read.spare.get();
        const auto space = read.buffer.prepare(beast::read_size(read.buffer, 65536));
        Socket &socket = client.socket();
        socket.async_read_some(space,
                               [&read, &client, size = space.size(), writes = client.writes(),
                                waiter = std::move(read.spare)](const beast::error_code &ec, std::size_t n) mutable {
                                   if (!ec && n < size && read.queued && writes == client.writes())
                                       read_drained(client.socket());
                                   read.pending = false;
                                   read.done = true;
                                   read.ec = ec;
                                   read.n = n;
                                   if (client_gone(ec) && read.watch.upstream) {
                                       read.watch.gone = true;
                                       beast::error_code ignored;
                                       read.watch.upstream->close(ignored);
                                   }
                                   std::optional<Resume> resume = std::move(*waiter);
                                   waiter->reset();
                                   read.waiter = nullptr;
                                   read.spare = std::move(waiter);
                                   if (resume) (*resume)();  // the session goes on here; `read` may be gone after it
                               });
        read.queued = read_queued(socket);
    }

    static void end_watch(ClientRead &read) { read.watch.upstream = nullptr; }

    // Waits for the pending kept read to end (the caller holds the connection's deadline). Not a
    // coroutine of its own: a coroutine frame is allocated per call, and the session waits here
    // per request.
    static awaitable<void> wait_read(ClientRead &read) {
        return asio::async_initiate<const asio::use_awaitable_t<Executor>, void()>(
            [&read](Resume resume) { read.waiter->emplace(std::move(resume)); }, asio::use_awaitable_t<Executor>{});
    }

    // After the kept read, if one was started, has ended: its bytes join the session's buffer.
    // Its error, if any, as a read of the session's would end.
    static beast::error_code take_read(TimedSocket &client, ClientRead &read) {
        if (!read.done) return {};
        read.done = false;
        read.buffer.commit(read.n);
        return client.result(read.ec);
    }

    static bool set_by(std::string_view name, const std::vector<std::pair<std::string, std::string>> &headers) {
        for (const auto &[k, v] : headers)
            if (beast::iequals(k, name)) return true;
        return false;
    }

    // A decimal or hexadecimal number, without fmt's format-string parsing (several per request).
    static void append_number(std::string &out, std::uint64_t n, int base = 10) {
        std::array<char, 24> digits;
        const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), n, base).ptr;
        out.append(digits.data(), end);
    }

    // The head of the request to the model server: the client's, without the hop-by-hop fields
    // and the ones this proxy sets (Host, the framing, x-request-id,
    // x-gateway-destination-endpoint); the plugins' fields replace any of the same name, except
    // hop-by-hop and framing ones (this proxy's own). Written into reused storage, not a Beast
    // message: no allocation per field.
    static void write_request_head(HeadBuffer &out, const Request &req, const Pick &pick, std::string_view id,
                                   bool keep_alive) {
        out.clear();
        out << req.method_string() << " "sv << req.target() << " HTTP/1.1\r\n"sv;
        for (const auto &f : req) {
            const auto name = f.name_string();
            const http::field known = f.name();  // the names compared below are not Beast's
            if (known != http::field::unknown ? hop_by_hop(known) || known == http::field::host ||
                                                    known == http::field::content_length || known == http::field::expect
                                              : beast::iequals(name, "x-request-id"sv) ||
                                                    beast::iequals(name, "x-gateway-destination-endpoint"sv))
                continue;
            if (!pick.headers.empty() && set_by(name, pick.headers)) continue;
            out.field(name, f.value());
        }
        if (!set_by("host", pick.headers)) out.field("Host", pick.address);
        if (!set_by("x-request-id", pick.headers)) out.field("x-request-id", id);
        if (!set_by("x-gateway-destination-endpoint", pick.headers))
            out.field("x-gateway-destination-endpoint", pick.address);
        for (const auto &[k, v] : pick.headers)
            if (!hop_by_hop(k) && !beast::iequals(k, "content-length")) out.field(k, v);
        out << "Content-Length: "sv << static_cast<std::uint64_t>(req.body().size()) << "\r\n"sv;
        if (!keep_alive) out << "Connection: close\r\n"sv;
        out << "\r\n"sv;
    }

    // The head of the response to the client: the model server's, without its hop-by-hop fields,
    // with the plugins' fields (replacing any of the same name), x-gateway-destination-endpoint,
    // and this connection's framing.
    static void write_response_head(HeadBuffer &out, const UpstreamHead &res,
                                    const std::vector<std::pair<std::string, std::string>> &plugin_headers,
                                    std::string_view address, bool chunked, Persistence persist) {
        out.clear();
        out << "HTTP/1.1 "sv << static_cast<std::uint64_t>(res.status) << " "sv << res.reason() << "\r\n"sv;
        for (const auto &f : res.fields) {
            const auto name = res.name(f);
            const http::field known = f.known;  // x-gateway-destination-endpoint is not Beast's
            if (known != http::field::unknown ? hop_by_hop(known) || (chunked && known == http::field::content_length)
                                              : beast::iequals(name, "x-gateway-destination-endpoint"sv))
                continue;
            if (!plugin_headers.empty() && set_by(name, plugin_headers)) continue;
            out.field(name, res.value(f));
        }
        for (const auto &[k, v] : plugin_headers)
            if (!beast::iequals(k, "x-gateway-destination-endpoint")) out.field(k, v);
        out.field("x-gateway-destination-endpoint", address);
        if (chunked) out << "Transfer-Encoding: chunked\r\n"sv;
        if (!persist.keep) out << "Connection: close\r\n"sv;
        else if (persist.http10) out << "Connection: keep-alive\r\n"sv;
        out << "\r\n"sv;
    }

    // Sends what the socket takes at once (client and upstream sockets are non-blocking); the
    // caller sends the rest, if any, with write_rest. A write that fits, as nearly all do, makes
    // no trip through the scheduler (an asynchronous write that completes at once is queued
    // still, and the loop polls epoll, a system call, before running it) and allocates no
    // coroutine frame. Returns the bytes sent; `ec` is set on an error other than a full socket.
    template <class Buffers>
    static std::size_t write_now(TimedSocket &s, const Buffers &buffers, beast::error_code &ec) {
        const std::size_t n = s.socket().write_some(buffers, ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
        return ec ? 0 : n;
    }

    // The part of `buffers` after the first `sent` bytes, through the event loop.
    template <class Buffers>
    static awaitable<beast::error_code> write_rest(TimedSocket &s, const Buffers &buffers, std::size_t sent) {
        beast::buffers_suffix<Buffers> rest(buffers);
        rest.consume(sent);
        auto [wec, wn] = co_await asio::async_write(s, rest, nothrow);
        co_return wec;
    }

    // Reads what the model server has sent into the connection's buffer (the caller parses it).
    // Not Beast's read of a message: its composed operations (a layer each, and a coroutine
    // frame for the read of the head) cost more than the read. End of file as Beast reports it:
    // before any byte of the response, end_of_stream; after some, the parser decides (the end of
    // a body delimited by the close, or partial_message).
    template <class Parser> static awaitable<std::tuple<beast::error_code>>
    read_upstream(TimedSocket &upstream, beast::flat_buffer &ubuf, Parser &parser) {
        const auto space = ubuf.prepare(beast::read_size(ubuf, 65536));
        return asio::async_initiate<decltype(nothrow), void(beast::error_code)>(
            [&upstream, &ubuf, &parser, space](auto handler) {
                upstream.async_read_some(
                    space, [&ubuf, &parser, h = std::move(handler)](beast::error_code ec, std::size_t n) mutable {
                        ubuf.commit(n);
                        if (ec == asio::error::eof) {
                            ec = {};
                            if (parser.got_some()) parser.put_eof(ec);
                            else ec = http::error::end_of_stream;
                        }
                        std::move(h)(ec);
                    });
            },
            nothrow);
    }

    // A read or write error that means the peer had closed a kept connection before this request.
    static bool closed_by_peer(const beast::error_code &ec) {
        return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
               ec == asio::error::broken_pipe;
    }

    // Sends the request (scratch.request_head and `body`) on `conn` and relays the response;
    // how it ended goes to scratch.relay.
    awaitable<void> relay(Worker &w, TimedSocket &client, std::unique_ptr<Upstream> &conn, Scratch &scratch,
                          const std::string &body, Clock::time_point t0, ClientWatch &watch,
                          const ServeSettings &settings) {
        const Pick &pick = scratch.pick;
        const RequestEvent &ev = scratch.ev;
        Relay &out = scratch.relay;
        TimedSocket &upstream = conn->stream;
        beast::flat_buffer &ubuf = conn->buffer;
        upstream.expires_after(std::chrono::milliseconds(settings.first_byte_timeout_ms));
        const std::array<asio::const_buffer, 2> request{scratch.request_head.buffer(), asio::buffer(body)};
        beast::error_code wec;
        const std::size_t sent = write_now(upstream, request, wec);
        if (!wec && sent < beast::buffer_bytes(request)) wec = co_await write_rest(upstream, request, sent);
        if (wec) {
            out.stale = out.reused && closed_by_peer(wec);
            out.error_code = "upstream-failed";
            out.error_message =
                "sending the request to " + pick.name + " (" + pick.address + ") failed: " + wec.message();
            co_return;
        }
        auto &parser = scratch.parser.emplace(scratch.head);
        parser.body_limit(boost::none);
        // The head: parsed from what the connection has buffered, read while it is incomplete.
        beast::error_code hec;
        while (!parser.is_header_done()) {
            if (ubuf.size() != 0) {
                ubuf.consume(parser.put(ubuf.data(), hec));
                if (hec && hec != http::error::need_more) break;
                hec = {};
                if (parser.is_header_done()) break;
            }
            std::tie(hec) = co_await read_upstream(upstream, ubuf, parser);
            if (hec) break;
        }
        if (hec) {
            out.stale = out.reused && !parser.got_some() && ubuf.size() == 0 && closed_by_peer(hec);
            if (hec == beast::error::timeout) {
                out.error_status = http::status::gateway_timeout;
                out.error_code = "first-byte-timeout";
                out.error_message = fmt::format("{} ({}) sent no response within {} ms (serve.firstByteTimeoutMs)",
                                                pick.name, pick.address, settings.first_byte_timeout_ms);
            } else {
                out.error_code = "upstream-failed";
                out.error_message =
                    "reading the response of " + pick.name + " (" + pick.address + ") failed: " + hec.message();
            }
            co_return;
        }
        out.first_byte = seconds_since(t0);
        out.status = scratch.head.status;
        const auto client_headers =
            respond(pick, scratch.abi, PLUGHOST_RESPONSE_STARTED, out.status, out.first_byte, -1);
        // A body of unknown length goes to an HTTP/1.1 client chunked; to an HTTP/1.0 one, which
        // knows no chunked framing (RFC 9112 6.1), as it comes, ended by closing the connection.
        const bool length_unknown = parser.chunked() || !parser.content_length();
        const bool chunked = length_unknown && !out.http10;
        out.keep_alive = out.keep_alive && !draining && !(length_unknown && out.http10);
        write_response_head(scratch.response_head, scratch.head, client_headers, pick.address, chunked,
                            {out.keep_alive, out.http10});
        auto &buf = scratch.body;
        bool head_sent = false;
        out.client_answered = true;
        // Once the model server's response is read to its end, its connection goes back to the
        // pool before the last bytes go to the client: the client's next request, sent as soon as
        // it has them, finds it there.
        const auto pool_when_read = [&] {
            if (out.pooled || !parser.is_done() || !parser.keep_alive() || ubuf.size() != 0 || watch.gone) return;
            upstream.expires_never();
            watch.upstream = nullptr;  // the connection is no longer this request's to close
            out.pooled = true;
            put_idle(w, pick.address, std::move(conn), settings);  // `upstream` and `ubuf` are not used after this
        };
        // The head goes with the first part of the body: one write (one wake-up of the client)
        // for a response that came whole. It goes alone only before waiting for the model server
        // (a streamed response: the client hears at once).
        parser.eager(true);
        std::array<char, 24> chunk_size{};
        for (;;) {
            parser.body(buf.data(), buf.size());
            beast::error_code rec;
            if (!parser.is_done() && ubuf.size() != 0) {  // received already: parsed without I/O
                ubuf.consume(parser.put(ubuf.data(), rec));
                if (rec == http::error::need_more || rec == http::error::need_buffer) rec = {};
            }
            if (!rec && !parser.is_done() && parser.space() == buf.size()) {
                if (!head_sent) {
                    client.expires_after(std::chrono::milliseconds(settings.idle_timeout_ms));
                    auto [cec, cn] = co_await asio::async_write(client, scratch.response_head.buffer(), nothrow);
                    if (cec) {
                        out.outcome = PLUGHOST_RESPONSE_CANCELLED;
                        out.keep_alive = false;
                        co_return;
                    }
                    head_sent = true;
                }
                upstream.expires_after(std::chrono::milliseconds(settings.idle_timeout_ms));
                std::tie(rec) = co_await read_upstream(upstream, ubuf, parser);
                if (!rec) continue;  // parsed at the top
            }
            if (rec) {
                if (!watch.gone)
                    spdlog::warn("request {}: {} ({}) failed mid-response: {}", ev.id, pick.name, pick.address,
                                 rec.message());
                out.keep_alive = false;  // the client's response is cut short: its connection ends
                if (!head_sent) {        // as when the head had gone first: the client gets it
                    client.expires_after(std::chrono::milliseconds(settings.idle_timeout_ms));
                    co_await asio::async_write(client, scratch.response_head.buffer(), nothrow);
                }
                co_return;
            }
            pool_when_read();
            const std::size_t got = buf.size() - parser.space();
            const bool done = parser.is_done();
            if (got == 0 && !done) continue;  // nothing to send yet
            // head (once), [chunk size, data, CRLF] or data, [last chunk]
            std::array<asio::const_buffer, 5> parts{};
            std::size_t n = 0;
            if (!head_sent) parts[n++] = scratch.response_head.buffer();
            if (got != 0 && chunked) {
                auto end = std::to_chars(chunk_size.data(), chunk_size.data() + chunk_size.size() - 2, got, 16).ptr;
                *end++ = '\r';
                *end++ = '\n';
                parts[n++] = asio::buffer(chunk_size.data(), static_cast<std::size_t>(end - chunk_size.data()));
                parts[n++] = asio::buffer(buf.data(), got);
                parts[n++] = asio::buffer("\r\n", 2);
            } else if (got != 0) {
                parts[n++] = asio::buffer(buf.data(), got);
            }
            if (done && chunked) parts[n++] = asio::buffer("0\r\n\r\n", 5);
            client.expires_after(std::chrono::milliseconds(settings.idle_timeout_ms));
            beast::error_code xec;
            const std::size_t xsent = write_now(client, parts, xec);
            if (!xec && xsent < beast::buffer_bytes(parts)) xec = co_await write_rest(client, parts, xsent);
            if (xec) {
                out.outcome = PLUGHOST_RESPONSE_CANCELLED;
                out.keep_alive = false;
                co_return;
            }
            head_sent = true;
            if (done) break;
        }
        out.outcome = PLUGHOST_RESPONSE_COMPLETE;
    }

    awaitable<bool> gateway(Worker &w, TimedSocket &client, ClientRead &read, Request &req, const std::string &path,
                            bool chat) {
        // Pinned once for the request: the relay and the pool use these too.
        const auto pinned = pin_settings();
        const ServeSettings &settings = *pinned;
        const auto t0 = Clock::now();
        ScratchLease lease(w);
        Scratch &scratch = *lease.s;
        scratch.reset_request();
        RequestEvent &ev = scratch.ev;
        if (auto problem = read_openai(req.body(), chat, ev))
            co_return co_await send_error(client, http::status::bad_request, "invalid-request", *problem, path,
                                          persistence(req));
        if (auto id = req["x-request-id"]; !id.empty()) set(ev.id, id);
        else {
            set(ev.id, "plughost-");
            append_number(ev.id, ++request_counter);
        }
        // Assigned in place: the names and values kept from the last request keep their storage.
        ev.headers.resize(static_cast<std::size_t>(std::distance(req.begin(), req.end())));
        auto header = ev.headers.begin();
        for (const auto &f : req) {
            auto &[name, value] = *header++;
            set(name, f.name_string());
            for (auto &c : name)  // ASCII (a field name is a token): no locale call per character
                if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            set(value, f.value());
        }
        scratch.abi.assign(ev);  // views into ev, which stays as it is from here on
        const AbiRequest &abi = scratch.abi;
        Pick &pick = scratch.pick;
        Relay &r = scratch.relay;
        for (std::uint32_t attempt = 0; attempt < settings.max_attempts; ++attempt) {
            decide(ev, abi, scratch.excluded, pick);
            if (pick.error) {
                if (!scratch.excluded.empty()) {
                    const std::string message = scratch.last_failure + "; no other endpoint is left to try";
                    co_return co_await send_error(client, http::status::bad_gateway, "upstream-unreachable", message,
                                                  path, persistence(req));
                }
                co_return co_await send_error(client, status_for(*pick.error), to_string(*pick.error), pick.message,
                                              path, persistence(req));
            }
            write_request_head(scratch.request_head, req, pick, ev.id, settings.upstream_max_idle > 0);
            bool connect_failed = false;
            for (bool fresh_only = false;;) {
                // An idle pooled connection, else a new one; a connect failure sent nothing, so
                // another endpoint can take the request.
                std::unique_ptr<Upstream> conn;
                if (!fresh_only) conn = take_idle(w, pick.address, settings);
                const bool reused = conn != nullptr;
                if (!conn) {
                    conn = std::make_unique<Upstream>(w.deadlines, w.io.get_executor());
                    const std::chrono::milliseconds connect_timeout(settings.connect_timeout_ms);
                    const beast::error_code cec = co_await connect_to(conn->stream, pick.address, connect_timeout);
                    if (cec) {
                        scratch.last_failure = fmt::format(
                            "cannot connect to {} ({}): {}", pick.name, pick.address,
                            cec == beast::error::timeout ? "timed out (serve.connectTimeoutMs)" : cec.message());
                        connect_failed = true;
                        break;
                    }
                    conn->stream.socket().set_option(tcp::no_delay(true));
                    conn->stream.socket().non_blocking(true);  // for write_now
                }
                r = Relay{};
                r.reused = reused;
                r.keep_alive = req.keep_alive();
                r.http10 = req.version() < 11;
                watch_client(client, read, conn->stream.socket());
                co_await relay(w, client, conn, scratch, req.body(), t0, read.watch, settings);
                end_watch(read);
                if (read.watch.gone && r.outcome != PLUGHOST_RESPONSE_COMPLETE) {
                    r.outcome = PLUGHOST_RESPONSE_CANCELLED;
                    r.keep_alive = false;
                    spdlog::info("request {}: the client went away; the request to {} is cancelled", ev.id, pick.name);
                } else if (r.stale) {
                    spdlog::debug("request {}: the kept connection to {} was closed by it; sending on a new one", ev.id,
                                  pick.name);
                    drop_idle(w, pick.address);
                    fresh_only = true;
                    continue;
                }
                beast::error_code ignored;
                if (!r.pooled) {
                    conn->stream.socket().shutdown(Socket::shutdown_both, ignored);
                    conn->stream.socket().close(ignored);
                }
                break;
            }
            if (connect_failed) {
                spdlog::warn("request {}: {}; picking again without it", ev.id, scratch.last_failure);
                respond(pick, abi, PLUGHOST_RESPONSE_FAILED, 0, -1, seconds_since(t0));
                {
                    std::lock_guard lock(core);
                    ++retries;
                }
                scratch.excluded.push_back(pick.endpoints.front());
                continue;
            }
            // The model server's answer went to the client: counted with the outcome (one lock).
            const bool relayed = r.outcome != PLUGHOST_RESPONSE_CANCELLED && r.client_answered;
            respond(pick, abi, r.outcome, r.status, r.first_byte, seconds_since(t0), relayed ? &path : nullptr);
            if (r.outcome == PLUGHOST_RESPONSE_CANCELLED) co_return false;
            if (!r.client_answered)
                co_return co_await send_error(client, r.error_status, r.error_code, r.error_message, path, kClose);
            co_return r.keep_alive &&r.outcome == PLUGHOST_RESPONSE_COMPLETE;
        }
        const std::string message =
            scratch.last_failure +
            fmt::format("; gave up after {} attempts (serve.maxAttempts)", settings.max_attempts);
        co_return co_await send_error(client, http::status::bad_gateway, "upstream-unreachable", message, path,
                                      persistence(req));
    }

    awaitable<bool> pick_api(TimedSocket &client, Request &req, const std::string &path) {
        // A request as in the event stream: {"request": {...}} or the request object itself.
        const Persistence keep = persistence(req);
        std::string body = req.body();
        boost::system::error_code ec;
        auto v = boost::json::parse(body, ec);
        if (!ec && v.is_object() && !v.get_object().contains("request"))
            body = to_json(boost::json::object{{"request", v}});
        Event e = parse_event(body);
        auto *r = std::get_if<RequestEvent>(&e);
        if (!r) {
            const auto *err = std::get_if<EventError>(&e);
            const std::string code(err ? to_string(err->code) : std::string_view("invalid-request"));
            const std::string message = err ? err->message : std::string("expected a request object");
            co_return co_await send_error(client, http::status::bad_request, code, message, path, keep);
        }
        const AbiRequest abi(*r);
        Pick p;
        decide(*r, abi, {}, p);
        if (p.error)
            co_return co_await send_error(client, status_for(*p.error), to_string(*p.error), p.message, path, keep);
        {
            // The proxy sends it; plughost never hears how it ends: the pick counts until the
            // endpoint's next scrape (pending picks), not as a request in flight.
            std::lock_guard lock(core);
            for (auto id : p.endpoints) table.release(id);
            --in_flight;
        }
        const boost::json::value out = pick_body(*r, p);
        co_return co_await send_json(client, http::status::ok, out, path, keep);
    }

    static boost::json::object pick_body(const RequestEvent &r, const Pick &p) {
        boost::json::object out{{"id", r.id},
                                {"profile", p.profile},
                                {"generation", p.generation->number},
                                {"endpoint", boost::json::object{{"name", p.name}, {"address", p.address}}}};
        boost::json::object extras;
        for (const auto &[profile, name, address] : p.extras)
            extras[profile] = boost::json::object{{"name", name}, {"address", address}};
        if (!extras.empty()) out["extras"] = extras;
        boost::json::object headers{{"x-gateway-destination-endpoint", p.address}};
        for (const auto &[k, val] : p.headers) headers[k] = val;
        out["headers"] = headers;
        return out;
    }

    boost::json::object status_json() {
        std::lock_guard lock(core);
        boost::json::object out;
        const Generation &g = *current;
        boost::json::array instances;
        for (const auto &ri : g.scheduler->instances())
            instances.push_back({{"name", ri.instance->name()},
                                 {"type", ri.instance->manifest().type},
                                 {"threadSafe", ri.instance->manifest().thread_safe},
                                 {"calls", ri.calls},
                                 {"faults", ri.faults},
                                 {"disabled", ri.disabled}});
        out["generation"] = boost::json::object{{"number", g.number},
                                                {"config", g.pf.config.source},
                                                {"pluginDir", options.inputs.plugin_dir.string()},
                                                {"instances", instances}};
        boost::json::object reload{{"generationsApplied", generations_applied},
                                   {"generationsRefused", generations_refused}};
        if (!last_reload_time.empty()) reload["last"] = last_reload_time;
        reload["ok"] = last_reload_errors.empty();
        boost::json::array errors;
        for (const auto &e : last_reload_errors)
            errors.push_back({{"path", e.path}, {"code", to_string(e.code)}, {"message", e.message}, {"hint", e.hint}});
        reload["errors"] = errors;
        out["reload"] = reload;
        out["admission"] = options.admission_report ? options.admission_report(g.pf) : boost::json::object{};
        boost::json::array eps;
        for (const auto &[name, st] : endpoints) {
            const plughost_endpoint *e = table.find(name);
            boost::json::object o{{"name", name},
                                  {"address", st->config.address},
                                  {"healthy", st->healthy},
                                  {"scrapes", st->scrapes},
                                  {"scrapeErrors", st->scrape_errors}};
            o["metricAgeSeconds"] = st->scrapes - st->scrape_errors > 0
                                        ? boost::json::value(seconds_since(st->last_success))
                                        : boost::json::value(nullptr);
            if (st->failing || !st->healthy) o["lastError"] = st->last_error;
            if (e) {
                o["waiting"] = e->waiting_queue_size;
                o["running"] = e->running_requests;
                o["kvCacheUsage"] = e->kv_cache_usage;
                o["inFlight"] = e->requests_in_flight;
                o["picks"] = table.picks(e);
            }
            eps.push_back(o);
        }
        out["endpoints"] = eps;
        boost::json::array q;
        for (const auto &[file, why] : quarantined)
            q.push_back({{"file", file},
                         {"reason", why},
                         {"retry", "fix or replace the file (a changed file is probed again), or "
                                   "`plughost check --probe --reprobe`"}});
        out["quarantined"] = std::move(q);
        out["draining"] = draining.load();
        return out;
    }

    std::string metrics_text() {
        std::lock_guard lock(core);
        std::string out;
        auto put = [&](std::string_view name, std::string_view type, std::string_view help) {
            fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
        };
        const Generation &g = *current;
        put("plughost_generation", "gauge", "The serving generation's number.");
        fmt::format_to(std::back_inserter(out), "plughost_generation {}\n", g.number);
        put("plughost_generations_applied_total", "counter", "Reloads that replaced the serving generation.");
        fmt::format_to(std::back_inserter(out), "plughost_generations_applied_total {}\n", generations_applied);
        put("plughost_generations_refused_total", "counter",
            "Reloads refused (bad config or plugins); the serving generation stayed.");
        fmt::format_to(std::back_inserter(out), "plughost_generations_refused_total {}\n", generations_refused);
        put("plughost_last_reload_ok", "gauge", "1 when the last reload was applied (or none happened), else 0.");
        fmt::format_to(std::back_inserter(out), "plughost_last_reload_ok {}\n", last_reload_errors.empty() ? 1 : 0);
        put("plughost_decisions_total", "counter", "Requests decided, by profile and endpoint picked.");
        for (const auto &[k, n] : decisions)
            fmt::format_to(std::back_inserter(out), "plughost_decisions_total{{profile=\"{}\",endpoint=\"{}\"}} {}\n",
                           label(k.first), label(k.second), n);
        put("plughost_http_requests_total", "counter", "HTTP requests answered, by path and status.");
        for (const auto &[k, n] : requests)
            fmt::format_to(std::back_inserter(out), "plughost_http_requests_total{{path=\"{}\",code=\"{}\"}} {}\n",
                           label(k.first), k.second, n);
        put("plughost_responses_total", "counter", "Forwarded requests by outcome (complete, failed, cancelled).");
        for (const auto &[k, n] : outcomes)
            fmt::format_to(std::back_inserter(out), "plughost_responses_total{{outcome=\"{}\"}} {}\n", k, n);
        put("plughost_repicks_total", "counter", "Connect failures that sent a request to another endpoint.");
        fmt::format_to(std::back_inserter(out), "plughost_repicks_total {}\n", retries);
        put("plughost_accept_errors_total", "counter",
            "Client connections that could not be accepted at once (out of descriptors or memory).");
        fmt::format_to(std::back_inserter(out), "plughost_accept_errors_total {}\n", accept_errors.load());
        put("plughost_requests_in_flight", "gauge", "Forwarded requests not yet ended.");
        fmt::format_to(std::back_inserter(out), "plughost_requests_in_flight {}\n", in_flight);
        put("plughost_plugin_calls_total", "counter", "Calls per plugin instance (serving generation).");
        for (const auto &ri : g.scheduler->instances())
            fmt::format_to(std::back_inserter(out), "plughost_plugin_calls_total{{instance=\"{}\",type=\"{}\"}} {}\n",
                           label(ri.instance->name()), label(ri.instance->manifest().type), ri.calls);
        put("plughost_plugin_faults_total", "counter", "Faults per plugin instance.");
        for (const auto &ri : g.scheduler->instances())
            fmt::format_to(std::back_inserter(out), "plughost_plugin_faults_total{{instance=\"{}\"}} {}\n",
                           label(ri.instance->name()), ri.faults);
        put("plughost_plugin_disabled", "gauge", "1 when the instance was disabled after consecutive faults.");
        for (const auto &ri : g.scheduler->instances())
            fmt::format_to(std::back_inserter(out), "plughost_plugin_disabled{{instance=\"{}\"}} {}\n",
                           label(ri.instance->name()), ri.disabled ? 1 : 0);
        put("plughost_shadow_changed_total", "counter", "Requests a shadow stage would have sent elsewhere.");
        for (const auto &ri : g.scheduler->instances())
            if (ri.shadow_requests)
                fmt::format_to(std::back_inserter(out), "plughost_shadow_changed_total{{instance=\"{}\"}} {}\n",
                               label(ri.instance->name()), ri.shadow_changed);
        put("plughost_plugin_info", "gauge", "One series per plugin file: type, version, tier, decision.");
        if (options.admission_report) {
            const auto report = options.admission_report(g.pf);
            if (const auto *plugins = report.if_contains("plugins"); plugins && plugins->is_array())
                for (const auto &p : plugins->get_array()) {
                    auto field = [&](const char *k) -> std::string {
                        const auto *x = p.is_object() ? p.get_object().if_contains(k) : nullptr;
                        return x && x->is_string() ? std::string(x->get_string()) : std::string();
                    };
                    fmt::format_to(std::back_inserter(out),
                                   "plughost_plugin_info{{file=\"{}\",type=\"{}\",version=\"{}\",stability=\"{}\","
                                   "decision=\"{}\"}} 1\n",
                                   label(field("file")), label(field("type")), label(field("version")),
                                   label(field("stability")), label(field("decision")));
                }
        }
        put("plughost_endpoint_healthy", "gauge", "1 when the endpoint's scrapes succeed (it is scheduled).");
        for (const auto &[name, st] : endpoints)
            fmt::format_to(std::back_inserter(out), "plughost_endpoint_healthy{{endpoint=\"{}\"}} {}\n", label(name),
                           st->healthy ? 1 : 0);
        put("plughost_scrape_errors_total", "counter", "Failed scrapes of each endpoint's /metrics.");
        for (const auto &[name, st] : endpoints)
            fmt::format_to(std::back_inserter(out), "plughost_scrape_errors_total{{endpoint=\"{}\"}} {}\n", label(name),
                           st->scrape_errors);
        put("plughost_endpoint_requests_in_flight", "gauge", "Requests sent to each endpoint and not yet ended.");
        for (const auto &[name, st] : endpoints)
            if (const auto *e = table.find(name))
                fmt::format_to(std::back_inserter(out), "plughost_endpoint_requests_in_flight{{endpoint=\"{}\"}} {}\n",
                               label(name), e->requests_in_flight);
        put("plughost_endpoints_file_errors_total", "counter", "Endpoints file reads that were refused.");
        fmt::format_to(std::back_inserter(out), "plughost_endpoints_file_errors_total {}\n", endpoints_file_errors);
        decide_seconds.write(out, "plughost_decide_seconds", "Time to decide a request (scheduling).");
        first_byte_seconds.write(out, "plughost_first_byte_seconds",
                                 "Time from receiving a request to the endpoint's first response byte.");
        total_seconds.write(out, "plughost_request_seconds", "Time from receiving a request to its response's end.");
        return out;
    }

    // Why a request's head cannot be trusted to frame its body or name its target (RFC 9112), or
    // nothing. A Transfer-Encoding whose last coding is not chunked leaves the body's length
    // unknown (6.3): Beast then reads no body, and the bytes that follow would be taken for the
    // next request, one a proxy in front of plughost may never have seen (request smuggling).
    // HTTP/1.0 has no Transfer-Encoding (6.1; nginx refuses it too). A request has one Host (3.2).
    template <class Header> static std::optional<std::string> framing_problem(const Header &head) {
        // One pass comparing Beast's field enum (basic_fields::count looks a name up as a string:
        // two lookups cost about 300 instructions, a tenth of parsing the head).
        std::size_t codings = 0, hosts = 0;
        for (const auto &f : head) {
            codings += f.name() == http::field::transfer_encoding;
            hosts += f.name() == http::field::host;
        }
        if (codings != 0 && head.version() < 11)
            return std::string("HTTP/1.0 has no Transfer-Encoding: send the body with Content-Length");
        if (codings != 0 && !head.chunked())
            return "Transfer-Encoding \"" + std::string(head[http::field::transfer_encoding]) +
                   "\" does not end with chunked: send the body with Content-Length, or with chunked as the last "
                   "coding";
        if (hosts > 1) return fmt::format("{} Host headers: a request has one", hosts);
        if (hosts == 0 && head.version() >= 11) return std::string("an HTTP/1.1 request needs a Host header");
        return std::nullopt;
    }

    // The request target in origin form ("/v1/pick?x") when it came in absolute form
    // ("http://host/v1/pick": what a client that takes this server for its HTTP proxy sends, and
    // a server must accept, RFC 9112 3.2.2); nothing for a target already in origin form.
    static std::optional<std::string> origin_form(std::string_view target) {
        for (const std::string_view scheme : {"http://", "https://"}) {
            if (target.size() < scheme.size() || !beast::iequals(target.substr(0, scheme.size()), scheme)) continue;
            const std::string_view rest = target.substr(scheme.size());
            const auto path = rest.find_first_of("/?");
            if (path == std::string_view::npos) return "/";
            return (rest[path] == '?' ? "/" : "") + std::string(rest.substr(path));
        }
        return std::nullopt;
    }

    // The request's path, without the query. A target in absolute form becomes the origin form
    // first: the request is routed, and forwarded, by its path and query.
    static std::string request_path(Request &req) {
        if (const auto origin = origin_form(req.target())) req.target(*origin);
        const std::string_view target = req.target();
        return std::string(target.substr(0, target.find('?')));
    }

    static bool gateway_request(const Request &req, const std::string &path) {
        return req.method() == http::verb::post && (path == "/v1/completions" || path == "/v1/chat/completions");
    }

    // Every request but the gateway's (the session calls gateway itself: one coroutine frame
    // fewer per forwarded request).
    awaitable<bool> handle(TimedSocket &client, Request &req, const std::string &path) {
        const bool get = req.method() == http::verb::get, post = req.method() == http::verb::post;
        const Persistence keep = persistence(req);
        if (path == "/healthz" && get) {
            const boost::json::value body = status_body("ok");
            co_return co_await send_json(client, http::status::ok, body, path, keep);
        }
        if (path == "/readyz" && get) {
            std::string why;
            {
                std::lock_guard lock(core);
                if (draining) why = "draining: shutting down";
                else if (!current) why = "no generation is serving";
                else if (healthy.empty()) why = "no endpoint is healthy";
            }
            if (!why.empty())
                co_return co_await send_error(client, http::status::service_unavailable, "not-ready", why, path, keep);
            const boost::json::value body = status_body("ready");
            co_return co_await send_json(client, http::status::ok, body, path, keep);
        }
        if (path == "/v1/status" && get) {
            const boost::json::value body = status_json();
            co_return co_await send_json(client, http::status::ok, body, path, keep);
        }
        if (path == "/metrics" && get) {
            http::response<http::string_body> res{http::status::ok, 11};
            res.set(http::field::content_type, "text/plain; version=0.0.4");
            res.body() = metrics_text();
            co_return co_await send(client, res, path, keep);
        }
        if (path == "/v1/pick" && post) co_return co_await pick_api(client, req, path);
        if (known_path(path)) {
            const std::string message = std::string(req.method_string()) + " is not allowed on " + path;
            co_return co_await send_error(client, http::status::method_not_allowed, "method-not-allowed", message, path,
                                          keep);
        }
        const std::string message = "no such endpoint: " + path +
                                    " (plughost serves /v1/completions, /v1/chat/completions, /v1/pick, "
                                    "/v1/status, /healthz, /readyz, /metrics)";
        co_return co_await send_error(client, http::status::not_found, "not-found", message, "other", keep);
    }

    awaitable<void> session(Worker &w, Socket socket) {
        TimedSocket client(w.deadlines, std::move(socket));
        client.socket().set_option(tcp::no_delay(true));
        client.socket().non_blocking(true);  // for write_now
        beast::flat_buffer buffer;
        ClientRead read(buffer);
        // The last request's body storage, for the next one's (Beast's string_body allocates it
        // anew otherwise: a malloc per request). Not kept past 64 KiB.
        std::string body_storage;
        for (;;) {
            http::request_parser<http::string_body, FieldAllocator> parser(
                std::piecewise_construct, std::make_tuple(), std::make_tuple(FieldAllocator(&w.fields_pool)));
            parser.get().body() = std::move(body_storage);
            parser.get().body().clear();
            const auto pinned = pin_settings();
            const ServeSettings &settings = *pinned;
            parser.header_limit(settings.max_header_bytes);
            parser.body_limit(settings.max_body_bytes);
            client.expires_after(std::chrono::milliseconds(settings.idle_timeout_ms));
            // The read kept pending since the last forwarded request, if any, first. Bytes it
            // buffered before its error are parsed still (a pipelined request), as Beast would.
            if (read.pending) {
                client.hold();
                co_await wait_read(read);
                client.release();
            }
            beast::error_code ec = take_read(client, read);
            // A head received whole already (nearly always) is parsed here, as Beast's read
            // would parse it first: its read, with nothing left to read, would still complete
            // through the event loop (one more handler queued, one more epoll poll).
            bool refused = false;
            if (buffer.size() != 0) {
                beast::error_code pec;
                buffer.consume(parser.put(buffer.data(), pec));
                refused = pec && pec != http::error::need_more;
                if (refused) ec = pec;
                else if (parser.is_header_done()) ec = {};
            }
            if (!refused && !parser.is_header_done() && (!ec || buffer.size() != 0))
                std::tie(ec, std::ignore) = co_await http::async_read_header(client, buffer, parser, nothrow);
            if (!ec && !refused) {
                if (const auto why = framing_problem(parser.get())) {  // answered, then the connection ends
                    co_await send_error(client, http::status::bad_request, "bad-request", *why, "other", kClose);
                    break;
                }
            }
            if (!ec && parser.get()[http::field::expect] == "100-continue") {
                http::response<http::empty_body> cont{http::status::continue_, 11};
                std::tie(ec, std::ignore) = co_await http::async_write(client, cont, nothrow);
            }
            if (!ec && !parser.is_done() && buffer.size() != 0) {  // the body came with the header: no I/O
                parser.eager(true);
                buffer.consume(parser.put(buffer.data(), ec));
                if (ec == http::error::need_more) ec = {};
            }
            if (!ec && !parser.is_done())
                std::tie(ec, std::ignore) = co_await http::async_read(client, buffer, parser, nothrow);
            if (ec) {
                std::optional<http::status> status;
                std::string code, message;
                if (ec == http::error::header_limit) {
                    status = http::status::request_header_fields_too_large;
                    code = "header-too-large";
                    message = fmt::format("the request's headers exceed {} bytes (serve.maxHeaderBytes)",
                                          settings.max_header_bytes);
                } else if (ec == http::error::body_limit) {
                    status = http::status::payload_too_large;
                    code = "body-too-large";
                    message =
                        fmt::format("the request body exceeds {} bytes (serve.maxBodyBytes)", settings.max_body_bytes);
                } else if (ec == beast::error::timeout && parser.got_some()) {
                    status = http::status::request_timeout;
                    code = "request-timeout";
                    message = fmt::format("the request did not arrive within {} ms (serve.idleTimeoutMs)",
                                          settings.idle_timeout_ms);
                } else if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
                           ec != asio::error::connection_reset && ec != asio::error::eof && parser.got_some()) {
                    status = http::status::bad_request;
                    code = "bad-request";
                    message = "the request is not valid HTTP/1.1: " + ec.message();
                }
                if (status) co_await send_error(client, *status, code, message, "other", kClose);
                break;
            }
            Request req = parser.release();
            ++active;
            bool again = false;
            try {
                const std::string path = request_path(req);
                if (gateway_request(req, path))
                    again = co_await gateway(w, client, read, req, path, path == "/v1/chat/completions");
                else again = co_await handle(client, req, path);
            } catch (const std::exception &e) {
                spdlog::error("internal error answering {}: {}", std::string(req.target()), e.what());
            }
            --active;
            if (req.body().capacity() <= 65536) body_storage = std::move(req.body());
            if (!again || draining) break;
        }
        // A lingering close: the client may still be sending (a body refused for its size), and
        // closing with unread bytes would reset the connection, destroying the answer before the
        // client reads it. Stop sending, read what comes (bounded), then close.
        beast::error_code ignored;
        client.socket().shutdown(Socket::shutdown_send, ignored);
        std::array<char, 4096> sink;
        for (std::size_t drained = 0; drained < 1024 * 1024;) {
            client.expires_after(std::chrono::milliseconds(200));
            auto [ec, n] = co_await client.async_read_some(asio::buffer(sink), nothrow);
            if (ec) break;
            drained += n;
        }
        client.socket().close(ignored);
        if (read.pending) co_await wait_read(read);  // a kept read, cancelled by the close, ends before its buffer goes
        --w.sessions;
    }

    // One acceptor (on worker 0) hands each client connection to the worker with the fewest open
    // connections: the connection's socket is created on that worker's io_context and its session
    // runs there. Not one SO_REUSEPORT listener per thread: the kernel would spread connections by
    // a hash of their addresses (uneven for a handful of clients), and a second process could
    // then bind the same port silently instead of failing with "address in use". An accept is
    // rare next to the requests on a kept connection, so its cross-thread hand-off costs nothing
    // that matters.
    Worker &least_busy() {
        Worker *best = workers.front().get();
        for (auto &w : workers)
            if (w->sessions < best->sessions) best = w.get();
        return *best;
    }

    // A failed accept (out of descriptors or memory) leaves the connection in the listen backlog
    // and the listening socket readable: retried at once it would fail again, spinning a core
    // and flooding the log. Accepting pauses 100 ms instead (nginx pauses 500 ms); failures are
    // counted, and logged at most once per 10 s (descriptors freed and taken again make short
    // episodes), with the end of the trouble once after each such warning.
    awaitable<void> accept_loop() {
        Timer pause(workers.front()->io);
        std::optional<Clock::time_point> warned;  // the last warning
        bool told = false;                        // a warning since the last "again"
        std::uint64_t unreported = 0;
        for (;;) {
            Worker &w = least_busy();
            auto [ec, socket] = co_await acceptor->async_accept(w.io, nothrow);
            if (ec) {
                if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
                ++accept_errors;
                ++unreported;
                const auto now = Clock::now();
                if (!warned || now - *warned >= std::chrono::seconds(10)) {
                    spdlog::warn("accepting a connection failed ({} time(s) since the last warning; last: {}); new "
                                 "connections wait in the listen backlog, accepting again every 100 ms{}",
                                 unreported, ec.message(),
                                 ec == asio::error::no_descriptors
                                     ? " (raise the open-file limit: ulimit -n, or LimitNOFILE= under systemd)"
                                     : "");
                    warned = now;
                    told = true;
                    unreported = 0;
                }
                pause.expires_after(std::chrono::milliseconds(100));
                co_await pause.async_wait(nothrow);
                continue;
            }
            if (told) spdlog::info("accepting connections again");
            told = false;
            ++w.sessions;
            asio::co_spawn(w.io, session(w, std::move(socket)), asio::detached);
        }
    }

    // SIGTERM/SIGINT: stop accepting, let requests in flight finish (up to the drain time), stop.
    // SIGHUP: reload.
    awaitable<void> signals() {
        Worker &home = *workers.front();
        SignalSet set(home.io, SIGTERM, SIGINT, SIGHUP);
        for (;;) {
            auto [ec, sig] = co_await set.async_wait(nothrow);
            if (ec) co_return;
            if (sig == SIGHUP) {
                request_reload("SIGHUP");
                continue;
            }
            spdlog::info("{}: draining {} request(s) in flight, then stopping", signal_name(sig), active.load());
            draining = true;
            beast::error_code ignored;
            acceptor->close(ignored);
            const auto pinned = pin_settings();
            const ServeSettings &settings = *pinned;
            const auto deadline = Clock::now() + std::chrono::milliseconds(settings.drain_timeout_ms);
            Timer t(home.io);
            while (active > 0 && Clock::now() < deadline) {
                t.expires_after(std::chrono::milliseconds(5));
                co_await t.async_wait(nothrow);
            }
            if (active > 0)
                spdlog::warn("{} request(s) still in flight after {} ms (serve.drainTimeoutMs): stopping anyway",
                             active.load(), settings.drain_timeout_ms);
            else spdlog::info("drained; stopping");
            for (auto &w : workers) w->io.stop();  // io_context::stop is thread-safe
            co_return;
        }
    }
};

Server::Server(ServeOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Server::~Server() = default;

std::vector<Issue> Server::start() {
    Impl &m = *impl_;
    GenerationBuild b = m.build();
    if (!b.generation) return b.errors;
    auto settings = std::make_shared<ServeSettings>(b.generation->pf.config.serve);
    if (m.options.listen) settings->listen = m.options.listen;
    if (m.options.threads) settings->threads = m.options.threads;
    m.settings_now.store(settings);
    const std::string listen = settings->listen.value_or("0.0.0.0:8000");
    if (!valid_host_port(listen))
        return {{"--listen", Code::invalid_value, "\"" + listen + "\" is not HOST:PORT", "e.g. 127.0.0.1:8000"}};
    const auto [host, port] = split_host_port(listen);
    const unsigned threads = settings->threads.value_or(std::max(1u, std::thread::hardware_concurrency()));
    for (unsigned i = 0; i < std::max(1u, threads); ++i) m.workers.push_back(std::make_unique<Impl::Worker>());
    m.acceptor.emplace(m.workers.front()->io);
    try {
        const tcp::endpoint where(asio::ip::make_address(host), static_cast<unsigned short>(std::stoul(port)));
        m.acceptor->open(where.protocol());
        m.acceptor->set_option(tcp::acceptor::reuse_address(true));
        m.acceptor->bind(where);
        m.acceptor->listen(asio::socket_base::max_listen_connections);
        const auto local = m.acceptor->local_endpoint();
        m.bound = fmt::format("{}:{}", local.address().to_string(), local.port());
    } catch (const std::exception &e) {
        return {{"serve.listen", Code::io_error, "cannot listen on " + listen + ": " + e.what(),
                 "choose another address or port"}};
    }
    {
        std::lock_guard lock(m.core);
        m.current = b.generation;
        if (!m.read_endpoints_file() && m.file_endpoints.empty())
            return {{m.endpoints_file_path().string(), Code::invalid_value, "the endpoints file cannot be used",
                     "see the errors above"}};
        m.apply_endpoints(m.all_endpoints(*m.current));
    }
    return {};
}

void Server::run() {
    Impl &m = *impl_;
    spdlog::info("serving generation {} on {} with {} thread(s), {} endpoint(s)", m.current->number, m.bound,
                 m.workers.size(), m.endpoints.size());
    if (m.options.on_listening) m.options.on_listening(m.bound);
    Impl::Worker &home = *m.workers.front();
    asio::co_spawn(home.io, m.accept_loop(), asio::detached);
    asio::co_spawn(home.io, m.signals(), asio::detached);
    asio::co_spawn(home.io, m.watch(), asio::detached);
    for (auto &w : m.workers) {
        asio::co_spawn(w->io, m.prune_idle(*w), asio::detached);
        asio::co_spawn(w->io, m.sweep_deadlines(*w), asio::detached);
    }
    for (std::size_t i = 1; i < m.workers.size(); ++i) {
        Impl::Worker &w = *m.workers[i];
        w.thread = std::thread([&w] { w.io.run(); });
    }
    m.reload_thread = std::thread([&m] { m.reloads.run(); });
    home.io.run();
    for (std::size_t i = 1; i < m.workers.size(); ++i) m.workers[i]->thread.join();
    // A reload under way finishes (its generation is dropped with the server); queued ones do not run.
    m.reloads_busy.reset();
    m.reloads.stop();
    m.reload_thread.join();
}

}  // namespace plughost::host
