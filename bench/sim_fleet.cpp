// sim_fleet: a closed-loop simulation of a fleet of model servers, scheduled by `plughost run`.
//
//   sim_fleet --plughost BUILD/host/plughost --plugin-dir BUILD/plugins [--servers 8]
//             [--rate R]... [--requests N] [--seed S] [--config NAME=FILE]...
//
// The simulator keeps virtual time. Every 50 ms (upstream's scrape interval) it writes each
// server's metrics to plughost's stdin; for each arriving request it writes the request, reads
// plughost's decision line, and queues the request on the picked server; when a response starts
// and ends it writes the `response` events, so requests in flight are counted as in a live host.
// Between two metric updates plughost sees nothing of the fleet but its own picks (pending
// picks) and the responses: exactly the blind spot that makes a picker herd.
//
// The same arrivals (same seed) are played against round-robin (done here, without plughost)
// and against each config, and the report gives, per config: time to first token p50/p99, the
// most and fewest requests a server got, and how many servers got any.
//
// The server model is deliberately simple and documented in docs/performance.md: a server runs
// at most `slots` requests, admits a waiting request when a slot and KV-cache room for its
// whole prompt and output are free, prefills one request at a time (cached prefix tokens are
// free), then decodes at a per-token time that grows with the batch. A server remembers the
// prompt families it served most recently (an LRU, a stand-in for its prefix cache).
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <fstream>
#include <list>
#include <map>
#include <optional>
#include <queue>
#include <random>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace {

struct Options {
    std::string plughost, plugin_dir;
    int servers = 8;
    std::vector<double> rates{40, 70};  // requests per second, whole fleet
    int requests = 6000;
    unsigned seed = 42;
    std::vector<std::pair<std::string, std::string>> configs;  // name, file
};

// The fleet and workload parameters, one place (the report prints them).
constexpr int kSlots = 32;           // concurrent requests per server
constexpr double kKvTokens = 48000;  // KV-cache capacity per server, tokens
constexpr double kPrefillSecondsPerToken = 50e-6;
constexpr double kDecodeSecondsPerToken = 0.010;  // + kDecodeBatchPenalty per running request
constexpr double kDecodeBatchPenalty = 0.0004;
constexpr double kMetricsInterval = 0.050;
constexpr int kFamilies = 48;        // prompt families (a shared system prompt each)
constexpr double kZipf = 1.1;        // family popularity
constexpr int kPrefixTokens = 1536;  // shared by a family
constexpr int kSuffixTokens = 512;   // unique to a request
constexpr int kOutputTokens = 128;
constexpr std::size_t kCachedFamilies = 6;  // families a server's prefix cache holds
constexpr int kCharsPerToken = 4;           // as the prefix-cache producer estimates

struct Request {
    int id = 0, family = 0;
    double arrival = 0, first_token = -1;
    int prompt_tokens = kPrefixTokens + kSuffixTokens, uncached = 0;
};

struct Server {
    std::string name;
    std::deque<int> waiting;
    std::vector<int> running;  // prefilled or prefilling
    double kv_used = 0;
    double prefill_free_at = 0;  // the prefill engine is busy until then
    std::list<int> families;     // most recent first
    long served = 0;

    bool cached(int family) const { return std::find(families.begin(), families.end(), family) != families.end(); }
    void touch(int family) {
        families.remove(family);
        families.push_front(family);
        if (families.size() > kCachedFamilies) families.pop_back();
    }
};

enum class Kind { first_token, done };
struct Timed {
    double at;
    Kind kind;
    int server, request;
    bool operator>(const Timed &o) const { return at > o.at; }
};

