#include "schedule/scheduler.hpp"

#include "common/plugin_call.hpp"
#include "load/instance.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <utility>

namespace plughost::host {

namespace {

std::string_view message_of(const RuntimeInstance &inst) {
    return std::string_view(inst.message.data, std::min(inst.message.size, inst.message.capacity));
}

bool has_lifecycle_hook(const plughost_plugin &e) { return e.pre_request || e.response_started || e.response_complete; }

// Index of the highest total (the first of equals); `n` > 0.
std::size_t best_of(const double *totals, std::size_t n) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < n; ++i)
        if (totals[i] > totals[best]) best = i;
    return best;
}

}  // namespace

Scheduler::Scheduler(const std::vector<Instance *> &instances, Plan plan, std::uint32_t max_consecutive_faults)
    : instances_(instances.size()), plan_(std::move(plan)), max_consecutive_faults_(max_consecutive_faults),
      attributes_(plan_.attributes), states_(plan_.profiles.size()) {
    std::vector<std::size_t> lifecycle;
    for (std::size_t i = 0; i < instances.size(); ++i) {
        RuntimeInstance &r = instances_[i];
        r.instance = instances[i];
        r.entry = instances[i]->entry();
        r.handle = instances[i]->handle();
        r.role = instances[i]->manifest().role;
        r.label = instances[i]->call_label();
        r.message = {r.buffer.data(), r.buffer.size(), 0};
        instances[i]->bind(&cycle_);
        if (has_lifecycle_hook(r.entry)) lifecycle.push_back(i);
    }
    for (Profile &profile : plan_.profiles) {
        profile.observers.clear();
        auto observe = [&](std::size_t i) {
            if (instances_[i].entry.picked &&
                std::find(profile.observers.begin(), profile.observers.end(), i) == profile.observers.end())
                profile.observers.push_back(i);
        };
        for (auto f : profile.filters) observe(f);
        for (const auto &s : profile.scorers) observe(s.instance);
        observe(profile.picker);
    }
    // The stages as pointers, resolved once: instances_ never grows after this.
    for (std::size_t i = 0; i < states_.size(); ++i) {
        const Profile &profile = plan_.profiles[i];
        ProfileState &state = states_[i];
        for (std::size_t f : profile.filters) state.filters.push_back(&instances_[f]);
        for (const Stage &st : profile.scorers) state.scorers.push_back({&instances_[st.instance], st.weight});
        state.picker = &instances_[profile.picker];
        for (std::size_t o : profile.observers) state.observers.push_back(&instances_[o]);
    }
    for (std::size_t p : plan_.producers) producers_.push_back(&instances_[p]);
    if (plan_.profile_handler) handler_ = &instances_[*plan_.profile_handler];
    profile_count_ = states_.size();
    for (std::size_t i : lifecycle) lifecycle_.push_back(&instances_[i]);
    for (std::size_t i = 0; i < states_.size(); ++i) {
        states_[i].run.struct_size = sizeof(plughost_profile_run);
        states_[i].run.name = {plan_.profiles[i].name.data(), plan_.profiles[i].name.size()};
        runs_.push_back(&states_[i].run);
    }
    extras_.reserve(states_.size());
    abi_extras_.reserve(states_.size());
    chosen_.resize(states_.size());
}

Scheduler::~Scheduler() {
    for (RuntimeInstance &r : instances_)
        if (r.instance->bound() == &cycle_) r.instance->bind(nullptr);  // back to the idle cycle
}

std::optional<std::size_t> Scheduler::find_profile(std::string_view name) const {
    for (std::size_t i = 0; i < plan_.profiles.size(); ++i)
        if (plan_.profiles[i].name == name) return i;
    return std::nullopt;
}

