// single-profile-handler (beta): runs the config's one scheduling profile, which serves the
// request, as upstream llm-d-router's handler of the same name.
#pragma once

#include <plughost/plugin.hpp>

#include <stdexcept>
#include <string>

namespace plughost::plugins {

class SingleProfileHandler {
public:
    // Every profile that has not run, once: with one profile, that one. Upstream runs them all
    // when there are several, and then refuses the result; so does this handler.
    void pick_profiles(const Request &, ProfileRuns profiles, Selection &run) const {
        for (std::size_t i = 0; i < profiles.size(); ++i)
            if (!profiles[i].ran()) run.add(i);
    }

    // The profile that ran is the primary one. When it failed, it is still named: the host then
    // answers with that profile's own error (no candidates, picker failed...).
    std::size_t process_results(const Request &, ProfileRuns profiles) const {
        std::size_t ran = 0, primary = 0;
        for (std::size_t i = 0; i < profiles.size(); ++i)
            if (profiles[i].ran()) {
                ++ran;
                primary = i;
            }
        if (ran != 1)
            throw std::runtime_error("single profile handler is intended to be used with a single profile, " +
                                     std::to_string(ran) + " ran (the config has " + std::to_string(profiles.size()) +
                                     " profiles)");
        return primary;
    }
};

inline constexpr Manifest kSingleProfileHandlerManifest{
    .type = "single-profile-handler",
    .role = Role::profile_handler,
    .version = "1.0.0",
    .stability = Stability::beta,
    .feature_gate = "SingleProfileHandler",
    .description = "Runs the config's single scheduling profile; its pick serves the request.",
    .thread_safe = true,  // no state
};

}  // namespace plughost::plugins
