// plughost check and plughost list under a policy, run as real processes.
#include "deployment.hpp"

#include <doctest/doctest.h>

#include <sys/resource.h>

#include <boost/json/serialize.hpp>

using namespace plughost::test;
namespace json = boost::json;

namespace {

struct Setup : Deployment {
    Setup() {
        add(paths::plugin_queue_scorer, "queue-scorer.so");
        add(paths::plugin_max_score_picker, "max-score-picker.so");
        add(paths::alpha_gated, "alpha.so");
        add(paths::deprecated_plugin, "deprecated.so");
        add(paths::throwing_plugin, "throwing.so");
        add(paths::c_params, "params.so");
    }
    ProcessResult check(const std::string &config_text, std::vector<std::string> extra = {}) {
        auto a = args("check", config(config_text));
        a.insert(a.end(), {"-o", "json"});
        a.insert(a.end(), extra.begin(), extra.end());
        return run_plughost(a, "", {{"PLUGHOST_TEST_MARKER", (dir / "marker.txt").string()}});
    }
};

const json::object *find_issue(const json::value &doc, const char *list, const std::string &path,
                               const std::string &code) {
    for (const auto &e : doc.at(list).as_array())
        if (e.at("path") == path.c_str() && e.at("code") == code.c_str()) return &e.as_object();
    return nullptr;
}

}  // namespace

TEST_CASE("check on a good config: ok, exit 0, the documented JSON shape") {
    Setup s;
    const auto r = s.check(R"({"policy": {"minStability": "beta"}, "plugins": [{"type": "queue-scorer"},
        {"type": "max-score-picker"}]})");
    CHECK(r.exit_code == 0);
    const auto doc = parse_json(r.out);
    CHECK(doc.at("ok") == true);
    CHECK(doc.at("minStability").at("value") == "beta");
    CHECK(doc.at("minStability").at("defaulted") == false);
    CHECK(doc.at("plugins").as_array().size() == 6);
    CHECK(doc.at("errors").as_array().empty());
    for (const char *key : {"file", "type", "role", "version", "stability", "decision", "reasons"})
        CHECK_MESSAGE(doc.at("plugins").at(0).as_object().contains(key), key);
}

TEST_CASE("check reports every problem with path, code, message and hint, and exits 1") {
    Setup s;
    const auto r = s.check(R"({"featureGates": {"AlphaScorr": true}, "plugins": [{"type": "queue-scorr"},
        {"type": "alpha-scorer"}, {"type": "max-score-picker", "weight": 2}]})");
    CHECK(r.exit_code == 1);
    const auto doc = parse_json(r.out);
    CHECK(doc.at("ok") == false);
    CHECK(doc.at("minStability").at("defaulted") == true);
    const auto *unknown = find_issue(doc, "errors", "/plugins/0/type", "unknown-type");
    REQUIRE(unknown);
    CHECK(contains(std::string(unknown->at("message").as_string()), "did you mean \"queue-scorer\""));
    CHECK(!unknown->at("hint").as_string().empty());
    CHECK(find_issue(doc, "errors", "/plugins/1/type", "plugin-refused"));
    CHECK(find_issue(doc, "errors", "/plugins/2/weight", "unknown-field"));
    CHECK(find_issue(doc, "errors", "/featureGates/AlphaScorr", "unknown-gate"));
    CHECK(find_issue(doc, "warnings", "/policy/minStability", "min-stability-defaulted"));
}

TEST_CASE("flags override the config: --min-stability and --feature-gates admit the alpha plugin") {
    Setup s;
    const std::string cfg = R"({"plugins": [{"type": "alpha-scorer"}, {"type": "max-score-picker"}]})";
    CHECK(s.check(cfg).exit_code == 1);
    const auto r = s.check(cfg, {"--min-stability", "alpha", "--feature-gates", "AlphaScorer=true"});
    CHECK(r.exit_code == 0);
    CHECK(parse_json(r.out).at("minStability").at("value") == "alpha");
    CHECK(s.check(cfg, {"--feature-gates", "AlphaScorer"}).exit_code == 2);  // malformed flag: usage error
    CHECK(s.check(cfg, {"--min-stability", "gold"}).exit_code == 2);
}

TEST_CASE("check never runs plugin code, --instantiate loads, creates and destroys") {
    Setup s;
    const std::string cfg = R"({"policy": {"minStability": "alpha"}, "featureGates": {"AlphaScorer": true},
        "plugins": [{"type": "alpha-scorer"}, {"type": "max-score-picker"}]})";
    CHECK(s.check(cfg).exit_code == 0);
    CHECK(!std::filesystem::exists(s.dir / "marker.txt"));
    CHECK(s.check(cfg, {"--instantiate"}).exit_code == 0);
    CHECK(read_file(s.dir / "marker.txt") == "alpha-gated loaded\n");

    const auto failing = s.check(R"({"plugins": [{"type": "throwing-scorer", "name": "boom",
        "parameters": {"throwInCreate": true}}, {"type": "max-score-picker"}]})",
                                 {"--instantiate"});
    CHECK(failing.exit_code == 1);
    const auto failing_doc = parse_json(failing.out);
    const auto *e = find_issue(failing_doc, "errors", "/plugins/0", "create-failed");
    REQUIRE(e);
    CHECK(contains(std::string(e->at("message").as_string()), "\"boom\""));
    CHECK(contains(std::string(e->at("message").as_string()), "refusing to start"));
}