void Scheduler::grow(std::size_t n) {
    capacity_ = std::max(n, 2 * capacity_);
    for (auto *v : {&candidates_a_, &candidates_b_}) v->resize(capacity_);
    for (auto *v : {&scores_, &totals_a_, &totals_b_, &shadow_totals_}) v->resize(capacity_);
    for (ProfileState &state : states_) state.picked.resize(capacity_);
    // distinct_ checks picks and a profile handler's choice (chosen_, one slot per profile): room
    // for the larger of the two counts.
    indexes_.resize(capacity_);
    distinct_.reserve(std::max(capacity_, states_.size()));
}

// Calls a plugin function of `inst` with its handle, `args` and its message buffer (emptied),
// counting the call. The thread is marked as running the instance's code meanwhile (a crash then
// names it): one store into the slot decide() and respond() watch (PluginCall::Watch).
template <class F, class... Args>
[[gnu::always_inline]] inline plughost_status Scheduler::call(RuntimeInstance &inst, F function, Args... args) {
    inst.message.size = 0;  // data and capacity point at the instance's own buffer, set once
    ++inst.calls;
    running_ = &inst.label;
    const plughost_status status = function(inst.handle, args..., &inst.message);
    running_ = nullptr;
    return status;
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
void Scheduler::run_filter(RuntimeInstance &f, const plughost_request &request, Explanation *trace) {
    Explanation::Filter *step = nullptr;
    if constexpr (Explain) {
        trace->filters.push_back({f.instance->name(), false, f.disabled, {}, false});
        step = &trace->filters.back();
    }
    if (f.disabled) return;  // a disabled filter lets everything through
    std::size_t passed = 0;
    const plughost_status status = call(f, f.entry.filter, &request, candidates_, count_, indexes_.data(), &passed);
    bool ok = status == PLUGHOST_OK;
    if (!ok) {
        fault(f, Code::plugin_error, message_of(f), request);
    } else if (!gather_passed(candidates_, count_, indexes_.data(), passed, spare_candidates_)) {
        ok = false;
        fault(f, Code::bad_index,
              "returned endpoint indexes that were not offered, repeated, or not in increasing order", request);
    }
    if (!ok) {  // a failed filter passes everything through
        if constexpr (Explain) step->fault = true;
        return;
    }
    succeeded(f);
    candidates_ = spare_candidates_;
    spare_candidates_ = spare_candidates_ == candidates_a_.data() ? candidates_b_.data() : candidates_a_.data();
    count_ = passed;
    if constexpr (Explain)
        for (std::size_t k = 0; k < count_; ++k) step->passed.emplace_back(view(candidates_[k]->name));
}

// Scores are checked in the same pass that adds them, weighted, into the spare totals; only a
// valid result becomes the totals, so a faulting scorer contributes nothing, exactly.
template <bool Explain> void Scheduler::run_scorer(RuntimeInstance &s, double weight, const plughost_request &request,
                                                   const plughost_endpoint *const *candidates, std::size_t n,
                                                   double *scores, Explanation *trace) {
    Explanation::Scorer *step = nullptr;
    if constexpr (Explain) {
        trace->scorers.push_back({s.instance->name(), weight, false, s.disabled, {}, false});
        step = &trace->scorers.back();
    }
    if (s.disabled) return;
    const plughost_status status = call(s, s.entry.score, &request, candidates, n, scores);
    if (status != PLUGHOST_OK) {
        fault(s, Code::plugin_error, message_of(s), request);
        if constexpr (Explain) step->fault = true;
        return;
    }
    if (!add_weighted_scores(scores, n, weight, totals_, spare_totals_)) {
        const std::size_t bad = rules::first_invalid_score(scores, n);
        fault(s, Code::bad_score,
              "score " + fmt::format("{}", scores[bad]) + " for endpoint " + std::string(view(candidates[bad]->name)) +
                  " is outside [0, 1]; the scorer's scores are ignored for this request",
              request);
        if constexpr (Explain) step->fault = true;
        return;
    }
    succeeded(s);
    std::swap(totals_, spare_totals_);
    if constexpr (Explain)
        for (std::size_t i = 0; i < n; ++i) step->scores.emplace_back(view(candidates[i]->name), scores[i]);
}

// A shadow stage sees what its real counterpart would (the candidates after the filters, the
// totals of the scorers) once the decision is made, and never changes it; it only counts how
// often it would have: a filter dropping the chosen endpoint, a scorer whose weighted scores
// would have made another endpoint the best, a picker choosing another one first.
template <bool Explain> void Scheduler::run_shadow(const Stage &stage, const plughost_request &request,
                                                   const plughost_endpoint *chosen, Explanation *trace) {
    RuntimeInstance &s = instances_[stage.instance];
    Explanation::Shadow *step = nullptr;
    if constexpr (Explain) {
        trace->shadows.push_back({s.instance->name(), false, false, {}});
        step = &trace->shadows.back();
    }
    if (s.disabled) return;
    const std::size_t n = count_;
    std::size_t chosen_at = 0;
    while (chosen_at < n && candidates_[chosen_at] != chosen) ++chosen_at;
    const auto started = std::chrono::steady_clock::now();
    bool ok = true, changed = false;
    double gap = 0;
    const plughost_endpoint *would = nullptr;
    switch (s.role) {
    case Role::filter: {
        std::size_t passed = 0;
        ok = call(s, s.entry.filter, &request, candidates_, n, indexes_.data(), &passed) == PLUGHOST_OK &&
             gather_passed(candidates_, n, indexes_.data(), passed, spare_candidates_);
        if (ok) {
            changed = std::find(spare_candidates_, spare_candidates_ + passed, chosen) == spare_candidates_ + passed;
            if (changed && passed) would = spare_candidates_[0];
        }
        break;
    }
    case Role::scorer: {
        double *scores = scores_.data();
        ok = call(s, s.entry.score, &request, candidates_, n, scores) == PLUGHOST_OK &&
             add_weighted_scores(scores, n, stage.weight, totals_, shadow_totals_.data());
        if (ok && chosen_at < n) {
            const std::size_t best = best_of(shadow_totals_.data(), n);
            gap = shadow_totals_[best] - shadow_totals_[chosen_at];
            changed = gap > 0;
            would = candidates_[best];
        }
        break;
    }
    case Role::picker: {
        std::size_t picked = 0;
        ok = call(s, s.entry.pick, &request, candidates_, totals_, n, indexes_.data(), &picked) == PLUGHOST_OK &&
             rules::valid_picks(indexes_.data(), picked, n, distinct_);
        if (ok) {
            would = candidates_[indexes_[0]];
            changed = would != chosen;
            if (chosen_at < n) gap = totals_[indexes_[0]] - totals_[chosen_at];
        }
        break;
    }
    default: return;  // only profile stages run in shadow (the planner sees to it)
    }
    s.shadow_nanoseconds += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count());
    if (!ok) {
        fault(s, s.message.size ? Code::plugin_error : Code::bad_index,
              s.message.size ? message_of(s) : std::string_view("returned an invalid result in shadow"), request);
        if constexpr (Explain) step->fault = true;
        return;
    }
    succeeded(s);
    ++s.shadow_requests;
    if (changed) {
        ++s.shadow_changed;
        s.shadow_gap += gap > 0 ? gap : 0;
    }
    if constexpr (Explain) {
        step->changed = changed;
        if (would) step->would_pick = std::string(view(would->name));
    }
}

