// What the plughost subcommands share: option values, output format, default locations.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace plughost::cli {

/// Documented exit codes.
inline constexpr int kExitOk = 0;        ///< everything admitted / valid / decided
inline constexpr int kExitProblems = 1;  ///< the command ran and found problems (reported on stdout)
inline constexpr int kExitUsage = 2;     ///< bad usage, or an input that could not be read

enum class Output { table, json };

/// The plugin directory: --plugin-dir, else $PLUGHOST_PLUGIN_DIR, else the installed
/// <prefix>/lib/plughost/plugins next to this executable, else the build tree's plugins/.
std::filesystem::path plugin_dir(const std::optional<std::string> &flag);

}  // namespace plughost::cli
