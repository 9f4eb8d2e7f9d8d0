// example-prefill-decode-handler: a profile handler for disaggregated serving. Long prompts run
// two profiles in the first round, "prefill" and "decode"; short ones run "decode" alone. The
// decode profile's pick is the primary (where the request goes); the prefill pick reaches the
// lifecycle hooks as the decision's extra named "prefill". Without a profile named "decode", the
// first profile plays its part.
#include <plughost/plugin.hpp>

#include <cstdint>
#include <stdexcept>

namespace {

class PrefillDecodeHandler {
public:
    explicit PrefillDecodeHandler(const plughost::Params &params)
        : threshold_(static_cast<std::size_t>(params.get_in_range<std::int64_t>("prefillThreshold", 0, 1 << 30))) {}

    void pick_profiles(const plughost::Request &request, plughost::ProfileRuns profiles, plughost::Selection &run) {
        const std::size_t decode = profiles.find("decode").value_or(0);
        if (profiles.size() == 0 || profiles[decode].ran()) return;  // one round only
        run.add(decode);
        const auto prefill = profiles.find("prefill");
        if (prefill && *prefill != decode && request.prompt().size() >= threshold_) run.add(*prefill);
    }

    std::size_t process_results(const plughost::Request &, plughost::ProfileRuns profiles) {
        const std::size_t decode = profiles.find("decode").value_or(0);
        if (decode < profiles.size() && profiles[decode].state() == plughost::ProfileRun::State::picked) return decode;
        throw std::runtime_error("the decode profile picked no endpoint");
    }

private:
    std::size_t threshold_;
};

constexpr plughost::Param kParams[] = {
    {"prefillThreshold", plughost::ParamType::integer, "1024", "Prompt bytes from which prefill runs apart."},
};

constexpr plughost::Manifest kManifest{
    .type = "example-prefill-decode-handler",
    .role = plughost::Role::profile_handler,
    .version = "0.1.0",
    .stability = plughost::Stability::alpha,
    .feature_gate = "ExamplePrefillDecodeHandler",
    .description = "Runs prefill and decode profiles for long prompts, decode alone for short ones.",
    .parameters = kParams,
};

}  // namespace

PLUGHOST_PLUGIN(PrefillDecodeHandler, kManifest)