template <bool Explain> void Scheduler::run_profile(std::size_t index, const plughost_request &request,
                                                    const plughost_endpoint *const *endpoints, std::size_t count,
                                                    std::vector<Explanation> *explain) {
    const Profile &profile = plan_.profiles[index];
    ProfileState &state = states_[index];
    state.run.state = PLUGHOST_PROFILE_FAILED;
    state.run.picked_count = 0;
    state.error.reset();
    Explanation *trace = nullptr;
    if constexpr (Explain) {
        explain->push_back({});
        trace = &explain->back();
        trace->profile = profile.name;
    }
    auto fail = [&](Code code, std::string message) {
        state.error = code;
        state.message = std::move(message);
    };
    candidates_ = endpoints;
    spare_candidates_ = candidates_a_.data();
    count_ = count;
    for (RuntimeInstance *f : state.filters) {
        run_filter<Explain>(*f, request, trace);
        if (count_ == 0) return fail(Code::no_candidates, "filter " + f->instance->name() + " let no endpoint through");
    }
    const std::size_t n = count_;
    totals_ = totals_a_.data();
    spare_totals_ = totals_b_.data();
    std::fill_n(totals_, n, 0.0);
    // The candidates and the scores' buffer as arguments: the plugin calls could change any member
    // for all the compiler knows, so members would be read again after every scorer.
    const plughost_endpoint *const *candidates = candidates_;
    double *scores = scores_.data();
    for (const auto &[scorer, weight] : state.scorers)
        run_scorer<Explain>(*scorer, weight, request, candidates, n, scores, trace);
    if constexpr (Explain)
        for (std::size_t i = 0; i < n; ++i) trace->totals.emplace_back(view(candidates_[i]->name), totals_[i]);

    RuntimeInstance &picker = *state.picker;
    if (picker.disabled)
        return fail(Code::picker_disabled, "picker " + picker.instance->name() + " is disabled after repeated faults");
    std::size_t picked = 0;
    const plughost_status status =
        call(picker, picker.entry.pick, &request, candidates_, totals_, n, indexes_.data(), &picked);
    if (status != PLUGHOST_OK) {
        fail(Code::picker_failed,
             "picker " + picker.instance->name() + " failed: " + sanitize_line(message_of(picker)));
        fault(picker, Code::plugin_error, message_of(picker), request);
        return;
    }
    if (!rules::valid_picks(indexes_.data(), picked, n, distinct_)) {
        fail(Code::picker_failed,
             "picker " + picker.instance->name() +
                 (picked == 0 ? " picked no endpoint" : " picked an endpoint that was not offered, or one twice"));
        fault(picker, Code::bad_index, state.message, request);
        return;
    }
    succeeded(picker);
    for (std::size_t k = 0; k < picked; ++k) state.picked[k] = candidates_[indexes_[k]];
    state.run.state = PLUGHOST_PROFILE_PICKED;
    state.run.picked = state.picked.data();
    state.run.picked_count = picked;
    for (const Stage &shadow : profile.shadows) run_shadow<Explain>(shadow, request, state.picked[0], trace);
}

