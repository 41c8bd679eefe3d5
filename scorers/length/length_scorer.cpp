// The length scorer: measures the output in code points, words and tokens
// and checks optional bounds. Config keys are documented in README.md.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/scorer.h"
#include "core/scorer_registry.h"
#include "core/text.h"

namespace assay {

namespace {

// Token estimate when usage.output_tokens is absent: ceil(UTF-8 bytes / 4),
// the usual rule of thumb for English with BPE tokenizers.
constexpr int64_t k_bytes_per_estimated_token = 4;

enum Measure : size_t { k_chars = 0, k_words = 1, k_tokens = 2, k_measure_count = 3 };
constexpr std::array<const char*, k_measure_count> k_measure_names = {"chars", "words", "tokens"};

struct Bounds {
    std::optional<int64_t> min;
    std::optional<int64_t> max;
};

struct Options {
    Measure measure = k_words;
    std::array<Bounds, k_measure_count> bounds;
    bool any_bound = false;
};

class LengthScorer final : public Scorer {
public:
    explicit LengthScorer(Options o) : m_o(o) {}

    Result<Score> score(const Trace& trace) const override {
        std::array<int64_t, k_measure_count> v{};
        v[k_chars] = static_cast<int64_t>(count_code_points(trace.output));
        v[k_words] = static_cast<int64_t>(count_words(trace.output));
        const bool reported =
            trace.usage.output_tokens.has_value() && *trace.usage.output_tokens >= 0;
        const auto bytes = static_cast<int64_t>(trace.output.size());
        v[k_tokens] = reported
                          ? *trace.usage.output_tokens
                          : (bytes + k_bytes_per_estimated_token - 1) / k_bytes_per_estimated_token;

        Score out;
        out.value = static_cast<double>(v[m_o.measure]);
        std::string problems;
        const char* label = "ok";
        // The chosen measure decides the label first, then the others in order.
        const std::array<Measure, k_measure_count> order = {
            m_o.measure, m_o.measure == k_chars ? k_words : k_chars,
            m_o.measure == k_tokens ? k_words : k_tokens};
        for (Measure m : order) {
            const Bounds& b = m_o.bounds[m];
            const std::string name = k_measure_names[m];
            if (b.min && v[m] < *b.min) {
                if (problems.empty()) {
                    label = "too_short";
                }
                problems += (problems.empty() ? "" : "; ") + std::string("too short: ") +
                            std::to_string(v[m]) + " " + name + " < min_" + name + " " +
                            std::to_string(*b.min);
            }
            if (b.max && v[m] > *b.max) {
                if (problems.empty()) {
                    label = "too_long";
                }
                problems += (problems.empty() ? "" : "; ") + std::string("too long: ") +
                            std::to_string(v[m]) + " " + name + " > max_" + name + " " +
                            std::to_string(*b.max);
            }
        }
        out.label = label;
        if (m_o.any_bound) {
            out.passed = problems.empty();
        }
        out.explanation =
            std::to_string(v[k_words]) + " words, " + std::to_string(v[k_chars]) + " chars, " +
            std::to_string(v[k_tokens]) + " tokens (" +
            (reported ? std::string("reported in usage.output_tokens")
                      : "estimated as ceil(" + std::to_string(bytes) + " UTF-8 bytes / 4)") +
            ")";
        if (!problems.empty()) {
            out.explanation += "; " + problems;
        } else if (m_o.any_bound) {
            out.explanation += "; within all bounds";
        }
        return out;
    }

private:
    Options m_o;
};

Result<std::unique_ptr<Scorer>> make_length(ConfigBlock& block) {
    Options o;
    bool type_error = false;
    for (size_t m = 0; m < k_measure_count; ++m) {
        const std::string name = k_measure_names[m];
        for (const char* side : {"min_", "max_"}) {
            const std::string key = side + name;
            std::optional<int64_t> v = block.get_int(key);
            if (!v) {
                type_error = type_error || block.has(key);
                continue;
            }
            if (*v < 0) {
                block.fail(key, "must be >= 0, got " + std::to_string(*v));
                return block.finish();
            }
            (side[1] == 'i' ? o.bounds[m].min : o.bounds[m].max) = v;
            o.any_bound = true;
        }
        const Bounds& b = o.bounds[m];
        if (b.min && b.max && *b.min > *b.max) {
            block.fail("min_" + name, "min_" + name + " (" + std::to_string(*b.min) +
                                          ") must be <= max_" + name + " (" +
                                          std::to_string(*b.max) + ")");
            return block.finish();
        }
    }
    std::optional<std::string> measure = block.get_string("measure");
    if (type_error || (block.has("measure") && !measure)) {
        return block.finish();
    }
    if (measure) {
        const std::string m = ascii_lower(*measure);
        if (m == "chars") {
            o.measure = k_chars;
        } else if (m == "words") {
            o.measure = k_words;
        } else if (m == "tokens") {
            o.measure = k_tokens;
        } else {
            block.fail("measure", "expected 'words', 'chars' or 'tokens', got '" + *measure + "'");
            return block.finish();
        }
    }
    return std::unique_ptr<Scorer>(std::make_unique<LengthScorer>(o));
}

ScorerType make_length_type() {
    ScorerType t;
    t.type = "length";
    t.summary =
        "output length in words, chars (code points) or tokens, with optional min/max bounds";
    t.impl_version = 1;
    t.keys = {
        {"measure", "string",
         "which count is the score value: words, chars or tokens (default words)"},
        {"min_chars", "number", "fail below this many Unicode code points (default none)"},
        {"max_chars", "number", "fail above this many Unicode code points (default none)"},
        {"min_words", "number", "fail below this many whitespace-separated words (default none)"},
        {"max_words", "number", "fail above this many whitespace-separated words (default none)"},
        {"min_tokens", "number",
         "fail below this many tokens: usage.output_tokens, else ceil(UTF-8 bytes / 4) (default "
         "none)"},
        {"max_tokens", "number",
         "fail above this many tokens: usage.output_tokens, else ceil(UTF-8 bytes / 4) (default "
         "none)"},
    };
    t.make = &make_length;
    return t;
}

}  // namespace

ASSAY_REGISTER_SCORER(make_length_type());

}  // namespace assay
