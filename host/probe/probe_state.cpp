#include "probe/probe_state.hpp"

#include "common/json.hpp"
#include "common/json_document.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace plughost::host {
namespace {

constexpr int kStateVersion = 1;

struct Identity {
    std::uint64_t device = 0, inode = 0;
};

std::optional<Identity> identity_of(const Candidate &c) {
    struct stat st {};
    if (!c.file.fd || ::fstat(c.file.fd.get(), &st) != 0) {
        if (::stat(c.file.path.c_str(), &st) != 0) return std::nullopt;
    }
    return Identity{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

std::optional<ProbeOutcome> parse_outcome(std::string_view text) {
    for (auto o : {ProbeOutcome::passed, ProbeOutcome::crashed, ProbeOutcome::exited, ProbeOutcome::timed_out,
                   ProbeOutcome::failed})
        if (to_string(o) == text) return o;
    return std::nullopt;
}

std::string string_of(const boost::json::object &o, std::string_view key) {
    const auto *v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::uint64_t number_of(const boost::json::object &o, std::string_view key) {
    const auto *v = o.if_contains(key);
    if (v && v->is_uint64()) return v->get_uint64();
    if (v && v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
    return 0;
}

}  // namespace

std::optional<std::string> ProbeState::load(const std::filesystem::path &file) {
    records_.clear();
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return std::nullopt;
    std::string unreadable;
    auto doc = load_json_document(file, unreadable);
    if (!doc) return unreadable;
    if (doc->problem) return file.string() + ": " + doc->problem->message;
    const auto *root = doc->value.if_object();
    const auto *version = root ? root->if_contains("probeStateVersion") : nullptr;
    const auto *records = root ? root->if_contains("records") : nullptr;
    if (!version || !version->is_int64() || version->get_int64() != kStateVersion || !records || !records->is_array())
        return file.string() + ": not a plughost probe state file of version " + std::to_string(kStateVersion) +
               "; remove it (every plugin is then probed again)";
    for (const auto &item : records->get_array()) {
        const auto *o = item.if_object();
        if (!o) continue;
        ProbeRecord r;
        r.file = string_of(*o, "file");
        r.device = number_of(*o, "device");
        r.inode = number_of(*o, "inode");
        r.sha256 = string_of(*o, "sha256");
        r.instances = string_of(*o, "instances");
        const auto outcome = parse_outcome(string_of(*o, "outcome"));
        if (!outcome || r.sha256.empty()) continue;
        r.result.outcome = *outcome;
        r.result.step = string_of(*o, "step");
        r.result.reason = string_of(*o, "reason");
        r.result.signal = static_cast<int>(number_of(*o, "signal"));
        r.result.exit_status = static_cast<int>(number_of(*o, "exitStatus"));
        records_.push_back(std::move(r));
    }
    return std::nullopt;
}

std::optional<std::string> ProbeState::save(const std::filesystem::path &file) const {
    boost::json::array records;
    for (const ProbeRecord &r : records_) {
        boost::json::object o;
        o["file"] = r.file;
        o["device"] = r.device;
        o["inode"] = r.inode;
        o["sha256"] = r.sha256;
        o["instances"] = r.instances;
        o["outcome"] = std::string(to_string(r.result.outcome));
        if (!r.result.passed()) o["code"] = std::string(to_string(r.result.code()));
        o["step"] = r.result.step;
        o["reason"] = r.result.reason;
        if (r.result.signal) o["signal"] = r.result.signal;
        if (r.result.exit_status) o["exitStatus"] = r.result.exit_status;
        records.push_back(std::move(o));
    }
    boost::json::object doc;
    doc["probeStateVersion"] = kStateVersion;
    doc["records"] = std::move(records);
    const std::string text = to_json(doc) + "\n";
    std::error_code ec;
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
    const std::filesystem::path temporary = file.string() + ".tmp";
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return "cannot write the probe state " + temporary.string() + ": " + std::strerror(errno);
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
    }
    const bool written = done == text.size() && ::fsync(fd) == 0;
    ::close(fd);
    if (!written || ::rename(temporary.c_str(), file.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(temporary.c_str());
        return "cannot write the probe state " + file.string() + ": " + why;
    }
    return std::nullopt;
}

const ProbeRecord *ProbeState::find(const Candidate &candidate, const std::string *digest) const {
    if (candidate.sha256.empty()) return nullptr;
    const auto id = identity_of(candidate);
    if (!id) return nullptr;
    for (const ProbeRecord &r : records_)
        if (r.device == id->device && r.inode == id->inode && r.sha256 == candidate.sha256 &&
            (!digest || r.instances == *digest))
            return &r;
    return nullptr;
}

void ProbeState::remember(const Candidate &candidate, const std::string &digest, const ProbeResult &result) {
    const auto id = identity_of(candidate).value_or(Identity{});
    std::erase_if(records_, [&](const ProbeRecord &r) {
        return (r.device == id.device && r.inode == id.inode) || r.file == candidate.file.path.string();
    });
    records_.push_back({candidate.file.path.string(), id.device, id.inode, candidate.sha256, digest, result});
}

std::string instances_digest(const std::vector<ProbeInstance> &instances) {
    boost::json::array list;
    for (const ProbeInstance &i : instances)
        list.push_back(boost::json::object{{"name", i.name}, {"parameters", i.parameters}});
    const std::string text = to_json(list);
    // A change detector, not a security boundary (the state file is the host's own): FNV-1a.
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char ch : text) h = (h ^ ch) * 1099511628211ULL;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    return std::to_string(instances.size()) + ":" + hex;
}

std::filesystem::path default_probe_state_file() {
    if (const char *env = std::getenv("PLUGHOST_PROBE_STATE"); env && *env) return env;
    if (const char *xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg)
        return std::filesystem::path(xdg) / "plughost" / "probe-state.json";
    const char *home = std::getenv("HOME");
    return std::filesystem::path(home && *home ? home : "/tmp") / ".local" / "state" / "plughost" / "probe-state.json";
}

void quarantine(Candidate &candidate, const ProbeRecord &record, const std::filesystem::path &state_file) {
    candidate.reject(record.result.code(),
                     "quarantined: " + record.result.reason +
                         "; the serving host never loads it. To retry: replace the file with a fixed build (a "
                         "changed file is probed again), or run `plughost check --probe --reprobe` (state in " +
                         state_file.string() + ")");
}

}  // namespace plughost::host
