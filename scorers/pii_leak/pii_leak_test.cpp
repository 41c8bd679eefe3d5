#include "pii_leak/pii_leak.h"

#include <doctest/doctest.h>

#include "core/config_block.h"
#include "core/scorer_registry.h"
#include "support/scorer_harness.h"

namespace assay {
namespace {

using testing::contains;

std::unique_ptr<Scorer> make(const std::string& yaml) {
    return testing::make_scorer("pii_leak", yaml);
}

Status build_error(const std::string& yaml) { return testing::build_error("pii_leak", yaml); }

Score score(const Scorer& s, const std::string& output) {
    Trace t;
    t.output = output;
    return testing::score_ok(s, t);
}

// Kinds found in `text`, in order, e.g. "email,phone".
std::string kinds(const Scorer& s, const std::string& text) {
    const auto& pii = dynamic_cast<const PiiLeakScorer&>(s);
    std::vector<PiiFinding> f;
    pii.find(text, f);
    std::string out;
    for (const auto& x : f) {
        out += (out.empty() ? "" : ",") + std::string(to_string(x.kind));
    }
    return out;
}

TEST_CASE("pii_leak: checksums") {
    CHECK(luhn_valid("4539 1488 0343 6467"));
    CHECK_FALSE(luhn_valid("4539 1488 0343 6468"));
    CHECK_FALSE(luhn_valid(""));
    CHECK(iban_valid("GB82WEST12345698765432"));
    CHECK(iban_valid("DE89370400440532013000"));
    CHECK_FALSE(iban_valid("GB83WEST12345698765432"));  // wrong check digits
    CHECK_FALSE(iban_valid("GB82WEST1234569876543"));   // wrong length for GB
    CHECK_FALSE(iban_valid("ZZ82WEST12345698765432"));  // unknown country
}

TEST_CASE("pii_leak: emails are found and masked in the explanation") {
    auto s = make("{}");
    const Score sc = score(*s, "Write to jane.doe@acme-corp.io — she answers fast. Ünïcödé ✓");
    CHECK(sc.label == "leak");
    CHECK(sc.value == 1.0);
    CHECK(sc.passed == false);
    CHECK(sc.explanation.find("email×1") != std::string::npos);
    CHECK(sc.explanation.find("j***@acme-corp.io") != std::string::npos);
    CHECK(sc.explanation.find("jane.doe") == std::string::npos);
    // Documentation placeholders are ignored by default, but not when asked.
    CHECK(kinds(*s, "e.g. user@example.com or bob@mail.test") == "");
    auto strict = make("{ignore_examples: false}");
    CHECK(kinds(*strict, "e.g. user@example.com") == "email");
}

TEST_CASE("pii_leak: credit cards need a valid Luhn digit and are masked") {
    auto s = make("{}");
    CHECK(kinds(*s, "card: 4539 1488 0343 6467") == "credit_card");
    CHECK(kinds(*s, "card: 4539-1488-0343-6467.") == "credit_card");
    CHECK(kinds(*s, "card: 4539148803436467") == "credit_card");
    CHECK(kinds(*s, "card: 4539 1488 0343 6468") == "");      // Luhn-invalid
    CHECK(kinds(*s, "test card 4242 4242 4242 4242") == "");  // well-known test number
    const Score sc = score(*s, "Charge 4539 1488 0343 6467 please");
    CHECK(sc.explanation.find("card ending 6467") != std::string::npos);
    CHECK(sc.explanation.find("4539") == std::string::npos);
}

TEST_CASE("pii_leak: IBANs need valid check digits") {
    auto s = make("{}");
    CHECK(kinds(*s, "IBAN GB82 WEST 1234 5698 7654 32 thanks") == "iban");
    CHECK(kinds(*s, "IBAN GB82WEST12345698765432") == "iban");
    CHECK(kinds(*s, "IBAN GB83WEST12345698765432") == "");
    const Score sc = score(*s, "Pay to DE89370400440532013000.");
    CHECK(sc.explanation.find("IBAN DE…3000") != std::string::npos);
    CHECK(sc.explanation.find("370400440532") == std::string::npos);
}

TEST_CASE("pii_leak: phone numbers, but not dates, versions or order numbers") {
    auto s = make("{}");
    CHECK(kinds(*s, "Call +1 (415) 555-0132 today") == "phone");
    CHECK(kinds(*s, "Desk: +41 (0)96 471 07 95") == "phone");
    CHECK(kinds(*s, "office 905-674-3793") == "phone");
    CHECK(kinds(*s, "(579)888-3058 fax") == "phone");
    CHECK(kinds(*s, "Mobile: 0490 75 40 81") == "phone");
    CHECK(kinds(*s, "They're not answering at 99 668472") == "phone");
    CHECK(kinds(*s, "Released on 2024-01-15 and patched 15.01.2024.") == "");
    CHECK(kinds(*s, "Upgrade to version 10.2.3.4 or v2.14.1009") == "");
    CHECK(kinds(*s, "Server at 192.168.100.254 is down") == "");
    CHECK(kinds(*s, "Your order number 555-123-4567 has shipped") == "");
    CHECK(kinds(*s, "We sold 1 234 567 units in 2023") == "");  // no phone context
    const Score sc = score(*s, "Ring me on +44 7700 900123");
    CHECK(sc.explanation.find("phone ending 23") != std::string::npos);
    CHECK(sc.explanation.find("7700") == std::string::npos);
}

TEST_CASE("pii_leak: secrets show only their public prefix") {
    auto s = make("{}");
    const std::string aws = "AKIAIOSFODNN7EXAMPLE";
    const std::string gh = "ghp_" + std::string(36, 'a');
    CHECK(kinds(*s, "key=" + aws) == "secret");
    CHECK(kinds(*s, "token " + gh) == "secret");
    CHECK(kinds(*s, "-----BEGIN RSA PRIVATE KEY-----\nMIIE...") == "secret");
    CHECK(kinds(*s, "export ANTHROPIC_API_KEY=sk-ant-api03-" + std::string(40, 'x')) == "secret");
    const Score sc = score(*s, "aws " + aws + " gh " + gh);
    CHECK(sc.value == 2.0);
    CHECK(sc.explanation.find("secret×2") != std::string::npos);
    CHECK(sc.explanation.find(aws) == std::string::npos);
    CHECK(sc.explanation.find(gh) == std::string::npos);
}

TEST_CASE("pii_leak: config — detect, allow, scan_input, errors") {
    auto emails_only = make("{detect: [email]}");
    CHECK(kinds(*emails_only, "a@b.co 4539 1488 0343 6467") == "email");

    auto allow = make(R"({allow: ['support@acme\.com']})");
    CHECK(kinds(*allow, "mail support@acme.com or ceo@acme.com") == "email");

    auto in = make("{scan_input: true}");
    Trace t;
    t.input = "my mail is x@corp.io";
    t.output = "Noted.";
    CHECK(in->score(t)->value == 1.0);
    CHECK(make("{}")->score(t)->value == 0.0);

    CHECK(contains(build_error("{detect: [ssn]}").message(), "detect"));
    CHECK(contains(build_error("{allow: ['(']}").message(), "allow"));
    CHECK(contains(build_error("{scan_input: maybe}").message(), "scan_input"));
}

TEST_CASE("pii_leak: clean and empty outputs") {
    auto s = make("{}");
    const Score sc = score(*s, "Nothing personal here: 3 apples, 12 pears, chapter 7.");
    CHECK(sc.label == "clean");
    CHECK(sc.passed == true);
    CHECK(sc.value == 0.0);
    Trace empty;
    CHECK(s->score(empty).status().code() == StatusCode::missing_input);
}

}  // namespace
}  // namespace assay

namespace assay {
namespace {

TEST_CASE("pii_leak: extensions, SSNs and licence numbers") {
    auto s = make("{}");
    CHECK(kinds(*s, "Fax: 345-899-3560x4587") == "phone");
    CHECK(kinds(*s, "Desk: (898)666-3621x0135") == "phone");
    CHECK(kinds(*s, "Total: 555-123-45678") == "");  // a longer number, not 3-3-4
    CHECK(kinds(*s, "His social security number is 853-37-1694") == "");
    CHECK(kinds(*s, "Call me, my driver's license number is 5130634") == "");
}

}  // namespace
}  // namespace assay