// plughost run as a child process: requests in, decision lines out.
class Plughost {
public:
    Plughost(const Options &o, const std::string &config, const std::string &stderr_path) {
        int in[2], out[2];
        if (pipe(in) || pipe(out)) throw std::runtime_error("pipe failed");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_addopen(&fa, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        for (int fd : {in[0], in[1], out[0], out[1]}) posix_spawn_file_actions_addclose(&fa, fd);
        std::vector<std::string> args{o.plughost, "--log-level", "warn", "run", "--plugin-dir", o.plugin_dir};
        if (!config.empty()) args.insert(args.end(), {"--config", config});
        std::vector<char *> argv;
        for (auto &a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        if (posix_spawn(&pid_, o.plughost.c_str(), &fa, nullptr, argv.data(), environ) != 0)
            throw std::runtime_error("cannot start " + o.plughost);
        posix_spawn_file_actions_destroy(&fa);
        close(in[0]);
        close(out[1]);
        to_ = in[1];
        from_ = out[0];
    }
    ~Plughost() {
        if (to_ >= 0) close(to_);
        if (from_ >= 0) close(from_);
        int status = 0;
        waitpid(pid_, &status, 0);
    }
    void send(const std::string &line) {
        std::string text = line + "\n";
        for (std::size_t done = 0; done < text.size();) {
            const ssize_t n = write(to_, text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw std::runtime_error("plughost stopped reading its input (see its stderr file)");
            done += static_cast<std::size_t>(n);
        }
    }
    // The next output line (a decision, or an error line).
    std::string line() {
        for (;;) {
            if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
                std::string l = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return l;
            }
            char chunk[4096];
            const ssize_t n = read(from_, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw std::runtime_error("plughost ended its output early (see its stderr file)");
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

private:
    pid_t pid_ = -1;
    int to_ = -1, from_ = -1;
    std::string buffer_;
};

std::string quote(const std::string &s) { return "\"" + s + "\""; }

// Prompt text: the family's shared prefix, then the request's own suffix, at 4 characters a
// token (the prefix producer's estimate), so plughost's prefix matching sees the families.
std::string prompt_text(const Request &r) {
    std::string text;
    text.reserve(static_cast<std::size_t>(r.prompt_tokens * kCharsPerToken));
    const std::string family = "family " + std::to_string(r.family) + " system prompt. ";
    while (text.size() < static_cast<std::size_t>(kPrefixTokens * kCharsPerToken)) text += family;
    text.resize(static_cast<std::size_t>(kPrefixTokens * kCharsPerToken));
    const std::string own = " request " + std::to_string(r.id) + " asks.";
    while (text.size() < static_cast<std::size_t>(r.prompt_tokens * kCharsPerToken)) text += own;
    text.resize(static_cast<std::size_t>(r.prompt_tokens * kCharsPerToken));
    return text;
}

struct Result {
    std::string policy;
    double rate = 0;
    double p50 = 0, p99 = 0, mean_uncached = 0;
    long most = 0, fewest = 0;
    int servers_used = 0;
    long errors = 0;
};

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
    return v[i];
}

class Simulation {
public:
    Simulation(const Options &o, double rate, Plughost *plughost) : o_(o), rate_(rate), plughost_(plughost) {
        for (int i = 0; i < o.servers; ++i) {
            Server &s = servers_.emplace_back();
            s.name = "vllm-" + std::to_string(i);
        }
    }

    Result run(const std::string &policy) {
        std::mt19937_64 rng(o_.seed);  // the same arrivals for every policy at this rate
        std::exponential_distribution<double> gap(rate_);
        std::vector<double> weights;
        for (int f = 0; f < kFamilies; ++f) weights.push_back(1.0 / std::pow(f + 1, kZipf));
        std::discrete_distribution<int> family(weights.begin(), weights.end());
        requests_.resize(static_cast<std::size_t>(o_.requests));
        double t = 0;
        for (int i = 0; i < o_.requests; ++i) {
            t += gap(rng);
            requests_[static_cast<std::size_t>(i)] = Request{i, family(rng), t};
        }
        if (plughost_) metrics(0);
        double next_metrics = kMetricsInterval;
        std::size_t next_arrival = 0;
        while (next_arrival < requests_.size() || !timed_.empty()) {
            const double arrival = next_arrival < requests_.size() ? requests_[next_arrival].arrival : INFINITY;
            const double server_event = timed_.empty() ? INFINITY : timed_.top().at;
            const double now = std::min({arrival, server_event, next_metrics});
            if (now == next_metrics) {
                if (plughost_) metrics(now);
                next_metrics += kMetricsInterval;
            } else if (now == server_event) {
                const Timed e = timed_.top();
                timed_.pop();
                on_event(e);
            } else {
                arrive(requests_[next_arrival++]);
            }
        }
        Result r;
        r.policy = policy;
        r.rate = rate_;
        std::vector<double> ttft;
        double uncached = 0;
        for (const Request &q : requests_) {
            if (q.first_token >= 0) ttft.push_back(q.first_token - q.arrival);
            uncached += q.uncached;
        }
        r.p50 = percentile(ttft, 0.50);
        r.p99 = percentile(ttft, 0.99);
        r.mean_uncached = uncached / static_cast<double>(requests_.size());
        r.most = 0;
        r.fewest = o_.requests;
        for (const Server &s : servers_) {
            r.most = std::max(r.most, s.served);
            r.fewest = std::min(r.fewest, s.served);
            r.servers_used += s.served > 0;
        }
        r.errors = errors_;
        return r;
    }

private:
    void metrics(double) {
        for (const Server &s : servers_)
            plughost_->send("{\"endpoint\":{\"name\":" + quote(s.name) +
                            ",\"metrics\":{\"waitingQueueSize\":" + std::to_string(s.waiting.size()) +
                            ",\"runningRequests\":" + std::to_string(s.running.size()) +
                            ",\"kvCacheUsage\":" + std::to_string(std::min(1.0, s.kv_used / kKvTokens)) + "}}}");
    }

    int pick(const Request &r) {
        if (!plughost_) return static_cast<int>(round_robin_++ % servers_.size());
        const std::string id = "r" + std::to_string(r.id);
        plughost_->send("{\"request\":{\"id\":" + quote(id) +
                        ",\"model\":\"llama\",\"prompt\":" + quote(prompt_text(r)) + "}}");
        const std::string line = plughost_->line();
        const std::string key = "\"picked\":[\"vllm-";
        const auto at = line.find(key);
        if (at == std::string::npos) {
            ++errors_;
            return static_cast<int>(round_robin_++ % servers_.size());  // an error line: fall back
        }
        return std::atoi(line.c_str() + at + key.size());
    }

    void arrive(Request &r) {
        const int s = pick(r);
        Server &server = servers_[static_cast<std::size_t>(s)];
        ++server.served;
        server.waiting.push_back(r.id);
        admit(s, r.arrival);
    }

    double need(const Request &r) const { return r.prompt_tokens + kOutputTokens; }

    // Starts waiting requests (FIFO) while a slot and KV room are free.
    void admit(int s, double now) {
        Server &server = servers_[static_cast<std::size_t>(s)];
        while (!server.waiting.empty() && server.running.size() < static_cast<std::size_t>(kSlots)) {
            Request &r = requests_[static_cast<std::size_t>(server.waiting.front())];
            if (server.kv_used + need(r) > kKvTokens && !server.running.empty()) break;
            server.waiting.pop_front();
            server.running.push_back(r.id);
            server.kv_used += need(r);
            r.uncached = r.prompt_tokens - (server.cached(r.family) ? kPrefixTokens : 0);
            server.touch(r.family);
            const double start = std::max(now, server.prefill_free_at);
            server.prefill_free_at = start + r.uncached * kPrefillSecondsPerToken;
            timed_.push({server.prefill_free_at, Kind::first_token, s, r.id});
        }
    }

    void on_event(const Timed &e) {
        Server &server = servers_[static_cast<std::size_t>(e.server)];
        Request &r = requests_[static_cast<std::size_t>(e.request)];
        const std::string id = quote("r" + std::to_string(r.id));
        if (e.kind == Kind::first_token) {
            r.first_token = e.at;
            if (plughost_) plughost_->send("{\"response\":{\"id\":" + id + ",\"event\":\"started\"}}");
            const double per_token =
                kDecodeSecondsPerToken + kDecodeBatchPenalty * static_cast<double>(server.running.size());
            timed_.push({e.at + kOutputTokens * per_token, Kind::done, e.server, e.request});
            return;
        }
        if (plughost_)
            plughost_->send("{\"response\":{\"id\":" + id + ",\"event\":\"complete\",\"status\":200,\"promptTokens\":" +
                            std::to_string(r.prompt_tokens) + ",\"completionTokens\":" + std::to_string(kOutputTokens) +
                            "}}");
        server.running.erase(std::find(server.running.begin(), server.running.end(), r.id));
        server.kv_used -= need(r);
        admit(e.server, e.at);
    }

    const Options &o_;
    double rate_;
    Plughost *plughost_;
    std::vector<Server> servers_;
    std::vector<Request> requests_;
    std::priority_queue<Timed, std::vector<Timed>, std::greater<Timed>> timed_;
    std::size_t round_robin_ = 0;
    long errors_ = 0;
};

[[noreturn]] void usage(const char *why) {
    std::fprintf(stderr,
                 "sim_fleet: %s\nusage: sim_fleet --plughost PATH --plugin-dir DIR [--servers N] [--rate R]... "
                 "[--requests N] [--seed S] [--config NAME=FILE]...\n",
                 why);
    std::exit(2);
}

Options parse(int argc, char **argv) {
    Options o;
    bool rates_given = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) usage(("missing the value of " + a).c_str());
        const std::string v = argv[++i];
        if (a == "--plughost") o.plughost = v;
        else if (a == "--plugin-dir") o.plugin_dir = v;
        else if (a == "--servers") o.servers = std::max(1, std::atoi(v.c_str()));
        else if (a == "--requests") o.requests = std::max(1, std::atoi(v.c_str()));
        else if (a == "--seed") o.seed = static_cast<unsigned>(std::strtoul(v.c_str(), nullptr, 10));
        else if (a == "--rate") {
            if (!rates_given) o.rates.clear();
            rates_given = true;
            o.rates.push_back(std::atof(v.c_str()));
        } else if (a == "--config") {
            const auto eq = v.find('=');
            if (eq == std::string::npos) usage("--config takes NAME=FILE");
            o.configs.emplace_back(v.substr(0, eq), v.substr(eq + 1));
        } else usage(("unknown option " + a).c_str());
    }
    if (o.plughost.empty() || o.plugin_dir.empty()) usage("--plughost and --plugin-dir are required");
    if (o.configs.empty()) o.configs.emplace_back("default", "");
    return o;
}

}  // namespace

int main(int argc, char **argv) {
    std::signal(SIGPIPE, SIG_IGN);
    const Options o = parse(argc, argv);
    std::printf("fleet: %d servers, %d slots, %.0f KV tokens each; %d requests, %d families (zipf %.1f), "
                "prompt %d+%d tokens, output %d; metrics every %.0f ms; seed %u\n",
                o.servers, kSlots, kKvTokens, o.requests, kFamilies, kZipf, kPrefixTokens, kSuffixTokens, kOutputTokens,
                kMetricsInterval * 1000, o.seed);
    std::printf("%-16s %6s %10s %10s %10s %6s %6s %8s %6s\n", "policy", "rate/s", "ttft p50", "ttft p99", "uncached",
                "most", "fewest", "servers", "errors");
    try {
        for (double rate : o.rates) {
            std::vector<Result> results;
            results.push_back(Simulation(o, rate, nullptr).run("round-robin"));
            for (const auto &[name, file] : o.configs) {
                const std::string err = "/tmp/sim_fleet-" + name + ".stderr";
                Plughost p(o, file, err);
                results.push_back(Simulation(o, rate, &p).run(name));
            }
            for (const Result &r : results)
                std::printf("%-16s %6.0f %9.3fs %9.3fs %10.0f %6ld %6ld %8d %6ld\n", r.policy.c_str(), r.rate, r.p50,
                            r.p99, r.mean_uncached, r.most, r.fewest, r.servers_used, r.errors);
            for (std::size_t i = 1; i < results.size(); ++i)
                std::printf("  %s vs round-robin at %.0f/s: p99 %.2fx lower, p50 %.2fx lower\n",
                            results[i].policy.c_str(), rate, results[0].p99 / results[i].p99,
                            results[0].p50 / results[i].p50);
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "sim_fleet: %s\n", e.what());
        return 1;
    }
    return 0;
}
