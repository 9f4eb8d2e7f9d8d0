// Reading the upstream parts of a config: which plugin entries the host covers itself, which
// it refuses, the deciders folded into their profile handler, and the upstream sections.
#include "common/json_document.hpp"
#include "common/suggest.hpp"
#include "plan/upstream.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

namespace plughost::host {
namespace {

// What becomes of a plugin entry.
enum class Fate {
    kept,      ///< stays in Config::plugins for the planner
    built_in,  ///< the host covers it (Config::built_ins)
    refused,   ///< an upstream feature plughost does not provide (reported once, at the entry)
    decider,   ///< folded into the profile handlers that name it
};

struct Entry {
    PluginConfig plugin;      // as read
    const UpstreamType *row;  // null for a type upstream does not register
    Fate fate = Fate::kept;
    std::vector<std::string> folded_into = {};  // deciders: "handler (deciders.prefill)"
};

std::vector<std::string> words(std::string_view text) {
    std::vector<std::string> out;
    std::istringstream in{std::string(text)};
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

Issue upstream_feature(std::string path, const std::string &feature, std::string_view why, std::string_view instead) {
    return {std::move(path), Code::upstream_feature,
            feature + " is an upstream feature plughost does not provide: " + std::string(why), std::string(instead)};
}

// The fields of disagg-profile-handler (and the deprecated pd-profile-handler) that name a
// decider: the nested form, then the flat one.
constexpr std::string_view kDeciderFields[] = {"deciders/prefill", "deciders/encode", "prefillDeciderPluginName",
                                               "deciderPluginName", "encodeDeciderPluginName"};
constexpr std::string_view kDisaggHandler = "disagg-profile-handler";
constexpr std::string_view kPdHandler = "pd-profile-handler";
constexpr std::string_view kUtilizationDetector = "utilization-detector";
constexpr std::string_view kConcurrencyDetector = "concurrency-detector";
constexpr std::string_view kDeprecatedSelector = "by-label-selector";

// The value at a "/"-separated path of object keys below `o`, or null.
boost::json::value *member_at(boost::json::object &o, std::string_view path) {
    const std::size_t slash = path.find('/');
    auto *v = o.if_contains(path.substr(0, slash));
    if (!v || slash == std::string_view::npos) return v;
    return v->is_object() ? member_at(v->get_object(), path.substr(slash + 1)) : nullptr;
}

// A whole number as an integer when it fits in one, as upstream's limits are counts.
boost::json::value whole(double x) {
    if (std::abs(x) < 9e18) return static_cast<std::int64_t>(x);
    return x;
}

// The JSON Pointer of a "/"-separated path of keys below `base`.
std::string pointer_of(std::string base, std::string_view path) {
    for (std::size_t start = 0; start <= path.size();) {
        const std::size_t slash = std::min(path.find('/', start), path.size());
        base = child(base, path.substr(start, slash - start));
        start = slash + 1;
    }
    return base;
}

class UpstreamReader {
public:
    UpstreamReader(const boost::json::object &root, Config &config, std::vector<Issue> &errors)
        : root_(root), config_(config), errors_(errors) {
        const auto gate = config.feature_gates.find(kUpstreamFlowControlGate);
        flow_control_ = gate != config.feature_gates.end() && gate->second.value;
    }

    void run() {
        for (PluginConfig &p : config_.plugins) {
            const UpstreamType *row = find_upstream_type(p.type);
            entries_.push_back({std::move(p), row});
        }
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            all_names_.push_back(entries_[i].plugin.name);
            by_name_.emplace(entries_[i].plugin.name, i);  // the first of a name, as references resolve
        }
        for (Entry &e : entries_) classify(e);
        fold_deciders();
        place_detectors();
        check_names();
        read_data_layer();
        read_parsers();
        read_flow_control();
        drop_references();
        config_.plugins.clear();
        for (Entry &e : entries_)
            if (e.fate == Fate::kept) config_.plugins.push_back(std::move(e.plugin));
    }

private:
    void error(Issue issue) { errors_.push_back(std::move(issue)); }
    void warning(Issue issue) { config_.warnings.push_back(std::move(issue)); }

    Entry *named(const std::string &name) {
        const auto it = by_name_.find(name);
        return it == by_name_.end() ? nullptr : &entries_[it->second];
    }

    void built_in(Entry &e, std::string what) {
        e.fate = Fate::built_in;
        config_.built_ins.push_back({e.plugin.name, e.plugin.type, e.plugin.path, std::move(what)});
    }

    void refuse(Entry &e) {
        e.fate = Fate::refused;
        error(upstream_feature(child(e.plugin.path, "type"), "plugin type \"" + e.plugin.type + "\"", e.row->what,
                               e.row->instead));
    }

    // Upstream decodes parameters strictly: a name the type does not take is an error.
    void check_parameter_names(const Entry &e) {
        const auto allowed = words(e.row->parameters);
        for (const auto &kv : e.plugin.parameters) {
            const std::string name(kv.key());
            if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
            error({child(child(e.plugin.path, "parameters"), name), Code::unknown_parameter,
                   "upstream type \"" + e.plugin.type + "\" has no parameter \"" + name + "\"" +
                       did_you_mean(name, allowed),
                   allowed.empty() ? "it takes no parameters" : "its parameters are " + quoted_list(allowed)});
        }
    }

    void classify(Entry &e) {
        if (e.plugin.type == kDeprecatedSelector) {
            warning({child(e.plugin.path, "type"), Code::deprecated,
                     "plugin type \"by-label-selector\" is upstream's deprecated name of label-selector-filter: "
                     "read as label-selector-filter",
                     "write type: label-selector-filter"});
            e.plugin.type = "label-selector-filter";
            e.row = find_upstream_type(e.plugin.type);
        }
        if (!e.row || e.row->status == UpstreamStatus::plugin) return;  // the planner's, by plugin file
        if (e.row->status == UpstreamStatus::not_provided) {
            if (e.row->kind != UpstreamKind::flow_control) return refuse(e);
            // The flowControl gate's own error says flow control is not provided: no second one.
            e.fate = Fate::refused;
            if (!flow_control_)
                warning({child(e.plugin.path, "type"), Code::upstream_ignored,
                         "\"" + e.plugin.name + "\" is a flow-control policy (" + e.plugin.type +
                             "), and the flowControl feature gate is off, so upstream does not use it either: ignored",
                         "remove it"});
            return;
        }
        check_parameter_names(e);
        switch (e.row->kind) {
        case UpstreamKind::decider: e.fate = Fate::decider; return;  // folded below
        case UpstreamKind::saturation_detector: return;              // placed below
        default: break;
        }
        for (const char *backend : {"vllm", "modelName", "udsTokenizerConfig"}) {
            if (!e.plugin.parameters.contains(backend)) continue;
            e.fate = Fate::refused;
            error(upstream_feature(child(child(e.plugin.path, "parameters"), backend),
                                   e.plugin.type + "'s tokenizer backend (" + backend + ")",
                                   "it needs a tokenizer service (vLLM's /render endpoint)",
                                   "remove vllm, modelName and udsTokenizerConfig: plughost estimates tokens from "
                                   "the request's bytes itself, as upstream's estimate backend does"));
            return;
        }
        built_in(e, std::string(e.row->what));
    }

    // --- deciders ----------------------------------------------------------------------------

    void fold_deciders() {
        for (Entry &d : entries_)
            if (d.fate == Fate::decider) check_decider_parameters(d);
        for (Entry &h : entries_) {
            if (h.plugin.type != kDisaggHandler && h.plugin.type != kPdHandler) continue;
            for (std::string_view field : kDeciderFields) fold_decider(h, field);
            // pd-profile-handler names prefix-based-pd-decider when it names none.
            if (h.plugin.type == kPdHandler && !h.plugin.parameters.contains("deciderPluginName"))
                if (Entry *d = named("prefix-based-pd-decider"); d && d->fate == Fate::decider)
                    d->folded_into.push_back("\"" + h.plugin.name + "\" (" + h.plugin.type + ")");
        }
        for (Entry &d : entries_) {
            if (d.fate != Fate::decider) continue;
            std::string into;
            for (const auto &h : d.folded_into) into += (into.empty() ? "" : ", ") + h;
            config_.built_ins.push_back(
                {d.plugin.name, d.plugin.type, d.plugin.path,
                 into.empty() ? std::string(d.row->what) : "folded into the parameters of " + into});
            if (into.empty())
                warning({d.plugin.path, Code::unused_plugin,
                         "decider \"" + d.plugin.name + "\" is named by no profile handler, so it is never used",
                         "name it in deciders.prefill or deciders.encode of a disagg-profile-handler, or remove it"});
        }
    }

    void check_decider_parameters(const Entry &d) {
        const auto known = words(d.row->parameters);
        for (const auto &kv : d.plugin.parameters) {
            const auto &v = kv.value();
            if (v.is_int64() ? v.get_int64() >= 0 : v.is_uint64()) continue;
            if (std::find(known.begin(), known.end(), kv.key()) == known.end()) continue;  // reported as unknown
            error({child(child(d.plugin.path, "parameters"), kv.key()), Code::parameter_type,
                   "parameter \"" + std::string(kv.key()) + "\" of \"" + d.plugin.type +
                       "\" expects an integer >= 0, found " + describe(v),
                   "0 turns the decider's threshold off"});
        }
    }

    void fold_decider(Entry &h, std::string_view field) {
        boost::json::value *slot = member_at(h.plugin.parameters, field);
        if (!slot || !slot->is_string()) return;  // absent, or plughost's inline form, or the plugin's to refuse
        const std::string name(slot->get_string());
        const std::string at = pointer_of(child(h.plugin.path, "parameters"), field);
        const bool use = h.fate == Fate::kept;  // a refused handler has its error; its deciders are not used
        Entry *d = named(name);
        if (!d) {
            if (use)
                error({at, Code::undefined_plugin_ref,
                       "no plugin named \"" + name + "\" is defined" + did_you_mean(name, all_names_),
                       "a decider is an entry of /plugins, e.g. {\"type\": \"prefix-based-pd-decider\", "
                       "\"parameters\": {\"nonCachedTokens\": 16}}"});
            return;
        }
        if (d->fate == Fate::refused) return;  // reported at its type
        if (d->fate != Fate::decider) {
            if (use)
                error({at, Code::invalid_value, "\"" + name + "\" is a " + d->plugin.type + ", not a decider",
                       "name a prefix-based-pd-decider or always-disagg-pd-decider entry"});
            return;
        }
        std::string dotted(field);
        std::replace(dotted.begin(), dotted.end(), '/', '.');
        d->folded_into.push_back("\"" + h.plugin.name + "\" (" + dotted + ")");
        if (use) *slot = boost::json::object{{"type", d->plugin.type}, {"parameters", d->plugin.parameters}};
    }

    // --- saturation detectors ----------------------------------------------------------------

    bool referenced_by_a_profile(const std::string &name) const {
        for (const ProfileConfig &p : config_.profiles)
            for (const PluginRefConfig &r : p.plugins)
                if (r.plugin_ref == name) return true;
        return false;
    }

    // A number parameter of a detector, checked against `valid`; nullopt (reported) when bad.
    std::optional<double> number(const Entry &e, const char *name, double fallback, bool (*valid)(double),
                                 std::string_view expected, bool integer = false) {
        const auto *v = e.plugin.parameters.if_contains(name);
        if (!v) return fallback;
        const bool type_ok = integer ? (v->is_int64() || v->is_uint64()) : v->is_number();
        if (type_ok && valid(v->to_number<double>())) return v->to_number<double>();
        error({child(child(e.plugin.path, "parameters"), name), type_ok ? Code::invalid_value : Code::parameter_type,
               "parameter \"" + std::string(name) + "\" of \"" + e.plugin.type + "\" expects " + std::string(expected) +
                   ", found " + describe(*v),
               ""});
        return std::nullopt;
    }

    // Upstream's utilization-detector filter keeps an endpoint when its waiting queue is below
    // queueDepthThreshold * (1 + headroom) and its KV-cache use below kvCacheUtilThreshold *
    // (1 + headroom), both strictly, and keeps them all when it would keep none.
    std::optional<boost::json::object> utilization_filter_of_utilization(const Entry &e) {
        const auto queue = number(
            e, "queueDepthThreshold", 5, [](double x) { return x > 0; }, "an integer > 0", true);
        const auto kv = number(
            e, "kvCacheUtilThreshold", 0.8, [](double x) { return x > 0 && x <= 1; }, "a number in (0, 1]");
        const auto headroom = number(
            e, "headroom", 0, [](double x) { return x >= 0; }, "a number >= 0");
        if (const auto *s = e.plugin.parameters.if_contains("metricsStalenessThreshold"); s && !s->is_string())
            error(
                {child(child(e.plugin.path, "parameters"), "metricsStalenessThreshold"), Code::parameter_type,
                 "parameter \"metricsStalenessThreshold\" expects a duration such as \"200ms\", found " + describe(*s),
                 ""});
        if (!queue || !kv || !headroom) return std::nullopt;
        const double queue_limit = *queue * (1 + *headroom);
        const double kv_limit = *kv * (1 + *headroom);
        // queue < limit for whole queues is queue <= ceil(limit) - 1; kv < limit is kv <= the
        // double just below it (and a limit above 1 keeps every fraction).
        const double max_queue = std::ceil(queue_limit) - 1;
        const double max_kv = kv_limit > 1 ? 1.0 : std::nextafter(kv_limit, 0.0);
        return boost::json::object{
            {"conditions",
             boost::json::array{boost::json::object{{"metric", "waiting-queue"}, {"maxValue", whole(max_queue)}},
                                boost::json::object{{"metric", "kv-cache-utilization"}, {"maxValue", max_kv}}}},
            {"fallbackOnEmpty", true}};
    }

    // Upstream's concurrency-detector filter (requests mode) keeps an endpoint when its requests
    // in flight are below int(maxConcurrency * (1 + headroom)), with no fallback.
    std::optional<boost::json::object> utilization_filter_of_concurrency(Entry &e) {
        if (const auto *mode = e.plugin.parameters.if_contains("concurrencyMode")) {
            const std::string at = child(child(e.plugin.path, "parameters"), "concurrencyMode");
            if (!mode->is_string() || (mode->get_string() != "requests" && mode->get_string() != "tokens" &&
                                       mode->get_string() != "hybrid")) {
                error({at, Code::invalid_value,
                       "concurrencyMode must be \"requests\", \"tokens\" or \"hybrid\", found " + describe(*mode), ""});
                return std::nullopt;
            }
            if (mode->get_string() != "requests") {
                e.fate = Fate::refused;
                error(upstream_feature(at, "concurrency-detector's \"" + std::string(mode->get_string()) + "\" mode",
                                       "plughost counts the requests in flight on each endpoint, not their tokens",
                                       "use concurrencyMode \"requests\" (maxConcurrency)"));
                return std::nullopt;
            }
        }
        const auto max = number(
            e, "maxConcurrency", 100, [](double x) { return x > 0; }, "an integer > 0", true);
        const auto headroom = number(
            e, "headroom", 0, [](double x) { return x >= 0; }, "a number >= 0");
        number(
            e, "maxTokenConcurrency", 1'000'000, [](double x) { return x > 0; }, "an integer > 0", true);
        if (!max || !headroom) return std::nullopt;
        const double limit = std::trunc(*max * (1 + *headroom));
        return boost::json::object{{"conditions", boost::json::array{boost::json::object{
                                                      {"metric", "active-requests"}, {"maxValue", whole(limit - 1)}}}},
                                   {"fallbackOnEmpty", false}};
    }

    // Upstream puts a detector in every profile that names it, and, in a config without
    // profiles, in the default profile (it is a filter too). plughost plans it there as the
    // in-tree utilization-filter with the same thresholds.
    void place_detectors() {
        for (Entry &e : entries_) {
            if (!e.row || e.row->kind != UpstreamKind::saturation_detector || e.fate != Fate::kept) continue;
            const bool filter = config_.profiles.empty() || referenced_by_a_profile(e.plugin.name);
            const auto params = e.plugin.type == kUtilizationDetector ? utilization_filter_of_utilization(e)
                                                                      : utilization_filter_of_concurrency(e);
            if (e.fate == Fate::refused) continue;
            if (!filter || !params) {
                built_in(e, std::string(e.row->what));
                continue;
            }
            const std::string original = e.plugin.type;
            e.plugin.type = "utilization-filter";
            e.plugin.parameters = *params;
            config_.built_ins.push_back(
                {e.plugin.name, original, e.plugin.path,
                 "as a filter, planned as utilization-filter with parameters " + to_json(boost::json::value(*params)) +
                     (original == kUtilizationDetector ? " (the metrics staleness check is not carried over)" : "")});
        }
    }

    // --- names and references ----------------------------------------------------------------

    // Duplicate names between two kept entries are the planner's to report; a name taken by an
    // entry that left Config::plugins is reported here, so it stays reserved.
    void check_names() {
        std::map<std::string, std::size_t> first;
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            const auto [it, fresh] = first.emplace(entries_[i].plugin.name, i);
            if (fresh) continue;
            const Entry &earlier = entries_[it->second];
            if (earlier.fate == Fate::kept && entries_[i].fate == Fate::kept) continue;
            error({child(entries_[i].plugin.path, "name"), Code::duplicate_name,
                   "plugin name \"" + entries_[i].plugin.name + "\" is already used at " + earlier.plugin.path,
                   "give each plugin a unique \"name\" (it defaults to the type)"});
        }
    }

