#include "cli/options.hpp"

#include <cstdlib>
#include <system_error>

namespace plughost::cli {

std::filesystem::path plugin_dir(const std::optional<std::string> &flag) {
    if (flag) return *flag;
    if (const char *env = std::getenv("PLUGHOST_PLUGIN_DIR"); env && *env) return env;
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const auto installed = exe.parent_path().parent_path() / "lib" / "plughost" / "plugins";
        if (std::filesystem::is_directory(installed, ec)) return installed;
    }
    return PLUGHOST_BUILD_PLUGIN_DIR;
}

}  // namespace plughost::cli
