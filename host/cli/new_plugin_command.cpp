// plughost new-plugin NAME --role ROLE [--lang c|c++] [--dir D]: writes a plugin project that
// builds and passes its tests as is against the installed SDK (new_plugin_templates.hpp).
#include "cli/commands.hpp"
#include "cli/new_plugin_templates.hpp"

#include "inspect/manifest.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

namespace plughost::cli {
namespace {

namespace fs = std::filesystem;

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

// my-scorer -> MyScorer (the class name and the feature gate).
std::string camel_case(std::string_view type) {
    std::string out;
    bool upper = true;
    for (char c : type) {
        if (c == '-') {
            upper = true;
            continue;
        }
        out += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
        upper = false;
    }
    return out;
}

struct RoleTemplates {
    std::string_view c, c_test, cxx, cxx_test;
};

RoleTemplates templates_for(Role role) {
    using namespace templates;
    switch (role) {
    case Role::filter: return {kCFilter, kCTestFilter, kCxxFilter, kCxxTestFilter};
    case Role::scorer: return {kCScorer, kCTestScorer, kCxxScorer, kCxxTestScorer};
    case Role::picker: return {kCPicker, kCTestPicker, kCxxPicker, kCxxTestPicker};
    case Role::profile_handler:
        return {kCProfileHandler, kCTestProfileHandler, kCxxProfileHandler, kCxxTestProfileHandler};
    case Role::producer: return {kCProducer, kCTestProducer, kCxxProducer, kCxxTestProducer};
    case Role::observer: return {kCObserver, kCTestObserver, kCxxObserver, kCxxTestObserver};
    }
    return {};
}

// Writes a new file; never replaces one.
bool write_new(const fs::path &path, const std::string &text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        std::cerr << "plughost new-plugin: cannot create " << path.string() << ": " << std::strerror(errno) << "\n";
        return false;
    }
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            std::cerr << "plughost new-plugin: cannot write " << path.string() << ": " << std::strerror(errno) << "\n";
            ::close(fd);
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0) {
        std::cerr << "plughost new-plugin: cannot write " << path.string() << ": " << std::strerror(errno) << "\n";
        return false;
    }
    return true;
}

}  // namespace

int run_new_plugin(const NewPluginOptions &options) {
    if (!host::is_plugin_type_name(options.name)) {
        std::cerr << "plughost new-plugin: \"" << options.name
                  << "\" is not a plugin type name: expected 1-63 characters of [a-z0-9-] (e.g. acme-queue-scorer; "
                     "prefix it with your organisation's name so it cannot clash with another's)\n";
        return kExitUsage;
    }
    const std::optional<Role> role = parse_role(options.role);
    if (!role) {
        std::cerr << "plughost new-plugin: --role \"" << options.role
                  << "\" is not a role: expected filter, scorer, picker, profile-handler, producer or observer\n";
        return kExitUsage;
    }
    const bool c = options.lang == "c";
    if (!c && options.lang != "c++") {
        std::cerr << "plughost new-plugin: --lang \"" << options.lang << "\": expected c or c++\n";
        return kExitUsage;
    }
    if (*role == Role::producer && options.name.size() + 5 > 63) {
        std::cerr << "plughost new-plugin: a producer publishes \"<name>.load\", at most 63 characters: use a name of "
                     "at most 58\n";
        return kExitUsage;
    }
    const fs::path dir = options.dir.value_or(options.name);
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
        std::cerr << "plughost new-plugin: " << dir.string()
                  << " exists and is not empty: name a new or empty directory with --dir\n";
        return kExitUsage;
    }
    fs::create_directories(dir, ec);
    if (ec) {
        std::cerr << "plughost new-plugin: cannot create " << dir.string() << ": " << ec.message() << "\n";
        return kExitUsage;
    }

    const std::string ident = replace_all(options.name, "-", "_");
    const std::string klass = camel_case(options.name);
    auto fill = [&](std::string_view text) {
        std::string out(text);
        out = replace_all(std::move(out), "@TYPE@", options.name);
        out = replace_all(std::move(out), "@IDENT@", ident);
        out = replace_all(std::move(out), "@CLASS@", klass);
        out = replace_all(std::move(out), "@GATE@", klass);
        out = replace_all(std::move(out), "@ROLE@", to_string(*role));
        out = replace_all(std::move(out), "@LANG@", c ? "C99" : "C++20");
        return out;
    };
    const RoleTemplates t = templates_for(*role);
    std::vector<std::pair<std::string, std::string>> files;
    files.emplace_back("CMakeLists.txt", fill(c ? templates::kCMakeC : templates::kCMakeCxx));
    if (c) {
        files.emplace_back(ident + ".c", fill(std::string(templates::kCHead) + std::string(t.c)));
        files.emplace_back(ident + "_test.c", fill(std::string(templates::kCTestHead) + std::string(t.c_test) +
                                                   std::string(templates::kCTestTail)));
    } else {
        files.emplace_back(ident + ".cpp", fill(t.cxx));
        files.emplace_back(ident + "_test.cpp", fill(std::string(templates::kCxxTestHead) + std::string(t.cxx_test)));
    }
    files.emplace_back("README.md", fill(templates::kReadme));
    for (const auto &[name, text] : files)
        if (!write_new(dir / name, text)) return kExitIo;
    std::cout << "wrote a " << (c ? "C" : "C++") << " " << to_string(*role) << " plugin project in " << dir.string()
              << ":\n";
    for (const auto &[name, text] : files) std::cout << "  " << (dir / name).string() << "\n";
    std::cout << "build and test it:\n  cmake -S " << dir.string() << " -B " << (dir / "build").string()
              << " -DCMAKE_PREFIX_PATH=<plughost install prefix>\n  cmake --build " << (dir / "build").string()
              << " && ctest --test-dir " << (dir / "build").string() << " --output-on-failure\n";
    return kExitOk;
}

}  // namespace plughost::cli