    // Profiles name stages; upstream ignores the plugins in a profile that are not filters,
    // scorers or pickers, and a refused entry has its own error: those references go.
    void drop_references() {
        for (ProfileConfig &profile : config_.profiles)
            std::erase_if(profile.plugins, [&](const PluginRefConfig &r) {
                const Entry *e = named(r.plugin_ref);
                return e && e->fate != Fate::kept;
            });
        drop_producer_references();
    }

    // Upstream plugins name the producer they read by a parameter (prefixMatchInfoProducerName,
    // inFlightLoadProducerName...). One naming a refused entry would be a second error about
    // the same missing feature (the entry's own error says it all): the parameter goes, and
    // the config fails on that error anyway.
    void drop_producer_references() {
        for (Entry &e : entries_) {
            if (e.fate != Fate::kept) continue;
            std::vector<std::string> gone;
            for (const auto &kv : e.plugin.parameters) {
                const std::string_view key = kv.key();
                if (!key.ends_with("ProducerName") || !kv.value().is_string()) continue;
                const Entry *producer = named(std::string(kv.value().get_string()));
                if (producer && producer->fate == Fate::refused) gone.emplace_back(key);
            }
            for (const std::string &key : gone) e.plugin.parameters.erase(key);
        }
    }

    // --- sections ----------------------------------------------------------------------------

