// The closed vocabulary of everything plughost reports: admission reasons, policy warnings,
// config errors, event-stream errors and runtime faults. Each code prints as a stable
// kebab-case string that operators script against; the message is for humans.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace plughost::host {

enum class Code {
    // The file itself.
    not_a_regular_file,
    symbolic_link,
    io_error,
    not_elf,
    truncated_elf,
    malformed_elf,
    wrong_architecture,
    not_a_shared_object,
    origin_runpath,
    // Its manifest.
    no_manifest,
    multiple_manifests,
    bad_manifest,
    abi_major_mismatch,
    abi_minor_newer,
    // Across files.
    duplicate_type,
    provider_chosen,
    provider_not_chosen,
    // Loading an admitted file.
    load_failed,
    missing_entry,
    bad_entry,
    manifest_mismatch,
    file_changed,
    // Who can change the file or its directory (checked before the file is read).
    writable_by_others,
    untrusted_owner,
    directory_writable_by_others,
    directory_untrusted_owner,
    // The operator's lock file.
    not_in_lock,
    lock_hash_mismatch,
    lock_type_mismatch,
    lock_tier_changed,
    // The probe: the plugin run once in a child process.
    probe_crashed,
    probe_exited,
    probe_timed_out,
    probe_failed,
    // Lifecycle policy.
    below_min_stability,
    gate_disabled,
    deprecated,
    past_removal,
    past_removal_allowed,
    tombstoned,
    maturity_regression,
    maturity_mismatch,
    gate_tier_conflict,
    min_stability_defaulted,
    // The operator's config.
    not_json,
    not_yaml,
    too_large,
    duplicate_key,
    unknown_field,
    wrong_type,
    invalid_value,
    missing_field,
    unsupported_version,
    duplicate_name,
    undefined_plugin_ref,
    duplicate_plugin_ref,
    unknown_type,
    plugin_refused,
    tombstoned_type,
    unknown_gate,
    locked_gate,
    gate_locked_on,
    tombstoned_gate,
    weight_on_non_scorer,
    invalid_weight,
    no_picker,
    multiple_pickers,
    unused_plugin,
    picker_defaulted,
    not_a_profile_stage,
    multiple_profile_handlers,
    missing_producer,
    producer_defaulted,
    duplicate_attribute,
    producer_cycle,
    parameters_not_object,
    unknown_parameter,
    parameter_type,
    parameter_range,
    missing_parameter,
    create_failed,
    upstream_feature,
    upstream_ignored,
    // The event stream.
    unknown_event,
    unknown_endpoint,
    unknown_profile,
    unknown_request,
    no_endpoints,
    no_candidates,
    picker_failed,
    picker_disabled,
    profile_handler_failed,
    // Runtime faults of a plugin instance.
    plugin_error,
    bad_score,
    bad_index,
};

/// The number of codes: every value below it is a code (tests walk them all).
inline constexpr std::size_t kCodeCount = static_cast<std::size_t>(Code::bad_index) + 1;

std::string_view to_string(Code code);

/// One finding about a plugin file: why it was rejected, or a warning about it.
struct Reason {
    Code code;
    std::string message;
};

/// One finding about the operator's config (or another input document), located by a JSON
/// Pointer (RFC 6901), with what to do about it.
struct Issue {
    std::string path;
    Code code;
    std::string message;
    std::string hint;
    /// Where `path` is in a YAML document (1-based; 0 when unknown, e.g. for JSON documents).
    std::uint32_t line = 0;
    std::uint32_t column = 0;
};

/// Escapes a JSON Pointer reference token ("~" -> "~0", "/" -> "~1").
std::string pointer_token(std::string_view key);

/// Makes untrusted text safe for one log line: control characters become escapes, and it is
/// cut at `limit` bytes.
std::string sanitize_line(std::string_view text, std::size_t limit = 2000);

}  // namespace plughost::host