TEST_CASE("bad config files: not JSON, not YAML, huge, deeply nested, missing") {
    Setup s;
    const auto not_json = s.check("{plugins: [queue-scorer]}");  // '{' first: JSON
    CHECK(not_json.exit_code == 1);
    CHECK(parse_json(not_json.out).at("errors").at(0).at("code") == "not-json");
    CHECK(parse_json(not_json.out).at("errors").as_array().size() == 1);  // and nothing spurious
    const auto not_yaml = s.check("plugins: [queue-scorer\nkind: x\n");
    CHECK(not_yaml.exit_code == 1);
    const auto yaml_error = parse_json(not_yaml.out).at("errors").at(0);
    CHECK(yaml_error.at("code") == "not-yaml");
    CHECK(yaml_error.at("line") == 2);
    CHECK(parse_json(not_yaml.out).at("errors").as_array().size() == 1);

    write_file(s.dir / "big.json", "{\"plugins\": [" + std::string(10 * 1024 * 1024, ' ') + "]}");
    const auto big = run_plughost(
        {"check", "--config", (s.dir / "big.json").string(), "--plugin-dir", s.plugins.path().string(), "-o", "json"});
    CHECK(big.exit_code == 1);
    CHECK(parse_json(big.out).at("errors").at(0).at("code") == "too-large");
    CHECK(parse_json(big.out).at("errors").as_array().size() == 1);

    const auto deep = s.check("{\"plugins\": " + std::string(50000, '[') + std::string(50000, ']') + "}");
    CHECK(deep.exit_code == 1);
    CHECK(contains(std::string(parse_json(deep.out).at("errors").at(0).at("message").as_string()), "nested deeper"));
    CHECK(parse_json(deep.out).at("errors").as_array().size() == 1);

    const auto utf8 = s.check("{\"plugins\": [{\"type\": \"queue-scorer\", \"name\": \"q\xc3\"}]}");
    CHECK(utf8.exit_code == 1);
    CHECK(contains(std::string(parse_json(utf8.out).at("errors").at(0).at("message").as_string()),
                   "invalid UTF-8 (byte 0xc3) at column 49"));

    // Each gives one error: a document that parses but is not an object (text that does not
    // start with '{' is YAML, where plain words are a string) is not also "configures no
    // plugins"; JSON cut short after a '[' (which YAML reads too) gets JSON's error, not YAML's
    // "a sequence as a key".
    const struct {
        const char *text, *code, *says;
    } documents[] = {
        {"not json", "wrong-type", "expected an object"},
        {"[1, 2]", "wrong-type", "expected an object"},
        {"42", "wrong-type", "expected an object"},
        {"- queue-scorer\n- max-score-picker\n", "wrong-type", "expected an object"},
        {"[", "not-json", "incomplete JSON"},
        {"[1, 2", "not-json", "incomplete JSON"},
        {"[[[", "not-json", "incomplete JSON"},
        {"[{\"type\": \"queue-scorer\"}", "not-json", "incomplete JSON"},
    };
    for (const auto &d : documents) {
        CAPTURE(std::string(d.text));
        const auto result = s.check(d.text);
        CHECK(result.exit_code == 1);
        const auto errors = parse_json(result.out).at("errors");
        REQUIRE(errors.as_array().size() == 1);
        CHECK(errors.at(0).at("code") == d.code);
        CHECK(contains(std::string(errors.at(0).at("message").as_string()), d.says));
    }

    const auto wrong =
        s.check(R"({"plugins": {"type": 1}, "schedulingProfiles": "x", "policy": [], "featureGates": 3})");
    CHECK(wrong.exit_code == 1);
    CHECK(parse_json(wrong.out).at("errors").as_array().size() == 4);

    const auto missing = run_plughost({"check", "--config", (s.dir / "absent.json").string()});
    CHECK(missing.exit_code == 2);
    CHECK(contains(missing.err, "absent.json"));
    CHECK(run_plughost({"check"}).exit_code == 2);  // --config is required
}

TEST_CASE("a key given twice in a config is an error naming it, never resolved silently") {
    Setup s;
    const auto twice = s.check(R"({"policy": {"minStability": "stable", "minStability": "alpha"},
                                   "featureGates": {"AlphaScorer": true},
                                   "plugins": [{"type": "alpha-scorer"}, {"type": "max-score-picker"}]})");
    CHECK(twice.exit_code == 1);
    const auto doc = parse_json(twice.out);
    REQUIRE(doc.at("errors").as_array().size() == 1);  // the document is not interpreted further
    const auto &e = doc.at("errors").at(0);
    CHECK(e.at("code") == "duplicate-key");
    CHECK(e.at("path") == "/policy/minStability");
    CHECK(contains(std::string(e.at("message").as_string()), "line 1"));
}

TEST_CASE("check as a table names the minimum stability, the profiles and each problem") {
    Setup s;
    const auto r = run_plughost({"check", "--config", s.config(R"({"plugins": [{"type": "queue-scorer"}]})"),
                                 "--plugin-dir", s.plugins.path().string()});
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "minimum stability: beta (the default"));
    CHECK(contains(r.out, "default (default): 1*queue-scorer -> max-score-picker"));
    CHECK(contains(r.out, "warning [deprecated]"));
    CHECK(contains(r.out, "ok: the config can run"));
}

TEST_CASE("list applies the policy, and says when the minimum stability was defaulted") {
    Setup s;
    const auto r = run_plughost({"list", "--plugin-dir", s.plugins.path().string(), "-o", "json"});
    CHECK(r.exit_code == 1);  // the alpha plugin is refused by default
    const auto doc = parse_json(r.out);
    CHECK(doc.at("minStability").at("defaulted") == true);
    bool alpha_refused = false, deprecated_warned = false;
    for (const auto &p : doc.at("plugins").as_array()) {
        if (p.at("type") == "alpha-scorer") alpha_refused = p.at("decision") == "rejected";
        if (p.at("type") == "old-scorer")
            deprecated_warned = p.at("decision") == "admitted" && p.at("warnings").at(0).at("code") == "deprecated";
    }
    CHECK(alpha_refused);
    CHECK(deprecated_warned);
    const auto allowed = run_plughost({"list", "--plugin-dir", s.plugins.path().string(), "-o", "json",
                                       "--min-stability", "alpha", "--feature-gates=AlphaScorer=true"});
    CHECK(allowed.exit_code == 0);
    CHECK(parse_json(allowed.out).at("minStability").at("defaulted") == false);
    const auto bad_gate =
        run_plughost({"list", "--plugin-dir", s.plugins.path().string(), "--feature-gates=Nope=true"});
    CHECK(bad_gate.exit_code == 1);
    CHECK(contains(bad_gate.err, "unknown feature gate \"Nope\""));
}

