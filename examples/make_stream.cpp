// make_stream: writes a synthetic but realistic endpoint/request event stream (JSON Lines) to stdout.
//
// The stream models one pool of model servers behind an inference gateway: endpoints with drifting
// load metrics and LoRA adapters, and chat traffic whose prompts share prefixes (long system prompts
// shared by many requests, conversations whose later turns extend earlier prompts, some one-off
// prompts). Output depends only on the options, so a seed names a stream. Standard library only.
//
//   make_stream [--requests N] [--endpoints N] [--seed S] > stream.jsonl

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

// ---------------------------------------------------------------------------------------------
// Randomness. SplitMix64 with our own range mapping: the std distributions differ between
// standard libraries, and the stream must be the same on every platform for a given seed.

class Random {
public:
    explicit Random(std::uint64_t seed) : state_(seed) {}

    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    /// Uniform in [0, n), n > 0; the modulo bias is negligible for the small n used here.
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }

    /// Uniform in [lo, hi].
    int between(int lo, int hi) { return lo + static_cast<int>(below(static_cast<std::size_t>(hi - lo + 1))); }

    /// Uniform in [0, 1).
    double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    bool chance(double p) { return unit() < p; }

    /// Roughly normal with mean 0 and standard deviation `sd` (sum of uniforms; no tails to speak of).
    double noise(double sd) { return (unit() + unit() + unit() + unit() - 2.0) * sd * std::sqrt(3.0); }

    template <class T> const T &pick(const std::vector<T> &items) { return items[below(items.size())]; }

private:
    std::uint64_t state_;
};

// ---------------------------------------------------------------------------------------------
// JSON output.

void append_json_string(std::string &out, std::string_view text) {
    out += '"';
    for (const char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                static constexpr char hex[] = "0123456789abcdef";
                out += "\\u00";
                out += hex[(static_cast<unsigned char>(c) >> 4) & 0xf];
                out += hex[static_cast<unsigned char>(c) & 0xf];
            } else {
                out += c;  // UTF-8 bytes pass through: JSON text is UTF-8
            }
        }
    }
    out += '"';
}

void append_json_number(std::string &out, long long value) { out += std::to_string(value); }

/// A percentage with one decimal; std::to_chars is locale independent, unlike printf.
void append_json_percent(std::string &out, double value) {
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, 1);
    if (ec != std::errc()) {
        out += '0';
        return;
    }
    out.append(buffer, end);
}

// ---------------------------------------------------------------------------------------------
// Text material. Placeholders in braces are filled from kSlots; "{n}" is a number.

const std::map<std::string_view, std::vector<std::string_view>> kSlots = {
    {"region", {"eu-west-1", "eu-central-1", "us-east-2", "us-west-2", "ap-south-1", "ap-northeast-1"}},
    {"error",
     {"E1042 quota exceeded", "503 upstream unavailable", "TLS handshake timeout", "E2210 volume attach failed",
      "403 permission denied on bucket", "E3007 snapshot in progress", "connection reset by peer"}},
    {"service",
     {"object storage", "managed Postgres", "the Kubernetes service", "the load balancer", "DNS",
      "serverless functions", "the message queue", "block volumes"}},
    {"table", {"orders", "shipments", "customers", "invoices", "warehouses", "carriers"}},
    {"metric",
     {"on-time delivery rate", "average shipment weight", "revenue per customer", "share of late invoices",
      "number of damaged parcels", "mean transit time", "carrier cost per kilometre"}},
    {"period", {"the last week", "March", "February", "Q4 2024", "the past 30 days", "the first half of 2024"}},
    {"deadline", {"the end of April", "mid-May", "week 23", "the holidays", "the next quarter"}},
    {"zeitraum", {"letzter Woche", "März", "dem vierten Quartal", "Jahresbeginn", "dem Umzug nach eu-central-1"}},
    {"city", {"Rotterdam", "Hamburg", "Lyon", "Chicago", "Osaka", "Valencia", "Gdańsk", "Montréal", "Porto"}},
    {"lang", {"C++", "Go", "Python", "Rust", "TypeScript", "Java"}},
    {"name", {"Priya", "Tomasz", "Aiko", "Daniel", "Fatima", "Lukas", "Mei", "Carlos", "Ingrid", "Kwame"}},
    {"product",
     {"folding bike", "espresso grinder", "hiking backpack", "standing desk", "noise-cancelling headset",
      "cast-iron pan", "label printer", "rain jacket"}},
    {"audience", {"students", "small offices", "commuters", "first-time buyers", "professional kitchens", "parents"}},
    {"concept",
     {"backpressure", "eventual consistency", "a write-ahead log", "copy-on-write", "tail latency",
      "consistent hashing", "a bloom filter", "speculative decoding", "KV-cache paging"}},
    {"language", {"French", "German", "Spanish", "Japanese", "Polish", "Portuguese"}},
    {"adjective", {"lightweight", "premium", "budget", "rugged", "compact", "eco-friendly"}},
    {"team", {"billing", "warehouse operations", "the data platform", "customer success", "procurement", "fleet"}},
    {"cargo",
     {"frozen fish", "spare parts", "wine", "medical supplies", "furniture", "coffee beans", "steel coils",
      "printer toner", "bicycles", "textbooks"}},
    {"currency", {"USD", "JPY", "PLN", "GBP", "CHF", "SEK"}},
    {"unit", {"miles", "pounds", "gallons", "feet", "ounces", "cubic feet"}},
    {"thema", {"Rechnung", "Kündigung", "Datenbank-Backup", "Zugangsdaten", "Lastverteiler", "Speicherkontingent"}},
    {"snippet",
     {"for (int i = 0; i <= items.size(); i++) {\n\tprintf(\"%s\\n\", items[i].name);\n}",
      "def load(path):\n    f = open(path)\n    data = f.read()\n    return data.split(\"\\n\")",
      "if err != nil {\n\tlog.Println(\"failed:\", err)\n}\nreturn result, nil",
      "let re = Regex::new(\"\\\\d+\\\\.\\\\d+\").unwrap();\n"
      "let v: f64 = re.find(s).unwrap().as_str().parse().unwrap();",
      "const total = orders.map(o => o.price * o.qty).reduce((a, b) => a + b);\nconsole.log(`total: ${total}`);",
      "std::string path = dir + \"\\\\\" + name;\nstd::ifstream in(path);\nstd::getline(in, line);",
      "String sql = \"SELECT * FROM users WHERE name = '\" + name + \"'\";\nstmt.execute(sql);"}},
};

