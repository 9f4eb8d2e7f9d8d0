// Property tests of what `plughost run` writes: random decisions, explanations and error lines
// are written by the runner's own line writers, parsed back with Boost.JSON, and must give the
// same values (strings exactly, numbers to the ulps Boost 1.81's parser can be off by).
#include "run/runner.hpp"

#include "test_support.hpp"

#include <plughost/detail/json_text.hpp>

#include <boost/json/parse.hpp>
#include <doctest/doctest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <set>

using namespace plughost::host;
using namespace plughost::test;
namespace json = boost::json;

namespace {

class Random {
public:
    explicit Random(std::uint64_t seed) : engine_(seed) {}
    std::size_t below(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(engine_); }
    bool chance(double p) { return std::bernoulli_distribution(p)(engine_); }

    // Text as the runner meets it: mostly valid UTF-8 with quotes, backslashes, controls, DEL
    // and multi-byte characters; with `raw_bytes`, any byte (plugin messages may hold anything).
    std::string text(bool raw_bytes) {
        static const std::vector<std::string> pieces{"a",
                                                     "Z",
                                                     "0",
                                                     "-",
                                                     "\"",
                                                     "\\",
                                                     "/",
                                                     "\b",
                                                     "\f",
                                                     "\n",
                                                     "\r",
                                                     "\t",
                                                     std::string(1, '\0'),
                                                     "\x01",
                                                     "\x1f",
                                                     "\x7f",
                                                     "\xc3\xa9",
                                                     "\xe2\x82\xac",
                                                     "\xf0\x9f\x98\x80",
                                                     "\xed\x9f\xbf",
                                                     " ",
                                                     "{",
                                                     "}"};
        std::string out;
        for (std::size_t n = below(12); n-- > 0;) {
            if (raw_bytes && chance(0.2)) out += static_cast<char>(below(256));
            else out += pieces[below(pieces.size())];
        }
        return out;
    }
    double number() {
        switch (below(6)) {
        case 0: return 0.0;
        case 1: return -0.0;
        case 2: return 1.0;
        case 3: return std::uniform_real_distribution<double>(0, 1)(engine_);
        case 4: return std::uniform_real_distribution<double>(0, 1e9)(engine_);
        default: return std::numeric_limits<double>::denorm_min() * static_cast<double>(below(1000));
        }
    }

private:
    std::mt19937_64 engine_;
};

// The text the writer must make of `s`: the same, with every byte that is not well-formed
// UTF-8 replaced by U+FFFD.
std::string expected_text(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t len = plughost::detail::utf8_sequence_length(s.substr(i));
        if (len == 0) {
            out += "\xef\xbf\xbd";
            ++i;
        } else {
            out += s.substr(i, len);
            i += len;
        }
    }
    return out;
}

void check_number(const json::value &v, double expected) {
    REQUIRE(v.is_number());
    CHECK(ulps_apart(v.to_number<double>(), expected) <= 4);
}

}  // namespace

