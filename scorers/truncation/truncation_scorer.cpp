// The truncation scorer: was the output cut off by a token limit? Decided
// from finish_reason; optionally, when finish_reason is missing, from
// high-precision signs in the text. Config keys are documented in README.md.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/scorer.h"
#include "core/scorer_registry.h"
#include "core/text.h"

namespace assay {

namespace {

// OpenAI chat "length", Anthropic "max_tokens", Gemini "MAX_TOKENS", OpenAI
// Responses "max_output_tokens" / status "incomplete". Compared lower-cased.
const std::vector<std::string>& default_reasons() {
    static const std::vector<std::string> k_reasons = {"length", "max_tokens", "max_output_tokens",
                                                       "incomplete"};
    return k_reasons;
}

struct Options {
    std::vector<std::string> reasons;  // lower-cased
    bool heuristic = false;
};

// A code fence (``` at the start of a line, after blanks) that is opened and
// never closed, as 1-based line number; 0 when every fence is closed. Also
// reports the first ```json/``` block's content range when it is closed.
struct FenceScan {
    size_t unclosed_line = 0;
    bool has_closed_json_block = false;
    size_t json_begin = 0;  // byte range of that block's content
    size_t json_end = 0;
};

FenceScan scan_fences(std::string_view text) {
    FenceScan out;
    bool inside = false;
    bool inside_json = false;
    size_t fence_len = 0;
    size_t open_line = 0;
    size_t content_begin = 0;
    size_t line_no = 0;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) {
            eol = text.size();
        }
        ++line_no;
        const std::string_view line = text.substr(pos, eol - pos);
        size_t i = line.find_first_not_of(" \t\r");
        if (i == std::string_view::npos) {
            i = line.size();
        }
        size_t ticks = 0;
        while (i + ticks < line.size() && line[i + ticks] == '`') {
            ++ticks;
        }
        if (ticks >= 3) {
            const std::string_view rest = trim(line.substr(i + ticks));
            if (!inside) {
                inside = true;
                fence_len = ticks;
                open_line = line_no;
                const std::string info = ascii_lower(rest);
                inside_json = info.empty() || info == "json";
                content_begin = eol < text.size() ? eol + 1 : text.size();
            } else if (ticks >= fence_len && rest.empty()) {
                inside = false;
                if (inside_json && !out.has_closed_json_block) {
                    out.has_closed_json_block = true;
                    out.json_begin = content_begin;
                    out.json_end = pos;
                }
            }
        }
        if (eol >= text.size()) {
            break;
        }
        pos = eol + 1;
    }
    if (inside) {
        out.unclosed_line = open_line;
    }
    return out;
}

// Bracket balance of the first JSON object/array in `text`, strings and
// escapes respected. Iterative; memory linear in nesting depth.
struct Balance {
    bool found = false;       // a '{' or '[' was seen
    bool completed = false;   // the outermost value closed
    bool in_string = false;   // text ended inside a string
    bool mismatched = false;  // a closer did not match its opener
    size_t mismatch_offset = 0;
    size_t open_count = 0;        // unclosed brackets at the end
    size_t innermost_offset = 0;  // offset of the innermost unclosed bracket
    char innermost = 0;
};

Balance scan_balance(std::string_view text, size_t base) {
    Balance b;
    std::vector<size_t> stack;  // offsets of open brackets
    bool in_string = false;
    bool escaped = false;
    size_t i = text.find_first_of("{[");
    if (i == std::string_view::npos) {
        return b;
    }
    b.found = true;
    for (; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            stack.push_back(i);
        } else if (c == '}' || c == ']') {
            const char want = text[stack.back()] == '{' ? '}' : ']';
            if (c != want) {
                b.mismatched = true;
                b.mismatch_offset = base + i;
                return b;
            }
            stack.pop_back();
            if (stack.empty()) {
                b.completed = true;
                return b;
            }
        }
    }
    b.in_string = in_string;
    b.open_count = stack.size();
    if (!stack.empty()) {
        b.innermost_offset = base + stack.back();
        b.innermost = text[stack.back()];
    }
    return b;
}

Score truncated(std::string why) {
    Score s;
    s.value = 1.0;
    s.passed = false;
    s.label = "truncated";
    s.explanation = std::move(why);
    return s;
}

Score complete(std::string why) {
    Score s;
    s.value = 0.0;
    s.passed = true;
    s.label = "complete";
    s.explanation = std::move(why);
    return s;
}

class TruncationScorer final : public Scorer {
public:
    explicit TruncationScorer(Options o) : m_o(std::move(o)) {}

