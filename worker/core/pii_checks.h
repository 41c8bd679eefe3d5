#pragma once
// The checks a PII candidate must pass after its regex matched
// (core/pii_detect.h): checksums (Luhn, IBAN mod-97), digit-group shapes,
// and the documentation placeholders and date/SSN shapes that are not PII.
// Pure functions of their arguments; thread-safe.

#include <string>
#include <string_view>

namespace assay {

inline bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

// The ASCII digits of `s`, in order.
std::string digits_of(std::string_view s);

// Luhn check over the ASCII digits of `s` (other bytes ignored). False when
// there are no digits.
bool luhn_valid(std::string_view s);
// ISO 13616 check: `compact` is an IBAN without spaces (upper-case); true when
// its length fits its country and its mod-97 remainder is 1.
bool iban_valid(std::string_view compact);
// A credit-card candidate: 12-19 digits (12 only for 5x/6x Maestro-style
// numbers), not one repeated digit, one kind of separator between groups of
// at least 3 digits, and a valid Luhn check digit.
bool card_number_ok(std::string_view candidate);

// An email at a reserved example domain (example.com/.org/.net, *.example,
// *.test, *.invalid, localhost).
bool is_example_email(std::string_view email);

// One of the well-known test card numbers (`digits` only, e.g.
// "4242424242424242").
bool is_test_card(std::string_view digits);

// Shaped like a calendar date (2024-01-31, 31.01.2024, 01/31/24) rather
// than a number someone dials.
bool looks_like_date(std::string_view s);

// The US SSN shape 123-45-6789, which is never a phone number.
bool looks_like_ssn(std::string_view s);

}  // namespace assay
