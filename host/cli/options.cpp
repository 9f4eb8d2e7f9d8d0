#include "cli/options.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
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

bool plugin_dir_given(const std::optional<std::string> &flag) {
    const char *env = std::getenv("PLUGHOST_PLUGIN_DIR");
    return flag || (env && *env);
}

}  // namespace plughost::cli

namespace plughost::cli {

int emit(std::string_view report, int exit_code) {
    for (std::size_t done = 0; done < report.size();) {
        const ssize_t n = ::write(STDOUT_FILENO, report.data() + done, report.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            spdlog::error("cannot write the report to standard output ({}) after {} of its {} bytes",
                          n < 0 ? std::strerror(errno) : "nothing written", done, report.size());
            return kExitIo;
        }
        done += static_cast<std::size_t>(n);
    }
    return exit_code;
}

}  // namespace plughost::cli
