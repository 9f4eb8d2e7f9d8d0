// The per-request dispatch. A scheduling cycle runs the producers (which publish attributes),
// then the profiles the profile handler chooses, round after round (or the one profile asked
// for), each as filters, then weighted scorers, then one picker, with shadow stages on the side;
// then the handler names the primary profile, the plugins are told the decision (`picked`,
// `pre_request`), and the decision is returned. Every plugin result is checked before it is
// used; faults are counted against the instance, the request is still decided by the rest of
// its profile where possible, and an instance with too many consecutive faults is disabled.
//
// No heap allocation on the dispatch path once its buffers have grown to the endpoint count
// (faults, shadow statistics' first use and explanations allocate: they are off the fast path).
// Not thread-safe: one thread calls schedule() at a time, which is also how plugin instances are
// called unless their manifest says threadSafe.
#pragma once

#include "common/diagnostic.hpp"
#include "schedule/cycle.hpp"

#include <plughost/plugin.h>
#include <plughost/rules.hpp>
#include <plughost/vocabulary.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plughost::host {

class Instance;

/// An instance as the scheduler drives it, with its fault accounting.
struct RuntimeInstance {
    // Instance::call_label(). First, so that marking the instance as running (its label's address
    // into the scheduler's PluginCall::Watch slot) stores the instance's own address.
    const char *label = nullptr;
    Instance *instance = nullptr;
    // Copied from the instance (the entry table by value) so a call is one load away.
    plughost_plugin entry{};
    plughost_instance *handle = nullptr;
    Role role = Role::scorer;
    std::uint64_t calls = 0;
    std::uint64_t faults = 0;
    std::uint32_t consecutive_faults = 0;
    bool disabled = false;
    /// Faults by kind: plugin-error, bad-score, bad-index.
    std::uint64_t errors = 0, bad_scores = 0, bad_indexes = 0;
    /// As a shadow stage: requests it saw, how many it would have sent elsewhere, the sum of how
    /// much better its choice looked (in total score) than the decision, its time.
    std::uint64_t shadow_requests = 0, shadow_changed = 0;
    double shadow_gap = 0;
    std::uint64_t shadow_nanoseconds = 0;
    std::array<char, 1024> buffer{};
    plughost_message message{};
};

/// What each stage of one profile did for one request (only filled when asked for, --explain).
struct Explanation {
    struct Filter {
        std::string plugin;
        bool fault = false;
        bool disabled = false;
        std::vector<std::string> passed;
        bool shadow = false;
    };
    struct Scorer {
        std::string plugin;
        double weight = 0;
        bool fault = false;
        bool disabled = false;
        std::vector<std::pair<std::string, double>> scores;
        bool shadow = false;
    };
    struct Shadow {  ///< what a shadow stage would have done
        std::string plugin;
        bool fault = false;
        bool changed = false;
        std::string would_pick;  ///< empty when it has no choice (a fault, a filter keeping the pick)
    };
    std::string profile;
    std::vector<Filter> filters;
    std::vector<Scorer> scorers;
    std::vector<std::pair<std::string, double>> totals;
    std::vector<Shadow> shadows;
};

/// Another profile's first pick, named by that profile (e.g. the prefill endpoint).
struct DecisionExtra {
    std::size_t profile = 0;
    const plughost_endpoint *endpoint = nullptr;
};

struct Decision {
    /// Set when the request could not be decided: no_endpoints, no_candidates, picker_failed,
    /// picker_disabled or profile_handler_failed.
    std::optional<Code> error;
    /// Why the request could not be decided (empty when decided).
    std::string message;
    /// The primary profile.
    std::size_t profile = 0;
    /// Its picks, best first; valid until the next schedule() call.
    std::span<const plughost_endpoint *const> picked;
    /// The other profiles that picked, in the order they ran.
    std::span<const DecisionExtra> extras;
    /// Headers plugins set for the endpoint in pre_request.
    std::span<const std::pair<std::string, std::string>> headers;
};

