// PII redaction of judge prompts (worker/judge/redact.h) over the shared
// detectors of core/pii_detect.h.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "judge/redact.h"

using namespace assay;

namespace {

std::string redact(const std::string& text, const RedactOptions& options = {}) {
    return redact_pii(text, options).text;
}

RedactOptions only(bool email, bool phone, bool card, bool iban, bool secrets) {
    RedactOptions o;
    o.email = email;
    o.phone = phone;
    o.card = card;
    o.iban = iban;
    o.secrets = secrets;
    return o;
}

}  // namespace

TEST_CASE("redact: each kind is replaced by its label") {
    auto r = redact_pii("Write to jane.doe@acme-corp.io today.", {});
    CHECK(r.text == "Write to [EMAIL] today.");
    CHECK(r.redactions == 1);

    CHECK(redact("Call me at +1 415-555-0132 after six.") == "Call me at [PHONE] after six.");
    CHECK(redact("Office: (555) 123-4567.") == "Office: [PHONE].");
    CHECK(redact("Tel. 0490 75 40 81 ou +33 3 93 92 16 85") == "Tel. [PHONE] ou [PHONE]");

    CHECK(redact("Paid with 4539 1488 0343 6467, thanks") == "Paid with [CARD], thanks");
    CHECK(redact("card=4539-1488-0343-6467;") == "card=[CARD];");
    // Documentation placeholders are redacted too (unlike the scorer's default).
    CHECK(redact("test card 4242 4242 4242 4242 or user@example.com") ==
          "test card [CARD] or [EMAIL]");

    const RedactOptions all = only(true, true, true, true, true);
    CHECK(redact("IBAN GB82 WEST 1234 5698 7654 32.", all) == "IBAN [IBAN].");
    CHECK(redact("key sk-proj-abcdefghijklmnopqrstuvwxyz0123 leaked", all) ==
          "key [SECRET] leaked");
    CHECK(redact("aws AKIAIOSFODNN7EXAMPLE here", all) == "aws [SECRET] here");
}

TEST_CASE("redact: cards must pass Luhn") {
    const std::string bad = "Paid with 4539 1488 0343 6468, thanks";  // last digit off
    auto r = redact_pii(bad, {});
    CHECK(r.text == bad);
    CHECK(r.redactions == 0);
    CHECK(redact("4539148803436467") == "[CARD]");
    CHECK(redact("4539148803436468") == "4539148803436468");
}

TEST_CASE("redact: ordinary numbers are not phones") {
    const std::string text =
        "In 2024 we sold 1,299,000 units at $1,499.99 each (up 12.5%). Order 123456789 shipped "
        "on 2024-01-31, invoice no. 20240131-0042, ticket #88231145. Version 10.4.12 runs on "
        "192.168.100.200; SSN-shaped 123-45-6789; ISBN 978-3-16-148410-0; ZIP 94103; "
        "population 8336817; timestamp 1700000000; between 1990 and 2010.";
    auto r = redact_pii(text, only(true, true, true, true, true));
    CHECK(r.text == text);
    CHECK(r.redactions == 0);
}

TEST_CASE("redact: IBANs and secrets are off by default") {
    const std::string text =
        "IBAN GB82 WEST 1234 5698 7654 32, key sk-proj-abcdefghijklmnopqrstuvwxyz0123";
    CHECK(redact(text) == text);
    CHECK(redact(text, only(false, false, false, true, false)) ==
          "IBAN [IBAN], key sk-proj-abcdefghijklmnopqrstuvwxyz0123");
}

TEST_CASE("redact: options off leave the text untouched") {
    const std::string text = "mail a@acme.io, call +44 20 7946 0958, card 4539 1488 0343 6467";
    auto none = redact_pii(text, only(false, false, false, false, false));
    CHECK(none.text == text);
    CHECK(none.redactions == 0);
    CHECK(redact(text, only(true, false, false, false, false)) ==
          "mail [EMAIL], call +44 20 7946 0958, card 4539 1488 0343 6467");
    CHECK(redact(text, only(false, true, false, false, false)) ==
          "mail a@acme.io, call [PHONE], card 4539 1488 0343 6467");
    CHECK(redact(text, only(false, false, true, false, false)) ==
          "mail a@acme.io, call +44 20 7946 0958, card [CARD]");
    auto all = redact_pii(text, {});
    CHECK(all.text == "mail [EMAIL], call [PHONE], card [CARD]");
    CHECK(all.redactions == 3);
}

