#include "schedule/scheduler.hpp"

#include "load/instance.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

namespace plughost::host {

bool add_weighted_scores(const double *scores, std::size_t n, double weight, const double *in, double *out) noexcept {
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
    for (std::size_t i = 0; i < n; ++i)  // -0.0 trips the fast test and is a valid 0
        if (!(scores[i] >= 0.0 && scores[i] <= 1.0)) return false;
    return true;
}

bool gather_passed(const plughost_endpoint *const *candidates, std::size_t offered, const std::size_t *passed,
                   std::size_t count, const plughost_endpoint **out) noexcept {
    if (count > offered) return false;
    const std::size_t last = offered - 1;
    bool ordered = count == 0 || passed[count - 1] <= last;
    for (std::size_t k = 0; k < count; ++k) {
        if (k) ordered &= passed[k] > passed[k - 1];
        out[k] = candidates[std::min(passed[k], last)];  // clamped: read only what was offered
    }
    return ordered;
}

namespace {

std::string_view message_of(const RuntimeInstance &inst) {
    return std::string_view(inst.message.data, std::min(inst.message.size, inst.message.capacity));
}

}  // namespace

Scheduler::Scheduler(const std::vector<Instance *> &instances, std::vector<Profile> profiles,
                     std::uint32_t max_consecutive_faults)
    : instances_(instances.size()), max_consecutive_faults_(max_consecutive_faults) {
    for (std::size_t i = 0; i < instances.size(); ++i) {
        instances_[i].instance = instances[i];
        instances_[i].entry = &instances[i]->entry();
        instances_[i].handle = instances[i]->handle();
        instances_[i].message = {instances_[i].buffer.data(), instances_[i].buffer.size(), 0};
    }
    for (Profile &profile : profiles) {
        profile.observers.clear();
        auto observe = [&](std::size_t i) {
            if (instances_[i].instance->entry().picked &&
                std::find(profile.observers.begin(), profile.observers.end(), i) == profile.observers.end())
                profile.observers.push_back(i);
        };
        for (auto f : profile.filters) observe(f);
        for (const auto &s : profile.scorers) observe(s.instance);
        observe(profile.picker);
        profiles_.push_back(std::move(profile));
    }
}

std::optional<std::size_t> Scheduler::find_profile(std::string_view name) const {
    for (std::size_t i = 0; i < profiles_.size(); ++i)
        if (profiles_[i].name == name) return i;
    return std::nullopt;
}

void Scheduler::grow(std::size_t n) {
    if (capacity_ >= n) return;
    capacity_ = std::max(n, 2 * capacity_);
    for (auto *v : {&candidates_a_, &candidates_b_}) v->resize(capacity_);
    for (auto *v : {&scores_, &totals_a_, &totals_b_}) v->resize(capacity_);
    indexes_.resize(capacity_);
    seen_.assign(capacity_, 0);
    stamp_ = 0;
}

plughost_message *Scheduler::reset_message(RuntimeInstance &inst) {
    inst.message.size = 0;  // data and capacity point at the instance's own buffer, set once
    ++inst.calls;
    return &inst.message;
}

// Picks: each index below `limit`, none twice. A few are compared pairwise; many are stamped
// into `seen_`, which is never cleared, only re-stamped.
bool Scheduler::valid_picks(const std::size_t *indexes, std::size_t count, std::size_t limit) {
    for (std::size_t k = 0; k < count; ++k)
        if (indexes[k] >= limit) return false;
    if (count <= 16) {
        for (std::size_t k = 1; k < count; ++k)
            for (std::size_t j = 0; j < k; ++j)
                if (indexes[j] == indexes[k]) return false;
        return true;
    }
    if (++stamp_ == 0) {
        std::fill(seen_.begin(), seen_.end(), 0);
        stamp_ = 1;
    }
    for (std::size_t k = 0; k < count; ++k) {
        if (seen_[indexes[k]] == stamp_) return false;
        seen_[indexes[k]] = stamp_;
    }
    return true;
}

void Scheduler::fault(RuntimeInstance &inst, Code code, std::string_view what, const plughost_request &request) {
    ++inst.faults;
    ++inst.consecutive_faults;
    if (code == Code::bad_score) ++inst.bad_scores;
    else if (code == Code::bad_index) ++inst.bad_indexes;
    else ++inst.errors;
    auto &log = inst.instance->logger();
    log.warn("fault [{}] on request {}: {} ({} in a row, {} in all)", to_string(code),
             sanitize_line(view(request.id), 200), sanitize_line(what), inst.consecutive_faults, inst.faults);
    if (!inst.disabled && inst.consecutive_faults >= max_consecutive_faults_) {
        inst.disabled = true;
        log.error("DISABLED after {} consecutive faults: requests are decided without it from now on "
                  "(raise runtime.maxConsecutiveFaults or --max-consecutive-faults to tolerate more; fix or "
                  "remove the plugin)",
                  inst.consecutive_faults);
    }
}

// The filter's indexes are checked (increasing, so each at most once, and below the count) in
// the same pass that gathers the survivors into the spare buffer; reads are clamped so a bad
// index is never dereferenced. Only a valid result replaces the candidates.
template <bool Explain>
void Scheduler::run_filter(RuntimeInstance &f, const plughost_request &request, Explanation *explain) {
    Explanation::Filter *trace = nullptr;
    if constexpr (Explain) {
        explain->filters.push_back({f.instance->name(), false, f.disabled, {}});
        trace = &explain->filters.back();
    }
    if (f.disabled) return;  // a disabled filter lets everything through
    std::size_t passed = 0;
    const plughost_status status =
        f.entry->filter(f.handle, &request, candidates_, count_, indexes_.data(), &passed, reset_message(f));
    bool ok = status == PLUGHOST_OK;
    if (!ok) {
        fault(f, Code::plugin_error, message_of(f), request);
    } else if (!gather_passed(candidates_, count_, indexes_.data(), passed, spare_candidates_)) {
        ok = false;
        fault(f, Code::bad_index,
              "returned endpoint indexes that were not offered, repeated, or not in increasing order", request);
    }
    if (!ok) {  // a failed filter passes everything through
        if constexpr (Explain) trace->fault = true;
        return;
    }
    f.consecutive_faults = 0;
    candidates_ = spare_candidates_;
    spare_candidates_ = spare_candidates_ == candidates_a_.data() ? candidates_b_.data() : candidates_a_.data();
    count_ = passed;
    if constexpr (Explain)
        for (std::size_t k = 0; k < count_; ++k) trace->passed.emplace_back(view(candidates_[k]->name));
}

// Scores are checked in the same pass that adds them, weighted, into the spare totals; only a
// valid result becomes the totals, so a faulting scorer contributes nothing, exactly.
template <bool Explain>
void Scheduler::run_scorer(RuntimeInstance &s, double weight, const plughost_request &request, Explanation *explain) {
    const std::size_t n = count_;
    Explanation::Scorer *trace = nullptr;
    if constexpr (Explain) {
        explain->scorers.push_back({s.instance->name(), weight, false, s.disabled, {}});
        trace = &explain->scorers.back();
    }
    if (s.disabled) return;
    double *scores = scores_.data();
    const plughost_status status = s.entry->score(s.handle, &request, candidates_, n, scores, reset_message(s));
    if (status != PLUGHOST_OK) {
        fault(s, Code::plugin_error, message_of(s), request);
        if constexpr (Explain) trace->fault = true;
        return;
    }
    if (!add_weighted_scores(scores, n, weight, totals_, spare_totals_)) {
        std::size_t bad = 0;
        while (scores[bad] >= 0.0 && scores[bad] <= 1.0) ++bad;
        fault(s, Code::bad_score,
              "score " + fmt::format("{}", scores[bad]) + " for endpoint " + std::string(view(candidates_[bad]->name)) +
                  " is outside [0, 1]; the scorer's scores are ignored for this request",
              request);
        if constexpr (Explain) trace->fault = true;
        return;
    }
    s.consecutive_faults = 0;
    std::swap(totals_, spare_totals_);
    if constexpr (Explain)
        for (std::size_t i = 0; i < n; ++i) trace->scores.emplace_back(view(candidates_[i]->name), scores[i]);
}

Decision Scheduler::schedule(const plughost_request &request, const plughost_endpoint *const *endpoints,
                             std::size_t count, std::size_t profile_index, Explanation *explain) {
    return explain ? decide<true>(request, endpoints, count, profile_index, explain)
                   : decide<false>(request, endpoints, count, profile_index, nullptr);
}

template <bool Explain> Decision Scheduler::decide(const plughost_request &request,
                                                   const plughost_endpoint *const *endpoints, std::size_t count,
                                                   std::size_t profile_index, Explanation *explain) {
    Decision decision;
    if (count == 0) {
        decision.error = Code::no_endpoints;
        decision.message = "no endpoints are known yet";
        return decision;
    }
    grow(count);
    const Profile &profile = profiles_[profile_index];
    candidates_ = endpoints;
    spare_candidates_ = candidates_a_.data();
    count_ = count;

    for (std::size_t f : profile.filters) {
        run_filter<Explain>(instances_[f], request, explain);
        if (count_ == 0) {
            decision.error = Code::no_candidates;
            decision.message = "filter " + instances_[f].instance->name() + " let no endpoint through";
            return decision;
        }
    }
    const std::size_t n = count_;
    totals_ = totals_a_.data();
    spare_totals_ = totals_b_.data();
    std::fill_n(totals_, n, 0.0);
    for (const Stage &s : profile.scorers) run_scorer<Explain>(instances_[s.instance], s.weight, request, explain);
    if constexpr (Explain)
        for (std::size_t i = 0; i < n; ++i) explain->totals.emplace_back(view(candidates_[i]->name), totals_[i]);

    RuntimeInstance &picker = instances_[profile.picker];
    if (picker.disabled) {
        decision.error = Code::picker_disabled;
        decision.message = "picker " + picker.instance->name() + " is disabled after repeated faults";
        return decision;
    }
    std::size_t picked = 0;
    const plughost_status status = picker.entry->pick(picker.handle, &request, candidates_, totals_, n, indexes_.data(),
                                                      &picked, reset_message(picker));
    if (status != PLUGHOST_OK) {
        decision.message = "picker " + picker.instance->name() + " failed: " + sanitize_line(message_of(picker));
        fault(picker, Code::plugin_error, message_of(picker), request);
        decision.error = Code::picker_failed;
        return decision;
    }
    if (picked == 0 || picked > n || !valid_picks(indexes_.data(), picked, n)) {
        decision.message =
            "picker " + picker.instance->name() +
            (picked == 0 ? " picked no endpoint" : " picked an endpoint that was not offered, or one twice");
        fault(picker, Code::bad_index, decision.message, request);
        decision.error = Code::picker_failed;
        return decision;
    }
    picker.consecutive_faults = 0;
    for (std::size_t k = 0; k < picked; ++k) spare_candidates_[k] = candidates_[indexes_[k]];
    decision.picked = std::span<const plughost_endpoint *const>(spare_candidates_, picked);

    for (std::size_t o : profile.observers) {
        RuntimeInstance &obs = instances_[o];
        if (obs.disabled) continue;
        if (obs.entry->picked(obs.handle, &request, spare_candidates_, picked, reset_message(obs)) != PLUGHOST_OK)
            fault(obs, Code::plugin_error, message_of(obs), request);
    }
    return decision;
}

}  // namespace plughost::host
