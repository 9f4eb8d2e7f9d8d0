// Decision latency of one scheduling profile (1 filter + 4 scorers + 1 picker) over 8, 64 and
// 512 endpoints, three ways in one run:
//   dynamic:  plughost's path: the in-tree .so files admitted, dlopen'ed and driven by the
//             Scheduler through the C ABI, every result checked;
//   static:   the recompile-the-binary model: the same plugin classes compiled into this binary,
//             called directly through C++ interfaces (as the upstream picker calls the plugins it
//             was rebuilt with) by a framework doing the same work: filters, weighted sums,
//             picker, the same result checks. The target dynamic/static <= 1.05 is against this;
//   inlined:  the same plugin code fused by hand into one loop, no framework and no checks: the
//             floor, which shows what the framework's checks and the C ABI cost together.
// All process the identical request sequence from a fresh state, so they do identical work.
// Also counts heap allocations per decision (operator new is replaced in this binary).
//
// The same comparison with the ABI 1.1 roles in the cycle (dynamic-roles vs static-roles): a
// producer publishing one attribute per endpoint, a fifth scorer consuming it, and a profile
// handler choosing the profile in rounds and naming the primary (bench/roles/roles.hpp). The
// static side keeps every attribute (the prefix producer's too) in the host's own AttributeStore
// and makes the host's checks (Framework below).
#include "load/instantiation.hpp"
#include "plan/preflight.hpp"
#include "roles/roles.hpp"
#include "schedule/cycle.hpp"
#include "schedule/endpoint_table.hpp"
#include "schedule/scheduler.hpp"

#include <approx_prefix_cache_producer/approx_prefix_cache_producer.hpp>
#include <kv_cache_utilization_scorer/kv_cache_utilization_scorer.hpp>
#include <kv_headroom_filter/kv_headroom_filter.hpp>
#include <lora_affinity_scorer/lora_affinity_scorer.hpp>
#include <max_score_picker/max_score_picker.hpp>
#include <prefix_cache_scorer/prefix_cache_scorer.hpp>
#include <queue_scorer/queue_scorer.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <vector>

// ---- Allocation counting --------------------------------------------------------------------

namespace {
std::uint64_t allocations = 0;
}

// The replacements below pair malloc with free; GCC inlines them into delete-expressions and
// then mistakes the pair for a new/free mismatch.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void *operator new(std::size_t n) {
    ++allocations;
    if (void *p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void *operator new[](std::size_t n) { return ::operator new(n); }
void operator delete(void *p) noexcept { std::free(p); }
void operator delete[](void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }
void operator delete[](void *p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace plughost;
namespace host = plughost::host;

// ---- The workload ---------------------------------------------------------------------------

constexpr std::size_t kRequests = 4096;
const char *const kLoras[] = {"support-en", "support-de", "sql-gen", "code-review", "summarize", "finance-qa"};

struct Workload {
    host::EndpointTable endpoints;
    std::vector<std::string> ids, prompts, loras;
    std::vector<plughost_request> requests;

    explicit Workload(std::size_t endpoint_count) {
        std::mt19937_64 rng(42);
        for (std::size_t i = 0; i < endpoint_count; ++i) {
            host::EndpointUpdate u;
            u.name = "vllm-" + std::to_string(i);
            u.address = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ":8000";
            u.waiting_queue_size = static_cast<std::uint32_t>(rng() % 20);
            u.running_requests = static_cast<std::uint32_t>(rng() % 30);
            u.kv_cache_usage = 0.1 + static_cast<double>(rng() % 860) / 1000.0;
            std::vector<std::string> active;
            for (const char *l : kLoras)
                if (rng() % 4 == 0 && active.size() < 3) active.emplace_back(l);
            u.running_loras = active;
            u.max_active_loras = 4;
            endpoints.upsert(u);
        }
        // Chat-like prompts: a few long shared system prompts, conversations extending them.
        std::vector<std::string> systems;
        for (int s = 0; s < 8; ++s) {
            std::string text = "<|system|>You are assistant " + std::to_string(s) + ". ";
            while (text.size() < 400 + 150 * static_cast<std::size_t>(s)) text += "Answer precisely and cite sources. ";
            systems.push_back(text);
        }
        for (std::size_t r = 0; r < kRequests; ++r) {
            ids.push_back("req-" + std::to_string(r));
            std::string p = systems[rng() % systems.size()] + "<|user|>Question " + std::to_string(rng() % 300);
            while (p.size() % 97 != 0) p += ' ';
            prompts.push_back(p);
            loras.push_back(rng() % 3 == 0 ? kLoras[rng() % 6] : "");
        }
        for (std::size_t r = 0; r < kRequests; ++r) {
            plughost_request q{};
            q.struct_size = sizeof q;
            q.id = {ids[r].data(), ids[r].size()};
            q.prompt = {prompts[r].data(), prompts[r].size()};
            q.lora = {loras[r].data(), loras[r].size()};
            requests.push_back(q);
        }
    }
};

const char *kConfig = R"({"policy": {"minStability": "alpha"}, "featureGates": {"KvHeadroomFilter": true},
  "plugins": [{"type": "kv-headroom-filter", "name": "headroom"}, {"type": "queue-scorer", "name": "queue"},
              {"type": "kv-cache-utilization-scorer", "name": "kv"}, {"type": "prefix-cache-scorer", "name": "prefix"},
              {"type": "lora-affinity-scorer", "name": "lora"}, {"type": "max-score-picker", "name": "picker"}],
  "schedulingProfiles": [{"name": "bench", "plugins": [{"pluginRef": "headroom"}, {"pluginRef": "queue", "weight": 1},
      {"pluginRef": "kv", "weight": 1}, {"pluginRef": "prefix", "weight": 2}, {"pluginRef": "lora", "weight": 1},
      {"pluginRef": "picker"}]}]})";