TEST_CASE(
    "the policy file and deprecation flags: --tombstones, --maturity, --reject-deprecated, --allow-past-removal") {
    Setup s;
    copy_to(paths::past_removal, s.plugins / "expired.so");
    write_file(s.dir / "tombstones.json", R"({"plugins": [{"type": "queue-scorer", "removedIn": "0.9.0",
        "message": "retired here.", "replacements": ["good-scorer"]}]})");
    write_file(s.dir / "maturity.json", R"({"plugins": {"old-scorer": "stable"}})");
    auto decision = [&](const std::vector<std::string> &flags, const std::string &type) {
        std::vector<std::string> args{"list", "--plugin-dir", s.plugins.path().string(), "-o", "json"};
        args.insert(args.end(), flags.begin(), flags.end());
        const auto doc = parse_json(run_plughost(args).out);
        for (const auto &p : doc.at("plugins").as_array())
            if (p.at("type") == type.c_str()) return boost::json::serialize(p);
        return std::string("not listed");
    };
    CHECK(contains(decision({}, "queue-scorer"), "\"decision\":\"admitted\""));
    CHECK(contains(decision({"--tombstones", (s.dir / "tombstones.json").string()}, "queue-scorer"), "\"tombstoned\""));
    CHECK(contains(decision({"--maturity", (s.dir / "maturity.json").string()}, "old-scorer"),
                   "\"maturity-regression\""));
    CHECK(contains(decision({}, "old-scorer"), "\"decision\":\"admitted\""));
    CHECK(contains(decision({"--reject-deprecated"}, "old-scorer"), "\"decision\":\"rejected\""));
    CHECK(contains(decision({}, "expired-scorer"), "\"past-removal\""));
    const std::string allowed = decision({"--allow-past-removal", "expired-scorer"}, "expired-scorer");
    CHECK(contains(allowed, "\"decision\":\"admitted\""));
    CHECK(contains(allowed, "\"past-removal-allowed\""));
    CHECK(run_plughost(
              {"list", "--plugin-dir", s.plugins.path().string(), "--tombstones", (s.dir / "absent.json").string()})
              .exit_code == 2);
}

TEST_CASE("deprecation versions are the plugin's own: a 0.x third-party plugin is warned about, not refused") {
    // This host is 1.0.0; the plugin's removedIn 0.6.0 is on the plugin's own scale.
    auto listed = [](const std::string &fixture, std::vector<std::string> extra = {}) {
        Deployment d;
        d.add(fixture, "acme-legacy-scorer.so");
        std::vector<std::string> a{"list", "--plugin-dir", d.plugins.path().string(), "-o", "json"};
        a.insert(a.end(), extra.begin(), extra.end());
        const auto r = run_plughost(a);
        const auto doc = parse_json(r.out);
        return std::pair{r.exit_code, json::value(doc.at("plugins").at(0))};
    };
    const auto [ok_exit, deprecated] = listed(paths::own_scale_deprecated);
    CHECK(ok_exit == 0);
    CHECK(deprecated.at("decision") == "admitted");
    const std::string warned = json::serialize(deprecated.at("warnings"));
    CHECK_MESSAGE(contains(warned, "\"deprecated\""), warned);
    CHECK_MESSAGE(contains(warned, "0.4.0 is deprecated since 0.3.0 and is removed in 0.6.0 of this plugin: Use "
                                   "acme-scorer."),
                  warned);

    const auto [removed_exit, removed] = listed(paths::own_scale_removed);
    CHECK(removed_exit == 1);
    const std::string refused = json::serialize(removed.at("reasons"));
    CHECK_MESSAGE(contains(refused, "\"past-removal\""), refused);
    CHECK_MESSAGE(contains(refused, "this file is version 0.6.0, at or past that removal"), refused);
    const auto [allowed_exit, allowed] =
        listed(paths::own_scale_removed, {"--allow-past-removal", "acme-legacy-scorer"});
    CHECK(allowed_exit == 0);
    CHECK(contains(json::serialize(allowed.at("warnings")), "\"past-removal-allowed\""));

    const auto [bad_exit, inconsistent] = listed(paths::own_scale_inconsistent);
    CHECK(bad_exit == 1);
    const std::string bad = json::serialize(inconsistent.at("reasons"));
    CHECK_MESSAGE(contains(bad, "\"bad-manifest\""), bad);
    CHECK_MESSAGE(contains(bad, "manifest field deprecation.since is a version of this plugin and cannot be later than "
                                "its own version: expected 0.2.0 or earlier, found 0.3.0"),
                  bad);

    // check on a config using it: ok, with the deprecation among the warnings.
    Deployment d;
    d.add(paths::own_scale_deprecated, "acme-legacy-scorer.so");
    d.add(paths::plugin_max_score_picker, "max-score-picker.so");
    auto a =
        d.args("check", d.config(R"({"plugins": [{"type": "acme-legacy-scorer"}, {"type": "max-score-picker"}]})"));
    a.insert(a.end(), {"-o", "json"});
    const auto r = run_plughost(a);
    CHECK_MESSAGE(r.exit_code == 0, r.out, r.err);
    CHECK(contains(r.out, "removed in 0.6.0 of this plugin"));
}

namespace {

// A plugin directory with the in-tree queue-scorer and a second file declaring the same type.
struct Collision : Deployment {
    Collision() {
        add(paths::plugin_queue_scorer, "queue-scorer.so");
        add(paths::plugin_queue_scorer, "acme-queue.so");  // a third-party build of an in-tree type
        add(paths::plugin_max_score_picker, "max-score-picker.so");
    }
    ProcessResult run(const std::string &command, const std::string &config_text, std::vector<std::string> extra = {}) {
        auto a = args(command, config(config_text));
        a.insert(a.end(), {"-o", "json"});
        a.insert(a.end(), extra.begin(), extra.end());
        return run_plughost(a);
    }
};

// The reasons and warnings of one file in a list or check report, as JSON text.
std::string decision_of(const json::value &doc, const std::string &file) {
    for (const auto &p : doc.at("plugins").as_array())
        if (std::filesystem::path(std::string(p.at("file").as_string())).filename() == file) return json::serialize(p);
    return "not listed";
}

}  // namespace