    const boost::json::object *section(std::string_view key, const std::string &path) {
        const auto *v = root_.if_contains(key);
        if (!v) return nullptr;
        if (v->is_object()) return &v->get_object();
        error(wrong_type(path, "an object", *v));
        return nullptr;
    }

    // {"pluginRef": name}: the name, or nullopt (reported) when the shape is wrong. An optional
    // pluginRef that is absent reads as "".
    std::optional<std::string> plugin_ref(const boost::json::value &v, const std::string &path,
                                          std::vector<std::string> extra_keys = {}, bool optional = false) {
        if (!v.is_object()) {
            error(wrong_type(path, "an object {\"pluginRef\": name}", v));
            return std::nullopt;
        }
        extra_keys.insert(extra_keys.begin(), "pluginRef");
        check_keys(v.get_object(), path, extra_keys, errors_);
        const auto *ref = v.get_object().if_contains("pluginRef");
        if (!ref && optional) return std::string();
        if (!ref) {
            error({child(path, "pluginRef"), Code::missing_field, "missing required field \"pluginRef\"",
                   "name an entry of /plugins"});
            return std::nullopt;
        }
        if (!ref->is_string()) {
            error(wrong_type(child(path, "pluginRef"), "a plugin name", *ref));
            return std::nullopt;
        }
        return std::string(ref->get_string());
    }