TEST_CASE("random decisions with explanations are written as JSON that parses back to the same values") {
    Random random(20261130);
    for (int round = 0; round < 2000; ++round) {
        // Endpoints with distinct names (as the endpoint table guarantees).
        std::set<std::string> names;
        while (names.size() < 1 + random.below(6)) names.insert(random.text(false) + std::to_string(names.size()));
        std::vector<std::string> endpoint_names(names.begin(), names.end());
        std::vector<plughost_endpoint> endpoints(endpoint_names.size());
        for (std::size_t i = 0; i < endpoints.size(); ++i)
            endpoints[i].name = {endpoint_names[i].data(), endpoint_names[i].size()};
        std::vector<const plughost_endpoint *> picked;
        for (std::size_t i = 0; i < endpoints.size(); ++i)
            if (picked.empty() || random.chance(0.3)) picked.push_back(&endpoints[i]);

        Explanation e;
        for (std::size_t f = random.below(3); f-- > 0;) {
            Explanation::Filter filter{random.text(false), random.chance(0.2), random.chance(0.2), {}};
            for (const auto &n : endpoint_names)
                if (random.chance(0.5)) filter.passed.push_back(n);
            e.filters.push_back(filter);
        }
        for (std::size_t s = random.below(4); s-- > 0;) {
            Explanation::Scorer scorer{random.text(false), random.number(), random.chance(0.2), random.chance(0.2), {}};
            for (const auto &n : endpoint_names) scorer.scores.emplace_back(n, random.number());
            e.scorers.push_back(scorer);
        }
        for (const auto &n : endpoint_names) e.totals.emplace_back(n, random.number());

        const std::string id = random.text(false), profile = random.text(false);
        e.profile = profile;
        const std::vector<Explanation> explanations{e};
        std::vector<std::pair<std::string, std::string>> headers;
        for (std::size_t h = random.below(3); h-- > 0;)
            headers.emplace_back("x-h" + std::to_string(h), random.text(false));
        const std::string extra_profile = "prefill" + random.text(false);
        DecisionLine decision{id, profile, picked, {}, headers, &explanations};
        if (random.chance(0.5)) decision.extras.emplace_back(extra_profile, endpoint_names.back());
        std::string line;
        put_decision_line(line, decision);
        REQUIRE(line.ends_with("}\n"));
        REQUIRE(line.find('\n') == line.size() - 1);  // one line, whatever the text
        const json::value v = json::parse(line);

        CHECK(v.at("id").as_string() == id);
        CHECK(v.at("profile").as_string() == profile);
        REQUIRE(v.at("picked").as_array().size() == picked.size());
        for (std::size_t i = 0; i < picked.size(); ++i)
            CHECK(v.at("picked").at(i).as_string() == std::string_view(picked[i]->name.data, picked[i]->name.size));
        if (decision.extras.empty()) CHECK(!v.as_object().contains("extras"));
        else CHECK(v.at("extras").at(extra_profile).as_string() == endpoint_names.back());
        if (headers.empty()) CHECK(!v.as_object().contains("headers"));
        for (const auto &[name, value] : headers) CHECK(v.at("headers").at(name).as_string() == value);
        const auto &x = v.at("explain");
        REQUIRE(x.at("filters").as_array().size() == e.filters.size());
        for (std::size_t i = 0; i < e.filters.size(); ++i) {
            const auto &f = x.at("filters").at(i);
            CHECK(f.at("plugin").as_string() == e.filters[i].plugin);
            if (e.filters[i].disabled) CHECK(f.at("disabled") == true);
            else if (e.filters[i].fault) CHECK(f.at("fault") == true);
            else {
                REQUIRE(f.at("passed").as_array().size() == e.filters[i].passed.size());
                for (std::size_t k = 0; k < e.filters[i].passed.size(); ++k)
                    CHECK(f.at("passed").at(k).as_string() == e.filters[i].passed[k]);
            }
        }
        REQUIRE(x.at("scorers").as_array().size() == e.scorers.size());
        for (std::size_t i = 0; i < e.scorers.size(); ++i) {
            const auto &s = x.at("scorers").at(i);
            CHECK(s.at("plugin").as_string() == e.scorers[i].plugin);
            check_number(s.at("weight"), e.scorers[i].weight);
            if (e.scorers[i].disabled || e.scorers[i].fault) continue;
            REQUIRE(s.at("scores").as_object().size() == e.scorers[i].scores.size());
            for (const auto &[name, score] : e.scorers[i].scores) check_number(s.at("scores").at(name), score);
        }
        REQUIRE(x.at("totals").as_object().size() == e.totals.size());
        for (const auto &[name, total] : e.totals) check_number(x.at("totals").at(name), total);
    }
}

TEST_CASE("random error lines, with any bytes in their message, are valid JSON with the same values") {
    Random random(7);
    for (int round = 0; round < 5000; ++round) {
        const auto code = static_cast<Code>(random.below(kCodeCount));
        const std::size_t number = random.below(1'000'000'000);
        const std::optional<std::string> id =
            random.chance(0.5) ? std::optional<std::string>(random.text(false)) : std::nullopt;
        const std::string message = random.text(true);
        std::string line;
        put_error_line(line, number, id, code, message);
        REQUIRE(line.find('\n') == line.size() - 1);
        const json::value v = json::parse(line);  // throws, failing the test, on invalid JSON or UTF-8
        CHECK(v.at("line").to_number<std::size_t>() == number);
        if (id) CHECK(v.at("id").as_string() == *id);
        else CHECK(!v.as_object().contains("id"));
        CHECK(v.at("error").at("code").as_string() == to_string(code));
        CHECK(v.at("error").at("message").as_string() == expected_text(message));
    }
}