// The same profile, without the prefix cache: the only in-tree plugin that allocates while its
// LRUs fill, so this one isolates the host's own dispatch allocations.
const char *kConfigNoPrefix = R"({"policy": {"minStability": "alpha"}, "featureGates": {"KvHeadroomFilter": true},
  "plugins": [{"type": "kv-headroom-filter", "name": "headroom"}, {"type": "queue-scorer", "name": "queue"},
              {"type": "kv-cache-utilization-scorer", "name": "kv"}, {"type": "lora-affinity-scorer", "name": "lora"},
              {"type": "max-score-picker", "name": "picker"}]})";

// The first profile plus the ABI 1.1 roles: a producer, a scorer consuming its attribute, and a
// profile handler. The same without the prefix cache, for the dispatch's own allocations.
const char *kConfigRoles = R"({"policy": {"minStability": "alpha"}, "featureGates": {"KvHeadroomFilter": true},
  "plugins": [{"type": "bench-single-handler", "name": "handler"}, {"type": "bench-load-producer", "name": "producer"},
              {"type": "kv-headroom-filter", "name": "headroom"}, {"type": "queue-scorer", "name": "queue"},
              {"type": "kv-cache-utilization-scorer", "name": "kv"}, {"type": "prefix-cache-scorer", "name": "prefix"},
              {"type": "lora-affinity-scorer", "name": "lora"}, {"type": "bench-load-scorer", "name": "load"},
              {"type": "max-score-picker", "name": "picker"}],
  "schedulingProfiles": [{"name": "bench", "plugins": [{"pluginRef": "headroom"}, {"pluginRef": "queue", "weight": 1},
      {"pluginRef": "kv", "weight": 1}, {"pluginRef": "prefix", "weight": 2}, {"pluginRef": "lora", "weight": 1},
      {"pluginRef": "load", "weight": 1}, {"pluginRef": "picker"}]}]})";
const char *kConfigRolesNoPrefix = R"({"policy": {"minStability": "alpha"}, "featureGates": {"KvHeadroomFilter": true},
  "plugins": [{"type": "bench-single-handler", "name": "handler"}, {"type": "bench-load-producer", "name": "producer"},
              {"type": "kv-headroom-filter", "name": "headroom"}, {"type": "queue-scorer", "name": "queue"},
              {"type": "kv-cache-utilization-scorer", "name": "kv"}, {"type": "lora-affinity-scorer", "name": "lora"},
              {"type": "bench-load-scorer", "name": "load"}, {"type": "max-score-picker", "name": "picker"}]})";

// The in-tree plugins and the bench's role plugins in one directory (the host reads one), made
// once per process from copies (the host refuses symbolic links) and removed at exit.
struct RolesPluginDir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("plughost-bench-roles-" + std::to_string(::getpid()));
    RolesPluginDir() {
        std::filesystem::create_directories(path);
        for (const char *dir : {PLUGHOST_BENCH_PLUGIN_DIR, PLUGHOST_BENCH_ROLES_DIR})
            for (const auto &e : std::filesystem::directory_iterator(dir))
                if (e.path().extension() == ".so")
                    std::filesystem::copy_file(e.path(), path / e.path().filename(),
                                               std::filesystem::copy_options::overwrite_existing);
    }
    ~RolesPluginDir() { std::filesystem::remove_all(path); }
};
const std::filesystem::path &roles_plugin_dir() {
    static const RolesPluginDir dir;
    return dir.path;
}

// ---- The dynamic pipeline: plughost ---------------------------------------------------------

struct Dynamic {
    host::Preflight pf;
    host::LiveInstances live;
    std::unique_ptr<host::Scheduler> scheduler;

    explicit Dynamic(const char *config, const std::filesystem::path &plugin_dir = PLUGHOST_BENCH_PLUGIN_DIR) {
        const std::string path = "/tmp/plughost-bench-pipeline-" + std::to_string(::getpid()) + ".json";
        std::ofstream(path) << config;
        host::PreflightInputs in;
        in.plugin_dir = plugin_dir;
        in.config_source = host::ConfigSource::file;
        in.config_file = path;
        in.keep_files_open = true;
        pf = host::preflight(in);
        std::remove(path.c_str());
        if (!pf.ok()) {
            for (const auto &e : pf.errors) std::fprintf(stderr, "%s: %s\n", e.path.c_str(), e.message.c_str());
            std::abort();
        }
        live = host::instantiate(pf, false);
        if (!live.complete()) std::abort();
        std::vector<host::Instance *> raw;
        for (auto &i : live.instances) raw.push_back(i.get());
        scheduler = std::make_unique<host::Scheduler>(raw, host::scheduler_plan(pf), 5);
    }

