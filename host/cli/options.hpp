// What the plughost subcommands share: option values, output format, default locations.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace plughost::cli {

/// Documented exit codes.
inline constexpr int kExitOk = 0;        ///< everything admitted / valid / decided
inline constexpr int kExitProblems = 1;  ///< the command ran and found problems (reported on stdout)
inline constexpr int kExitUsage = 2;     ///< bad usage, or an input or output that cannot be used at all
inline constexpr int kExitIo = 3;        ///< reading the input or writing the output failed part-way
/// run: stopped by SIGTERM or SIGINT; the exit code is this plus the signal number, as shells
/// report a process killed by it (143, 130).
inline constexpr int kExitSignalBase = 128;

enum class Output { table, json };

/// Writes a command's report to standard output and returns `exit_code`; when the report cannot
/// be written whole (a closed pipe, a full disk), logs why and returns kExitIo instead: a report
/// nobody received must not look like success.
int emit(std::string_view report, int exit_code);

/// The plugin directory: --plugin-dir, else $PLUGHOST_PLUGIN_DIR, else the installed
/// <prefix>/lib/plughost/plugins next to this executable, else the build tree's plugins/.
std::filesystem::path plugin_dir(const std::optional<std::string> &flag);
/// True when --plugin-dir or $PLUGHOST_PLUGIN_DIR names the plugin directory: then the config's
/// "pluginDir" does not apply.
bool plugin_dir_given(const std::optional<std::string> &flag);

}  // namespace plughost::cli
