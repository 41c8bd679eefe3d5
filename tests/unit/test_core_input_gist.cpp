// The input excerpt of trace lists (core/input_gist.h): a chat shows the
// user's message, never the system prompt that leads it.
#include <doctest/doctest.h>

#include <string>

#include "core/input_gist.h"
#include "core/trace_json.h"

using namespace assay;

namespace {

Trace parsed(const std::string& json) {
    auto t = parse_trace(std::string_view(json), ParseLimits{}, 0);
    REQUIRE_MESSAGE(t.ok(), t.status().message());
    return std::move(t).value();
}

}  // namespace

TEST_CASE("input gist: a chat's excerpt is the user's message, not the system prompt") {
    const Trace t =
        parsed(R"({"trace_id": "a", "output": "Open Settings.", "input": [)"
               R"({"role": "system", "content": "You are Nimbus's friendly support assistant."},)"
               R"({"role": "user", "content": "Hi, quick question about my workspace."},)"
               R"({"role": "assistant", "content": "Of course! What do you need help with?"},)"
               R"({"role": "user", "content": "How do I cancel my subscription?"}]})");
    CHECK(t.input.rfind("You are Nimbus", 0) == 0);  // the text form leads with the system prompt
    CHECK(input_gist(t) == "How do I cancel my subscription?");
}

TEST_CASE("input gist: without a user message, the last message that is not a system one") {
    const Trace t = parsed(
        R"({"trace_id": "b", "output": "ok", "input": [)"
        R"({"role": "system", "content": "Be brief."}, {"role": "tool", "content": "{\"rows\": 3}"},)"
        R"({"role": "user", "content": ""}]})");
    CHECK(input_gist(t) == "{\"rows\": 3}");
}

TEST_CASE("input gist: a plain-string input, or system messages only, shows the input text") {
    CHECK(input_gist(parsed(R"({"trace_id": "c", "input": "Summarize this.", "output": "ok"})")) ==
          "Summarize this.");
    const Trace sys_only = parsed(
        R"({"trace_id": "d", "output": "ok", "input": [{"role": "system", "content": "Only rules."}]})");
    CHECK(input_gist(sys_only) == sys_only.input);
}