    void undefined(const std::string &path, const std::string &name) {
        error({path, Code::undefined_plugin_ref,
               "no plugin named \"" + name + "\" is defined" + did_you_mean(name, all_names_),
               "pluginRef names an entry of /plugins by its \"name\" (which defaults to its type)"});
    }

    // A reference that must name an entry of one of `kinds`. Returns the entry when it does.
    const Entry *check_kind(const std::string &path, const std::string &name, std::initializer_list<UpstreamKind> kinds,
                            std::string_view expected) {
        const Entry *e = named(name);
        if (!e) {
            undefined(path, name);
            return nullptr;
        }
        if (e->fate == Fate::refused) return nullptr;  // reported at its type
        if (e->row)
            for (UpstreamKind k : kinds)
                if (e->row->kind == k) return e;
        error({path, Code::invalid_value,
               "\"" + name + "\" is " +
                   (e->row ? "a " + std::string(to_string(e->row->kind)) + " (" + e->plugin.type + ")"
                           : "of type " + e->plugin.type + ", which upstream does not register") +
                   ", not " + std::string(expected),
               "name an entry of a " + std::string(expected) + " type here"});
        return nullptr;
    }

    void read_data_layer() {
        const auto *dl = section("dataLayer", "/dataLayer");
        if (!dl) return;
        check_keys(*dl, "/dataLayer",
                   {"injectDefaults", "sources", "discovery", "peerDiscovery", "crossReplicaSyncerPluginRef",
                    "crossReplicaSyncInterval"},
                   errors_);
        if (const auto *v = dl->if_contains("injectDefaults")) {
            if (!v->is_bool()) error(wrong_type("/dataLayer/injectDefaults", "true or false", *v));
            else if (!v->get_bool())
                warning({"/dataLayer/injectDefaults", Code::upstream_ignored,
                         "injectDefaults: false changes nothing in plughost: the host always has each endpoint's "
                         "core metrics (from the event stream in run)",
                         "remove it"});
        }
        if (const auto *v = dl->if_contains("sources")) read_sources(*v);
        if (const auto *v = dl->if_contains("discovery")) {
            const auto name = plugin_ref(*v, "/dataLayer/discovery");
            const Entry *e = name ? named(*name) : nullptr;
            if (!(e && e->fate == Fate::refused))  // a refused discovery plugin has its error
                error(upstream_feature("/dataLayer/discovery", "endpoint discovery by a plugin (dataLayer.discovery)",
                                       "plughost learns its endpoints from the event stream",
                                       "remove dataLayer.discovery; send endpoint events to plughost"));
        }
        // Three fields, one feature: one error, at the first of them.
        std::string first;
        if (const auto *v = dl->if_contains("peerDiscovery")) {
            plugin_ref(*v, "/dataLayer/peerDiscovery");
            first = "/dataLayer/peerDiscovery";
        }
        for (const char *key : {"crossReplicaSyncerPluginRef", "crossReplicaSyncInterval"}) {
            const auto *v = dl->if_contains(key);
            if (!v) continue;
            if (!v->is_string())
                error(wrong_type(child("/dataLayer", key),
                                 std::string(key) == "crossReplicaSyncInterval" ? "a duration such as \"1s\""
                                                                                : "a plugin name",
                                 *v));
            if (first.empty()) first = child("/dataLayer", key);
        }
        if (!first.empty())
            error(upstream_feature(first,
                                   "sharing state across replicas (dataLayer.peerDiscovery, "
                                   "crossReplicaSyncerPluginRef, crossReplicaSyncInterval)",
                                   "plughost runs as one process that keeps its own state", "remove them"));
    }

