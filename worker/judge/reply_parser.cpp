#include "judge/reply_parser.h"

#include <re2/re2.h>

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/json_scan.h"
#include "core/text.h"

namespace assay {

namespace {

using nlohmann::json;

// Total characters the embedded-object scan may visit: bounds the work on
// hostile replies full of unmatched '{'.
constexpr size_t k_max_scan_work = 4 * 1024 * 1024;
constexpr size_t k_max_quoted_chars = 60;

Status reply_error(const std::string& problem) {
    return Status::invalid_argument("judge reply: " + problem);
}

// The key the rubric's reply format uses for the verdict.
const char* verdict_key(const Rubric& rubric) {
    return rubric.scale.kind == RubricScale::Kind::choices ? "choice" : "score";
}

// The member of `obj` whose key equals `key` ignoring ASCII case, or nullptr.
const json* find_key(const json& obj, std::string_view key) {
    auto exact = obj.find(key);
    if (exact != obj.end()) {
        return &*exact;
    }
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        if (ascii_lower(it.key()) == key) {
            return &it.value();
        }
    }
    return nullptr;
}

std::optional<double> parse_number(std::string_view s) {
    s = trim(s);
    if (!s.empty() && s.front() == '+') {
        s.remove_prefix(1);
    }
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) {
        return std::nullopt;
    }
    return v;
}

std::string quote_excerpt(std::string_view s) { return "'" + excerpt(s, k_max_quoted_chars) + "'"; }

// Validates a numeric score against the scale.
Result<double> check_score(const Rubric& rubric, double v) {
    const RubricScale& sc = rubric.scale;
    if (v < sc.min || v > sc.max) {
        return reply_error("score " + format_scale_number(v) + " is outside the scale " +
                           sc.describe());
    }
    if (sc.integer && std::floor(v) != v) {
        return reply_error("score " + format_scale_number(v) +
                           " is not a whole number; the scale is " + sc.describe());
    }
    return v;
}

// Maps a choice label (exact, else ASCII case-insensitive; surrounding
// whitespace ignored) to the rubric's choice.
Result<const RubricScale::Choice*> match_choice(const Rubric& rubric, std::string_view given) {
    std::string_view g = trim(given);
    for (const auto& c : rubric.scale.choices) {
        if (c.label == g) {
            return &c;
        }
    }
    const std::string lower = ascii_lower(g);
    for (const auto& c : rubric.scale.choices) {
        if (ascii_lower(c.label) == lower) {
            return &c;
        }
    }
    return reply_error("unknown choice " + quote_excerpt(given) +
                       " (expected one of: " + rubric.scale.describe() + ")");
}

// Fills score/choice from the verdict value given as text (fallback
// patterns) and computes `passed`.
Result<JudgeVerdict> verdict_from_text(const Rubric& rubric, std::string_view value,
                                       std::string reasoning, ReplyParse how) {
    JudgeVerdict v;
    v.reasoning = std::move(reasoning);
    v.parsed_as = how;
    if (rubric.scale.kind == RubricScale::Kind::choices) {
        auto c = match_choice(rubric, value);
        if (!c.ok()) {
            return c.status();
        }
        v.choice = (*c)->label;
        v.score = (*c)->score;
    } else {
        auto n = parse_number(value);
        if (!n) {
            return reply_error("score " + quote_excerpt(value) + " is not a number");
        }
        auto s = check_score(rubric, *n);
        if (!s.ok()) {
            return s.status();
        }
        v.score = *s;
    }
    v.passed = v.score >= rubric.pass_threshold;
    return v;
}

Result<JudgeVerdict> verdict_from_object(const Rubric& rubric, const json& obj, ReplyParse how) {
    const char* key = verdict_key(rubric);
    const json* value = find_key(obj, key);
    if (value == nullptr || value->is_null()) {
        return reply_error(std::string("the JSON object has no '") + key + "'");
    }
    std::string reasoning;
    for (const char* rk : {"reasoning", "explanation", "rationale", "reason"}) {
        if (const json* r = find_key(obj, rk); r != nullptr && !r->is_null()) {
            reasoning = r->is_string() ? r->get<std::string>() : r->dump();
            break;
        }
    }
    reasoning = std::string(trim(reasoning));
    if (rubric.scale.kind == RubricScale::Kind::choices) {
        if (!value->is_string()) {
            return reply_error("'choice' must be a string label, got " +
                               quote_excerpt(value->dump()) +
                               " (expected one of: " + rubric.scale.describe() + ")");
        }
        return verdict_from_text(rubric, value->get<std::string>(), std::move(reasoning), how);
    }
    if (value->is_number()) {
        const double d = value->get<double>();
        JudgeVerdict v;
        auto s = check_score(rubric, d);
        if (!s.ok()) {
            return s.status();
        }
        v.score = *s;
        v.reasoning = std::move(reasoning);
        v.parsed_as = how;
        v.passed = v.score >= rubric.pass_threshold;
        return v;
    }
    if (value->is_string()) {
        return verdict_from_text(rubric, value->get<std::string>(), std::move(reasoning), how);
    }
    return reply_error("score " + quote_excerpt(value->dump()) + " is not a number");
}

