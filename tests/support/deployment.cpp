#include "deployment.hpp"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

namespace plughost::test {

Deployment::Deployment(const std::vector<std::string> &files) {
    for (const auto &f : files) add(f, std::filesystem::path(f).filename().string());
}

std::filesystem::path Deployment::add(const std::string &file, const std::string &name) {
    return copy_to(file, plugins / name);
}

std::string Deployment::config(const std::string &text, const std::string &name) {
    write_file(dir / name, text);
    return (dir / name).string();
}

host::Preflight Deployment::plan(const std::string &config_text, host::PolicyOverrides overrides,
                                 bool keep_files_open) {
    return plan_config(plugins.path(), config(config_text), std::move(overrides), keep_files_open);
}

host::Preflight plan_config(const std::filesystem::path &plugin_dir, const std::filesystem::path &config_file,
                            host::PolicyOverrides overrides, bool keep_files_open) {
    host::PreflightInputs in;
    in.plugin_dir = plugin_dir;
    in.config_source = host::ConfigSource::file;
    in.config_file = config_file;
    in.overrides = std::move(overrides);
    in.keep_files_open = keep_files_open;
    return host::preflight(in);
}

std::vector<std::string> Deployment::args(const std::string &command, const std::string &config_path) const {
    return {command, "--config", config_path, "--plugin-dir", plugins.path().string()};
}

LivePipeline::LivePipeline(host::Preflight planned, std::uint32_t max_consecutive_faults) : pf(std::move(planned)) {
    REQUIRE_MESSAGE(pf.ok(), dump(pf.errors));
    live = host::instantiate(pf, false);
    REQUIRE_MESSAGE(live.complete(), dump(live.errors));
    std::vector<host::Instance *> raw;
    for (auto &i : live.instances) raw.push_back(i.get());
    scheduler = std::make_unique<host::Scheduler>(raw, host::scheduler_plan(pf), max_consecutive_faults);
}

CapturedLog::CapturedLog() : previous(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text);
    sink->set_pattern("[%n] [%l] %v");
    auto logger = std::make_shared<spdlog::logger>("plughost", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
}

CapturedLog::~CapturedLog() { spdlog::set_default_logger(previous); }

std::string dump(const std::vector<host::Issue> &issues) {
    std::string s;
    for (const auto &i : issues) s += i.path + " [" + std::string(to_string(i.code)) + "] " + i.message + "\n";
    return s;
}

}  // namespace plughost::test