TEST_CASE("a type declared by two files: both refused with one consistent message, check gives one error and the fix") {
    Collision s;
    const std::string config = R"({"policy": {"minStability": "beta"}, "plugins": [{"type": "queue-scorer"},
        {"type": "max-score-picker"}]})";
    const auto r = s.run("check", config);
    CHECK(r.exit_code == 1);
    const auto doc = parse_json(r.out);
    for (const char *file : {"queue-scorer.so", "acme-queue.so"}) {
        const std::string d = decision_of(doc, file);
        CAPTURE(d);
        CHECK(contains(d, "\"decision\":\"rejected\""));
        CHECK(contains(d, "\"duplicate-type\""));
        CHECK(contains(d, "none is chosen, so all of them are refused: choose this file with policy.providers: "
                          "{\\\"queue-scorer\\\": \\\"" +
                              std::string(file) + "\\\"}"));
    }
    CHECK(contains(decision_of(doc, "acme-queue.so"), "as do " + (s.plugins / "queue-scorer.so").string()));
    CHECK(contains(decision_of(doc, "queue-scorer.so"), "as do " + (s.plugins / "acme-queue.so").string()));
    // One error at the configured type, naming both files and the fix; not a refusal quoting one file.
    REQUIRE(doc.at("errors").as_array().size() == 1);
    const auto &e = doc.at("errors").at(0);
    CHECK(e.at("path") == "/plugins/0/type");
    CHECK(e.at("code") == "duplicate-type");
    CHECK(contains(std::string(e.at("message").as_string()),
                   "plugin type \"queue-scorer\" is declared by 2 files in the plugin directory (acme-queue.so, "
                   "queue-scorer.so), and none is chosen"));
    CHECK(contains(std::string(e.at("hint").as_string()), "policy.providers: {\"queue-scorer\": \"acme-queue.so\"}"));
}

TEST_CASE("policy.providers and --provider choose the file of a type, and a choice naming no such file is an error") {
    Collision s;
    const auto chosen = s.run("check", R"({"policy": {"minStability": "beta", "providers": {"queue-scorer":
        "queue-scorer.so"}}, "plugins": [{"type": "queue-scorer"}, {"type": "max-score-picker"}]})");
    CHECK_MESSAGE(chosen.exit_code == 0, chosen.out);
    const auto doc = parse_json(chosen.out);
    const std::string in_tree = decision_of(doc, "queue-scorer.so"), other = decision_of(doc, "acme-queue.so");
    CHECK_MESSAGE(contains(in_tree, "\"decision\":\"admitted\""), in_tree);
    CHECK_MESSAGE(contains(in_tree, "\"provider-chosen\""), in_tree);
    CHECK_MESSAGE(contains(in_tree, "chosen by policy.providers over " + (s.plugins / "acme-queue.so").string()),
                  in_tree);
    CHECK_MESSAGE(contains(other, "\"provider-not-chosen\""), other);
    CHECK_MESSAGE(contains(other, "which policy.providers gives to " + (s.plugins / "queue-scorer.so").string()),
                  other);
    CHECK_MESSAGE(!contains(other, "\"duplicate-type\""), other);

    // The flag overrides the config: the third-party file provides the type instead.
    const auto flag = s.run("list", R"({"policy": {"providers": {"queue-scorer": "queue-scorer.so"}}})",
                            {"--provider", "queue-scorer=acme-queue.so"});
    const auto flag_doc = parse_json(flag.out);
    CHECK(contains(decision_of(flag_doc, "acme-queue.so"), "\"decision\":\"admitted\""));
    CHECK(contains(decision_of(flag_doc, "queue-scorer.so"), "which --provider gives to"));

    // A choice must name a file of the plugin directory that declares the type.
    const auto missing = s.run("check", R"({"policy": {"providers": {"queue-scorer": "nope.so"}},
        "plugins": [{"type": "max-score-picker"}]})");
    CHECK(missing.exit_code == 1);
    CHECK_MESSAGE(contains(missing.out, "\"nope.so\\\" is not a plugin file in the plugin directory"), missing.out);
    CHECK(contains(missing.out, "\"path\":\"/policy/providers/queue-scorer\""));
    const auto wrong = s.run("check", R"({"policy": {"providers": {"queue-scorer": "max-score-picker.so"}},
        "plugins": [{"type": "max-score-picker"}]})");
    CHECK_MESSAGE(contains(wrong.out, "declares plugin type \\\"max-score-picker\\\", not \\\"queue-scorer\\\""),
                  wrong.out);
    const auto not_a_file = s.run("check", R"({"policy": {"providers": {"queue-scorer": "../x.so"}}})");
    CHECK(not_a_file.exit_code == 1);
    CHECK(contains(not_a_file.out, "a file name in the plugin directory"));
    const auto bad_flag =
        run_plughost({"list", "--plugin-dir", s.plugins.path().string(), "--provider", "queue-scorer"});
    CHECK(bad_flag.exit_code == 2);
    CHECK(contains(bad_flag.err, "expected TYPE=FILE"));
}

TEST_CASE("with a lock, a file it does not pin takes no part in a type collision: the pinned provider runs") {
    Collision s;
    std::filesystem::remove(s.plugins / "acme-queue.so");
    const auto locked = run_plughost({"lock", "--plugin-dir", s.plugins.path().string()});
    REQUIRE_MESSAGE(locked.exit_code == 0, locked.err);
    write_file(s.dir / "plughost.lock", locked.out);
    s.add(paths::plugin_queue_scorer, "acme-queue.so");  // dropped in after the lock was made
    const auto r = s.run("check", R"({"policy": {"minStability": "beta", "lockFile": "plughost.lock"},
        "plugins": [{"type": "queue-scorer"}, {"type": "max-score-picker"}]})");
    CHECK_MESSAGE(r.exit_code == 0, r.out);
    const auto doc = parse_json(r.out);
    CHECK(contains(decision_of(doc, "queue-scorer.so"), "\"decision\":\"admitted\""));
    const std::string other = decision_of(doc, "acme-queue.so");
    CHECK_MESSAGE(contains(other, "\"not-in-lock\""), other);
    CHECK_MESSAGE(!contains(other, "\"duplicate-type\""), other);
}

