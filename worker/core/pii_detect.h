#pragma once
// PII detection shared by the pii_leak scorer and judge-prompt redaction:
// finds emails, phone numbers, credit-card numbers (Luhn checked), IBANs
// (ISO 13616 mod-97 checked) and API-key-like secrets in a text.
//
// The detector regexes are compiled once per process (a function-local
// static, on first use); one RE2::Set pass tells which detectors can fire,
// so clean text costs a single scan. Candidates are then validated per kind
// (checksums, digit counts, date/version shapes, phone context words) and
// overlaps resolved by priority (secret > iban > email > credit_card >
// phone, then the longer match).
//
// The per-candidate checks (checksums, shapes) are in core/pii_checks.h.
//
// Everything here is thread-safe: the compiled detectors are immutable after
// their one-time construction, and find_pii() keeps its state on the stack.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/pii_checks.h"
#include "core/status.h"

namespace assay {

enum class PiiKind : uint8_t { email, phone, credit_card, iban, secret };
constexpr size_t k_pii_kind_count = 5;

// "email", "phone", "credit_card", "iban", "secret".
const char* to_string(PiiKind kind);
// Inverse of to_string; false when `name` is not a kind.
bool pii_kind_from_string(std::string_view name, PiiKind& out);

// One validated finding: bytes [begin, end) of the scanned text.
struct PiiFinding {
    PiiKind kind = PiiKind::email;
    size_t begin = 0;
    size_t end = 0;
    const char* detail = "";  // for secrets: which kind ("aws_access_key", ...)
    bool in_input = false;    // set by the pii_leak scorer for trace-input findings
};

struct PiiScanOptions {
    // Kinds to detect, indexed by PiiKind. Default: all. A kind that is off
    // is not matched at all (its candidates do not shadow other kinds).
    std::array<bool, k_pii_kind_count> detect{true, true, true, true, true};
    // Ignore documentation placeholders: emails at reserved example domains
    // (example.com/.org/.net, *.example, *.test, *.invalid, localhost) and
    // well-known test card numbers (4242 4242 4242 4242, ...). Default true.
    bool ignore_examples = true;
    // Optional: a candidate whose text this returns true for is dropped
    // before overlaps are resolved (the scorer's `allow` list). Must be
    // thread-safe when find_pii is called from several threads.
    std::function<bool(std::string_view)> allowed;
};

// OK when the built-in detectors compiled (they always should: a failure is
// a bug, reported as `internal` with RE2's message). Callers check it once
// at start-up; find_pii finds nothing when it is not OK.
Status pii_detectors_status();

// Appends the validated findings in `text` to `out`, sorted by begin and
// non-overlapping (among themselves; earlier contents of `out` are kept
// as they are). Offsets are bytes; non-ASCII text is never matched or split.
void find_pii(std::string_view text, const PiiScanOptions& options, std::vector<PiiFinding>& out);
// The same, returning a new vector.
std::vector<PiiFinding> find_pii(std::string_view text, const PiiScanOptions& options = {});

// A masked, safe-to-store excerpt of `f` within `text`, e.g.
// "j***@example.com", "card ending 4242", "phone ending 21", "IBAN GB…9181",
// "aws_access_key AKIA…".
std::string mask_finding(const PiiFinding& f, std::string_view text);

}  // namespace assay