std::string fill(std::string_view pattern, Random &rng) {
    std::string out;
    out.reserve(pattern.size() + 32);
    std::size_t pos = 0;
    while (pos < pattern.size()) {
        const std::size_t open = pattern.find('{', pos);
        const std::size_t close = open == std::string_view::npos ? open : pattern.find('}', open);
        if (close == std::string_view::npos) {
            out.append(pattern.substr(pos));
            break;
        }
        out.append(pattern.substr(pos, open - pos));
        const std::string_view key = pattern.substr(open + 1, close - open - 1);
        if (key == "n") {
            out += std::to_string(rng.between(2, 480));
        } else if (const auto slot = kSlots.find(key); slot != kSlots.end()) {
            out.append(rng.pick(slot->second));
        } else {
            out.append(pattern.substr(open, close - open + 1));  // not a placeholder: keep as written
        }
        pos = close + 1;
    }
    return out;
}

/// A LoRA adapter an application routes to, and how often.
struct LoraChoice {
    std::string_view adapter;
    double probability;
};

/// One application sending traffic: its system prompt, adapters, and what its users say.
struct App {
    std::string_view system_prompt;
    std::vector<LoraChoice> loras;  ///< probabilities sum to at most 1; the rest uses the base model
    double weight;                  ///< share of new conversations
    int max_turns;
    double follow_up;     ///< chance of asking one more question after each answer
    bool session_header;  ///< whether its client sends x-session-id (for session affinity)
    std::vector<std::string_view> openers;
    std::vector<std::string_view> follow_ups;
    std::vector<std::string_view> reply_sentences;
};