    const plughost_endpoint *decide(const plughost_request &r, const host::EndpointTable &eps) {
        const auto &d = scheduler->schedule(r, eps.data(), eps.size(), 0);
        return d.error ? nullptr : d.picked[0];
    }
};

// With a profile handler the host chooses the profile (no profile is forced on the request).
// The producers are bench-load-producer and, with the prefix cache, the approx-prefix-cache-producer
// the planner adds for prefix-cache-scorer (as the static side runs it too).
struct DynamicRoles : Dynamic {
    explicit DynamicRoles(const char *config) : Dynamic(config, roles_plugin_dir()) {
        const auto &plan = scheduler->plan();
        const bool load_producer = std::any_of(plan.producers.begin(), plan.producers.end(), [&](std::size_t p) {
            return scheduler->instances()[p].instance->manifest().type == "bench-load-producer";
        });
        if (!plan.profile_handler || !load_producer) std::abort();
    }
    const plughost_endpoint *decide(const plughost_request &r, const host::EndpointTable &eps) {
        const auto &d = scheduler->schedule(r, eps.data(), eps.size());
        return d.error ? nullptr : d.picked[0];
    }
};

// ---- The compiled-in pipelines: the same classes, in this binary ----------------------------

// The inlined floor's host API: counters kept as the host keeps them (Instance::count), and the
// prefix producer's attributes in a bare array indexed by endpoint id (the table numbers them
// from 1), stamped with the request they belong to, without any check: the floor, not a
// framework (the compiled-in framework, Static, uses the host's store: Framework below).
struct Counters {
    static constexpr std::string_view kNames[] = {
        plugins::prefix_attributes::kMatchBlocks, plugins::prefix_attributes::kTotalBlocks,
        plugins::prefix_attributes::kBlockSizeTokens, plugins::prefix_attributes::kPromptTokens};
    struct Slot {
        const plughost_request *request = nullptr;
        double value = 0;
    };
    std::vector<std::pair<std::string, double>> values;
    std::vector<Slot> attributes[std::size(kNames)];  // [attribute][endpoint id, 0 for the request]

    Slot *slot(const plughost_request *, const plughost_endpoint *e, int32_t attribute) {
        if (attribute < 0 || static_cast<std::size_t>(attribute) >= std::size(kNames)) return nullptr;
        auto &slots = attributes[attribute];
        const std::size_t at = e ? static_cast<std::size_t>(e->id) : 0;
        if (slots.size() <= at) slots.resize(at + 1);
        return &slots[at];
    }

    plughost_host_api api{sizeof(plughost_host_api),
                          this,
                          [](void *, int32_t, plughost_str) {},
                          [](void *self, plughost_str name, double delta) {
                              host::add_to_counter(static_cast<Counters *>(self)->values, name, delta);
                          },
                          [](void *, plughost_str name) -> int32_t {
                              for (std::size_t i = 0; i < std::size(kNames); ++i)
                                  if (kNames[i] == std::string_view(name.data, name.size))
                                      return static_cast<int32_t>(i);
                              return -1;
                          },
                          [](void *self, const plughost_request *r, const plughost_endpoint *e, int32_t attribute,
                             plughost_value v) -> plughost_status {
                              Slot *s = static_cast<Counters *>(self)->slot(r, e, attribute);
                              if (!s) return PLUGHOST_INVALID_ARGUMENT;
                              *s = {r, v.number};
                              return PLUGHOST_OK;
                          },
                          [](void *self, const plughost_request *r, const plughost_endpoint *e, int32_t attribute,
                             plughost_value *out) -> int32_t {
                              *out = plughost_value{};
                              Slot *s = static_cast<Counters *>(self)->slot(r, e, attribute);
                              if (!s || s->request != r) return 0;
                              out->type = PLUGHOST_VALUE_NUMBER;
                              out->number = s->value;
                              return 1;
                          },
                          nullptr,
                          nullptr,
                          [](void *self, const plughost_request *r, const plughost_endpoint *const *e, std::size_t n,
                             int32_t attribute, const double *given) -> plughost_status {
                              for (std::size_t i = 0; i < n; ++i) {
                                  Slot *s = static_cast<Counters *>(self)->slot(r, e[i], attribute);
                                  if (!s) return PLUGHOST_INVALID_ARGUMENT;
                                  *s = {r, given[i]};
                              }
                              return PLUGHOST_OK;
                          },
                          [](void *self, const plughost_request *r, const plughost_endpoint *const *e, std::size_t n,
                             int32_t attribute, double *out) -> std::size_t {
                              std::size_t present = 0;
                              for (std::size_t i = 0; i < n; ++i) {
                                  Slot *s = static_cast<Counters *>(self)->slot(r, e[i], attribute);
                                  const bool here = s && s->request == r;
                                  out[i] = here ? s->value : std::numeric_limits<double>::quiet_NaN();
                                  present += here;
                              }
                              return present;
                          }};
};

// The decision as pre_request sees it: the one endpoint picked, no extras.
struct OnePick {
    const plughost_endpoint *chosen = nullptr;
    plughost_decision raw{};
    Decision decision(const plughost_endpoint *e) {
        chosen = e;
        raw.struct_size = sizeof raw;
        raw.picked = &chosen;
        raw.picked_count = 1;
        return Decision(&raw);
    }
};