TEST_CASE("a file-size limit below a plugin's size refuses loading it with the reason, and kills nothing") {
    Setup s;
    ProcessOptions o;
    o.limits = {{RLIMIT_FSIZE, 4096}};  // the in-memory copy of a plugin is a file too
    const auto r = run_plughost_with({"check", "--config", s.config(R"({"plugins": [{"type": "queue-scorer"}]})"),
                                      "--plugin-dir", s.plugins.path().string(), "--instantiate", "-o", "json"},
                                     "", o);
    CHECK(r.signal == 0);  // not SIGXFSZ
    CHECK(r.exit_code == 1);
    const auto doc = parse_json(r.out);
    const auto *e = find_issue(doc, "errors", "/plugins/0/type", "load-failed");
    REQUIRE_MESSAGE(e, r.out);
    CHECK(contains(std::string(e->at("message").as_string()), "file-size limit (ulimit -f, RLIMIT_FSIZE)"));
}

TEST_CASE("with probe results on record, a plugin whose in-memory copy fails is reported with the reason") {
    // The recorded results make check hash every admitted file up front; a copy that fails there
    // must still be reported as why the plugin cannot be loaded (it once said only "was not
    // admitted with an open descriptor").
    Setup s;
    const auto config = s.config(R"({"plugins": [{"type": "queue-scorer"}]})");
    const std::string state = (s.dir / "probe-state.json").string();
    REQUIRE(run_plughost({"check", "--config", config, "--plugin-dir", s.plugins.path().string(), "--probe",
                          "--probe-state", state})
                .exit_code == 0);
    ProcessOptions o;
    o.limits = {{RLIMIT_FSIZE, 4096}};
    const auto r = run_plughost_with({"check", "--config", config, "--plugin-dir", s.plugins.path().string(),
                                      "--probe-state", state, "--instantiate", "-o", "json"},
                                     "", o);
    CHECK(r.signal == 0);
    CHECK(r.exit_code == 1);
    const auto doc = parse_json(r.out);
    const auto *e = find_issue(doc, "errors", "/plugins/0/type", "load-failed");
    REQUIRE_MESSAGE(e, r.out);
    CHECK(contains(std::string(e->at("message").as_string()), "file-size limit (ulimit -f, RLIMIT_FSIZE)"));
}

TEST_CASE("out of file descriptors, a configured type is reported as unreadable, not as absent") {
    Deployment d;
    // Junk sorts first and is read (and held) first; the plugins come last, past the limit.
    for (int i = 0; i < 40; ++i) write_file(d.plugins / ("a-junk-" + std::to_string(i) + ".so"), "not a plugin");
    d.add(paths::plugin_queue_scorer, "z-queue-scorer.so");
    d.add(paths::plugin_max_score_picker, "z-max-score-picker.so");
    ProcessOptions o;
    o.limits = {{RLIMIT_NOFILE, 32}};
    auto args = d.args("check", d.config(R"({"plugins": [{"type": "queue-scorer"}, {"type": "max-score-picker"}]})"));
    args.insert(args.end(), {"--instantiate", "-o", "json"});
    const auto r = run_plughost_with(args, "", o);
    REQUIRE_MESSAGE(r.exit_code == 1, r.err);
    const auto doc = parse_json(r.out);
    const auto *e = find_issue(doc, "errors", "/plugins/0/type", "unknown-type");
    REQUIRE_MESSAGE(e, r.out);
    const std::string m(e->at("message").as_string());
    CHECK_MESSAGE(contains(m, "some files could not be read, and one of them may"), m);
    CHECK_MESSAGE(contains(m, "Too many open files"), m);
    CHECK_MESSAGE(contains(m, "ulimit -n"), m);
    // The unreadable picker is that one error, not also a profile without a picker.
    for (const auto &error : doc.at("errors").as_array()) CHECK_MESSAGE(error.at("code") != "no-picker", r.out);
}

TEST_CASE("check refuses a missing required parameter and values outside the manifest's bounds or enumeration, "
          "without running plugin code") {
    Setup s;
    const auto plugins = [](const std::string &params) {
        return R"({"plugins": [{"type": "params-scorer", "parameters": )" + params +
               R"(}, {"type": "max-score-picker"}]})";
    };
    CHECK(s.check(plugins(R"({"bias": 3})")).exit_code == 0);
    CHECK(s.check(plugins(R"({"bias": 10, "weight": 1, "mode": "half"})")).exit_code == 0);  // bounds are inclusive

    const auto missing = s.check(plugins(R"({"weight": 0.5})"));
    CHECK(missing.exit_code == 1);
    const auto missing_doc = parse_json(missing.out);
    const auto *m = find_issue(missing_doc, "errors", "/plugins/0/parameters", "missing-parameter");
    REQUIRE(m);
    CHECK(contains(std::string(m->at("message").as_string()), "needs parameter \"bias\" (integer)"));
    CHECK(contains(std::string(m->at("hint").as_string()), "A required count."));

    const auto out = s.check(plugins(R"({"bias": 11, "weight": -0.5, "mode": "steep"})"));
    CHECK(out.exit_code == 1);
    const auto doc = parse_json(out.out);
    const auto *bias = find_issue(doc, "errors", "/plugins/0/parameters/bias", "parameter-range");
    const auto *weight = find_issue(doc, "errors", "/plugins/0/parameters/weight", "parameter-range");
    const auto *mode = find_issue(doc, "errors", "/plugins/0/parameters/mode", "parameter-range");
    REQUIRE(bias);
    REQUIRE(weight);
    REQUIRE(mode);
    CHECK(contains(std::string(bias->at("message").as_string()), "must be at most 10, found integer 11"));
    CHECK(contains(std::string(weight->at("message").as_string()), "must be at least 0, found number -0.5"));
    CHECK(contains(std::string(mode->at("message").as_string()),
                   R"(must be one of "flat", "half", found string "steep")"));
    CHECK(!std::filesystem::exists(s.dir / "marker.txt"));
}

