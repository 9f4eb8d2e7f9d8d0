// header-profile-handler (alpha): runs the scheduling profile a request header names, or a
// default one, as upstream llm-d-router's handler of the same name.
#pragma once

#include <plughost/plugin.hpp>

#include <algorithm>
#include <cctype>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace plughost::plugins {

class HeaderProfileHandler {
public:
    HeaderProfileHandler(const Params &params, Host host)
        : header_(lower(trim(params.get<std::string>("headerName")))),
          default_profile_(std::string(trim(params.get<std::string>("defaultProfile")))), host_(std::move(host)) {
        if (header_.empty()) header_ = "epp-profile";  // blank means the default, as upstream
        if (default_profile_.empty()) default_profile_ = "decode";
    }

    // One round: the header's profile (or the default when the header is missing or blank);
    // with a single profile in the config, that one whatever the header says.
    void pick_profiles(const Request &request, ProfileRuns profiles, Selection &run) const {
        for (std::size_t i = 0; i < profiles.size(); ++i)
            if (profiles[i].ran()) return;
        if (profiles.size() == 1) return run.add(0);
        const std::string_view asked = header_value(request);
        const std::string_view name = asked.empty() ? std::string_view(default_profile_) : asked;
        if (const auto index = profiles.find(name)) return run.add(*index);
        std::string known;
        for (std::size_t i = 0; i < profiles.size(); ++i) known += (i ? ", " : "") + std::string(profiles[i].name());
        host_.info("request " + std::string(request.id()) + ": no scheduling profile selected: " +
                   (asked.empty() ? "defaultProfile \"" + default_profile_ + "\" is not a configured scheduling profile"
                                  : no_match(asked)) +
                   " (profiles: " + known + ")");
    }

    // The profile that ran; when it failed it is still named, and the host answers with that
    // profile's own error.
    std::size_t process_results(const Request &request, ProfileRuns profiles) const {
        std::size_t ran = 0, primary = 0;
        for (std::size_t i = 0; i < profiles.size(); ++i)
            if (profiles[i].ran()) {
                ++ran;
                primary = i;
            }
        if (ran == 0) throw std::runtime_error(no_match(header_value(request)));
        if (ran > 1)
            throw std::runtime_error("header profile handler is intended to run a single profile per request, got " +
                                     std::to_string(ran));
        return primary;
    }

private:
    std::string_view header_value(const Request &request) const {
        return trim(request.find_header(header_).value_or(std::string_view()));
    }
    std::string no_match(std::string_view asked) const {
        if (asked.empty()) return "header profile handler: missing \"" + header_ + "\" header";
        return "header profile handler: no scheduling profile configured for \"" + header_ + "\" header value \"" +
               std::string(asked) + "\"";
    }
    static std::string_view trim(std::string_view s) {
        const auto space = [](char c) {
            return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
        };
        while (!s.empty() && space(s.front())) s.remove_prefix(1);
        while (!s.empty() && space(s.back())) s.remove_suffix(1);
        return s;
    }
    static std::string lower(std::string_view s) {
        std::string out(s);
        std::transform(out.begin(), out.end(), out.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return out;
    }

    std::string header_;
    std::string default_profile_;
    Host host_;
};

inline constexpr Param kHeaderProfileHandlerParams[] = {
    {"headerName", ParamType::string, "\"EPP-Profile\"",
     "The request header naming the profile (case-insensitive; blank means the default)."},
    {"defaultProfile", ParamType::string, "\"decode\"",
     "The profile to run when the header is missing or blank (blank means decode)."},
};

inline constexpr Manifest kHeaderProfileHandlerManifest{
    .type = "header-profile-handler",
    .role = Role::profile_handler,
    .version = "1.0.0",
    .stability = Stability::alpha,
    .feature_gate = "HeaderProfileHandler",
    .description = "Runs the scheduling profile named by a request header (EPP-Profile), or defaultProfile when "
                   "the header is missing; with a single profile, that one.",
    .parameters = kHeaderProfileHandlerParams,
    .thread_safe = true,  // no state; the host's log callback is per call
};

}  // namespace plughost::plugins