template <class T> std::unique_ptr<T> make_with(const Manifest &m, const plughost_host_api *api) {
    const Params params = detail::make_params(m, {"{}", 2});
    return std::unique_ptr<T>(detail::construct<T>(params, Host(api, "static")));
}
template <class T> std::unique_ptr<T> make(const Manifest &m, Counters *counters = nullptr) {
    return make_with<T>(m, counters ? &counters->api : nullptr);
}

// Attributes as a compiled-in framework keeps them: the host's own store (one per pipeline, begun
// at every decision as the scheduler begins it), reached by each plugin through the same host-API
// callbacks (single and batch) with the host's checks: the ids the plugin declared (a table by
// id, as Instance keeps it), only the producer whose turn it is publishes, and the store's own
// (scope, type, a finite number, an endpoint of the cycle), null pointers refused. Outside a
// cycle the host's callbacks read an empty store (no_attributes), which costs no check; this
// framework has no outside.
struct Framework {
    enum Access : std::uint8_t { kRead = 1, kPublish = 2 };
    static constexpr std::string_view kNames[] = {
        plugins::prefix_attributes::kMatchBlocks, plugins::prefix_attributes::kTotalBlocks,
        plugins::prefix_attributes::kBlockSizeTokens, plugins::prefix_attributes::kPromptTokens, "bench.load"};
    host::AttributeStore store{{{std::string(kNames[0]), AttributeScope::endpoint, AttributeType::number},
                                {std::string(kNames[1]), AttributeScope::request, AttributeType::number},
                                {std::string(kNames[2]), AttributeScope::request, AttributeType::number},
                                {std::string(kNames[3]), AttributeScope::request, AttributeType::number},
                                {std::string(kNames[4]), AttributeScope::endpoint, AttributeType::number}}};
    const void *producing = nullptr;  // the plugin whose produce runs
    std::vector<std::pair<std::string, double>> counters;

    // One plugin's view: its host API, whose context it is.
    struct Plugin {
        Framework *framework = nullptr;
        std::uint8_t access[std::size(kNames)] = {};
        plughost_host_api api{};

        bool may(int32_t id, Access what) const {
            return static_cast<std::uint32_t>(id) < std::size(access) && (access[id] & what);
        }
        bool publishing(int32_t id) const { return framework->producing == this && may(id, kPublish); }
        static Plugin &of(void *context) { return *static_cast<Plugin *>(context); }

        Plugin(Framework &f, std::initializer_list<std::pair<std::string_view, Access>> declared) : framework(&f) {
            for (const auto &[name, what] : declared)
                for (std::size_t i = 0; i < std::size(kNames); ++i)
                    if (kNames[i] == name) access[i] = what == kPublish ? kRead | kPublish : kRead;
            api.struct_size = sizeof api;
            api.context = this;
            api.log = [](void *, int32_t, plughost_str) {};
            api.count = [](void *self, plughost_str name, double delta) {
                host::add_to_counter(of(self).framework->counters, name, delta);  // as Instance::count
            };
            api.attribute = [](void *self, plughost_str name) -> int32_t {
                for (std::size_t i = 0; i < std::size(kNames); ++i)
                    if (kNames[i] == std::string_view(name.data, name.size) && of(self).access[i])
                        return static_cast<int32_t>(i);
                return -1;
            };
            api.put_attribute = [](void *self, const plughost_request *, const plughost_endpoint *endpoint, int32_t id,
                                   plughost_value value) -> plughost_status {
                const Plugin &p = of(self);
                return p.publishing(id) && p.framework->store.put(endpoint, id, value) ? PLUGHOST_OK
                                                                                       : PLUGHOST_INVALID_ARGUMENT;
            };
            api.get_attribute = [](void *self, const plughost_request *, const plughost_endpoint *endpoint, int32_t id,
                                   plughost_value *out) -> int32_t {
                const Plugin &p = of(self);
                if (!out) return 0;
                if (p.may(id, kRead) && p.framework->store.get(endpoint, id, *out)) return 1;
                *out = plughost_value{};
                return 0;
            };
            api.put_numbers = [](void *self, const plughost_request *, const plughost_endpoint *const *endpoints,
                                 std::size_t count, int32_t id, const double *values) -> plughost_status {
                const Plugin &p = of(self);
                return p.publishing(id) && (!count || (endpoints && values)) &&
                               p.framework->store.put_numbers(endpoints, count, id, values)
                           ? PLUGHOST_OK
                           : PLUGHOST_INVALID_ARGUMENT;
            };
            api.get_numbers = [](void *self, const plughost_request *, const plughost_endpoint *const *endpoints,
                                 std::size_t count, int32_t id, double *out) -> std::size_t {
                const Plugin &p = of(self);
                if (!out) return 0;
                if (!endpoints || !p.may(id, kRead)) {
                    std::fill(out, out + count, std::numeric_limits<double>::quiet_NaN());
                    return 0;
                }
                return p.framework->store.get_numbers(endpoints, count, id, out);
            };
        }
        Plugin(const Plugin &) = delete;  // the API's context is its address
        Plugin &operator=(const Plugin &) = delete;
    };
    std::deque<Plugin> plugins;  // a deque: addresses stay put

    Plugin &plugin(std::initializer_list<std::pair<std::string_view, Access>> declared = {}) {
        return plugins.emplace_back(*this, declared);
    }
};