    void read_sources(const boost::json::value &v) {
        if (!v.is_array()) {
            error(wrong_type("/dataLayer/sources", "an array of {pluginRef, extractors}", v));
            return;
        }
        for (std::size_t i = 0; i < v.get_array().size(); ++i) {
            const std::string at = child("/dataLayer/sources", i);
            const auto &source = v.get_array()[i];
            const auto name = plugin_ref(source, at, {"extractors"});
            if (!name) continue;
            source_or_custom(child(at, "pluginRef"), *name, UpstreamKind::data_source, "a data source");
            const auto *extractors = source.get_object().if_contains("extractors");
            if (!extractors) continue;
            if (!extractors->is_array()) {
                error(wrong_type(child(at, "extractors"), "an array of {pluginRef}", *extractors));
                continue;
            }
            for (std::size_t j = 0; j < extractors->get_array().size(); ++j) {
                const std::string x_at = child(child(at, "extractors"), j);
                if (const auto x = plugin_ref(extractors->get_array()[j], x_at))
                    source_or_custom(child(x_at, "pluginRef"), *x, UpstreamKind::extractor, "an extractor");
            }
        }
    }

    // A data-layer reference: to a built-in data source or extractor (or a producer that
    // extracts from endpoint events, as upstream allows), or to an entry that is refused.
    // Anything else would be a data-layer plugin of the operator's, which plughost cannot run.
    // The entry of such a plugin leaves Config::plugins: this is its one error.
    void source_or_custom(const std::string &path, const std::string &name, UpstreamKind kind,
                          std::string_view expected) {
        Entry *e = named(name);
        if (e && !e->row && e->fate == Fate::kept) {
            e->fate = Fate::refused;
            error(upstream_feature(path, "a data-layer plugin of your own (type " + e->plugin.type + ")",
                                   "plughost's data layer is built in",
                                   "remove the entry and this reference; plughost reads endpoint metrics itself"));
            return;
        }
        if (kind == UpstreamKind::extractor)
            check_kind(path, name, {UpstreamKind::extractor, UpstreamKind::producer}, expected);
        else check_kind(path, name, {kind}, expected);
    }