    Result<Score> score(const Trace& trace) const override {
        const std::string_view given = trim(trace.finish_reason);
        if (!given.empty()) {
            const std::string reason = ascii_lower(given);
            const std::string shown = excerpt(given, 40);
            for (const std::string& r : m_o.reasons) {
                if (reason == r) {
                    return truncated("finish_reason '" + shown + "' is a length cut-off");
                }
            }
            return complete("finish_reason '" + shown + "' is not a length cut-off");
        }
        if (!m_o.heuristic) {
            return Status::missing_input("finish_reason is missing");
        }
        return heuristic(trace);
    }

private:
    // High precision: only an unclosed code fence, or (when JSON is
    // expected) an unbalanced JSON value running to the end of the output,
    // counts as a cut-off. Anything it cannot judge is missing_input.
    static Result<Score> heuristic(const Trace& trace) {
        const std::string_view out = trace.output;
        const FenceScan fences = scan_fences(out);
        if (fences.unclosed_line != 0) {
            return truncated("finish_reason missing; heuristic: the code fence opened at line " +
                             std::to_string(fences.unclosed_line) + " is never closed");
        }
        if (ascii_lower(trim(trace.metadata.expected_format)) != "json") {
            return Status::missing_input(
                "finish_reason is missing, and the heuristic found no cut-off sign (it detects "
                "unclosed code "
                "fences, and unbalanced JSON when metadata.expected_format is json)");
        }
        const size_t base = fences.has_closed_json_block ? fences.json_begin : 0;
        const std::string_view region =
            fences.has_closed_json_block ? out.substr(base, fences.json_end - base) : out;
        const Balance b = scan_balance(region, base);
        if (!b.found) {
            return Status::missing_input(
                "finish_reason is missing, and the heuristic found no JSON object or array to "
                "check");
        }
        if (b.completed) {
            return complete(
                "finish_reason missing; heuristic: the JSON value is balanced (no cut-off seen)");
        }
        if (b.mismatched) {
            return complete(
                "finish_reason missing; heuristic: the JSON is malformed (mismatched bracket at "
                "byte " +
                std::to_string(b.mismatch_offset) + "), which is not a sign of a cut-off");
        }
        if (fences.has_closed_json_block) {
            return complete(
                "finish_reason missing; heuristic: the JSON in the fenced block is unbalanced, but "
                "the fence is "
                "closed, so the output was not cut off there");
        }
        if (b.in_string) {
            return truncated(
                "finish_reason missing; heuristic: JSON expected, and the output ends inside a "
                "string "
                "with " +
                std::to_string(b.open_count) + " bracket(s) still open");
        }
        return truncated(
            "finish_reason missing; heuristic: JSON expected, and the output ends with " +
            std::to_string(b.open_count) + " unclosed bracket(s) (innermost '" +
            std::string(1, b.innermost) + "' opened at byte " + std::to_string(b.innermost_offset) +
            ")");
    }

    Options m_o;
};

Result<std::unique_ptr<Scorer>> make_truncation(ConfigBlock& block) {
    Options o;
    const std::optional<std::vector<std::string>> reasons = block.get_string_list("reasons");
    const std::optional<bool> heuristic = block.get_bool("heuristic");
    if ((block.has("reasons") && !reasons) || (block.has("heuristic") && !heuristic)) {
        return block.finish();
    }
    if (reasons) {
        for (const std::string& r : *reasons) {
            const std::string lower = ascii_lower(trim(r));
            if (lower.empty()) {
                block.fail("reasons", "an empty reason would match nothing");
                return block.finish();
            }
            o.reasons.push_back(lower);
        }
        if (o.reasons.empty()) {
            block.fail("reasons", "an empty list would never detect truncation");
            return block.finish();
        }
    } else {
        o.reasons = default_reasons();
    }
    o.heuristic = heuristic.value_or(false);
    return std::unique_ptr<Scorer>(std::make_unique<TruncationScorer>(std::move(o)));
}

ScorerType make_truncation_type() {
    ScorerType t;
    t.type = "truncation";
    t.summary =
        "1 when finish_reason shows a token-limit cut-off (optionally: heuristic when it is "
        "missing)";
    t.impl_version = 1;
    t.keys = {
        {"reasons", "list",
         "finish_reason values that mean a length cut-off, case-insensitive (default [length, "
         "max_tokens, "
         "max_output_tokens, incomplete])"},
        {"heuristic", "bool",
         "when finish_reason is missing, call an unclosed code fence or (metadata.expected_format "
         "json) an "
         "unbalanced JSON value a cut-off instead of skipping the trace (default false)"},
    };
    t.make = &make_truncation;
    return t;
}

}  // namespace

ASSAY_REGISTER_SCORER(make_truncation_type());

}  // namespace assay