TEST_CASE("an upstream config in YAML, through the real CLI: positions, built-ins, one error per missing feature") {
    Setup s;
    const std::string yaml = R"(apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
featureGates: [flowControl=true]
plugins:
- type: queue-scorer
- type: metrics-data-source
- type: core-metrics-extractor
- type: dcgm-data-source
- type: max-score-picker
- type: queue-scorr
schedulingProfiles:
- name: default
  plugins:
  - {pluginRef: queue-scorer, weight: 2, shadow: false}
  - {pluginRef: dcgm-data-source}
dataLayer:
  sources:
  - pluginRef: metrics-data-source
    extractors: [{pluginRef: core-metrics-extractor}]
)";
    auto a = s.args("check", s.config(yaml, "epp.yaml"));
    a.insert(a.end(), {"-o", "json"});
    const auto json = run_plughost(a);
    CHECK(json.exit_code == 1);
    const auto doc = parse_json(json.out);
    // Exactly three errors: the gate, the DCGM source (not also its reference in the profile),
    // and the typo the planner finds, located by the config's map.
    REQUIRE_MESSAGE(doc.at("errors").as_array().size() == 3, json.out);
    const auto *gate = find_issue(doc, "errors", "/featureGates/0", "upstream-feature");
    REQUIRE(gate);
    CHECK(gate->at("line") == 3);
    CHECK(gate->at("column") == 16);
    const auto *dcgm = find_issue(doc, "errors", "/plugins/3/type", "upstream-feature");
    REQUIRE(dcgm);
    CHECK(dcgm->at("line") == 8);
    CHECK(contains(std::string(dcgm->at("message").as_string()), "(line 8, column 9)"));
    const auto *typo = find_issue(doc, "errors", "/plugins/5/type", "unknown-type");
    REQUIRE(typo);
    CHECK(typo->at("line") == 10);
    CHECK(contains(std::string(typo->at("message").as_string()), "did you mean \"queue-scorer\""));
    const auto *old = find_issue(doc, "warnings", "/apiVersion", "deprecated");
    REQUIRE(old);
    CHECK(old->at("line") == 1);
    const auto &built_ins = doc.at("builtIns").as_array();
    REQUIRE(built_ins.size() == 2);
    CHECK(built_ins[0].at("name") == "metrics-data-source");
    CHECK(built_ins[0].at("type") == "metrics-data-source");
    CHECK(built_ins[0].at("path") == "/plugins/1");
    CHECK(contains(std::string(built_ins[0].at("what").as_string()), "built in"));

    // Without the missing features and the typo it is ok, and the table shows the notes.
    std::string fixed = yaml;
    for (const char *cut : {"featureGates: [flowControl=true]\n", "- type: dcgm-data-source\n",
                            "  - {pluginRef: dcgm-data-source}\n", "- type: queue-scorr\n"})
        fixed.erase(fixed.find(cut), std::string(cut).size());
    const auto table = run_plughost(s.args("check", s.config(fixed, "epp.yaml")));
    CHECK_MESSAGE(table.exit_code == 0, table.out);
    CHECK(contains(table.out, "note: /plugins/1 \"metrics-data-source\" (metrics-data-source): built in"));
    CHECK(contains(table.out, "default: 2*queue-scorer -> max-score-picker"));
    CHECK(contains(table.out, "warning [deprecated] /apiVersion: apiVersion"));

    // The same config as JSON reads the same: ok, and no line or column.
    auto j = s.args("check", s.config(R"({"apiVersion": "llm-d.ai/v1alpha1", "kind": "EndpointPickerConfig",
        "plugins": [{"type": "queue-scorer"}, {"type": "metrics-data-source"}, {"type": "core-metrics-extractor"},
                    {"type": "max-score-picker"}],
        "schedulingProfiles": [{"name": "default", "plugins": [{"pluginRef": "queue-scorer", "weight": 2},
                                                              {"pluginRef": "max-score-picker"}]}],
        "dataLayer": {"sources": [{"pluginRef": "metrics-data-source",
                                   "extractors": [{"pluginRef": "core-metrics-extractor"}]}]}})"));
    j.insert(j.end(), {"-o", "json"});
    const auto from_json = run_plughost(j);
    CHECK_MESSAGE(from_json.exit_code == 0, from_json.out);
    const auto json_doc = parse_json(from_json.out);
    CHECK(json_doc.at("builtIns").as_array().size() == 2);
    for (const auto &w : json_doc.at("warnings").as_array()) CHECK(!w.as_object().contains("line"));
}

TEST_CASE("upstream's stock default configs, written in YAML, pass check against the in-tree plugins") {
    TempDir dir;
    // Upstream's built-in default (its config loader's default when no config is given).
    const std::string loader_default = R"(apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
featureGates: []
plugins:
- type: queue-scorer
- type: kv-cache-utilization-scorer
- type: prefix-cache-scorer
- type: metrics-data-source
- type: core-metrics-extractor
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: queue-scorer
    weight: 2
  - pluginRef: kv-cache-utilization-scorer
    weight: 2
  - pluginRef: prefix-cache-scorer
    weight: 3
dataLayer:
  sources:
  - pluginRef: metrics-data-source
    extractors:
    - pluginRef: core-metrics-extractor
)";
    // What upstream's Helm chart renders with its default values.
    const std::string helm_default = R"(apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
- type: kv-cache-utilization-scorer
- type: prefix-cache-scorer
- type: metrics-data-source
  parameters:
    scheme: "http"
    path: "/metrics"
    insecureSkipVerify: true