struct Inlined {
    std::unique_ptr<plugins::KvHeadroomFilter> filter =
        make<plugins::KvHeadroomFilter>(plugins::kKvHeadroomFilterManifest);
    std::unique_ptr<plugins::QueueScorer> queue = make<plugins::QueueScorer>(plugins::kQueueScorerManifest);
    std::unique_ptr<plugins::KvCacheUtilizationScorer> kv =
        make<plugins::KvCacheUtilizationScorer>(plugins::kKvCacheUtilizationScorerManifest);
    Counters counters;
    std::unique_ptr<plugins::ApproxPrefixCacheProducer> producer =
        make<plugins::ApproxPrefixCacheProducer>(plugins::kApproxPrefixCacheProducerManifest, &counters);
    std::unique_ptr<plugins::PrefixCacheScorer> prefix =
        make<plugins::PrefixCacheScorer>(plugins::kPrefixCacheScorerManifest, &counters);
    OnePick one;
    std::unique_ptr<plugins::LoraAffinityScorer> lora =
        make<plugins::LoraAffinityScorer>(plugins::kLoraAffinityScorerManifest);
    std::unique_ptr<plugins::MaxScorePicker> picker = make<plugins::MaxScorePicker>(plugins::kMaxScorePickerManifest);
    std::vector<const plughost_endpoint *> candidates, next;
    std::vector<std::size_t> indexes;
    std::vector<double> scores, totals;

    const plughost_endpoint *decide(const plughost_request &r, const host::EndpointTable &eps) {
        const std::size_t n = eps.size();
        indexes.resize(n);
        scores.resize(n);
        totals.resize(n);
        candidates.assign(eps.data(), eps.data() + n);
        const Request request(&r);
        producer->produce(request, Endpoints(candidates.data(), n));
        Selection passed(indexes.data(), n);
        filter->filter(request, Endpoints(candidates.data(), n), passed);
        next.resize(passed.size());
        for (std::size_t k = 0; k < passed.size(); ++k) next[k] = candidates[indexes[k]];
        candidates.swap(next);
        const std::size_t m = candidates.size();
        if (m == 0) return nullptr;
        const Endpoints view(candidates.data(), m);
        const std::span<double> s(scores.data(), m);
        std::fill_n(totals.begin(), m, 0.0);
        auto add = [&](double w) {
            for (std::size_t i = 0; i < m; ++i) totals[i] += w * s[i];
        };
        queue->score(request, view, s);
        add(1);
        kv->score(request, view, s);
        add(1);
        prefix->score(request, view, s);
        add(2);
        lora->score(request, view, s);
        add(1);
        Selection picked(indexes.data(), m);
        picker->pick(request, view, std::span<const double>(totals.data(), m), picked);
        const plughost_endpoint *chosen = candidates[indexes[0]];
        producer->pre_request(request, one.decision(chosen));
        return chosen;
    }
};

// Plugins as a compiled-in framework sees them: C++ interfaces, one per role.
struct FilterPlugin {
    virtual ~FilterPlugin() = default;
    virtual void filter(const Request &, Endpoints, Selection &) = 0;
};
struct ScorerPlugin {
    virtual ~ScorerPlugin() = default;
    virtual void score(const Request &, Endpoints, std::span<double>) = 0;
    virtual void on_picked(const Request &, Endpoints) {}
};
struct PickerPlugin {
    virtual ~PickerPlugin() = default;
    virtual void pick(const Request &, Endpoints, std::span<const double>, Selection &) = 0;
};
// The ABI 1.1 roles, as upstream's framework sees them too: a producer (upstream's data
// producers, with the pre-request hook the prefix producer also has) and a profile handler.
struct ProducerPlugin {
    virtual ~ProducerPlugin() = default;
    virtual void produce(const Request &, Endpoints) = 0;
    virtual void pre_request(const Request &, const Decision &) {}
};
struct ProfileHandlerPlugin {
    virtual ~ProfileHandlerPlugin() = default;
    virtual void pick_profiles(const Request &, ProfileRuns, Selection &) = 0;
    virtual std::size_t process_results(const Request &, ProfileRuns) = 0;
};
template <class T> struct AsFilter final : FilterPlugin {
    std::unique_ptr<T> p;
    void filter(const Request &r, Endpoints e, Selection &s) override { p->filter(r, e, s); }
};
template <class T> struct AsScorer final : ScorerPlugin {
    static constexpr bool kObserves = requires(T & t, const Request &r, Endpoints e) { t.on_picked(r, e); };
    std::unique_ptr<T> p;
    void score(const Request &r, Endpoints e, std::span<double> s) override { p->score(r, e, s); }
    void on_picked(const Request &r, Endpoints e) override {
        if constexpr (kObserves) p->on_picked(r, e);
    }
};
template <class T> struct AsPicker final : PickerPlugin {
    std::unique_ptr<T> p;
    void pick(const Request &r, Endpoints e, std::span<const double> t, Selection &s) override { p->pick(r, e, t, s); }
};
template <class T> struct AsProducer final : ProducerPlugin {
    explicit AsProducer(std::unique_ptr<T> plugin) : p(std::move(plugin)) {}
    std::unique_ptr<T> p;
    void produce(const Request &r, Endpoints e) override { p->produce(r, e); }
    void pre_request(const Request &r, const Decision &d) override {
        if constexpr (requires { p->pre_request(r, d); }) p->pre_request(r, d);
    }
};
template <class T> struct AsProfileHandler final : ProfileHandlerPlugin {
    explicit AsProfileHandler(std::unique_ptr<T> plugin) : p(std::move(plugin)) {}
    std::unique_ptr<T> p;
    void pick_profiles(const Request &r, ProfileRuns runs, Selection &s) override { p->pick_profiles(r, runs, s); }
    std::size_t process_results(const Request &r, ProfileRuns runs) override { return p->process_results(r, runs); }
};