// Inlined into decide, their one caller, as tell_decision: a call of their own is about 30
// instructions a decision, half a percent at 8 endpoints (bench/instructions.sh).
[[gnu::always_inline]] inline void Scheduler::run_producers(const plughost_request &request,
                                                            const plughost_endpoint *const *endpoints,
                                                            std::size_t count) {
    cycle_.phase = CyclePhase::producing;
    for (RuntimeInstance *p : producers_) {
        RuntimeInstance &producer = *p;
        if (producer.disabled) continue;
        cycle_.producing = producer.instance;
        if (call(producer, producer.entry.produce, &request, endpoints, count) == PLUGHOST_OK) succeeded(producer);
        else fault(producer, Code::plugin_error, message_of(producer), request);
    }
    cycle_.producing = nullptr;
    cycle_.phase = CyclePhase::scheduling;
}

// Inlined into decide, its one caller: a call of its own (the frame, the spilled arguments) was
// about 30 instructions a decision with a handler (bench/instructions.sh).
[[gnu::always_inline]] inline bool Scheduler::run_handler(const plughost_request &request,
                                                          const plughost_endpoint *const *endpoints, std::size_t count,
                                                          std::vector<Explanation> *explain, Decision &decision) {
    RuntimeInstance &handler = *handler_;
    const std::size_t profiles = profile_count_;
    auto failed = [&](std::string why) {
        decision.error = Code::profile_handler_failed;
        decision.message = "profile handler " + handler.instance->name() + " " + std::move(why);
        return false;
    };
    if (handler.disabled) return failed("is disabled after repeated faults");
    // Rounds go on until the handler chooses none, or every profile has run: then "none" is the
    // only answer it may give, so it is not asked (one plugin call less per request for the usual
    // single-profile handler). A valid round runs at least one profile, so this ends.
    std::size_t ran = 0;
    while (ran < profiles) {
        std::size_t chosen = 0;
        if (call(handler, handler.entry.pick_profiles, &request, runs_.data(), profiles, chosen_.data(), &chosen) !=
            PLUGHOST_OK) {
            fault(handler, Code::plugin_error, message_of(handler), request);
            break;
        }
        bool valid = chosen <= profiles && distinct_(chosen_.data(), chosen, profiles);
        for (std::size_t k = 0; valid && k < chosen; ++k)
            valid = states_[chosen_[k]].run.state == PLUGHOST_PROFILE_NOT_RUN;
        if (!valid) {
            fault(handler, Code::bad_index, "chose a profile that does not exist, or one that already ran", request);
            break;
        }
        if (chosen == 0) break;
        for (std::size_t k = 0; k < chosen; ++k) {
            if (explain) run_profile<true>(chosen_[k], request, endpoints, count, explain);
            else run_profile<false>(chosen_[k], request, endpoints, count, nullptr);
        }
        ran += chosen;
    }
    if (ran == 0) return failed("ran no profile");
    std::size_t primary = profiles;
    if (call(handler, handler.entry.process_results, &request, runs_.data(), profiles, &primary) != PLUGHOST_OK) {
        fault(handler, Code::plugin_error, message_of(handler), request);
        const std::string why = sanitize_line(message_of(handler));
        return failed("failed: " + why);
    }
    // A primary that ran and failed is a legitimate answer (e.g. no decode endpoint): the request
    // fails with that profile's own error, and the handler did nothing wrong.
    if (primary < profiles && states_[primary].run.state == PLUGHOST_PROFILE_FAILED && states_[primary].error) {
        succeeded(handler);
        decision.error = states_[primary].error;
        decision.message = states_[primary].message;
        return false;
    }
    if (primary >= profiles || states_[primary].run.state != PLUGHOST_PROFILE_PICKED) {
        fault(handler, Code::bad_index, "named a primary profile that did not run", request);
        return failed("named a primary profile that did not run");
    }
    succeeded(handler);
    decision.profile = primary;
    return true;
}