- type: core-metrics-extractor
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: queue-scorer
    weight: 2
  - pluginRef: kv-cache-utilization-scorer
    weight: 2
  - pluginRef: prefix-cache-scorer
    weight: 3
)";
    // The shape of upstream's integration-test default: the deprecated apiVersion, a parser.
    const std::string test_default = R"(apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
- type: kv-cache-utilization-scorer
- type: prefix-cache-scorer
- type: lora-affinity-scorer
- type: openai-parser
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: queue-scorer
  - pluginRef: kv-cache-utilization-scorer
  - pluginRef: prefix-cache-scorer
  - pluginRef: lora-affinity-scorer
requestHandler:
  parsers:
  - pluginRef: openai-parser
)";
    for (const auto &[name, text] :
         {std::pair{"loader-default.yaml", loader_default}, std::pair{"helm-default.yaml", helm_default},
          std::pair{"test-default.yaml", test_default}}) {
        CAPTURE(name);
        write_file(dir / name, text);
        const auto r =
            run_plughost({"check", "--config", (dir / name).string(), "--plugin-dir", paths::plugin_dir, "-o", "json"});
        CHECK_MESSAGE(r.exit_code == 0, r.out, r.err);
        const auto doc = parse_json(r.out);
        CHECK(doc.at("errors").as_array().empty());
        // The profile names no picker: the planner gives it max-score-picker, once, with a warning.
        CHECK_MESSAGE(find_issue(doc, "warnings", "/schedulingProfiles/0", "picker-defaulted"), r.out);
    }
}

TEST_CASE("an upstream type plughost has an in-tree plugin for, not installed: unknown-type, not upstream-feature") {
    Setup s;  // queue-scorer and max-score-picker only
    const auto r = s.check("apiVersion: llm-d.ai/v1alpha1\nkind: EndpointPickerConfig\n"
                           "plugins: [{type: queue-scorer}, {type: session-affinity-scorer}]\n"
                           "schedulingProfiles: [{name: default, plugins: [{pluginRef: queue-scorer}, "
                           "{pluginRef: session-affinity-scorer}]}]\n");
    CHECK(r.exit_code == 1);
    const auto doc = parse_json(r.out);
    REQUIRE_MESSAGE(doc.at("errors").as_array().size() == 1, r.out);
    const auto *e = find_issue(doc, "errors", "/plugins/1/type", "unknown-type");
    REQUIRE_MESSAGE(e, r.out);
    const std::string m(e->at("message").as_string());
    CHECK_MESSAGE(contains(m, "in-tree plugin of plughost"), m);
    CHECK_MESSAGE(!contains(m, "did you mean"), m);
    CHECK(contains(std::string(e->at("hint").as_string()), "session-affinity-scorer.so"));
}

TEST_CASE("an upstream section or type plughost does not provide: one upstream-feature error naming it") {
    Setup s;
    const std::string head = "apiVersion: llm-d.ai/v1alpha1\nkind: EndpointPickerConfig\n";
    // A section: endpoint discovery by a plugin (its plugin is refused once, at its type).
    const auto section = s.check(head + R"(plugins:
- type: queue-scorer
schedulingProfiles:
- name: default
  plugins: [{pluginRef: queue-scorer}]
dataLayer:
  peerDiscovery: {pluginRef: queue-scorer}
)");
    CHECK(section.exit_code == 1);
    const auto sdoc = parse_json(section.out);
    REQUIRE_MESSAGE(sdoc.at("errors").as_array().size() == 1, section.out);
    const auto *peer = find_issue(sdoc, "errors", "/dataLayer/peerDiscovery", "upstream-feature");
    REQUIRE_MESSAGE(peer, section.out);
    CHECK(contains(std::string(peer->at("message").as_string()), "dataLayer.peerDiscovery"));
    CHECK(contains(std::string(peer->at("message").as_string()), "upstream feature plughost does not provide"));
    CHECK(peer->at("line") == 9);

    // A type: the precise prefix-cache producer needs a KV-event stream. One error, at its type,
    // and no did-you-mean to an unrelated name.
    const auto type = s.check(head + R"(plugins:
- type: queue-scorer
- type: precise-prefix-cache-producer
  parameters: {kvEventsConfig: {zmqEndpoint: "tcp://0.0.0.0:5557"}}
schedulingProfiles:
- name: default
  plugins: [{pluginRef: queue-scorer}, {pluginRef: precise-prefix-cache-producer}]
)");
    CHECK(type.exit_code == 1);
    const auto tdoc = parse_json(type.out);
    REQUIRE_MESSAGE(tdoc.at("errors").as_array().size() == 1, type.out);
    const auto *precise = find_issue(tdoc, "errors", "/plugins/1/type", "upstream-feature");
    REQUIRE_MESSAGE(precise, type.out);
    const std::string m(precise->at("message").as_string());
    CHECK_MESSAGE(contains(m, "\"precise-prefix-cache-producer\" is an upstream feature plughost does not provide"), m);
    CHECK(!contains(m, "did you mean"));
    CHECK(contains(std::string(precise->at("hint").as_string()), "approx-prefix-cache-producer"));
}

TEST_CASE("the worked example of docs/upstream.md is admitted, created and checked like any plugin") {
    Setup s;
    s.add(paths::busy_endpoint_scorer, "busy-endpoint-scorer.so");
    const std::string head = "apiVersion: llm-d.ai/v1alpha1\nkind: EndpointPickerConfig\n";
    const auto ok =
        s.check(head + "plugins: [{type: busy-endpoint-scorer, parameters: {maxRequests: 8}}]\n", {"--instantiate"});
    CHECK_MESSAGE(ok.exit_code == 0, ok.out);
    const auto bad =
        s.check(head + "plugins: [{type: busy-endpoint-scorer, parameters: {maxRequests: 0}}]\n", {"--instantiate"});
    CHECK(bad.exit_code == 1);
    CHECK_MESSAGE(find_issue(parse_json(bad.out), "errors", "/plugins/0", "create-failed"), bad.out);
}