// The framework: the host's algorithm and checks (increasing filter indexes, scores in [0, 1],
// picks offered and distinct), with the plugins compiled in.
struct Static {
    std::vector<std::unique_ptr<FilterPlugin>> filters;
    std::vector<std::pair<std::unique_ptr<ScorerPlugin>, double>> scorers;
    std::vector<ScorerPlugin *> observers;  // the scorers with on_picked, as the host keeps those with `picked`
    std::unique_ptr<PickerPlugin> picker;
    std::vector<const plughost_endpoint *> a, b;
    std::vector<std::size_t> indexes;
    std::vector<double> scores, totals, spare;

    Static() {
        filters.push_back(std::make_unique<AsFilter<plugins::KvHeadroomFilter>>());
        static_cast<AsFilter<plugins::KvHeadroomFilter> &>(*filters[0]).p =
            make<plugins::KvHeadroomFilter>(plugins::kKvHeadroomFilterManifest);
        add_scorer<plugins::QueueScorer>(plugins::kQueueScorerManifest, 1);
        add_scorer<plugins::KvCacheUtilizationScorer>(plugins::kKvCacheUtilizationScorerManifest, 1);
        using F = Framework;
        producer_api = &fw.plugin({{F::kNames[0], F::kPublish},
                                   {F::kNames[1], F::kPublish},
                                   {F::kNames[2], F::kPublish},
                                   {F::kNames[3], F::kPublish}});
        producer = std::make_unique<AsProducer<plugins::ApproxPrefixCacheProducer>>(
            make_with<plugins::ApproxPrefixCacheProducer>(plugins::kApproxPrefixCacheProducerManifest,
                                                          &producer_api->api));
        add_scorer<plugins::PrefixCacheScorer>(
            plugins::kPrefixCacheScorerManifest, 2,
            &fw.plugin({{F::kNames[0], F::kRead}, {F::kNames[1], F::kRead}, {F::kNames[2], F::kRead}}));
        add_scorer<plugins::LoraAffinityScorer>(plugins::kLoraAffinityScorerManifest, 1);
        auto p = std::make_unique<AsPicker<plugins::MaxScorePicker>>();
        p->p = make<plugins::MaxScorePicker>(plugins::kMaxScorePickerManifest);
        picker = std::move(p);
    }
    Framework fw;
    Framework::Plugin *producer_api = nullptr;
    std::unique_ptr<ProducerPlugin> producer;
    OnePick one;

    template <class T> void add_scorer(const Manifest &m, double weight, Framework::Plugin *api = nullptr) {
        auto s = std::make_unique<AsScorer<T>>();
        s->p = make_with<T>(m, &(api ? api : &fw.plugin())->api);
        if (AsScorer<T>::kObserves) observers.push_back(s.get());
        scorers.emplace_back(std::move(s), weight);
    }

    // A new cycle of attributes, as the scheduler begins one per decision.
    void begin(const host::EndpointTable &eps) { fw.store.begin(eps.data(), eps.size()); }
    // Runs `produce` in the producer's turn.
    void produce(ProducerPlugin &plugin, const Framework::Plugin &api, const Request &request, Endpoints e) {
        fw.producing = &api;
        plugin.produce(request, e);
        fw.producing = nullptr;
    }

    const plughost_endpoint *decide(const plughost_request &r, const host::EndpointTable &eps) {
        begin(eps);
        return profile(r, eps);
    }
    const plughost_endpoint *profile(const plughost_request &r, const host::EndpointTable &eps) {
        std::size_t n = eps.size();
        if (a.size() < n) {
            for (auto *v : {&a, &b}) v->resize(n);
            for (auto *v : {&scores, &totals, &spare}) v->resize(n);
            indexes.resize(n);
        }
        const Request request(&r);
        produce(*producer, *producer_api, request, Endpoints(eps.data(), n));  // producers see every live endpoint
        const plughost_endpoint *const *cand = eps.data();  // as the host: no copy until a filter passes
        const plughost_endpoint **next = a.data();
        for (auto &f : filters) {
            Selection passed(indexes.data(), n);
            f->filter(request, Endpoints(cand, n), passed);
            if (!host::gather_passed(cand, n, indexes.data(), passed.size(), next)) continue;
            cand = next;
            next = next == a.data() ? b.data() : a.data();
            n = passed.size();
        }
        if (n == 0) return nullptr;
        double *t = totals.data(), *u = spare.data();
        std::fill_n(t, n, 0.0);
        for (auto &[scorer, weight] : scorers) {
            scorer->score(request, Endpoints(cand, n), std::span<double>(scores.data(), n));
            if (host::add_weighted_scores(scores.data(), n, weight, t, u)) std::swap(t, u);
        }
        Selection picked(indexes.data(), n);
        picker->pick(request, Endpoints(cand, n), std::span<const double>(t, n), picked);
        if (picked.size() == 0 || indexes[0] >= n) return nullptr;
        for (std::size_t k = 0; k < picked.size(); ++k) next[k] = cand[indexes[k]];
        for (ScorerPlugin *o : observers) o->on_picked(request, Endpoints(next, picked.size()));
        producer->pre_request(request, one.decision(next[0]));
        return next[0];
    }
};

