#include <doctest/doctest.h>

#include <string>

#include "core/scorer.h"
#include "core/scorer_registry.h"
#include "support/scorer_harness.h"

namespace assay {

namespace {

using testing::contains;

std::unique_ptr<Scorer> make(const std::string& yaml) {
    return testing::make_scorer("length", yaml);
}

Score run(const Scorer& s, const std::string& output,
          std::optional<int64_t> tokens = std::nullopt) {
    Trace t;
    t.output = output;
    t.usage.output_tokens = tokens;
    return testing::score_ok(s, t);
}

}  // namespace

TEST_CASE("length: measures without bounds have no pass/fail") {
    auto s = make("{}");
    Score v = run(*s, "one two  three\nfour");
    CHECK(v.value == 4.0);
    CHECK(!v.passed.has_value());
    CHECK(v.label == "ok");
    CHECK(contains(v.explanation,
                   "4 words, 19 chars, 5 tokens (estimated as ceil(19 UTF-8 bytes / 4))"));
}

TEST_CASE("length: Unicode counts code points, not bytes") {
    auto s = make("measure: chars");
    // "héllo wörld 😀": 13 code points, 18 bytes.
    Score v = run(*s, "h\xC3\xA9llo w\xC3\xB6rld \xF0\x9F\x98\x80");
    CHECK(v.value == 13.0);
    CHECK(contains(v.explanation, "3 words"));
    CHECK(contains(v.explanation, "ceil(18 UTF-8 bytes / 4)"));
    // Non-breaking and ideographic spaces separate words.
    auto w = make("{}");
    CHECK(run(*w,
              "a\xC2\xA0"
              "b\xE3\x80\x80"
              "c")
              .value == 3.0);
}

TEST_CASE("length: reported tokens win over the estimate") {
    auto s = make("measure: tokens\nmax_tokens: 10");
    Score v = run(*s, std::string(400, 'x'), 7);
    CHECK(v.value == 7.0);
    CHECK(v.passed == true);
    CHECK(contains(v.explanation, "reported in usage.output_tokens"));
    Score est = run(*s, std::string(41, 'x'));
    CHECK(est.value == 11.0);
    CHECK(est.passed == false);
    CHECK(est.label == "too_long");
    CHECK(contains(est.explanation, "too long: 11 tokens > max_tokens 10"));
}

TEST_CASE("length: bounds on several measures") {
    auto s = make("min_words: 3\nmax_words: 5\nmax_chars: 20");
    CHECK(run(*s, "one two three").passed == true);
    Score shorty = run(*s, "one two");
    CHECK(shorty.passed == false);
    CHECK(shorty.label == "too_short");
    CHECK(contains(shorty.explanation, "too short: 2 words < min_words 3"));
    // Within the word bounds but over max_chars: still fails.
    Score wide = run(*s, "abcdefgh abcdefgh abcdefgh");
    CHECK(wide.passed == false);
    CHECK(wide.label == "too_long");
    CHECK(wide.value == 3.0);  // the value is still the chosen measure (words)
    CHECK(contains(wide.explanation, "26 chars > max_chars 20"));
}

TEST_CASE("length: empty output is scored as 0") {
    auto s = make("min_words: 1");
    Score v = run(*s, "");
    CHECK(v.value == 0.0);
    CHECK(v.passed == false);
    CHECK(v.label == "too_short");
    auto free = make("max_words: 10");
    CHECK(run(*free, "").passed == true);
}

TEST_CASE("length: config errors name the key") {
    auto check = [](const std::string& yaml, const std::string& key) {
        (void)testing::config_error_naming("length", yaml, key);
    };
    check("min_words: 10\nmax_words: 5", "min_words");
    check("min_chars: -1", "min_chars");
    check("max_tokens: lots", "max_tokens");
    check("max_tokens: 1.5", "max_tokens");
    check("measure: bytes", "measure");
    check("measure: [words]", "measure");
}

}  // namespace assay
