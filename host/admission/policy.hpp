// The operator's lifecycle policy and the admission rules that apply it: minimum stability,
// feature gates, deprecation, removal, tombstones and the maturity list. The rules take
// manifests only, so most of the policy is testable without any plugin file.
#pragma once

#include "admission/admission.hpp"
#include "admission/feature_gates.hpp"
#include "admission/lock.hpp"
#include "admission/maturity.hpp"
#include "admission/tombstones.hpp"
#include "common/semver.hpp"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace plughost::host {

struct Policy {
    Stability min_stability = Stability::beta;
    bool min_stability_defaulted = true;
    /// Where min_stability came from: "/policy/minStability", "--min-stability" or "default".
    std::string min_stability_source = "default";
    GateSettings gates;
    bool reject_deprecated = false;
    std::set<std::string, std::less<>> allow_past_removal;
    Tombstones tombstones = bundled_tombstones();
    MaturityList maturity = bundled_maturity();
    /// The lock file's pins (policy.lockFile, --lock); null when no lock is used.
    std::shared_ptr<const PluginLock> lock;
    /// The operator's choice of file for a plugin type several files declare (policy.providers,
    /// --provider); see TypeProviders.
    std::map<std::string, TypeProviders::Choice, std::less<>> providers;
    /// Refuse plugin files and directories that others could write (inspect/file_trust.hpp);
    /// false only with policy.allowUnsafePermissions or --allow-unsafe-permissions.
    bool check_owner = true;
};

/// The policy's admission rules, to run after foundation_rules().
std::vector<Rule> policy_rules(std::shared_ptr<const Policy> policy);

/// Everything a host with this policy applies: file_rules(), unique_types() with the operator's
/// choice of providers and the lock's pins, then policy_rules().
std::vector<Rule> admission_rules(std::shared_ptr<const Policy> policy);

/// Every valid manifest among the candidates (admitted or not): what declares the known gates.
std::vector<const Manifest *> manifests_of(const std::vector<Candidate> &candidates);

/// "policy.minStability (defaulted to beta)" and the like, for messages.
std::string describe_min_stability(const Policy &policy);

}  // namespace plughost::host
