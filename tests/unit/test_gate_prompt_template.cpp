// Generate-mode prompt templates (worker/gate/prompt_template.h): parsing,
// rendering of each variable, and the fail-closed errors.
#include <doctest/doctest.h>

#include <fstream>

#include "gate/prompt_template.h"
#include "temp_dir.h"

using namespace assay;
using namespace assay::gate;
using nlohmann::json;

namespace {

GateCase make_case() {
    GateCase c;
    c.id = "qa-07";
    c.input = "How big can an object be?";
    c.context = json::array({"Objects up to 5 TiB.", {{"content", "Parts of 5 MiB."}}});
    c.reference = "5 TiB";
    c.metadata = {{"lang", "de"}, {"tier", 3}, {"empty", ""}};
    return c;
}

PromptTemplate parsed(const std::string& text) {
    auto t = parse_prompt_template(text, "p.txt");
    REQUIRE_MESSAGE(t.ok(), t.status().to_string());
    return t.value();
}

}  // namespace

TEST_CASE("gate prompt template: renders every variable, whitespace inside braces allowed") {
    auto t = parsed(
        "Q: {{input}}\nDocs:\n{{ context }}\nRef: {{reference}} [{{metadata.lang}}/{{  "
        "metadata.tier }}]");
    auto r = render_prompt(t, make_case());
    REQUIRE(r.ok());
    CHECK(*r ==
          "Q: How big can an object be?\nDocs:\n[1] Objects up to 5 TiB.\n\n[2] Parts of 5 "
          "MiB.\nRef: 5 TiB [de/3]");
    CHECK(t.sha256.size() == 64);
    CHECK(parsed("a").sha256 != parsed("b").sha256);
}

TEST_CASE("gate prompt template: a chat input renders one role: content block per message") {
    GateCase c = make_case();
    c.input = json::array(
        {{{"role", "system"}, {"content", "Classify."}},
         {{"role", "user"}, {"content", json::array({{{"type", "text"}, {"text", "Refund!"}}})}}});
    auto r = render_prompt(parsed("<<{{input}}>>"), c);
    REQUIRE(r.ok());
    CHECK(*r == "<<system: Classify.\n\nuser: Refund!>>");
}

TEST_CASE("gate prompt template: literal text without placeholders, single braces kept") {
    auto r = render_prompt(parsed("Answer as {\"a\": 1}."), make_case());
    REQUIRE(r.ok());
    CHECK(*r == "Answer as {\"a\": 1}.");
}

TEST_CASE(
    "gate prompt template: unknown variables and broken placeholders name the file and line") {
    auto unknown = parse_prompt_template("line one\nline two {{question}}\n", "prompts/x.txt");
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.status().message().find("prompt 'prompts/x.txt' line 2") != std::string::npos);
    CHECK(unknown.status().message().find("unknown variable {{question}}") != std::string::npos);

    auto unclosed = parse_prompt_template("a\nb\nc {{input\n}}", "x.txt");
    REQUIRE_FALSE(unclosed.ok());
    CHECK(unclosed.status().message().find("line 3") != std::string::npos);
    CHECK(unclosed.status().message().find("'{{' does not start a variable") != std::string::npos);

    CHECK_FALSE(parse_prompt_template("{{ }}", "x.txt").ok());
    CHECK_FALSE(parse_prompt_template("{{metadata.}}", "x.txt").ok());
    CHECK_FALSE(parse_prompt_template("{{metadata}}", "x.txt").ok());
    CHECK_FALSE(parse_prompt_template("  \n", "x.txt").ok());
}

TEST_CASE(
    "gate prompt template: a case lacking a variable fails, naming the case and the variable") {
    GateCase c = make_case();
    c.context = nullptr;
    auto r = render_prompt(parsed("x\n{{context}}"), c);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("case 'qa-07'") != std::string::npos);
    CHECK(r.status().message().find("{{context}}") != std::string::npos);
    CHECK(r.status().message().find("line 2") != std::string::npos);

    auto m = render_prompt(parsed("{{metadata.region}}"), make_case());
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().message().find("{{metadata.region}}") != std::string::npos);
    // An empty value is a hole too: never a silently empty prompt.
    CHECK_FALSE(render_prompt(parsed("{{metadata.empty}}"), make_case()).ok());
    c = make_case();
    c.reference = nullptr;
    CHECK_FALSE(render_prompt(parsed("{{reference}}"), c).ok());
}

TEST_CASE("gate prompt template: load from a file; an unreadable file is an io_error naming it") {
    testing::TempDir dir;
    { std::ofstream(dir.file("p.txt")) << "Q: {{input}}"; }
    auto t = load_prompt_template(dir.file("p.txt"));
    REQUIRE(t.ok());
    CHECK(t->path == dir.file("p.txt"));
    auto missing = load_prompt_template(dir.file("nope.txt"));
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.status().message().find("nope.txt") != std::string::npos);
}
