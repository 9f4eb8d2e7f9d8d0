#include "common/diagnostic.hpp"

#include <algorithm>

namespace plughost::host {

std::string_view to_string(Code code) {
    switch (code) {
    case Code::not_a_regular_file: return "not-a-regular-file";
    case Code::symbolic_link: return "symbolic-link";
    case Code::io_error: return "io-error";
    case Code::not_elf: return "not-elf";
    case Code::truncated_elf: return "truncated-elf";
    case Code::malformed_elf: return "malformed-elf";
    case Code::wrong_architecture: return "wrong-architecture";
    case Code::not_a_shared_object: return "not-a-shared-object";
    case Code::origin_runpath: return "origin-runpath";
    case Code::no_manifest: return "no-manifest";
    case Code::multiple_manifests: return "multiple-manifests";
    case Code::bad_manifest: return "bad-manifest";
    case Code::abi_major_mismatch: return "abi-major-mismatch";
    case Code::abi_minor_newer: return "abi-minor-newer";
    case Code::duplicate_type: return "duplicate-type";
    case Code::provider_chosen: return "provider-chosen";
    case Code::provider_not_chosen: return "provider-not-chosen";
    case Code::load_failed: return "load-failed";
    case Code::missing_entry: return "missing-entry";
    case Code::bad_entry: return "bad-entry";
    case Code::manifest_mismatch: return "manifest-mismatch";
    case Code::file_changed: return "file-changed";
    case Code::writable_by_others: return "writable-by-others";
    case Code::untrusted_owner: return "untrusted-owner";
    case Code::directory_writable_by_others: return "directory-writable-by-others";
    case Code::directory_untrusted_owner: return "directory-untrusted-owner";
    case Code::not_in_lock: return "not-in-lock";
    case Code::lock_hash_mismatch: return "lock-hash-mismatch";
    case Code::lock_type_mismatch: return "lock-type-mismatch";
    case Code::lock_tier_changed: return "lock-tier-changed";
    case Code::probe_crashed: return "probe-crashed";
    case Code::probe_exited: return "probe-exited";
    case Code::probe_timed_out: return "probe-timed-out";
    case Code::probe_failed: return "probe-failed";
    case Code::below_min_stability: return "below-min-stability";
    case Code::gate_disabled: return "gate-disabled";
    case Code::deprecated: return "deprecated";
    case Code::past_removal: return "past-removal";
    case Code::past_removal_allowed: return "past-removal-allowed";
    case Code::tombstoned: return "tombstoned";
    case Code::maturity_regression: return "maturity-regression";
    case Code::maturity_mismatch: return "maturity-mismatch";
    case Code::gate_tier_conflict: return "gate-tier-conflict";
    case Code::min_stability_defaulted: return "min-stability-defaulted";
    case Code::not_json: return "not-json";
    case Code::not_yaml: return "not-yaml";
    case Code::too_large: return "too-large";
    case Code::duplicate_key: return "duplicate-key";
    case Code::unknown_field: return "unknown-field";
    case Code::wrong_type: return "wrong-type";
    case Code::invalid_value: return "invalid-value";
    case Code::missing_field: return "missing-field";
    case Code::unsupported_version: return "unsupported-version";
    case Code::duplicate_name: return "duplicate-name";
    case Code::undefined_plugin_ref: return "undefined-plugin-ref";
    case Code::duplicate_plugin_ref: return "duplicate-plugin-ref";
    case Code::unknown_type: return "unknown-type";
    case Code::plugin_refused: return "plugin-refused";
    case Code::tombstoned_type: return "tombstoned-type";
    case Code::unknown_gate: return "unknown-gate";
    case Code::locked_gate: return "locked-gate";
    case Code::gate_locked_on: return "gate-locked-on";
    case Code::tombstoned_gate: return "tombstoned-gate";
    case Code::weight_on_non_scorer: return "weight-on-non-scorer";
    case Code::invalid_weight: return "invalid-weight";
    case Code::no_picker: return "no-picker";
    case Code::multiple_pickers: return "multiple-pickers";
    case Code::unused_plugin: return "unused-plugin";
    case Code::picker_defaulted: return "picker-defaulted";
    case Code::not_a_profile_stage: return "not-a-profile-stage";
    case Code::multiple_profile_handlers: return "multiple-profile-handlers";
    case Code::missing_producer: return "missing-producer";
    case Code::producer_defaulted: return "producer-defaulted";
    case Code::duplicate_attribute: return "duplicate-attribute";
    case Code::producer_cycle: return "producer-cycle";
    case Code::parameters_not_object: return "parameters-not-object";
    case Code::unknown_parameter: return "unknown-parameter";
    case Code::parameter_type: return "parameter-type";
    case Code::parameter_range: return "parameter-range";
    case Code::missing_parameter: return "missing-parameter";
    case Code::create_failed: return "create-failed";
    case Code::upstream_feature: return "upstream-feature";
    case Code::upstream_ignored: return "upstream-ignored";
    case Code::unknown_event: return "unknown-event";
    case Code::unknown_endpoint: return "unknown-endpoint";
    case Code::unknown_profile: return "unknown-profile";
    case Code::unknown_request: return "unknown-request";
    case Code::no_endpoints: return "no-endpoints";
    case Code::no_candidates: return "no-candidates";
    case Code::picker_failed: return "picker-failed";
    case Code::picker_disabled: return "picker-disabled";
    case Code::profile_handler_failed: return "profile-handler-failed";
    case Code::plugin_error: return "plugin-error";
    case Code::bad_score: return "bad-score";
    case Code::bad_index: return "bad-index";
    }
    return "unknown";
}

std::string pointer_token(std::string_view key) {
    std::string out;
    out.reserve(key.size());
    for (char c : key) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

std::string sanitize_line(std::string_view text, std::size_t limit) {
    std::string out;
    out.reserve(std::min(text.size(), limit));
    for (char c : text) {
        if (out.size() >= limit) {
            out += "...";
            break;
        }
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 0xf];
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace plughost::host