// The compiled-in framework with the ABI 1.1 roles: the producer publishes before the profile,
// the handler chooses the profile in rounds (checked: in range, not run yet) and names the
// primary (checked: it picked), as the host does.
struct StaticRoles {
    Static profile;
    Framework::Plugin &producer_api = profile.fw.plugin({{"bench.load", Framework::kPublish}});
    std::unique_ptr<ProducerPlugin> producer = std::make_unique<AsProducer<bench::LoadProducer>>(
        make_with<bench::LoadProducer>(bench::kLoadProducerManifest, &producer_api.api));
    std::unique_ptr<ProfileHandlerPlugin> handler = std::make_unique<AsProfileHandler<bench::SingleHandler>>(
        make<bench::SingleHandler>(bench::kSingleHandlerManifest));
    plughost_profile_run run{sizeof(plughost_profile_run), {"bench", 5}, PLUGHOST_PROFILE_NOT_RUN, nullptr, 0};
    const plughost_profile_run *runs[1] = {&run};
    std::size_t chosen[1] = {0};
    const plughost_endpoint *picked = nullptr;

    StaticRoles() {
        profile.add_scorer<bench::LoadScorer>(bench::kLoadScorerManifest, 1,
                                              &profile.fw.plugin({{"bench.load", Framework::kRead}}));
    }

    const plughost_endpoint *decide(const plughost_request &r, const host::EndpointTable &eps) {
        const Request request(&r);
        profile.begin(eps);
        profile.produce(*producer, producer_api, request, Endpoints(eps.data(), eps.size()));
        run.state = PLUGHOST_PROFILE_NOT_RUN;
        run.picked_count = 0;
        std::size_t ran = 0;
        while (ran < 1) {  // as the host: until none, or every profile has run
            Selection next(chosen, 1);
            handler->pick_profiles(request, ProfileRuns(runs, 1), next);
            if (next.size() == 0) break;
            if (chosen[0] >= 1 || run.state != PLUGHOST_PROFILE_NOT_RUN) return nullptr;
            picked = profile.profile(r, eps);
            run.state = picked ? PLUGHOST_PROFILE_PICKED : PLUGHOST_PROFILE_FAILED;
            run.picked = &picked;
            run.picked_count = picked ? 1 : 0;
            ran += next.size();
        }
        const std::size_t primary = handler->process_results(request, ProfileRuns(runs, 1));
        return primary < 1 && run.state == PLUGHOST_PROFILE_PICKED ? picked : nullptr;
    }
};

// ---- Benchmarks -----------------------------------------------------------------------------

std::map<std::size_t, std::unique_ptr<Workload>> workloads;
Workload &workload(std::size_t n) {
    auto &w = workloads[n];
    if (!w) w = std::make_unique<Workload>(n);
    return *w;
}