TEST_CASE("redact: adjacent and overlapping matches") {
    // Adjacent spans: each is replaced, the separators stay.
    auto r = redact_pii("a.b@acme.io,c@acme.org;+44 20 7946 0958", {});
    CHECK(r.text == "[EMAIL],[EMAIL];[PHONE]");
    CHECK(r.redactions == 3);
    // A card number inside an email's local part: one span, the email wins.
    r = redact_pii("4539148803436467@acme.io", {});
    CHECK(r.text == "[EMAIL]");
    CHECK(r.redactions == 1);
    // An IBAN holds card- and phone-shaped digit runs: one IBAN span.
    r = redact_pii("DE89 3704 0044 0532 0130 00", only(true, true, true, true, false));
    CHECK(r.text == "[IBAN]");
    CHECK(r.redactions == 1);
    // A secret that contains an email-looking part stays one secret.
    r = redact_pii("sk-ant-api03-abcdefghijklmnopqrstuvwxyz", only(true, true, true, true, true));
    CHECK(r.text == "[SECRET]");
}

TEST_CASE("redact: Unicode text around matches is unchanged") {
    const std::string text =
        "Grüße aus Zürich — écrivez à jürgen: jurgen@beispiel.de ✉, 東京の電話 +81 3-1234-5678 "
        "です。"
        "Карта 4539 1488 0343 6467 🙂 fin";
    auto r = redact_pii(text, {});
    CHECK(r.text ==
          "Grüße aus Zürich — écrivez à jürgen: [EMAIL] ✉, 東京の電話 [PHONE] です。"
          "Карта [CARD] 🙂 fin");
    CHECK(r.redactions == 3);
    const std::string clean = "Nur Text: ünïcödé ✓ 東京 🙂 — and 2024.";
    CHECK(redact(clean) == clean);
}

TEST_CASE("redact: replacement format") {
    RedactOptions o;
    o.replacement_format = "<{KIND}:{KIND}>";
    CHECK(redact("x a@acme.io y", o) == "x <EMAIL:EMAIL> y");
    o.replacement_format = "[REDACTED]";
    CHECK(redact("x a@acme.io y", o) == "x [REDACTED] y");
}

TEST_CASE("redact: parse_redact_options") {
    auto d = parse_redact_options(nlohmann::json());
    REQUIRE(d.ok());
    CHECK(d->email);
    CHECK(d->phone);
    CHECK(d->card);
    CHECK_FALSE(d->iban);
    CHECK_FALSE(d->secrets);
    CHECK(d->replacement_format == "[{KIND}]");

    auto o = parse_redact_options(nlohmann::json::parse(
        R"({"email": false, "phone": true, "card": false, "iban": true, "secrets": true,
            "replacement_format": "<{KIND}>"})"));
    REQUIRE(o.ok());
    CHECK_FALSE(o->email);
    CHECK_FALSE(o->card);
    CHECK(o->iban);
    CHECK(o->secrets);
    CHECK(o->replacement_format == "<{KIND}>");

    auto unknown = parse_redact_options(nlohmann::json::parse(R"({"emails": true})"));
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.status().message().find("emails") != std::string::npos);
    CHECK(unknown.status().message().find("unknown key") != std::string::npos);

    auto type = parse_redact_options(nlohmann::json::parse(R"({"phone": "yes"})"));
    REQUIRE_FALSE(type.ok());
    CHECK(type.status().message().find("redact.phone") != std::string::npos);

    auto fmt = parse_redact_options(nlohmann::json::parse(R"({"replacement_format": 3})"));
    REQUIRE_FALSE(fmt.ok());
    CHECK(fmt.status().message().find("replacement_format") != std::string::npos);

    CHECK_FALSE(parse_redact_options(nlohmann::json::parse("[1, 2]")).ok());
}

TEST_CASE("redact: concurrent calls agree") {
    const std::string text = "mail a@acme.io, call +44 20 7946 0958, card 4539 1488 0343 6467 — ✓";
    const std::string want = "mail [EMAIL], call [PHONE], card [CARD] — ✓";
    std::vector<std::thread> threads;
    std::vector<int> wrong(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 500; ++i) {
                if (redact_pii(text, {}).text != want) {
                    ++wrong[static_cast<size_t>(t)];
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    CHECK(wrong == std::vector<int>(4, 0));
}
