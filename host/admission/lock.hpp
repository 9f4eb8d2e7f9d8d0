// The lock file: the plugin files an operator pinned, each by name, type, version, tier, ABI and
// the SHA-256 of its bytes. `plughost lock` writes it; with a lock in the policy, admission
// refuses any file it does not list or whose bytes, type or tier differ.
//
// Format (JSON; documented in docs/operations.md):
//   {"lockVersion": 1,
//    "plugins": {"queue-scorer.so": {"type": "queue-scorer", "version": "1.2.0", "stability": "stable",
//                                    "abiVersion": "1.2.0", "sha256": "<64 lowercase hex digits>"}}}
#pragma once

#include "admission/admission.hpp"
#include "common/diagnostic.hpp"
#include "inspect/manifest.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace plughost::host {

inline constexpr int kLockVersion = 1;

struct LockEntry {
    std::string type;
    std::string version;
    Stability stability = Stability::stable;
    std::string abi_version;
    std::string sha256;
};

struct PluginLock {
    std::string source;                                   ///< the lock file, for messages
    std::map<std::string, LockEntry, std::less<>> files;  ///< by file name (no directory)
};

/// Reads a lock document into `into`; every problem is an issue at its JSON Pointer.
std::vector<Issue> read_lock(const boost::json::value &document, const std::string &source, PluginLock &into);

/// The lock document for the admitted candidates that were hashed (snapshot_and_hash).
boost::json::object lock_json(const std::vector<Candidate> &candidates);

/// The admission rule that applies a lock: hashes the admitted files (from the snapshot that is
/// then loaded) and refuses a file not in the lock (`not-in-lock`), with other bytes
/// (`lock-hash-mismatch`), another type (`lock-type-mismatch`) or another tier
/// (`lock-tier-changed`, with the change).
Rule lock_rule(std::shared_ptr<const PluginLock> lock);

}  // namespace plughost::host