    void read_parsers() {
        const auto *handler = section("requestHandler", "/requestHandler");
        const auto *old = section("parser", "/parser");
        if (handler) check_keys(*handler, "/requestHandler", {"parsers"}, errors_);
        const auto *parsers = handler ? handler->if_contains("parsers") : nullptr;
        if (parsers && !parsers->is_array()) {
            error(wrong_type("/requestHandler/parsers", "an array of {pluginRef}", *parsers));
            parsers = nullptr;
        }
        if (parsers)
            for (std::size_t i = 0; i < parsers->get_array().size(); ++i) {
                const std::string at = child("/requestHandler/parsers", i);
                if (const auto name = plugin_ref(parsers->get_array()[i], at)) parser(child(at, "pluginRef"), *name);
            }
        if (old) {
            warning({"/parser", Code::deprecated, "the top-level parser section is deprecated upstream",
                     "list the parser in requestHandler.parsers"});
            const auto name = plugin_ref(boost::json::value(*old), "/parser");
            // Upstream uses it only when requestHandler.parsers is empty.
            if (name && (!parsers || parsers->get_array().empty())) parser("/parser/pluginRef", *name);
        }
    }

    // A parser reference names an entry, or else a parser type (upstream creates it then).
    void parser(const std::string &path, const std::string &name) {
        if (named(name)) {
            check_kind(path, name, {UpstreamKind::parser}, "a parser");
            return;
        }
        const UpstreamType *row = find_upstream_type(name);
        if (!row || row->kind != UpstreamKind::parser) return undefined(path, name);
        if (row->status == UpstreamStatus::not_provided)
            error(upstream_feature(path, "plugin type \"" + name + "\"", row->what, row->instead));
    }