const std::vector<App> kApps = {
    // A general internal assistant: the most common and shortest system prompt.
    {"You are Atlas, the internal assistant of Meridian Logistics. Answer clearly and briefly. When a "
     "question needs data you do not have, say so and suggest where the employee could find it. Use plain "
     "language, avoid jargon unless the user uses it first, and format lists with hyphens. "
     "If a request involves personal data about customers, remind the user of the data "
     "handling policy (DH-7) and do not speculate. Today's date is 2025-03-14.",
     {{"finance-qa", 0.08}},
     0.45,
     5,
     0.27,
     false,
     {"How do I request access to the {team} dashboard?",
      "Can you draft a short message to {name} about the delay in {city}?",
      "What does \"{concept}\" mean in plain words?", "Give me a checklist for onboarding a new carrier in {city}.",
      "Who approves travel expenses above {n} euros?",
      "Summarize the main points of our returns policy for {audience}."},
     {"Thanks. Can you make it shorter?", "And what if {name} is on leave?", "Could you put that in a table?",
      "Please rewrite it in a more formal tone.", "What would change for shipments from {city}?",
      "Okay, and how long does that usually take?", "Can you add an example?"},
     {"Here is a short version you can use.", "The request goes through the service portal under \"Access\".",
      "Approval usually takes one to two working days.", "Your team lead approves it first, then finance.",
      "I do not have the current figures; the {team} team keeps them in the shared drive.",
      "- Confirm the contract\n- Register the carrier in the TMS\n- Schedule a test shipment",
      "Note that customer names must not leave the CRM (policy DH-7).",
      "In short: the system waits for the slower side instead of dropping work.",
      "If anything is unclear, the {team} channel is the quickest way to get an answer."}},

    // Customer support for a cloud provider, English.
    {"You are a support agent for Northwind Cloud. Resolve issues in few messages, accurately.\n\nRules:\n"
     "1. Greet the customer once, at the start of the conversation.\n"
     "2. Ask for the region and resource ID before suggesting changes to a specific resource.\n"
     "3. Never promise refunds or credits; say \"I will forward this to our billing team\" instead.\n"
     "4. If the issue is an outage, link to status.northwind.example and do not guess at causes.\n"
     "5. For security incidents (leaked keys, unknown logins) tell the customer to rotate credentials "
     "immediately, then escalate with priority P1.\n"
     "6. Keep answers under 150 words; number the steps of procedures.\n\n"
     "Known issue this week: snapshot creation can stall on volumes larger than 4 TiB.",
     {{"support-en", 0.45}},
     0.20,
     6,
     0.32,
     true,
     {"Hi, {service} in {region} fails with \"{error}\" since this morning. What should I check?",
      "Our bill doubled in {period} and I don't understand why. Can you help?",
      "I think one of our API keys leaked in a public repo. What do I do?",
      "How do I move {service} from {region} to {region} with minimal downtime?",
      "We get \"{error}\" when {n} clients connect at once. Is there a limit?"},
     {"The resource ID is res-{n}{n}. Region {region}.", "I tried that, still the same error.",
      "It worked, thanks! One more question: can I automate this?", "How long will the escalation take?",
      "Now we also see \"{error}\" on a second project.", "Can you explain step 2 in more detail?"},
     {"Hello, and thanks for reaching out.",
      "1. Open the console and select the project.\n2. Check the quota page for the region.\n3. Retry the operation.",
      "Could you share the region and the resource ID?", "That error usually means a quota was reached in that region.",
      "I will forward this to our billing team; they will reply by email.",
      "Please rotate the affected credentials immediately. I have escalated this with priority P1.",
      "There is a known issue with snapshots on volumes larger than 4 TiB; a fix is rolling out.",
      "You can automate this with the CLI: `nw quota request --region {region}`."}},

    // The same support desk for German-speaking customers (UTF-8 text).
    {"Du bist ein Support-Mitarbeiter von Northwind Cloud für deutschsprachige Kunden. Antworte höflich, "
     "präzise und in der Sie-Form. Frage nach Region und Ressourcen-ID, bevor du Änderungen an einer Ressource "
     "vorschlägst. Versprich keine Gutschriften; sage stattdessen „Ich leite das an unser Abrechnungsteam "
     "weiter“. Bei Sicherheitsvorfällen: Zugangsdaten sofort rotieren lassen und mit Priorität P1 eskalieren. "
     "Fehlercodes immer wörtlich zitieren. Antworten möglichst unter 120 Wörtern; Schritte nummerieren.",
     {{"support-de", 0.75}},
     0.08,
     5,
     0.35,
     true,
     {"Guten Tag, wir haben ein Problem mit {thema} in {region}: \"{error}\".",
      "Wie kann ich {thema} für unser Projekt ändern?", "Seit {zeitraum} ist unsere Rechnung viel höher. Warum?"},
     {"Die Ressourcen-ID ist res-{n}.", "Das hat leider nicht geholfen.", "Danke, das hat funktioniert!",
      "Wie lange dauert die Eskalation?"},
     {"Guten Tag und vielen Dank für Ihre Nachricht.", "Könnten Sie mir bitte Region und Ressourcen-ID nennen?",
      "1. Öffnen Sie die Konsole.\n2. Wählen Sie das Projekt aus.\n3. Prüfen Sie das Kontingent.",
      "Ich leite das an unser Abrechnungsteam weiter.",
      "Dieser Fehler bedeutet meist, dass ein Kontingent erreicht ist."}},

    // A text-to-SQL analyst with the schema in the system prompt.
    {"You translate questions about Meridian Logistics data into PostgreSQL and explain the result in one "
     "sentence.\n\nSchema:\n"
     "orders(id bigint PK, customer_id bigint FK customers.id, created_at timestamptz, status text, total_eur "
     "numeric)\n"
     "shipments(id bigint PK, order_id bigint FK orders.id, carrier_id int FK carriers.id, shipped_at timestamptz, "
     "delivered_at timestamptz, promised_at timestamptz, weight_kg numeric, damaged boolean)\n"
     "customers(id bigint PK, name text, country char(2), segment text)\n"
     "carriers(id int PK, name text, mode text)  -- mode in ('road', 'rail', 'sea', 'air')\n"
     "invoices(id bigint PK, order_id bigint FK orders.id, issued_at date, paid_at date, amount_eur numeric)\n\n"
     "Conventions:\n"
     "\t- A shipment is late when delivered_at > promised_at.\n"
     "\t- Status values: 'open', 'shipped', 'delivered', 'cancelled'.\n"
     "\t- Use date_trunc for periods and always filter out cancelled orders.\n"
     "\t- Never use SELECT *; name the columns.\n"
     "\t- Return the SQL in a ```sql block, then the explanation.\n"
     "If the question cannot be answered from this schema, say which table or column is missing.",
     {{"sql-gen", 0.7}},
     0.08,
     4,
     0.3,
     true,
     {"What was the {metric} for {period}?", "Show the {metric} per carrier for {period}, highest first.",
      "Which customers in {city} had more than {n} {table} in {period}?",
      "How many {table} were created in {period}, split by status?"},
     {"Now only for road carriers.", "Can you group it by month instead?",
      "Exclude customers in the 'internal' segment.", "The query is slow. Can you make it faster?",
      "And the same for {period}?"},
     {"```sql\nSELECT c.name, count(*) AS late\nFROM shipments s\nJOIN carriers c ON c.id = s.carrier_id\nWHERE "
      "s.delivered_at > s.promised_at\nGROUP BY c.name\nORDER BY late DESC;\n```",
      "```sql\nSELECT date_trunc('month', o.created_at) AS month, sum(o.total_eur)\nFROM orders o\nWHERE o.status "
      "<> 'cancelled'\nGROUP BY 1;\n```",
      "This counts shipments delivered after their promised date.", "The result is grouped by calendar month.",
      "An index on shipments(carrier_id, delivered_at) would help this query.",
      "The schema has no column for that; it would need a regions table."}},

    // Code review with long house rules.
    {"You are a senior engineer reviewing code at Meridian Logistics. Review the code the user pastes and reply "
     "with a numbered list of findings, most severe first. For each finding give the line, the problem, and a "
     "corrected snippet.\n\nHouse rules (cite them by number):\nR1. No raw SQL string concatenation; use bound "
     "parameters.\nR2. Every opened file, socket or lock is released on all paths (RAII, defer, with, using).\n"
     "R3. Loops over containers use the container's size type and never index past the end.\nR4. Errors are "
     "returned or raised with context (\"open config: permission denied\"), never printed and ignored.\nR5. "
     "Log lines are structured: key=value pairs, no string interpolation of user input.\nR6. Paths are built with "
     "the platform path API, not by joining strings with \"/\" or \"\\\\\".\nR7. Regular expressions are compiled "
     "once, outside loops, and anchored when they validate input.\nR8. Money is integer cents or a decimal type, "
     "never binary floating point.\nR9. Public functions have a one-line doc comment saying what they return.\n"
     "\nSeverity levels: blocker (security or data loss), major (wrong "
     "result), minor (style or clarity). If the code is "
     "fine, say \"No findings.\" and stop.\n\n"
     "Language-specific notes:\n- C++: prefer std::string_view for read-only text parameters; '\\n' rather than "
     "std::endl.\n- Go: wrap errors with %w.\n- Rust: no unwrap() "
     "outside tests.",
     {{"code-review", 0.6}},
     0.06,
     3,
     0.25,
     false,
     {"Please review this {lang} code:\n\n{snippet}", "Is this {lang} snippet safe?\n\n{snippet}",
      "Review for R1-R9, {lang}:\n{snippet}"},
     {"What about this version?\n\n{snippet}", "Why is finding 1 a blocker?",
      "Can you show the full corrected function?"},
     {"1. (blocker, R1) The query concatenates user input; use a bound parameter.",
      "2. (major, R3) The loop condition `<=` reads one element past the end.",
      "3. (minor, R4) The error is printed and then ignored; return it with context.",
      "1. (major, R2) The file is never closed on the error path.", "1. (major, R8) The total uses floating point.",
      "2. (minor, R7) The regex is compiled on every call; hoist it.", "No findings."}},

    // Summarization of notes: mostly single requests with unique bodies.
    {"Summarize the text the user provides for a busy manager. Output exactly three parts: a one-sentence "
     "summary; up to five bullet points with decisions and owners; and a line starting with \"Open questions:\". "
     "Keep names, dates and numbers exactly as written. Do not add information that is not in the text. If the "
     "text is not in English, summarize it in English anyway and say which language it was in. Stay under 90 words.",
     {{"summarize", 0.6}},
     0.10,
     2,
     0.2,
     false,
     {"Meeting notes, {team} sync:\n{name} reported that {metric} in {city} moved by {n} percent in {period}. "
      "{name} will check the {table} data. Decision: pause the {city} pilot until the numbers are confirmed. "
      "{name} asked who owns the carrier contracts; no answer yet.",
      "Email thread from {name}: the {product} supplier cannot deliver {n} units before {deadline}. Options are air "
      "freight from {city} (expensive) or splitting the order. {name} prefers splitting; finance has not replied."},
     {"Make it shorter.", "Who owns the open questions?", "Translate the summary into {language}."},
     {"Summary: the {city} pilot is paused until the figures are confirmed.",
      "- {name}: verify the data\n- Team: decide on the supplier option",
      "Open questions: who owns the carrier contracts?", "The text was in English."}},
};