// The plugins learn the decision: `picked` for the instances of every profile that picked, with
// its picks; then `pre_request` for every instance that has it, which may set headers.
[[gnu::always_inline]] inline void Scheduler::tell_decision(const plughost_request &request, Decision &decision) {
    extras_.clear();
    abi_extras_.clear();
    const ProfileState *const primary_state = &states_[decision.profile];
    for (const ProfileState &state : states_) {  // by reference: an index costs a division a turn
        if (state.run.state != PLUGHOST_PROFILE_PICKED) continue;
        for (RuntimeInstance *o : state.observers) {
            RuntimeInstance &obs = *o;
            if (obs.disabled) continue;
            if (call(obs, obs.entry.picked, &request, state.picked.data(), state.run.picked_count) != PLUGHOST_OK)
                fault(obs, Code::plugin_error, message_of(obs), request);
        }
        if (&state != primary_state) {
            extras_.push_back({static_cast<std::size_t>(&state - states_.data()), state.picked[0]});
            abi_extras_.push_back({state.run.name, state.picked[0]});
        }
    }
    const ProfileState &primary = *primary_state;
    decision.picked = std::span<const plughost_endpoint *const>(primary.picked.data(), primary.run.picked_count);
    decision.extras = extras_;
    decision.headers = {};
    if (lifecycle_.empty()) return;
    plughost_decision told{};
    told.struct_size = sizeof told;
    told.profile = primary.run.name;
    told.picked = primary.picked.data();
    told.picked_count = primary.run.picked_count;
    told.extras = abi_extras_.data();
    told.extra_count = abi_extras_.size();
    cycle_.phase = CyclePhase::pre_request;
    for (RuntimeInstance *i : lifecycle_) {
        RuntimeInstance &inst = *i;
        if (inst.disabled || !inst.entry.pre_request) continue;
        if (call(inst, inst.entry.pre_request, &request, &told) != PLUGHOST_OK)
            fault(inst, Code::plugin_error, message_of(inst), request);
        else if (inst.role == Role::observer) succeeded(inst);
    }
    cycle_.phase = CyclePhase::scheduling;
    decision.headers = cycle_.upstream_headers;
}