TEST_CASE("a profile left without a picker is shown as such in the table, never a crash") {
    // Every plugin of the profile is of an unknown type, so no picker can be given to it: the
    // table printed the picker of an empty instance list (SIGSEGV).
    Setup s;
    const auto r = run_plughost(s.args("check", s.config("apiVersion: llm-d.ai/v1alpha1\nkind: EndpointPickerConfig\n"
                                                         "plugins: [{type: test-one, name: a}]\n"
                                                         "schedulingProfiles: [{name: p, plugins: [{pluginRef: a}]}]\n",
                                                         "c.yaml")));
    CHECK_MESSAGE(r.exit_code == 1, r.out, r.err);
    CHECK(contains(r.out, "unknown-type"));
    CHECK_MESSAGE(contains(r.out, "p: (no scorer) -> (no picker)"), r.out);
}

TEST_CASE("featureGates in every upstream form admit a gated plugin, a value Go would not parse is an error") {
    Setup s;
    const std::string head = "apiVersion: llm-d.ai/v1alpha1\nkind: EndpointPickerConfig\n"
                             "policy: {minStability: alpha}\n"
                             "plugins: [{type: alpha-scorer}, {type: max-score-picker}]\n";
    CHECK(s.check(head).exit_code == 1);  // the gate is off
    for (const char *gates :
         {"featureGates: [AlphaScorer]\n", "featureGates: [AlphaScorer=true]\n", "featureGates: [\"AlphaScorer=T\"]\n",
          "featureGates: [AlphaScorer=1]\n", "featureGates: {AlphaScorer: true}\n",
          "featureGates: [AlphaScorer=false, AlphaScorer=TRUE]\n"}) {
        CAPTURE(gates);
        const auto r = s.check(head + gates);
        CHECK_MESSAGE(r.exit_code == 0, r.out);
    }
    const auto off = s.check(head + "featureGates: [AlphaScorer=f]\n");
    CHECK(off.exit_code == 1);
    const auto bad = s.check(head + "featureGates:\n- AlphaScorer=maybe\n");
    CHECK(bad.exit_code == 1);
    const auto bdoc = parse_json(bad.out);
    const auto *e = find_issue(bdoc, "errors", "/featureGates/0", "invalid-value");
    REQUIRE_MESSAGE(e, bad.out);
    CHECK(e->at("line") == 6);
    CHECK(e->at("column") == 3);
    // Upstream's own gates: flowControl on is one upstream-feature error, the HA gate a warning.
    const auto upstream = s.check(head + "featureGates: [AlphaScorer, flowControl, haPopulateNonLeaderDatastore]\n");
    CHECK(upstream.exit_code == 1);
    const auto udoc = parse_json(upstream.out);
    REQUIRE_MESSAGE(udoc.at("errors").as_array().size() == 1, upstream.out);
    CHECK(find_issue(udoc, "errors", "/featureGates/1", "upstream-feature"));
    CHECK(find_issue(udoc, "warnings", "/featureGates/2", "upstream-ignored"));
}

TEST_CASE("pluginDir in the config names the plugin directory, relative to the config, --plugin-dir and "
          "$PLUGHOST_PLUGIN_DIR win over it, a missing directory or a wrong value is an error naming the key") {
    Setup s;
    const std::string relative = std::filesystem::relative(s.plugins.path(), s.dir.path()).string();
    auto config = [&](const std::string &dir_json) {
        return s.config(R"({"pluginDir": )" + dir_json + R"(, "plugins": [{"type": "queue-scorer"},
            {"type": "max-score-picker"}]})");
    };
    // No flag and no environment: the key applies. (An empty variable counts as unset.)
    const std::vector<std::pair<std::string, std::string>> no_env{{"PLUGHOST_PLUGIN_DIR", ""}};
    auto check = [&](const std::string &path, std::vector<std::string> extra,
                     const std::vector<std::pair<std::string, std::string>> &env) {
        std::vector<std::string> a{"check", "--config", path, "-o", "json"};
        a.insert(a.end(), extra.begin(), extra.end());
        return run_plughost(a, "", env);
    };
    SUBCASE("found through the key") {
        const auto r = check(config("\"" + relative + "\""), {}, no_env);
        CHECK_MESSAGE(r.exit_code == 0, r.err);
        CHECK(parse_json(r.out).at("plugins").as_array().size() == 6);
    }
    SUBCASE("a missing directory") {
        const auto path = config(R"("no-such-plugins")");
        const auto r = check(path, {}, no_env);
        CHECK(r.exit_code == 2);
        CHECK_MESSAGE(r.err.find("/pluginDir: expected a directory of plugin files, found no directory at \"" +
                                 (s.dir.path() / "no-such-plugins").string() + "\"") != std::string::npos,
                      r.err);
        CHECK(r.err.find("create it or fix pluginDir") != std::string::npos);
        // The flag and the environment win over the key.
        CHECK(check(path, {"--plugin-dir", s.plugins.path().string()}, no_env).exit_code == 0);
        CHECK(check(path, {}, {{"PLUGHOST_PLUGIN_DIR", s.plugins.path().string()}}).exit_code == 0);
    }
    SUBCASE("a file, not a directory") {
        const auto r = check(config("\"" + (s.plugins.path() / "queue-scorer.so").string() + "\""), {}, no_env);
        CHECK(r.exit_code == 2);
        CHECK_MESSAGE(r.err.find("which is not a directory") != std::string::npos, r.err);
    }
    SUBCASE("not a string, or empty") {
        for (const char *bad : {"7", "\"\""}) {
            const auto r = check(config(bad), {}, no_env);
            CHECK(r.exit_code == 1);
            const auto doc = parse_json(r.out);
            CHECK_MESSAGE((find_issue(doc, "errors", "/pluginDir", "wrong-type") ||
                           find_issue(doc, "errors", "/pluginDir", "invalid-value")),
                          r.out);
        }
    }
}