class Scheduler {
public:
    struct Stage {
        std::size_t instance;
        double weight;
    };
    struct Profile {
        std::string name;
        std::vector<std::size_t> filters;
        std::vector<Stage> scorers;
        std::size_t picker = 0;
        /// Stages run in shadow (filters, scorers with their weight, pickers): called on every
        /// request of the profile, never changing its decision.
        std::vector<Stage> shadows;
        std::vector<std::size_t> observers;  ///< instances of the profile with a `picked` hook (found here)
    };
    /// What a cycle runs, indexing into the instances.
    struct Plan {
        std::vector<Profile> profiles;
        std::optional<std::size_t> profile_handler;
        std::vector<std::size_t> producers;  ///< in run order
        std::vector<AttributeSpec> attributes;
    };

    /// Binds each instance to this scheduler's cycle (Instance::bind) until it is destroyed: an
    /// instance is run by one scheduler. The instances must outlive it.
    Scheduler(const std::vector<Instance *> &instances, Plan plan, std::uint32_t max_consecutive_faults);
    ~Scheduler();
    // The instances point at cycle_: it never moves.
    Scheduler(const Scheduler &) = delete;
    Scheduler &operator=(const Scheduler &) = delete;

    /// Decides where `request` goes among `endpoints`. `profile` runs that profile alone (the
    /// request asked for it); without it, the profile handler chooses, or the first profile runs.
    /// `explain` receives one Explanation per profile run, in order. The decision is valid until
    /// the next call.
    const Decision &schedule(const plughost_request &request, const plughost_endpoint *const *endpoints,
                             std::size_t count, std::optional<std::size_t> profile = std::nullopt,
                             std::vector<Explanation> *explain = nullptr);

    /// Tells every instance with the hook that a decided request's response started or ended;
    /// returns the headers plugins set for the client (response_started only). `request` is the
    /// request as it was scheduled.
    std::span<const std::pair<std::string, std::string>> respond(const plughost_request &request,
                                                                 const plughost_response &response);

    std::optional<std::size_t> find_profile(std::string_view name) const;
    const std::vector<Profile> &profiles() const { return plan_.profiles; }
    const Plan &plan() const { return plan_; }
    const std::vector<RuntimeInstance> &instances() const { return instances_; }

private:
    // The state of one profile during a cycle: its run (as a handler sees it) and its picks.
    struct ProfileState {
        // The profile's stages, resolved to the instances they run.
        std::vector<RuntimeInstance *> filters;
        std::vector<std::pair<RuntimeInstance *, double>> scorers;
        RuntimeInstance *picker = nullptr;
        std::vector<RuntimeInstance *> observers;  // with a `picked` hook
        plughost_profile_run run{};
        std::vector<const plughost_endpoint *> picked;
        std::optional<Code> error;
        std::string message;
    };

    // Explain is a template parameter so the fast path carries no trace code at all.
    template <bool Explain>
    const Decision &decide(const plughost_request &request, const plughost_endpoint *const *endpoints,
                           std::size_t count, std::optional<std::size_t> profile, std::vector<Explanation> *explain);
    template <bool Explain> void run_profile(std::size_t index, const plughost_request &request,
                                             const plughost_endpoint *const *endpoints, std::size_t count,
                                             std::vector<Explanation> *explain);
    template <bool Explain> void run_filter(RuntimeInstance &f, const plughost_request &request, Explanation *trace);
    template <bool Explain> void run_scorer(RuntimeInstance &s, double weight, const plughost_request &request,
                                            const plughost_endpoint *const *candidates, std::size_t n, double *scores,
                                            Explanation *trace);
    template <bool Explain> void run_shadow(const Stage &stage, const plughost_request &request,
                                            const plughost_endpoint *chosen, Explanation *trace);
    void run_producers(const plughost_request &request, const plughost_endpoint *const *endpoints, std::size_t count);
    // The profile handler's rounds and its choice of the primary profile; false on failure
    // (decision.error is set).
    bool run_handler(const plughost_request &request, const plughost_endpoint *const *endpoints, std::size_t count,
                     std::vector<Explanation> *explain, Decision &decision);
    void tell_decision(const plughost_request &request, Decision &decision);
    void fault(RuntimeInstance &inst, Code code, std::string_view what, const plughost_request &request);
    void succeeded(RuntimeInstance &inst) { inst.consecutive_faults = 0; }
    template <class F, class... Args> plughost_status call(RuntimeInstance &inst, F function, Args... args);
    void grow(std::size_t n);  // when capacity_ < n (the caller checks: one compare per request)