/// One-off prompts: no system prompt, variable text near the start, so they rarely share a prefix.
const std::vector<std::string_view> kOneOffs = {
    "{city} to {city}: estimate the distance and typical transit time for a {n} kg pallet of {cargo}.",
    "Write a {n}-word product description for a {adjective} {product} aimed at {audience}.",
    "{n} times {n} minus {n}: what is the result? Show the steps.",
    "Draft a polite reply to {name}, who asked whether the report on {metric} for {period} can wait {n} hours.",
    "Translate into {language}: \"The {cargo} from {city} will arrive {n} hours late; we apologise.\"",
    "Explain {concept} to {name}, who knows {lang} well, in at most {n} words.",
    "{name} wants {n} name ideas for a {adjective} {product} sold in {city}. Give them.",
    "In {lang}, write a function that parses \"key=value\" pairs separated by ';' into a map of at most {n} entries.",
    "Is {concept} related to {concept}? Answer for {audience} in two sentences.",
    "Plan a {n}-minute workshop about {concept} for {audience} in {city}.",
    "Order #{n}{n}: {cargo} for {name} in {city} shows as delivered but never arrived. Write the claim.",
    "Rate limit question: {service} returns \"{error}\" after {n} requests per second. Normal?",
    "{name} from {team} asks: how much is {n} EUR in {currency} at today's rate?",
    "Write a haiku about {cargo} stuck in {city}.",
    "List {n} risks of moving {service} to {region}, one line each.",
    "Convert {n} {unit} to metric and round to two decimals.",
};