std::optional<json> parse_object(std::string_view text) {
    json j = json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return std::nullopt;
    }
    return j;
}

bool has_verdict_key(const Rubric& rubric, const json& obj) {
    const json* v = find_key(obj, verdict_key(rubric));
    return v != nullptr && !v->is_null();
}

// The last ``` fenced block (any info string, e.g. json) whose content is a
// JSON object with the verdict key.
std::optional<json> last_fenced_object(const Rubric& rubric, std::string_view text) {
    std::optional<json> found;
    size_t pos = 0;
    while (true) {
        size_t open = text.find("```", pos);
        if (open == std::string_view::npos) {
            break;
        }
        size_t line_end = text.find('\n', open + 3);
        if (line_end == std::string_view::npos) {
            break;
        }
        size_t close = text.find("```", line_end + 1);
        if (close == std::string_view::npos) {
            break;
        }
        auto obj = parse_object(trim(text.substr(line_end + 1, close - line_end - 1)));
        if (obj && has_verdict_key(rubric, *obj)) {
            found = std::move(obj);
        }
        pos = close + 3;
    }
    return found;
}

// The end (one past the matching '}') of the JSON-looking object starting at
// `open`, honouring strings and escapes; npos when unbalanced.
size_t match_object(std::string_view text, size_t open, size_t& work) {
    int depth = 0;
    size_t close = std::string_view::npos;
    const JsonScanEnd end = scan_outside_strings(text, open, [&](size_t i, char c) {
        if (c == '{') {
            ++depth;
        } else if (c == '}' && --depth == 0) {
            close = i + 1;
            return false;
        }
        return true;
    });
    work += end.pos - open + 1;
    return close;
}

// The last top-level {...} embedded in prose that parses as a JSON object
// with the verdict key.
std::optional<json> last_embedded_object(const Rubric& rubric, std::string_view text) {
    std::optional<json> found;
    size_t work = 0;
    size_t i = 0;
    while (i < text.size() && work < k_max_scan_work) {
        size_t open = text.find('{', i);
        if (open == std::string_view::npos) {
            break;
        }
        size_t end = match_object(text, open, work);
        if (end == std::string_view::npos) {
            i = open + 1;
            continue;
        }
        auto obj = parse_object(text.substr(open, end - open));
        if (obj && has_verdict_key(rubric, *obj)) {
            found = std::move(obj);
            i = end;
        } else {
            i = open + 1;
        }
    }
    return found;
}

// The fallback patterns for one verdict key, compiled once (RE2 objects are
// thread-safe for matching).
struct FallbackPatterns {
    // The reply ends with the statement: (?s) lets \s span lines; \z is the
    // end of the text.
    RE2 at_end;
    // A line that holds only the statement.
    RE2 whole_line;

    FallbackPatterns(const std::string& key, const std::string& value, const RE2::Options& o)
        : at_end("(?s)(?:\\A|[^a-z0-9_])[\"'*]*" + key + "[\\s*\"']*[:=][\\s*\"']*" + value +
                     "[\\s*\"'},.]*\\z",
                 o),
          whole_line(
              "(?m)^[ \\t*\"'{,]*" + key + "[ \\t*\"']*[:=][ \\t*\"']*" + value + "[ \\t*\"'},.]*$",
              o) {}
};

RE2::Options regex_options() {
    RE2::Options o;
    o.set_log_errors(false);
    o.set_case_sensitive(false);
    return o;
}

const FallbackPatterns& fallback_patterns(const Rubric& rubric) {
    // A number, optionally "/ max"; or a choice label (lazy, so a trailing
    // '.' is left to the punctuation that may follow).
    static const FallbackPatterns k_score(
        "score", R"(([+\-]?[0-9]+(?:\.[0-9]+)?)(?:\s*/\s*[0-9]+(?:\.[0-9]+)?)?)", regex_options());
    static const FallbackPatterns k_choice("choice", R"(([A-Za-z0-9_.\-]+?))", regex_options());
    return rubric.scale.kind == RubricScale::Kind::choices ? k_choice : k_score;
}