    void read_flow_control() {
        std::optional<std::string> detector_at;
        const boost::json::value *detector = nullptr;
        if (const auto *fc = section("flowControl", "/flowControl")) {
            check_keys(*fc, "/flowControl",
                       {"maxBytes", "maxRequests", "defaultRequestTTL", "noEndpointRequestTTL", "defaultPriorityBand",
                        "defaultNegativePriorityBand", "priorityBands", "usageLimitPolicyPluginRef",
                        "saturationDetector", "enableEviction"},
                       errors_);
            check_flow_control_shapes(*fc);
            std::vector<std::string> settings;
            for (const auto &kv : *fc)
                if (kv.key() != "saturationDetector") settings.emplace_back(kv.key());
            if (!settings.empty() && !flow_control_)
                warning({"/flowControl", Code::upstream_ignored,
                         "the flowControl settings " + quoted_list(settings) +
                             " are ignored: the flowControl feature gate is off (upstream ignores them too)",
                         "remove them"});
            if ((detector = fc->if_contains("saturationDetector"))) detector_at = "/flowControl/saturationDetector";
        }
        if (const auto *old = root_.if_contains("saturationDetector")) {
            warning({"/saturationDetector", Code::deprecated,
                     "the top-level saturationDetector section is deprecated upstream",
                     "move it to flowControl.saturationDetector"});
            if (!detector) {  // upstream copies it there when that is not set
                detector = old;
                detector_at = "/saturationDetector";
            }
        }
        if (!detector) return;
        const auto name = plugin_ref(*detector, *detector_at, {}, true);
        if (!name || name->empty()) return;  // absent or empty: upstream's default, utilization-detector
        if (!named(*name) && *name == kUtilizationDetector) return;  // upstream creates it
        check_kind(child(*detector_at, "pluginRef"), *name, {UpstreamKind::saturation_detector},
                   "a saturation detector");
    }