const Decision &Scheduler::schedule(const plughost_request &request, const plughost_endpoint *const *endpoints,
                                    std::size_t count, std::optional<std::size_t> profile,
                                    std::vector<Explanation> *explain) {
    return explain ? decide<true>(request, endpoints, count, profile, explain)
                   : decide<false>(request, endpoints, count, profile, nullptr);
}

template <bool Explain> const Decision &Scheduler::decide(const plughost_request &request,
                                                          const plughost_endpoint *const *endpoints, std::size_t count,
                                                          std::optional<std::size_t> profile,
                                                          std::vector<Explanation> *explain) {
    Decision &decision = decision_;  // reused: its message keeps its storage
    decision.error.reset();
    decision.message.clear();
    // The rest is set by tell_decision when the request is decided, and emptied here when not.
    auto undecided = [&decision]() -> const Decision & {
        decision.profile = 0;
        decision.picked = {};
        decision.extras = {};
        decision.headers = {};
        return decision;
    };
    if (count == 0) {
        decision.error = Code::no_endpoints;
        decision.message = "no endpoints are known yet";
        return undecided();
    }
    if (capacity_ < count) grow(count);
    const PluginCall::Watch watch(&running_);
    cycle_.attributes = &attributes_;
    cycle_.upstream_headers.clear();
    // Only a plan with attributes needs them begun (without, put and get refuse every id before
    // looking an endpoint up).
    if (!plan_.attributes.empty()) attributes_.begin(endpoints, count);
    for (ProfileState &state : states_) state.run.state = PLUGHOST_PROFILE_NOT_RUN;

    if (!producers_.empty()) run_producers(request, endpoints, count);
    if (profile || !plan_.profile_handler) {
        decision.profile = profile.value_or(0);
        run_profile<Explain>(decision.profile, request, endpoints, count, explain);
        const ProfileState &ran = states_[decision.profile];
        if (ran.error) {
            decision.error = ran.error;
            decision.message = ran.message;
            return undecided();
        }
    } else if (!run_handler(request, endpoints, count, explain, decision)) {
        return undecided();
    }
    tell_decision(request, decision);
    return decision;
}

std::span<const std::pair<std::string, std::string>> Scheduler::respond(const plughost_request &request,
                                                                        const plughost_response &response) {
    const bool started = response.outcome == PLUGHOST_RESPONSE_STARTED;
    const PluginCall::Watch watch(&running_);
    cycle_.attributes = no_attributes();  // attributes lived for the scheduling cycle only
    cycle_.client_headers.clear();
    cycle_.phase = started ? CyclePhase::response_started : CyclePhase::response_complete;
    for (RuntimeInstance *i : lifecycle_) {
        RuntimeInstance &inst = *i;
        const auto hook = started ? inst.entry.response_started : inst.entry.response_complete;
        if (inst.disabled || !hook) continue;
        if (call(inst, hook, &request, &response) != PLUGHOST_OK)
            fault(inst, Code::plugin_error, message_of(inst), request);
        else if (inst.role == Role::observer) succeeded(inst);
    }
    cycle_.phase = CyclePhase::scheduling;
    return cycle_.client_headers;
}

}  // namespace plughost::host