// Fallback 1: the reply ends with the verdict statement, e.g. "... Score: 4",
// "**Score:** 4/5", `..., "score": 4}` (broken JSON), "Choice: B.".
// Fallback 2: the last line that holds only the verdict statement, with
// reasoning before and/or after it.
std::optional<Result<JudgeVerdict>> fallback_pattern(const Rubric& rubric, std::string_view text) {
    const FallbackPatterns& patterns = fallback_patterns(rubric);
    const RE2& at_end = patterns.at_end;
    const RE2& whole_line = patterns.whole_line;
    re2::StringPiece groups[2];
    const re2::StringPiece input(text.data(), text.size());
    if (at_end.ok() && at_end.Match(input, 0, text.size(), RE2::UNANCHORED, groups, 2)) {
        const size_t start = static_cast<size_t>(groups[0].data() - text.data());
        std::string reasoning(trim(text.substr(0, start)));
        return verdict_from_text(rubric, std::string_view(groups[1].data(), groups[1].size()),
                                 std::move(reasoning), ReplyParse::fallback);
    }

    if (!whole_line.ok()) {
        return std::nullopt;
    }
    std::optional<std::pair<size_t, size_t>> last_line;  // [begin, end) of the match
    std::string_view last_value;
    size_t pos = 0;
    while (pos <= text.size() &&
           whole_line.Match(input, pos, text.size(), RE2::UNANCHORED, groups, 2)) {
        const size_t b = static_cast<size_t>(groups[0].data() - text.data());
        const size_t e = b + groups[0].size();
        last_line = {b, e};
        last_value = std::string_view(groups[1].data(), groups[1].size());
        pos = (e > pos) ? e : pos + 1;
        if (pos < text.size() && text[pos] == '\n') {
            ++pos;
        }
    }
    if (!last_line) {
        return std::nullopt;
    }
    std::string before(trim(text.substr(0, last_line->first)));
    std::string after(trim(text.substr(last_line->second)));
    std::string reasoning = before;
    if (!after.empty()) {
        reasoning += (reasoning.empty() ? "" : "\n") + after;
    }
    return verdict_from_text(rubric, last_value, std::move(reasoning), ReplyParse::fallback);
}

}  // namespace

const char* to_string(ReplyParse how) {
    switch (how) {
        case ReplyParse::strict:
            return "strict";
        case ReplyParse::fenced:
            return "fenced";
        case ReplyParse::fallback:
            return "fallback";
    }
    return "unknown";
}

Result<JudgeVerdict> parse_reply(const Rubric& rubric, std::string_view reply) {
    if (reply.size() > k_max_judge_reply_bytes) {
        return reply_error("the reply is " + std::to_string(reply.size()) +
                           " bytes, more than the limit of " +
                           std::to_string(k_max_judge_reply_bytes));
    }
    if (size_t bad = find_invalid_utf8(reply); bad != std::string_view::npos) {
        return reply_error("the reply is not valid UTF-8 (byte " + std::to_string(bad) + ")");
    }
    const std::string_view text = trim(reply);
    if (text.empty()) {
        return reply_error("the reply is empty");
    }

    // 1. strict: the whole reply is one JSON object.
    if (text.front() == '{') {
        if (auto obj = parse_object(text)) {
            return verdict_from_object(rubric, *obj, ReplyParse::strict);
        }
    }
    // 2. fenced: a ```json block.
    if (auto obj = last_fenced_object(rubric, text)) {
        return verdict_from_object(rubric, *obj, ReplyParse::fenced);
    }
    // 3. fallback: an object embedded in prose, then the documented patterns.
    if (auto obj = last_embedded_object(rubric, text)) {
        return verdict_from_object(rubric, *obj, ReplyParse::fallback);
    }
    if (auto v = fallback_pattern(rubric, text)) {
        return std::move(*v);
    }
    const std::string example =
        rubric.scale.kind == RubricScale::Kind::choices
            ? R"({"reasoning": "...", "choice": ")" + rubric.scale.choices.front().label + "\"}"
            : R"({"reasoning": "...", "score": )" + format_scale_number(rubric.scale.max) + "}";
    return reply_error(std::string("no ") + verdict_key(rubric) +
                       " found (expected a JSON object such as " + example +
                       "); the reply starts " + quote_excerpt(text));
}

}  // namespace assay
