// example-least-pending-picker: a picker. Among the endpoints whose total score is within
// `tolerance` of the best, picks the one with the fewest picks still pending (sent but not yet
// started), so bursts spread over near-equal endpoints instead of all landing on the first.
#include <plughost/plugin.hpp>

#include <algorithm>
#include <span>

namespace {

class LeastPendingPicker {
public:
    explicit LeastPendingPicker(const plughost::Params &params)
        : tolerance_(params.get_in_range<double>("tolerance", 0.0, 1e9)) {}

    void pick(const plughost::Request &, plughost::Endpoints endpoints, std::span<const double> totals,
              plughost::Selection &picked) {
        const double best = *std::max_element(totals.begin(), totals.end());
        std::size_t choice = endpoints.size();
        for (std::size_t i = 0; i < endpoints.size(); ++i) {
            if (totals[i] < best - tolerance_) continue;
            if (choice == endpoints.size() || endpoints[i].pending_picks() < endpoints[choice].pending_picks())
                choice = i;
        }
        picked.add(choice);  // exactly one index, below the count: what the host requires
    }

private:
    double tolerance_;
};

constexpr plughost::Param kParams[] = {
    {"tolerance", plughost::ParamType::number, "0.05", "Totals this close to the best count as equal."},
};

constexpr plughost::Manifest kManifest{
    .type = "example-least-pending-picker",
    .role = plughost::Role::picker,
    .version = "0.1.0",
    .stability = plughost::Stability::alpha,
    .feature_gate = "ExampleLeastPendingPicker",
    .description = "Among near-best endpoints, picks the one with the fewest pending picks.",
    .parameters = kParams,
};

}  // namespace

PLUGHOST_PLUGIN(LeastPendingPicker, kManifest)
