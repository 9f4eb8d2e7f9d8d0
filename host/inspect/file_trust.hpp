// Who may change a plugin file or its directory, checked before the file is read (OpenSSH's
// StrictModes is the model): a plugin runs as the host, so anyone who can write the file, or
// replace it in its directory, can run code as the host.
#pragma once

#include "common/diagnostic.hpp"

#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <optional>

namespace plughost::host {

/// The owners a plugin file or directory may have: root, and the user the host runs as.
bool trusted_owner(uid_t owner, uid_t host_user);

/// Why the plugin file with status `st` must not be trusted: writable by its group or by others
/// (`writable-by-others`), or owned by another user than root or `host_user` (`untrusted-owner`);
/// nullopt when neither. Each reason says how to fix it and names the development switch.
std::optional<Reason> untrusted_file(const std::filesystem::path &path, const struct stat &st, uid_t host_user);

/// The same rules for the plugin directory (`directory-writable-by-others`,
/// `directory-untrusted-owner`): whoever can write it can replace any file in it. The sticky bit
/// does not make a shared directory safe: others can still add files.
std::optional<Reason> untrusted_directory(const std::filesystem::path &dir, const struct stat &st, uid_t host_user);

/// The switch that turns these checks off, for messages.
inline constexpr const char *kAllowUnsafePermissionsSwitch =
    "for development only, --allow-unsafe-permissions (policy.allowUnsafePermissions: true) skips this check";

}  // namespace plughost::host
