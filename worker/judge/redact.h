#pragma once
// PII redaction of judge prompts before they leave the machine: emails,
// phone numbers and card numbers by default, IBANs and API-key-like secrets
// on request. Detection is core/pii_detect.h's find_pii, the same detectors
// the pii_leak scorer uses (cards must pass Luhn, IBANs mod-97; dates,
// years, prices, versions and order/invoice numbers are not phones).
//
// Every detected span is replaced by `replacement_format` with "{KIND}" set
// to EMAIL, PHONE, CARD, IBAN or SECRET ("[EMAIL]" by default). Bytes outside
// the detected spans, including any non-ASCII text, are copied unchanged.
// Documentation placeholders (user@example.com, the 4242… test card) are
// redacted too: a judge prompt has no use for telling them apart.
//
// Redact the trace's values (input, output, reference, context) before
// rendering the rubric prompt, not the rendered prompt: the render's
// delimiter nonce is 16 hex digits, and one that is all decimal and
// Luhn-valid (about 1 in 18,000) would be taken for a card number.
//
// Thread-safe: the detectors are compiled once per process and immutable;
// redact_pii compiles nothing per call.

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "core/pii_detect.h"
#include "core/status.h"

namespace assay {

struct RedactOptions {
    bool email = true;     // user@host.tld
    bool phone = true;     // international, North American, national trunk-0 shapes
    bool card = true;      // 12-19 digit Luhn-valid card numbers
    bool iban = false;     // mod-97-valid IBANs
    bool secrets = false;  // OpenAI/Anthropic/AWS/GitHub/Slack/Google/Stripe keys, PEM, JWT
    // What replaces a span; "{KIND}" (every occurrence) becomes EMAIL, PHONE,
    // CARD, IBAN or SECRET.
    std::string replacement_format = "[{KIND}]";
};

struct RedactResult {
    std::string text;    // the redacted text
    int redactions = 0;  // spans replaced
};

// Returns `text` with every enabled kind of PII replaced. Never fails; with
// every kind off, or no PII found, the text is returned unchanged. Check
// pii_detectors_status() (or use parse_redact_options, which does) once at
// start-up: if the built-in detectors did not compile, nothing is found.
RedactResult redact_pii(std::string_view text, const RedactOptions& options);

// The find_pii options redact_pii uses for `options` (exactly the spans it
// replaces are find_pii(text, redact_scan_options(options))): for measuring.
PiiScanOptions redact_scan_options(const RedactOptions& options);

// Reads a config block such as {"email": true, "phone": true, "card": true,
// "iban": false, "secrets": false, "replacement_format": "[{KIND}]"}; absent
// keys keep their defaults, null gives all defaults. invalid_argument naming
// the key for an unknown key or a wrong type (or a non-object block);
// internal when the built-in detectors failed to compile (a bug).
Result<RedactOptions> parse_redact_options(const nlohmann::json& j);

}  // namespace assay
