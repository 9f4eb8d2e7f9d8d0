// The per-request dispatch: filters, then weighted scorers, then one picker, over the live
// endpoints, with every plugin result checked before it is used. Faults are counted against
// the plugin instance, and the request is still decided by the rest of the profile where
// possible; an instance with too many consecutive faults is disabled.
//
// No heap allocation on the dispatch path once its buffers have grown to the endpoint count
// (faults and explanations allocate: they are off the fast path). Not thread-safe: one thread
// calls schedule() at a time, which is also how plugin instances are called unless their
// manifest says threadSafe.
#pragma once

#include "common/diagnostic.hpp"

#include <plughost/plugin.h>
#include <plughost/vocabulary.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace plughost::host {

class Instance;

/// An instance as the scheduler drives it, with its fault accounting.
struct RuntimeInstance {
    Instance *instance = nullptr;
    // Copied from the instance so a call is one load away, not four.
    const plughost_plugin *entry = nullptr;
    plughost_instance *handle = nullptr;
    std::uint64_t calls = 0;
    std::uint64_t faults = 0;
    std::uint32_t consecutive_faults = 0;
    bool disabled = false;
    /// Faults by kind: plugin-error, bad-score, bad-index (and the picked hook's errors).
    std::uint64_t errors = 0, bad_scores = 0, bad_indexes = 0;
    std::array<char, 1024> buffer{};
    plughost_message message{};
};

/// What each stage did for one request (only filled when asked for, by --explain).
struct Explanation {
    struct Filter {
        std::string plugin;
        bool fault = false;
        bool disabled = false;
        std::vector<std::string> passed;
    };
    struct Scorer {
        std::string plugin;
        double weight = 0;
        bool fault = false;
        bool disabled = false;
        std::vector<std::pair<std::string, double>> scores;
    };
    std::vector<Filter> filters;
    std::vector<Scorer> scorers;
    std::vector<std::pair<std::string, double>> totals;
};

struct Decision {
    /// Set when the request could not be decided: no_endpoints, no_candidates, picker_failed
    /// or picker_disabled.
    std::optional<Code> error;
    /// The chosen endpoints, best first; valid until the next schedule() call.
    std::span<const plughost_endpoint *const> picked;
    /// Why the request could not be decided (empty when picked).
    std::string message;
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
        std::vector<std::size_t> observers;  ///< instances of the profile with a `picked` hook
    };

    /// `instances` parallel to the planned instances; profiles index into them.
    /// `profiles` index into `instances`; their `observers` are found here (each instance with a
    /// `picked` hook, once).
    Scheduler(const std::vector<Instance *> &instances, std::vector<Profile> profiles,
              std::uint32_t max_consecutive_faults);

    Decision schedule(const plughost_request &request, const plughost_endpoint *const *endpoints, std::size_t count,
                      std::size_t profile, Explanation *explain = nullptr);

    std::optional<std::size_t> find_profile(std::string_view name) const;
    const std::vector<Profile> &profiles() const { return profiles_; }
    const std::vector<RuntimeInstance> &instances() const { return instances_; }

private:
    // Explain is a template parameter so the fast path carries no trace code at all.
    template <bool Explain> Decision decide(const plughost_request &request, const plughost_endpoint *const *endpoints,
                                            std::size_t count, std::size_t profile, Explanation *explain);
    template <bool Explain> void run_filter(RuntimeInstance &f, const plughost_request &request, Explanation *explain);
    template <bool Explain>
    void run_scorer(RuntimeInstance &s, double weight, const plughost_request &request, Explanation *explain);
    bool valid_picks(const std::size_t *indexes, std::size_t count, std::size_t limit);
    void fault(RuntimeInstance &inst, Code code, std::string_view what, const plughost_request &request);
    plughost_message *reset_message(RuntimeInstance &inst);
    void grow(std::size_t n);

    std::vector<RuntimeInstance> instances_;
    std::vector<Profile> profiles_;
    std::uint32_t max_consecutive_faults_;
    // Buffers reused by every request, grown to the endpoint count and never shrunk. Each
    // stage writes into the spare buffer, which replaces the current one only when the
    // stage's result is valid.
    std::size_t capacity_ = 0;
    std::vector<const plughost_endpoint *> candidates_a_, candidates_b_;
    const plughost_endpoint *const *candidates_ = nullptr;  // starts as the caller's array, never copied
    const plughost_endpoint **spare_candidates_ = nullptr;
    std::size_t count_ = 0;
    std::vector<double> scores_, totals_a_, totals_b_;
    double *totals_ = nullptr;
    double *spare_totals_ = nullptr;
    std::vector<std::size_t> indexes_;
    std::vector<std::uint32_t> seen_;
    std::uint32_t stamp_ = 0;
};

/// out[i] = in[i] + weight * scores[i] for every i; true when every score is in [0, 1] (none NaN).
/// On false, `out` holds garbage and `in` is untouched.
bool add_weighted_scores(const double *scores, std::size_t n, double weight, const double *in, double *out) noexcept;

/// out[k] = candidates[passed[k]] for every k < count; true when the indexes increase and are
/// all below `offered` (so none repeats). A bad index is never dereferenced.
bool gather_passed(const plughost_endpoint *const *candidates, std::size_t offered, const std::size_t *passed,
                   std::size_t count, const plughost_endpoint **out) noexcept;

}  // namespace plughost::host