/// API clients sending one-off prompts mostly use the base model.
const std::vector<LoraChoice> kOneOffLoras = {{"finance-qa", 0.14}, {"summarize", 0.06}, {"support-en", 0.05}};

constexpr std::string_view kModel = "microsoft/Phi-3-mini-4k-instruct";
constexpr double kOneOffShare = 0.26;
constexpr std::size_t kTargetActiveConversations = 24;

// The model's chat template, as the model server would render the conversation.
std::string system_block(std::string_view text) { return "<|system|>\n" + std::string(text) + "<|end|>\n"; }
std::string user_block(std::string_view text) { return "<|user|>\n" + std::string(text) + "<|end|>\n<|assistant|>\n"; }

std::string reply(const App &app, Random &rng) {
    const int sentences = rng.between(1, 2);
    std::string out;
    for (int i = 0; i < sentences; ++i) {
        if (i > 0) out += rng.chance(0.5) ? "\n\n" : " ";
        out += fill(rng.pick(app.reply_sentences), rng);
    }
    return out + "<|end|>\n";
}

// ---------------------------------------------------------------------------------------------
// Endpoints and their metrics.

struct Endpoint {
    std::string name;
    std::string address;
    double capacity = 1.0;  ///< load multiplier: above 1, a slower server that feels the pool's load more
    bool present = true;
    int waiting = 0;
    int running = 0;
    double kv_percent = 0.0;
    std::vector<std::string_view> active_loras;
    int max_loras = 2;
};

const std::vector<std::string_view> kAdapters = {"support-en",  "support-de", "sql-gen",
                                                 "code-review", "summarize",  "finance-qa"};

std::string address_of(std::size_t index) {
    const std::size_t host = 10 + index;  // 10.0.0.10, 10.0.0.11, ...
    return "10.0." + std::to_string(host / 256) + "." + std::to_string(host % 256) + ":8000";
}

/// Pool load over the stream: a ramp up to a peak in the middle and back down, like a working day.
/// Plain arithmetic rather than std::sin, whose last bit may differ between C libraries.
double pool_load(double progress) { return 0.45 + 1.8 * progress * (1.0 - progress); }

