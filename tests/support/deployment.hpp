// What many tests set up: a plugin directory with some built plugins in it, a config next to it,
// the pre-flight over both, live instances and a scheduler; and the host's log captured.
#pragma once

#include "load/instantiation.hpp"
#include "plan/preflight.hpp"
#include "schedule/scheduler.hpp"
#include "test_support.hpp"

#include <spdlog/logger.h>

#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace plughost::test {

/// A plugin directory (`plugins`) and a directory for configs and markers (`dir`).
struct Deployment {
    TempDir dir;
    TempDir plugins;

    Deployment() = default;
    /// Copies each built plugin file into the plugin directory under its own file name.
    explicit Deployment(const std::vector<std::string> &files);

    /// Copies a built plugin file into the plugin directory as `name`; returns its path there.
    std::filesystem::path add(const std::string &file, const std::string &name);
    /// Writes `text` as `name` next to the plugin directory; returns its path.
    std::string config(const std::string &text, const std::string &name = "config.json");
    /// The pre-flight of `config_text` over the plugin directory.
    host::Preflight plan(const std::string &config_text, host::PolicyOverrides overrides = {},
                         bool keep_files_open = true);
    /// The CLI's flags naming this config and plugin directory after `command`.
    std::vector<std::string> args(const std::string &command, const std::string &config_path) const;
};

/// The pre-flight of the config file `config_file` over `plugin_dir`.
host::Preflight plan_config(const std::filesystem::path &plugin_dir, const std::filesystem::path &config_file,
                            host::PolicyOverrides overrides = {}, bool keep_files_open = true);

/// A configured, instantiated pipeline (fails the test when the pre-flight is not ok).
struct LivePipeline {
    host::Preflight pf;
    host::LiveInstances live;
    std::unique_ptr<host::Scheduler> scheduler;

    explicit LivePipeline(host::Preflight planned, std::uint32_t max_consecutive_faults = 5);
};

/// Routes spdlog's default logger into `text` for the life of the object (every level).
struct CapturedLog {
    std::ostringstream text;
    std::shared_ptr<spdlog::logger> previous;
    CapturedLog();
    ~CapturedLog();
    CapturedLog(const CapturedLog &) = delete;
    CapturedLog &operator=(const CapturedLog &) = delete;
};

/// Every issue as one line "path [code] message", for test failure messages.
std::string dump(const std::vector<host::Issue> &issues);

}  // namespace plughost::test