    std::vector<RuntimeInstance> instances_;
    Plan plan_;
    std::uint32_t max_consecutive_faults_;
    const char *const *running_ = nullptr;      // the called instance's label, by address (PluginCall::Watch)
    std::vector<RuntimeInstance *> producers_;  // in run order
    RuntimeInstance *handler_ = nullptr;        // the profile handler, if the plan has one
    std::size_t profile_count_ = 0;             // states_.size(), without a division
    std::vector<RuntimeInstance *> lifecycle_;  // with pre_request or response hooks, config order
    AttributeStore attributes_;
    Cycle cycle_;
    Decision decision_;  // what schedule() returns
    std::vector<ProfileState> states_;
    std::vector<const plughost_profile_run *> runs_;  // pointers to states_[i].run, for the handler
    std::vector<DecisionExtra> extras_;
    std::vector<plughost_extra> abi_extras_;
    std::vector<std::size_t> chosen_;  // the profiles of a handler's round, as it chose them (room for all)
    // Buffers reused by every request, grown to the endpoint count and never shrunk. Each
    // stage writes into the spare buffer, which replaces the current one only when the
    // stage's result is valid.
    std::size_t capacity_ = 0;
    std::vector<const plughost_endpoint *> candidates_a_, candidates_b_;
    const plughost_endpoint *const *candidates_ = nullptr;  // starts as the caller's array, never copied
    const plughost_endpoint **spare_candidates_ = nullptr;
    std::size_t count_ = 0;
    std::vector<double> scores_, totals_a_, totals_b_, shadow_totals_;
    double *totals_ = nullptr;
    double *spare_totals_ = nullptr;
    std::vector<std::size_t> indexes_;
    rules::DistinctIndexes distinct_;  // picks and profile choices: in range, none twice
};

// The dispatch's check kernels are inline so that the compiler can fuse them into the loop that
// calls them, in the scheduler and in a compiled-in framework using them (bench_pipeline).

/// out[i] = in[i] + weight * scores[i] for every i; true when every score is in [0, 1] (none NaN:
/// rules::valid_score).
/// On false, `out` holds garbage and `in` is untouched.
inline bool add_weighted_scores(const double *scores, std::size_t n, double weight, const double *in,
                                double *out) noexcept {
    // Non-negative doubles are ordered like their bit patterns, so a score is in [0, 1] (and
    // not NaN) exactly when neither its sign bit nor that of (bits of 1.0 - its bits) is set:
    // one branch-free OR per score, which the compiler vectorises with the sum.
    constexpr std::uint64_t one = 0x3FF0000000000000;
    std::uint64_t signs = 0;
    const double *__restrict src = in;
    double *__restrict dst = out;
    for (std::size_t i = 0; i < n; ++i) {
        std::uint64_t bits;
        std::memcpy(&bits, scores + i, sizeof bits);
        signs |= bits | (one - bits);
        dst[i] = src[i] + weight * scores[i];
    }
    if (!(signs >> 63)) return true;
    // -0.0 trips the fast test and is a valid 0: the exact rule decides.
    return rules::first_invalid_score(scores, n) == n;
}

/// out[k] = candidates[passed[k]] for every k < count; true when the result is one the host
/// accepts (rules::valid_filter_result: increasing, all below `offered`). A bad index is never
/// dereferenced.
inline bool gather_passed(const plughost_endpoint *const *candidates, std::size_t offered, const std::size_t *passed,
                          std::size_t count, const plughost_endpoint **out) noexcept {
    if (!rules::valid_filter_result(passed, count, offered)) return false;  // checked before any is read
    for (std::size_t k = 0; k < count; ++k) out[k] = candidates[passed[k]];
    return true;
}

}  // namespace plughost::host
