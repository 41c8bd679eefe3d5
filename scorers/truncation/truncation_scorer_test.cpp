#include <doctest/doctest.h>

#include <string>

#include "core/scorer.h"
#include "core/scorer_registry.h"
#include "support/scorer_harness.h"

namespace assay {

namespace {

using testing::contains;
using testing::score_ok;

std::unique_ptr<Scorer> make(const std::string& yaml) {
    return testing::make_scorer("truncation", yaml);
}

Trace trace_of(const std::string& output, const std::string& finish_reason,
               const std::string& fmt = "") {
    Trace t;
    t.output = output;
    t.finish_reason = finish_reason;
    t.metadata.expected_format = fmt;
    return t;
}

}  // namespace

TEST_CASE("truncation: provider finish reasons") {
    auto s = make("{}");
    for (const char* r :
         {"length", "max_tokens", "MAX_TOKENS", "max_output_tokens", "incomplete", " Length "}) {
        CAPTURE(r);
        Score v = score_ok(*s, trace_of("The answer is", r));
        CHECK(v.value == 1.0);
        CHECK(v.passed == false);
        CHECK(v.label == "truncated");
        CHECK(contains(v.explanation, "is a length cut-off"));
    }
    for (const char* r : {"stop", "end_turn", "STOP", "tool_calls", "content_filter", "SAFETY"}) {
        CAPTURE(r);
        Score v =
            score_ok(*s, trace_of("{\"a\": [", r, "json"));  // finish_reason wins over the text
        CHECK(v.value == 0.0);
        CHECK(v.passed == true);
        CHECK(v.label == "complete");
        CHECK(contains(v.explanation, "is not a length cut-off"));
    }
}

TEST_CASE("truncation: configurable reasons") {
    auto s = make("reasons: [LENGTH, custom_cut]");
    CHECK(score_ok(*s, trace_of("x", "Custom_Cut")).label == "truncated");
    CHECK(score_ok(*s, trace_of("x", "max_tokens")).label == "complete");
}

TEST_CASE("truncation: missing finish_reason") {
    auto s = make("{}");
    auto r = s->score(trace_of("{\"a\": [", "", "json"));
    REQUIRE(!r.ok());
    CHECK(r.status().code() == StatusCode::missing_input);
    CHECK(r.status().message() == "finish_reason is missing");
}

TEST_CASE("truncation: heuristic keeps precision high") {
    auto s = make("heuristic: true");
    // Unbalanced JSON running to the end, JSON expected: a cut-off.
    Score cut =
        score_ok(*s, trace_of("{\"items\": [{\"name\": \"a\"}, {\"name\": \"b\"", "", "json"));
    CHECK(cut.label == "truncated");
    CHECK(contains(cut.explanation, "3 unclosed bracket(s)"));
    CHECK(contains(cut.explanation, "'{' opened at byte 26"));
    Score in_str = score_ok(*s, trace_of("{\"text\": \"and then {the", "", "json"));
    CHECK(in_str.label == "truncated");
    CHECK(contains(in_str.explanation, "inside a string"));
    // Brackets inside strings do not count.
    Score ok = score_ok(*s, trace_of("{\"text\": \"a { and [ in a string\"}", "", "JSON"));
    CHECK(ok.label == "complete");
    CHECK(ok.passed == true);
    // Prose after a complete value may contain brackets.
    CHECK(score_ok(*s, trace_of("{\"a\": 1}\nNote: (see [docs", "", "json")).label == "complete");
    // Unclosed fence: a cut-off whatever the expected format.
    Score fence = score_ok(*s, trace_of("Here is code:\n```python\nprint('hi')\n", "", "text"));
    CHECK(fence.label == "truncated");
    CHECK(contains(fence.explanation, "line 2"));
    // Closed fence with broken JSON inside: malformed, not cut off.
    CHECK(score_ok(*s, trace_of("```json\n{\"a\": [1, 2\n```\nDone.", "", "json")).label ==
          "complete");
    // Mismatched brackets: malformed, not cut off.
    CHECK(score_ok(*s, trace_of("{\"a\": [1, 2}", "", "json")).label == "complete");
    // Prose ending mid-word is NOT enough on its own: no judgement.
    auto prose = s->score(trace_of("The capital of France is Par", "", "text"));
    CHECK(prose.status().code() == StatusCode::missing_input);
    // JSON expected but nothing JSON-like: no judgement either.
    auto none = s->score(trace_of("I cannot help with that.", "", "json"));
    CHECK(none.status().code() == StatusCode::missing_input);
    // Unicode and deep nesting do not break the scan.
    std::string deep(100000, '[');
    CHECK(score_ok(*s, trace_of(deep, "", "json")).label == "truncated");
    CHECK(score_ok(*s, trace_of("{\"k\": \"\xE2\x9C\x93 \\\" }\"}", "", "json")).label ==
          "complete");
}

TEST_CASE("truncation: config errors name the key") {
    auto check = [](const std::string& yaml, const std::string& key) {
        (void)testing::config_error_naming("truncation", yaml, key);
    };
    check("heuristic: sometimes", "heuristic");
    check("reasons: {a: b}", "reasons");
    check("reasons: []", "reasons");
    check("reasons: ['']", "reasons");
}

}  // namespace assay