void append_lora_list(std::string &out, const std::vector<std::string_view> &loras) {
    out += '[';
    for (std::size_t i = 0; i < loras.size(); ++i) {
        if (i > 0) out += ',';
        append_json_string(out, loras[i]);
    }
    out += ']';
}

void write_endpoint(std::string &out, const Endpoint &e) {
    out += R"({"endpoint":{"name":)";
    append_json_string(out, e.name);
    out += R"(,"address":)";
    append_json_string(out, e.address);
    out += R"(,"metrics":{"waitingQueueSize":)";
    append_json_number(out, e.waiting);
    out += R"(,"runningRequests":)";
    append_json_number(out, e.running);
    out += R"(,"kvCacheUsagePercent":)";
    append_json_percent(out, e.kv_percent);
    out += R"(,"activeLoras":)";
    append_lora_list(out, e.active_loras);
    out += R"(,"maxActiveLoras":)";
    append_json_number(out, e.max_loras);
    out += "}}}\n";
}

std::size_t adapter_index(std::string_view adapter) {
    return static_cast<std::size_t>(std::find(kAdapters.begin(), kAdapters.end(), adapter) - kAdapters.begin());
}

/// Recent LoRA demand, decayed per request; servers load the adapters that are asked for.
struct LoraDemand {
    std::vector<double> weight = std::vector<double>(kAdapters.size(), 0.0);

    void record(std::string_view adapter) {
        for (std::size_t i = 0; i < kAdapters.size(); ++i)
            weight[i] = weight[i] * 0.99 + (kAdapters[i] == adapter ? 1.0 : 0.0);
    }
};

/// Where an endpoint's metrics settle under a given pressure (its share of the pool load).
struct SteadyState {
    double running;
    double waiting;
    double kv_percent;
};

SteadyState steady_state(double pressure) {
    return {4.0 + 44.0 * pressure,
            std::max(0.0, (pressure - 0.75) * 40.0),  // queues build only once the server saturates
            std::min(97.0, 8.0 + 80.0 * pressure)};
}

int to_count(double value) { return std::max(0, static_cast<int>(std::lround(value))); }

/// One decimal, like the stream carries it, so that what we keep is what was written.
double to_percent(double value) { return std::round(std::clamp(value, 0.0, 100.0) * 10.0) / 10.0; }

/// Moves an endpoint's metrics toward what the current load implies, then writes a partial update.
void write_metrics_update(std::string &out, Endpoint &e, double load, const LoraDemand &demand, Random &rng) {
    const SteadyState target = steady_state(load * e.capacity);
    e.running = to_count(e.running + 0.35 * (target.running - e.running) + rng.noise(3.0));
    e.waiting = to_count(e.waiting + 0.4 * (target.waiting - e.waiting) + rng.noise(1.5));
    if (rng.chance(0.03)) e.waiting += rng.between(5, 20);  // a burst of long prompts arrived at once
    e.kv_percent = to_percent(e.kv_percent + 0.35 * (target.kv_percent - e.kv_percent) + rng.noise(3.0));

    // Servers scrape on their own schedules, so an update carries only some of the metrics.
    const double kind = rng.unit();
    const bool queue = kind < 0.85;
    const bool running = kind < 0.65;
    const bool kv = kind < 0.5 || kind >= 0.85;

    bool loras_changed = false;
    if (rng.chance(0.12)) {
        // Load the most wanted adapter this server lacks, evicting its least wanted one when full.
        std::optional<std::size_t> wanted;
        for (std::size_t i = 0; i < kAdapters.size(); ++i) {
            if (std::find(e.active_loras.begin(), e.active_loras.end(), kAdapters[i]) != e.active_loras.end()) continue;
            if (demand.weight[i] > 0.5 && (!wanted || demand.weight[i] > demand.weight[*wanted])) wanted = i;
        }
        if (wanted && rng.chance(0.7)) {
            if (static_cast<int>(e.active_loras.size()) >= e.max_loras) {
                auto least = e.active_loras.begin();
                for (auto it = e.active_loras.begin(); it != e.active_loras.end(); ++it)
                    if (demand.weight[adapter_index(*it)] < demand.weight[adapter_index(*least)]) least = it;
                e.active_loras.erase(least);
            }
            e.active_loras.push_back(kAdapters[*wanted]);
            loras_changed = true;
        } else if (!e.active_loras.empty() && rng.chance(0.3)) {
            e.active_loras.erase(e.active_loras.begin() +
                                 static_cast<std::ptrdiff_t>(rng.below(e.active_loras.size())));
            loras_changed = true;  // an idle adapter unloaded
        }
    }

    out += R"({"endpoint":{"name":)";
    append_json_string(out, e.name);
    out += R"(,"address":)";
    append_json_string(out, e.address);
    out += R"(,"metrics":{)";
    const char *separator = "";
    if (queue) {
        out += R"("waitingQueueSize":)";
        append_json_number(out, e.waiting);
        separator = ",";
    }
    if (running) {
        out += separator;
        out += R"("runningRequests":)";
        append_json_number(out, e.running);
        separator = ",";
    }
    if (kv) {
        out += separator;
        out += R"("kvCacheUsagePercent":)";
        append_json_percent(out, e.kv_percent);
        separator = ",";
    }
    if (loras_changed) {
        out += separator;
        out += R"("activeLoras":)";
        append_lora_list(out, e.active_loras);
    }
    out += "}}}\n";
}

