// The probe as a library (what the server calls on a new file): a child process loads, creates,
// calls and destroys; the result and its remembered state.
#include "probe/probe.hpp"
#include "probe/probe_state.hpp"

#include "admission/admission.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <signal.h>

using namespace plughost::host;
using namespace plughost::test;

namespace {

// The admitted candidate for `fixture`, hashed, as the server holds it after admission.
Candidate admitted(const TempDir &dir, const std::string &fixture, const std::string &name) {
    copy_to(fixture, dir / name);
    Admission a = admit_directory(dir.path(), foundation_rules(), true, true);
    REQUIRE(!a.error);
    for (Candidate &c : a.candidates)
        if (c.file.path.filename() == name) {
            REQUIRE(c.admitted());
            std::vector<Candidate> one;
            one.push_back(std::move(c));
            snapshot_and_hash(one);
            REQUIRE(!one.front().sha256.empty());
            return std::move(one.front());
        }
    FAIL("not found: " << name);
    throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("probe: a good plugin passes, and each misbehaviour is named with its step") {
    TempDir dir;
    const Candidate good = admitted(dir, paths::good_scorer, "good.so");
    const ProbeResult passed = probe(good, {{"g", {}}});
    CHECK_MESSAGE(passed.passed(), passed.reason);

    TempDir crash_dir;
    const ProbeResult crashed = probe(admitted(crash_dir, paths::score_segfault, "s.so"), {{"s", {}}});
    CHECK(crashed.outcome == ProbeOutcome::crashed);
    CHECK(crashed.signal == SIGSEGV);
    CHECK(crashed.code() == Code::probe_crashed);
    CHECK(crashed.step == "calling score of \"s\"");

    TempDir hang_dir;
    const ProbeResult hung =
        probe(admitted(hang_dir, paths::create_hangs, "h.so"), {{"h", {}}}, std::chrono::milliseconds(200));
    CHECK(hung.outcome == ProbeOutcome::timed_out);
    CHECK(hung.code() == Code::probe_timed_out);
    CHECK(hung.step == "creating instance \"h\"");

    TempDir load_dir;
    const ProbeResult load_only = probe(admitted(load_dir, paths::create_hangs, "h.so"), {});
    CHECK_MESSAGE(load_only.passed(), load_only.reason);  // no instance: loaded and unloaded only
}

TEST_CASE("probe state: remembered by identity, content and instances, saved and read back") {
    TempDir dir, state_dir;
    const Candidate c = admitted(dir, paths::good_scorer, "good.so");
    ProbeResult failed;
    failed.outcome = ProbeOutcome::exited;
    failed.exit_status = 7;
    failed.step = "creating instance \"g\"";
    failed.reason = "exited with status 7";
    const std::vector<ProbeInstance> instances{{"g", {}}};
    const std::string digest = instances_digest(instances);
    ProbeState state;
    state.remember(c, digest, failed);
    const auto file = state_dir / "sub" / "state.json";
    REQUIRE(!state.save(file));

    ProbeState read;
    REQUIRE(!read.load(file));
    const ProbeRecord *r = read.find(c, &digest);
    REQUIRE(r);
    CHECK(r->result.outcome == ProbeOutcome::exited);
    CHECK(r->result.exit_status == 7);
    CHECK(r->result.code() == Code::probe_exited);
    const std::string other = instances_digest({{"g", {{"limit", 3}}}});
    CHECK(other != digest);
    CHECK(!read.find(c, &other));  // configured differently: probe again
    CHECK(read.find(c, nullptr));  // list: any record for the file as it is

    // The same name, other bytes (a new build renamed over it): not found.
    TempDir again;
    const Candidate changed = admitted(again, paths::stable_filter, "good.so");
    CHECK(!read.find(changed, nullptr));

    write_file(state_dir / "bad.json", "{\"probeStateVersion\": 9}");
    ProbeState bad;
    CHECK(bad.load(state_dir / "bad.json"));
    CHECK(!bad.load(state_dir / "missing.json"));  // none yet: an empty state
}
