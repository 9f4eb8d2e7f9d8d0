// A log sink that shows the control characters of each message as \xNN before the sink it wraps
// formats it. Messages carry file names, manifest text, request ids and plugins' own words, any
// byte of which a hostile file or client chooses: on a terminal an escape sequence would recolour
// the output, move the cursor or retitle the window, and a newline would forge a log line.
#pragma once

#include "common/diagnostic.hpp"

#include <spdlog/sinks/sink.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <string>
#include <utility>

namespace plughost::host {

class ShownSink final : public spdlog::sinks::sink {
public:
    explicit ShownSink(std::shared_ptr<spdlog::sinks::sink> inner) : inner_(std::move(inner)) {}

    void log(const spdlog::details::log_msg &msg) override {
        const auto control = [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; };
        if (std::none_of(msg.payload.begin(), msg.payload.end(), control)) return inner_->log(msg);
        const std::string shown =
            sanitize_line({msg.payload.data(), msg.payload.size()}, std::numeric_limits<std::size_t>::max());
        spdlog::details::log_msg copy = msg;
        copy.payload = spdlog::string_view_t(shown.data(), shown.size());
        inner_->log(copy);
    }
    void flush() override { inner_->flush(); }
    void set_pattern(const std::string &pattern) override { inner_->set_pattern(pattern); }
    void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
        inner_->set_formatter(std::move(formatter));
    }

private:
    std::shared_ptr<spdlog::sinks::sink> inner_;
};

}  // namespace plughost::host