    // The flow-control settings are ignored (gate off) or refused with the gate (on), but their
    // shape is still checked, as upstream decodes them strictly.
    void check_flow_control_shapes(const boost::json::object &fc) {
        const auto expect = [&](const boost::json::object &o, const std::string &path, const char *key,
                                bool (boost::json::value::*is)() const noexcept, std::string_view what) {
            if (const auto *v = o.if_contains(key); v && !(v->*is)()) error(wrong_type(child(path, key), what, *v));
        };
        const auto quantity = [&](const boost::json::object &o, const std::string &path, const char *key) {
            if (const auto *v = o.if_contains(key); v && !v->is_string() && !v->is_number())
                error(wrong_type(child(path, key), "a quantity such as \"1Gi\" or 1000", *v));
        };
        const auto band = [&](const boost::json::value &v, const std::string &path) {
            if (!v.is_object()) return error(wrong_type(path, "an object (a priority band)", v));
            const auto &o = v.get_object();
            check_keys(o, path, {"priority", "maxBytes", "maxRequests", "fairnessPolicyRef", "orderingPolicyRef"},
                       errors_);
            expect(o, path, "priority", &boost::json::value::is_int64, "an integer");
            quantity(o, path, "maxBytes");
            quantity(o, path, "maxRequests");
            expect(o, path, "fairnessPolicyRef", &boost::json::value::is_string, "a plugin name");
            expect(o, path, "orderingPolicyRef", &boost::json::value::is_string, "a plugin name");
        };
        quantity(fc, "/flowControl", "maxBytes");
        quantity(fc, "/flowControl", "maxRequests");
        expect(fc, "/flowControl", "defaultRequestTTL", &boost::json::value::is_string, "a duration such as \"60s\"");
        expect(fc, "/flowControl", "noEndpointRequestTTL", &boost::json::value::is_string,
               "a duration such as \"60s\"");
        expect(fc, "/flowControl", "usageLimitPolicyPluginRef", &boost::json::value::is_string, "a plugin name");
        expect(fc, "/flowControl", "enableEviction", &boost::json::value::is_bool, "true or false");
        for (const char *key : {"defaultPriorityBand", "defaultNegativePriorityBand"})
            if (const auto *v = fc.if_contains(key)) band(*v, child("/flowControl", key));
        if (const auto *v = fc.if_contains("priorityBands")) {
            if (!v->is_array()) error(wrong_type("/flowControl/priorityBands", "an array of priority bands", *v));
            else
                for (std::size_t i = 0; i < v->get_array().size(); ++i)
                    band(v->get_array()[i], child("/flowControl/priorityBands", i));
        }
    }

    const boost::json::object &root_;
    Config &config_;
    std::vector<Issue> &errors_;
    bool flow_control_ = false;
    std::vector<Entry> entries_;
    std::map<std::string, std::size_t> by_name_;
    std::vector<std::string> all_names_;
};

}  // namespace

void read_upstream(const boost::json::object &root, Config &config, std::vector<Issue> &errors) {
    UpstreamReader(root, config, errors).run();
}

}  // namespace plughost::host