// Not inlined, so a profiler can count this function alone (valgrind --toggle-collect='*run<*'):
// the decisions, without building the pipeline.
template <class Pipeline> [[gnu::noinline]] void run(benchmark::State &state, Pipeline &pipeline) {
    Workload &w = workload(static_cast<std::size_t>(state.range(0)));
    for (const auto &r : w.requests) pipeline.decide(r, w.endpoints);  // warm up: buffers, caches
    std::size_t i = 0;
    const std::uint64_t before = allocations;
    for (auto _ : state) {
        benchmark::DoNotOptimize(pipeline.decide(w.requests[i], w.endpoints));
        i = (i + 1) % kRequests;
    }
    state.counters["allocs/decision"] =
        static_cast<double>(allocations - before) / static_cast<double>(state.iterations());
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_Dynamic(benchmark::State &state) {
    Dynamic pipeline(kConfig);
    run(state, pipeline);
}

void BM_Static(benchmark::State &state) {
    Static pipeline;
    run(state, pipeline);
}

void BM_Inlined(benchmark::State &state) {
    Inlined pipeline;
    run(state, pipeline);
}

// The host's dispatch alone: the same profile without the (allocating) prefix cache.
void BM_DynamicDispatchAllocations(benchmark::State &state) {
    Dynamic pipeline(kConfigNoPrefix);
    run(state, pipeline);
}

void BM_DynamicRoles(benchmark::State &state) {
    DynamicRoles pipeline(kConfigRoles);
    run(state, pipeline);
}

void BM_StaticRoles(benchmark::State &state) {
    StaticRoles pipeline;
    run(state, pipeline);
}

// The dispatch with a producer, its consumer and a profile handler, without the prefix cache.
void BM_DynamicRolesDispatchAllocations(benchmark::State &state) {
    DynamicRoles pipeline(kConfigRolesNoPrefix);
    run(state, pipeline);
}

// Fixed iteration counts (about 40 ms a repetition), so every variant sees exactly the same
// requests; many interleaved repetitions, of which the fastest is the least disturbed by the
// rest of the machine.
void register_benchmarks(int repetitions) {
    const std::pair<const char *, void (*)(benchmark::State &)> variants[] = {{"BM_Dynamic", BM_Dynamic},
                                                                              {"BM_Static", BM_Static},
                                                                              {"BM_Inlined", BM_Inlined},
                                                                              {"BM_DynamicRoles", BM_DynamicRoles},
                                                                              {"BM_StaticRoles", BM_StaticRoles}};
    const std::pair<int, int> sizes[] = {{8, 100000}, {64, 40000}, {512, 8000}};
    for (const auto &[name, fn] : variants)
        for (const auto &[endpoints, iterations] : sizes)
            benchmark::RegisterBenchmark(name, fn)
                ->Arg(endpoints)
                ->Iterations(iterations)
                ->Repetitions(repetitions)
                ->ReportAggregatesOnly(true)
                ->Unit(benchmark::kMicrosecond)
                ->ComputeStatistics("min",
                                    [](const std::vector<double> &v) { return *std::min_element(v.begin(), v.end()); });
    const std::pair<const char *, void (*)(benchmark::State &)> dispatch[] = {
        {"BM_DynamicDispatchAllocations", BM_DynamicDispatchAllocations},
        {"BM_DynamicRolesDispatchAllocations", BM_DynamicRolesDispatchAllocations}};
    for (const auto &[name, fn] : dispatch)
        benchmark::RegisterBenchmark(name, fn)->Arg(64)->Iterations(40000)->Unit(benchmark::kMicrosecond);
}

// Collects the medians so the ratios come from this very run.
class Collector : public benchmark::ConsoleReporter {
public:
    std::map<std::string, double> median_us, min_us;
    void ReportRuns(const std::vector<Run> &runs) override {
        for (const Run &r : runs) {
            const std::string key = r.run_name.function_name + "/" + r.run_name.args;
            if (r.aggregate_name == "median") median_us[key] = r.GetAdjustedRealTime();
            if (r.aggregate_name == "min") min_us[key] = r.GetAdjustedRealTime();
        }
        ConsoleReporter::ReportRuns(runs);
    }
};

// Decisions must be the same both ways, or the comparison means nothing.
bool same_decisions() {
    for (std::size_t n : {8, 64, 512}) {
        Workload &w = workload(n);
        Dynamic d(kConfig);
        Static s;
        Inlined i;
        for (const auto &r : w.requests) {
            const auto *chosen = d.decide(r, w.endpoints);
            if (chosen != s.decide(r, w.endpoints) || chosen != i.decide(r, w.endpoints)) return false;
        }
        DynamicRoles dr(kConfigRoles);
        StaticRoles sr;
        for (const auto &r : w.requests) {
            const auto *chosen = dr.decide(r, w.endpoints);
            if (!chosen || chosen != sr.decide(r, w.endpoints)) return false;  // decided, and alike
        }
    }
    return true;
}

}  // namespace

int main(int argc, char **argv) {
    benchmark::Initialize(&argc, argv);
    // --no-check skips the decision comparison and --repetitions=N sets the repetitions (21):
    // both for profiling one benchmark alone, e.g. counting its instructions under callgrind.
    bool check = true;
    int repetitions = 21;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--no-check") check = false;
        if (arg.rfind("--repetitions=", 0) == 0) repetitions = std::max(1, std::atoi(arg.c_str() + 14));
    }
    register_benchmarks(repetitions);
    const bool same = !check || same_decisions();
    if (check)
        std::printf("dynamic, static and inlined pipelines (and dynamic and static with the roles) make the same %zu "
                    "decisions at every size: %s\n",
                    kRequests, same ? "yes" : "NO");
    Collector reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    for (const auto *stat : {&reporter.min_us, &reporter.median_us}) {
        std::printf("\n%s of the repetitions, in one run (time per decision):\n",
                    stat == &reporter.min_us ? "fastest" : "median");
        std::printf(
            "  endpoints    dynamic     static    inlined   dynamic/static (target <= 1.05)   dynamic/inlined\n");
        for (const char *size : {"8", "64", "512"}) {
            const auto d = stat->find(std::string("BM_Dynamic/") + size);
            const auto s = stat->find(std::string("BM_Static/") + size);
            const auto i = stat->find(std::string("BM_Inlined/") + size);
            if (d == stat->end() || s == stat->end() || i == stat->end()) continue;
            std::printf("  %9s %7.3f us %7.3f us %7.3f us %17.3f %32.3f\n", size, d->second, s->second, i->second,
                        d->second / s->second, d->second / i->second);
        }
        std::printf("  with a producer, its consumer and a profile handler (ABI 1.1 roles):\n");
        std::printf("  endpoints    dynamic     static   dynamic/static (target <= 1.05)\n");
        for (const char *size : {"8", "64", "512"}) {
            const auto d = stat->find(std::string("BM_DynamicRoles/") + size);
            const auto s = stat->find(std::string("BM_StaticRoles/") + size);
            if (d == stat->end() || s == stat->end()) continue;
            std::printf("  %9s %7.3f us %7.3f us %17.3f\n", size, d->second, s->second, d->second / s->second);
        }
    }
    benchmark::Shutdown();
    return same ? 0 : 1;
}