// ---------------------------------------------------------------------------------------------
// Requests.

struct Conversation {
    const App *app;
    std::string_view lora;  ///< empty: the base model
    std::string session;    ///< empty: no session header
    std::string history;    ///< everything the next turn's prompt starts with
    int turns_taken;
    int turns;
};

void write_request(std::string &out, std::size_t number, std::string_view prompt, std::string_view lora,
                   std::string_view session) {
    char id[32];
    std::snprintf(id, sizeof id, "req-%06zu", number);
    out += R"({"request":{"id":)";
    append_json_string(out, id);
    out += R"(,"model":)";
    append_json_string(out, kModel);
    if (!lora.empty()) {
        out += R"(,"lora":)";
        append_json_string(out, lora);
    }
    out += R"(,"prompt":)";
    append_json_string(out, prompt);
    if (!session.empty()) {
        out += R"(,"headers":{"x-session-id":)";
        append_json_string(out, session);
        out += '}';
    }
    out += "}}\n";
}

std::string_view choose_lora(const std::vector<LoraChoice> &choices, Random &rng) {
    double roll = rng.unit();
    for (const auto &choice : choices) {
        if (roll < choice.probability) return choice.adapter;
        roll -= choice.probability;
    }
    return {};
}

const App &choose_app(Random &rng) {
    double total = 0.0;
    for (const auto &app : kApps) total += app.weight;
    double roll = rng.unit() * total;
    for (const auto &app : kApps) {
        if (roll < app.weight) return app;
        roll -= app.weight;
    }
    return kApps.back();
}

// ---------------------------------------------------------------------------------------------
// Command line.

struct Options {
    std::size_t requests = 10000;
    std::size_t endpoints = 8;
    std::uint64_t seed = 1;
};

constexpr std::string_view kUsage = "usage: make_stream [--requests N] [--endpoints N] [--seed S]\n"
                                    "Writes an endpoint/request event stream (JSON Lines) to stdout.\n"
                                    "  --requests N   scheduling requests to emit (default 10000)\n"
                                    "  --endpoints N  endpoints in the pool, 1-1000 (default 8)\n"
                                    "  --seed S       random seed; the same options give the same stream (default 1)\n";

template <class T> std::optional<T> parse_unsigned(std::string_view text) {
    T value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

/// Parses argv; on error prints what was wrong and returns nullopt.
std::optional<Options> parse_options(int argc, char **argv, bool &help) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        std::string_view flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            help = true;
            return options;
        }
        std::string_view value;
        if (const auto eq = flag.find('='); eq != std::string_view::npos) {
            value = flag.substr(eq + 1);
            flag = flag.substr(0, eq);
        } else if (flag == "--requests" || flag == "--endpoints" || flag == "--seed") {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "make_stream: %.*s needs a value\n%.*s", static_cast<int>(flag.size()),
                             flag.data(), static_cast<int>(kUsage.size()), kUsage.data());
                return std::nullopt;
            }
            value = argv[++i];
        }
        const auto number = parse_unsigned<std::uint64_t>(value);
        if (flag != "--requests" && flag != "--endpoints" && flag != "--seed") {
            std::fprintf(stderr, "make_stream: unknown option '%s'\n%.*s", argv[i], static_cast<int>(kUsage.size()),
                         kUsage.data());
            return std::nullopt;
        }
        const bool in_range = number && (flag != "--endpoints" || (*number >= 1 && *number <= 1000));
        if (!in_range) {
            std::fprintf(stderr, "make_stream: %.*s expects %s, found '%.*s'\n", static_cast<int>(flag.size()),
                         flag.data(), flag == "--endpoints" ? "an integer from 1 to 1000" : "a non-negative integer",
                         static_cast<int>(value.size()), value.data());
            return std::nullopt;
        }
        if (flag == "--requests") options.requests = static_cast<std::size_t>(*number);
        if (flag == "--endpoints") options.endpoints = static_cast<std::size_t>(*number);
        if (flag == "--seed") options.seed = *number;
    }
    return options;
}

