#include "scheduler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace plughost::host {

std::string_view to_string(Outcome outcome) {
    switch (outcome) {
    case Outcome::picked: return "picked";
    case Outcome::no_endpoints: return "no-endpoints";
    case Outcome::no_candidates: return "no-candidates";
    case Outcome::picker_failed: return "picker-failed";
    case Outcome::picker_disabled: return "picker-disabled";
    }
    return "?";
}

namespace {

std::string_view view(plughost_str s) { return s.size ? std::string_view(s.data, s.size) : std::string_view(); }

std::string_view message_of(const RuntimeInstance &inst) {
    return std::string_view(inst.message.data, std::min(inst.message.size, inst.message.capacity));
}

} // namespace

Scheduler::Scheduler(const std::vector<Instance *> &instances, const std::vector<PlannedProfile> &profiles,
                     std::uint32_t max_consecutive_faults)
    : instances_(instances.size()), max_consecutive_faults_(max_consecutive_faults) {
    for (std::size_t i = 0; i < instances.size(); ++i) instances_[i].instance = instances[i];
    for (const PlannedProfile &p : profiles) {
        Profile profile{p.name, p.filters, {}, p.picker, {}};
        for (const auto &[index, weight] : p.scorers) profile.scorers.push_back({index, weight});
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
    candidates_.reserve(capacity_);
    next_.reserve(capacity_);
    indexes_.resize(capacity_);
    scores_.resize(capacity_);
    totals_.resize(capacity_);
    seen_.assign(capacity_, 0);
    stamp_ = 0;
}

plughost_message *Scheduler::reset_message(RuntimeInstance &inst) {
    inst.message = {inst.buffer.data(), inst.buffer.size(), 0};
    ++inst.calls;
    return &inst.message;
}

// Each index below `limit`, none twice. Stamps instead of clearing, so the check is O(count).
bool Scheduler::valid_indexes(const std::size_t *indexes, std::size_t count, std::size_t limit) {
    if (++stamp_ == 0) {
        std::fill(seen_.begin(), seen_.end(), 0);
        stamp_ = 1;
    }
    for (std::size_t k = 0; k < count; ++k) {
        const std::size_t i = indexes[k];
        if (i >= limit || seen_[i] == stamp_) return false;
        seen_[i] = stamp_;
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

bool Scheduler::run_filter(RuntimeInstance &f, const plughost_request &request, Explanation *explain) {
    const std::size_t n = candidates_.size();
    Explanation::Filter *trace = nullptr;
    if (explain) {
        explain->filters.push_back({f.instance->name(), false, f.disabled, {}});
        trace = &explain->filters.back();
    }
    if (f.disabled) return false;  // a disabled filter lets everything through
    std::size_t passed = 0;
    const plughost_status status = f.instance->entry().filter(f.instance->handle(), &request, candidates_.data(), n,
                                                              indexes_.data(), &passed, reset_message(f));
    bool ok = false;
    if (status != PLUGHOST_OK) fault(f, Code::plugin_error, message_of(f), request);
    else if (passed > n || !valid_indexes(indexes_.data(), passed, n))
        fault(f, Code::bad_index, "returned an endpoint index that was not offered, or one twice", request);
    else ok = true;
    if (!ok) {  // a failed filter passes everything through
        if (trace) trace->fault = true;
        return false;
    }
    f.consecutive_faults = 0;
    next_.resize(passed);
    for (std::size_t k = 0; k < passed; ++k) next_[k] = candidates_[indexes_[k]];
    candidates_.swap(next_);
    if (trace)
        for (const auto *e : candidates_) trace->passed.emplace_back(view(e->name));
    return true;
}

void Scheduler::run_scorer(RuntimeInstance &s, double weight, const plughost_request &request, Explanation *explain) {
    const std::size_t n = candidates_.size();
    Explanation::Scorer *trace = nullptr;
    if (explain) {
        explain->scorers.push_back({s.instance->name(), weight, false, s.disabled, {}});
        trace = &explain->scorers.back();
    }
    if (s.disabled) return;
    std::fill_n(scores_.begin(), n, std::numeric_limits<double>::quiet_NaN());  // unwritten scores show as NaN
    const plughost_status status =
        s.instance->entry().score(s.instance->handle(), &request, candidates_.data(), n, scores_.data(), reset_message(s));
    if (status != PLUGHOST_OK) {
        fault(s, Code::plugin_error, message_of(s), request);
        if (trace) trace->fault = true;
        return;
    }
    for (std::size_t i = 0; i < n; ++i) {
        const double v = scores_[i];
        if (!(v >= 0.0 && v <= 1.0)) {  // also catches NaN
            fault(s, Code::bad_score,
                  "score " + std::to_string(v) + " for endpoint " + std::string(view(candidates_[i]->name)) +
                      " is outside [0, 1]; the scorer's scores are ignored for this request",
                  request);
            if (trace) trace->fault = true;
            return;
        }
    }
    s.consecutive_faults = 0;
    for (std::size_t i = 0; i < n; ++i) totals_[i] += weight * scores_[i];
    if (trace)
        for (std::size_t i = 0; i < n; ++i) trace->scores.emplace_back(view(candidates_[i]->name), scores_[i]);
}

Decision Scheduler::schedule(const plughost_request &request, const plughost_endpoint *const *endpoints,
                             std::size_t count, std::size_t profile_index, Explanation *explain) {
    Decision decision;
    if (count == 0) {
        decision.outcome = Outcome::no_endpoints;
        decision.message = "no endpoints are known yet";
        return decision;
    }
    grow(count);
    const Profile &profile = profiles_[profile_index];
    candidates_.assign(endpoints, endpoints + count);

    for (std::size_t f : profile.filters) {
        run_filter(instances_[f], request, explain);
        if (candidates_.empty()) {
            decision.outcome = Outcome::no_candidates;
            decision.message = "filter " + instances_[f].instance->name() + " let no endpoint through";
            return decision;
        }
    }
    const std::size_t n = candidates_.size();
    std::fill_n(totals_.begin(), n, 0.0);
    for (const Stage &s : profile.scorers) run_scorer(instances_[s.instance], s.weight, request, explain);
    if (explain)
        for (std::size_t i = 0; i < n; ++i) explain->totals.emplace_back(view(candidates_[i]->name), totals_[i]);

    RuntimeInstance &picker = instances_[profile.picker];
    if (picker.disabled) {
        decision.outcome = Outcome::picker_disabled;
        decision.message = "picker " + picker.instance->name() + " is disabled after repeated faults";
        return decision;
    }
    std::size_t picked = 0;
    const plughost_status status = picker.instance->entry().pick(picker.instance->handle(), &request, candidates_.data(),
                                                                 totals_.data(), n, indexes_.data(), &picked,
                                                                 reset_message(picker));
    if (status != PLUGHOST_OK) {
        decision.message = "picker " + picker.instance->name() + " failed: " + sanitize_line(message_of(picker));
        fault(picker, Code::plugin_error, message_of(picker), request);
        decision.outcome = Outcome::picker_failed;
        return decision;
    }
    if (picked == 0 || picked > n || !valid_indexes(indexes_.data(), picked, n)) {
        decision.message = "picker " + picker.instance->name() +
                           (picked == 0 ? " picked no endpoint" : " picked an endpoint that was not offered, or one twice");
        fault(picker, Code::bad_index, decision.message, request);
        decision.outcome = Outcome::picker_failed;
        return decision;
    }
    picker.consecutive_faults = 0;
    next_.resize(picked);
    for (std::size_t k = 0; k < picked; ++k) next_[k] = candidates_[indexes_[k]];
    decision.picked = std::span<const plughost_endpoint *const>(next_.data(), picked);

    for (std::size_t o : profile.observers) {
        RuntimeInstance &obs = instances_[o];
        if (obs.disabled) continue;
        if (obs.instance->entry().picked(obs.instance->handle(), &request, next_.data(), picked, reset_message(obs)) !=
            PLUGHOST_OK)
            fault(obs, Code::plugin_error, message_of(obs), request);
    }
    return decision;
}

} // namespace plughost::host
