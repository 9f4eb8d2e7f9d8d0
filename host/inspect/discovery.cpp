#include "inspect/discovery.hpp"

#include <algorithm>
#include <system_error>

namespace plughost::host {

Discovery discover_plugins(const std::filesystem::path &dir) {
    Discovery out;
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    if (ec) {
        out.error = "cannot list plugin directory " + dir.string() + ": " + ec.message() +
                    "; pass an existing directory with --plugin-dir";
        return out;
    }
    for (const std::filesystem::directory_iterator end; it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.size() > 3 && name.front() != '.' && name.ends_with(".so")) out.files.push_back(it->path());
    }
    if (ec) {
        out.files.clear();
        out.error = "cannot list plugin directory " + dir.string() + ": " + ec.message();
        return out;
    }
    std::sort(out.files.begin(), out.files.end(),
              [](const auto &a, const auto &b) { return a.filename().native() < b.filename().native(); });
    return out;
}

}  // namespace plughost::host