bool flush(std::string &out) {
    const bool ok = std::fwrite(out.data(), 1, out.size(), stdout) == out.size();
    out.clear();
    return ok;
}

}  // namespace

int main(int argc, char **argv) {
    bool help = false;
    const auto options = parse_options(argc, argv, help);
    if (!options) return 2;
    if (help) {
        std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
        return 0;
    }

    Random rng(options->seed);
    std::string out;

    // The pool: servers of slightly different speeds, each with room for 2-4 adapters, some loaded.
    std::vector<Endpoint> endpoints(options->endpoints);
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
        Endpoint &e = endpoints[i];
        e.name = "vllm-" + std::to_string(i);
        e.address = address_of(i);
        e.capacity = 0.8 + 0.4 * rng.unit();
        e.max_loras = rng.between(2, 4);
        const SteadyState start = steady_state(pool_load(0.0) * e.capacity);
        e.running = to_count(start.running + rng.noise(3.0));
        e.waiting = to_count(start.waiting + rng.unit());
        e.kv_percent = to_percent(start.kv_percent + rng.noise(3.0));
        const int loaded = rng.between(0, e.max_loras);
        for (int k = 0; k < loaded; ++k) {
            const std::string_view adapter = rng.pick(kAdapters);
            if (std::find(e.active_loras.begin(), e.active_loras.end(), adapter) == e.active_loras.end())
                e.active_loras.push_back(adapter);
        }
        write_endpoint(out, e);
    }

    // Near the middle one server goes away (a rolling restart, say) and comes back empty later.
    const std::size_t removal_at = options->requests / 2;
    const std::size_t return_at = removal_at + options->requests / 12;
    const bool exercise_removal = endpoints.size() >= 2 && options->requests >= 12;
    const std::size_t removed = exercise_removal ? rng.below(endpoints.size()) : 0;

    std::vector<Conversation> conversations;
    std::size_t next_session = 1;
    LoraDemand demand;
    int until_update = rng.between(3, 7);

    for (std::size_t n = 1; n <= options->requests; ++n) {
        if (exercise_removal && n == removal_at) {
            Endpoint &e = endpoints[removed];
            e.present = false;
            out += R"({"endpointRemoved":)";
            append_json_string(out, e.name);
            out += "}\n";
        }
        if (exercise_removal && n == return_at) {
            Endpoint &e = endpoints[removed];
            e.present = true;
            e.waiting = 0;
            e.running = 0;
            e.kv_percent = 0.0;
            e.active_loras.clear();
            write_endpoint(out, e);
        }

        if (rng.chance(kOneOffShare)) {
            const std::string_view lora = choose_lora(kOneOffLoras, rng);
            write_request(out, n, fill(rng.pick(kOneOffs), rng), lora, {});
            demand.record(lora);
        } else {
            // Start a new conversation while few are open (and now and then anyway); else continue one.
            std::size_t index = 0;
            if (conversations.size() < kTargetActiveConversations || rng.chance(0.35)) {
                const App &app = choose_app(rng);
                int turns = 1;
                while (turns < app.max_turns && rng.chance(app.follow_up)) ++turns;
                std::string session = app.session_header ? "sess-" + std::to_string(next_session++) : "";
                conversations.push_back(
                    {&app, choose_lora(app.loras, rng), std::move(session), system_block(app.system_prompt), 0, turns});
                index = conversations.size() - 1;
            } else {
                index = rng.below(conversations.size());
            }
            Conversation &c = conversations[index];
            const auto &lines = c.turns_taken == 0 ? c.app->openers : c.app->follow_ups;
            c.history += user_block(fill(rng.pick(lines), rng));
            write_request(out, n, c.history, c.lora, c.session);
            demand.record(c.lora);
            c.history += reply(*c.app, rng);
            if (++c.turns_taken == c.turns) {
                if (index + 1 != conversations.size()) conversations[index] = std::move(conversations.back());
                conversations.pop_back();
            }
        }

        if (--until_update == 0) {
            until_update = rng.between(3, 7);
            const double load = pool_load(static_cast<double>(n) / static_cast<double>(options->requests));
            std::vector<std::size_t> live;
            for (std::size_t i = 0; i < endpoints.size(); ++i)
                if (endpoints[i].present) live.push_back(i);
            if (!live.empty()) write_metrics_update(out, endpoints[rng.pick(live)], load, demand, rng);
        }

        if (out.size() > (1u << 20) && !flush(out)) break;  // the error is reported below
    }

    if (!flush(out) || std::fflush(stdout) != 0 || std::ferror(stdout)) {
        std::fprintf(stderr, "make_stream: writing to stdout failed\n");
        return 1;
    }
    return 0;
}
