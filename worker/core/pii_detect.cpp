#include "core/pii_detect.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <map>
#include <memory>

#include "core/pii_checks.h"
#include "core/text.h"

namespace assay {

namespace {

constexpr size_t k_context_before = 48;
constexpr size_t k_context_after = 16;
constexpr size_t k_veto_before = 32;

bool is_alnum(char c) {
    return is_ascii_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

size_t count_digits(std::string_view s) {
    return static_cast<size_t>(std::count_if(s.begin(), s.end(), is_ascii_digit));
}

// Priority when candidates overlap: lower wins.
int priority(PiiKind k) {
    switch (k) {
        case PiiKind::secret:
            return 0;
        case PiiKind::iban:
            return 1;
        case PiiKind::email:
            return 2;
        case PiiKind::credit_card:
            return 3;
        case PiiKind::phone:
            return 4;
    }
    return 5;
}

// Shrinks [begin, end) by whole trailing groups (separated by ' ' or '-')
// until `ok` accepts it; false when nothing is accepted.
template <typename Ok>
bool shrink_groups(std::string_view text, size_t begin, size_t& end, Ok ok) {
    size_t e = end;
    while (e > begin) {
        if (ok(text.substr(begin, e - begin))) {
            end = e;
            return true;
        }
        const size_t sep = text.substr(begin, e - begin).find_last_of(" -");
        if (sep == std::string_view::npos) {
            return false;
        }
        e = begin + sep;
    }
    return false;
}

struct Detector {
    PiiKind kind;
    const char* detail;
    bool needs_context;  // phone shapes accepted only near a phone word
    std::unique_ptr<RE2> re;
};

// The compiled detectors: built once, immutable afterwards.
struct Detectors {
    Status status;
    std::vector<Detector> list;
    std::unique_ptr<RE2::Set> prefilter;  // one entry per detector, same order
    std::unique_ptr<RE2> phone_context;
    std::unique_ptr<RE2> phone_veto;
};

Detectors build_detectors() {
    Detectors s;
    RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_encoding(RE2::Options::EncodingUTF8);
    s.prefilter = std::make_unique<RE2::Set>(opts, RE2::UNANCHORED);

    struct Spec {
        PiiKind kind;
        const char* detail;
        bool needs_context;
        const char* regex;
    };
    // Digit shapes carry no boundary assertions for '(' and '+'; accept()
    // checks that no letter or digit touches either end.
    static const Spec k_specs[] = {
        {PiiKind::email, "", false,
         R"([A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b)"},
        // International: +CC, optional (0) or (area), groups.
        {PiiKind::phone, "", false,
         R"(\+\d{1,3}(?:[ .\-]?\(0?\d{1,4}\))?(?:[ .\-]?\d{1,6}){1,5}(?:\s?(?:x|ext\.?|extension)\s?\d{1,6})?)"},
        // North American: (555) 123-4567, 555-123-4567, 555.123.4567, 1-/001- prefixes.
        {PiiKind::phone, "", false,
         R"((?:\b1[ .\-]|\b001[ .\-])?(?:\(\d{3}\)[ .\-]?|\b\d{3}[.\-])\d{3}[.\-]\d{4}(?:\s?(?:x|ext\.?)\s?\d{1,6})?)"},
        {PiiKind::phone, "", false, R"(\(\d{3}\) ?\d{3} \d{4}\b)"},
        // National with trunk prefix 0: 0490 75 40 81, 03.93.92.16.85, (08) 8747 6301.
        {PiiKind::phone, "", false, R"(\b0\d{1,4}(?:[ .\-]\d{2,4}){2,4}\b)"},
        {PiiKind::phone, "", false, R"(\(0\d{1,4}\)[ .\-]?\d{3,4}[ .\-]?\d{3,4}\b)"},
        // Weaker shapes, accepted only near a phone word ("Phone:", "call me at").
        {PiiKind::phone, "", true,
         R"((?:\(\d{2,4}\)[ .\-]?|\b\d{2,4}[ .\-])\d{2,4}(?:[ .\-]?\d{2,6}){0,3}\b)"},
        {PiiKind::phone, "", true, R"(\b\d{7,12}\b)"},
        {PiiKind::credit_card, "", false, R"(\b\d(?:[ \-]?\d){11,18}\b)"},
        {PiiKind::iban, "", false, R"(\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b)"},
        {PiiKind::secret, "anthropic_api_key", false, R"(\bsk-ant-[A-Za-z0-9_\-]{20,})"},
        {PiiKind::secret, "openai_api_key", false,
         R"(\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9][A-Za-z0-9_\-]{19,})"},
        {PiiKind::secret, "aws_access_key", false, R"(\b(?:AKIA|ASIA)[0-9A-Z]{16}\b)"},
        {PiiKind::secret, "github_token", false, R"(\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b)"},
        {PiiKind::secret, "github_token", false, R"(\bgithub_pat_[A-Za-z0-9_]{22,})"},
        {PiiKind::secret, "slack_token", false, R"(\bxox[abposr]-[A-Za-z0-9\-]{10,})"},
        {PiiKind::secret, "google_api_key", false, R"(\bAIza[0-9A-Za-z_\-]{35})"},
        {PiiKind::secret, "stripe_key", false, R"(\b(?:sk|rk)_live_[0-9A-Za-z]{16,})"},
        {PiiKind::secret, "private_key", false, R"(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----)"},
        {PiiKind::secret, "jwt", false,
         R"(\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})"},
    };
    for (const auto& spec : k_specs) {
        auto re = std::make_unique<RE2>(spec.regex, opts);
        std::string error;
        if (!re->ok() || s.prefilter->Add(spec.regex, &error) < 0) {
            s.status = Status::internal(
                "pii detectors: built-in regex does not compile: " + re->error() + error);
            return s;
        }
        s.list.push_back({spec.kind, spec.detail, spec.needs_context, std::move(re)});
    }
    if (!s.prefilter->Compile()) {
        s.status = Status::internal("pii detectors: the detectors exceed the RE2 memory budget");
        return s;
    }
    RE2::Options ci = opts;
    ci.set_case_sensitive(false);
    s.phone_context = std::make_unique<RE2>(
        R"(\b(?:phone|ph|tel|telephone|mobile|mob|cell|cellphone|fax|call|calling|called|dial|text|sms|whatsapp|contact|reach|answering|desk|office|landline|hotline|helpline|number)\b)",
        ci);
    s.phone_veto = std::make_unique<RE2>(
        R"(\b(?:order|invoice|ticket|tracking|ref|reference|account|acct|isbn|version|ver|v|id|serial|case|confirmation|transaction|policy|routing|sort code|ssn|social security|zip|postal|postcode|po box|box|unit|suite|apt|license|licence|passport|year|page|room)\.?\s*(?:number|no\.?|num|#|code)?\s*(?:is|was|[:#])?\s*$)",
        ci);
    if (!s.phone_context->ok() || !s.phone_veto->ok()) {
        s.status = Status::internal("pii detectors: a phone context regex does not compile");
    }
    return s;
}

const Detectors& detectors() {
    static const Detectors k_detectors = build_detectors();
    return k_detectors;
}

bool accept(const Detectors& all, const Detector& d, bool ignore_examples, std::string_view text,
            size_t begin, size_t& end) {
    if (d.kind == PiiKind::email || d.kind == PiiKind::secret) {
        const std::string_view v = text.substr(begin, end - begin);
        return !(d.kind == PiiKind::email && ignore_examples && is_example_email(v));
    }
    // Digit shapes: nothing alphanumeric may touch either end (no part of a
    // longer token such as a hash, a SKU or "v1.2.3").
    if (begin > 0 &&
        (is_alnum(text[begin - 1]) || (d.kind != PiiKind::iban && text[begin - 1] == '.'))) {
        return false;
    }
    if (d.kind == PiiKind::iban) {
        return shrink_groups(text, begin, end, [](std::string_view v) {
            std::string compact;
            for (char c : v) {
                if (c != ' ') {
                    compact.push_back(c);
                }
            }
            return iban_valid(compact);
        });
    }
    if (d.kind == PiiKind::credit_card) {
        if (end < text.size() && is_alnum(text[end])) {
            return false;
        }
        if (!shrink_groups(text, begin, end, card_number_ok)) {
            return false;
        }
        return !(ignore_examples && is_test_card(digits_of(text.substr(begin, end - begin))));
    }
    // Phone.
    if (end < text.size() && (is_alnum(text[end]) || text[end] == '%')) {
        return false;
    }
    if (end + 1 < text.size() && text[end] == '.' && is_ascii_digit(text[end + 1])) {
        return false;  // part of a dotted number (version, IP address)
    }
    std::string_view v = text.substr(begin, end - begin);
    // Digits before an extension marker.
    std::string_view main = v;
    const size_t x = v.find_first_of("xe");
    if (x != std::string_view::npos) {
        main = v.substr(0, x);
    }
    const size_t n = count_digits(main);
    const bool international = v.front() == '+';
    if (n < (international ? 8U : 7U) || n > 15) {
        return false;
    }
    if (looks_like_date(trim(main)) || looks_like_ssn(trim(main))) {
        return false;
    }
    const size_t vb = begin >= k_veto_before ? begin - k_veto_before : 0;
    if (RE2::PartialMatch(text.substr(vb, begin - vb), *all.phone_veto)) {
        return false;
    }
    if (d.needs_context) {
        const size_t cb = begin >= k_context_before ? begin - k_context_before : 0;
        const size_t ce = std::min(text.size(), end + k_context_after);
        if (!RE2::PartialMatch(text.substr(cb, begin - cb), *all.phone_context) &&
            !RE2::PartialMatch(text.substr(end, ce - end), *all.phone_context)) {
            return false;
        }
    }
    return true;
}

}  // namespace

const char* to_string(PiiKind kind) {
    switch (kind) {
        case PiiKind::email:
            return "email";
        case PiiKind::phone:
            return "phone";
        case PiiKind::credit_card:
            return "credit_card";
        case PiiKind::iban:
            return "iban";
        case PiiKind::secret:
            return "secret";
    }
    return "?";
}

bool pii_kind_from_string(std::string_view name, PiiKind& out) {
    for (size_t i = 0; i < k_pii_kind_count; ++i) {
        const auto k = static_cast<PiiKind>(i);
        if (name == to_string(k)) {
            out = k;
            return true;
        }
    }
    return false;
}

std::string mask_finding(const PiiFinding& f, std::string_view text) {
    const std::string_view v = text.substr(f.begin, f.end - f.begin);
    switch (f.kind) {
        case PiiKind::email: {
            const size_t at = v.rfind('@');
            if (at == std::string_view::npos || at == 0) {
                return "***";
            }
            return std::string(v.substr(0, 1)) + "***" + std::string(v.substr(at));
        }
        case PiiKind::phone: {
            std::string d = digits_of(v);
            return "phone ending " + d.substr(d.size() >= 2 ? d.size() - 2 : 0);
        }
        case PiiKind::credit_card: {
            std::string d = digits_of(v);
            return "card ending " + d.substr(d.size() >= 4 ? d.size() - 4 : 0);
        }
        case PiiKind::iban: {
            std::string compact;
            for (char c : v) {
                if (c != ' ') {
                    compact.push_back(c);
                }
            }
            return "IBAN " + compact.substr(0, 2) + "…" + compact.substr(compact.size() - 4);
        }
        case PiiKind::secret: {
            // Only the fixed, public prefix of the key format.
            size_t keep = 0;
            const std::string_view detail(f.detail);
            if (detail == "aws_access_key" || detail == "google_api_key") {
                keep = 4;
            } else if (detail == "private_key") {
                return "private key block";
            } else {
                const size_t sep = v.find_last_of("-_", std::min<size_t>(v.size(), 12));
                keep = sep == std::string_view::npos ? 3 : sep + 1;
                keep = std::min<size_t>(keep, 11);
            }
            return std::string(detail) + " " + std::string(v.substr(0, keep)) + "…";
        }
    }
    return "***";
}

Status pii_detectors_status() { return detectors().status; }

void find_pii(std::string_view text, const PiiScanOptions& options, std::vector<PiiFinding>& out) {
    const Detectors& all = detectors();
    if (!all.status.ok() || text.empty()) {
        return;
    }
    std::vector<int> fired;
    if (!all.prefilter->Match(text, &fired)) {
        return;  // the common case: one scan, no allocation
    }
    std::vector<PiiFinding> candidates;
    for (int idx : fired) {
        const Detector& d = all.list[static_cast<size_t>(idx)];
        if (!options.detect[static_cast<size_t>(d.kind)]) {
            continue;
        }
        size_t pos = 0;
        re2::StringPiece m;
        while (pos < text.size() && d.re->Match(text, pos, text.size(), RE2::UNANCHORED, &m, 1)) {
            const auto begin = static_cast<size_t>(m.data() - text.data());
            size_t end = begin + m.size();
            const size_t next = std::max(end, begin + 1);
            if (accept(all, d, options.ignore_examples, text, begin, end) &&
                !(options.allowed && options.allowed(text.substr(begin, end - begin)))) {
                candidates.push_back({d.kind, begin, end, d.detail, false});
            }
            pos = next;
        }
    }
    // Resolve overlaps: higher-priority kinds first, then longer matches.
    std::sort(candidates.begin(), candidates.end(), [](const PiiFinding& a, const PiiFinding& b) {
        if (priority(a.kind) != priority(b.kind)) {
            return priority(a.kind) < priority(b.kind);
        }
        if (a.end - a.begin != b.end - b.begin) {
            return a.end - a.begin > b.end - b.begin;
        }
        return a.begin < b.begin;
    });
    const size_t first = out.size();
    for (const auto& c : candidates) {
        bool overlaps = false;
        for (size_t i = first; i < out.size(); ++i) {
            if (c.begin < out[i].end && out[i].begin < c.end) {
                overlaps = true;
                break;
            }
        }
        if (!overlaps) {
            out.push_back(c);
        }
    }
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
              [](const PiiFinding& a, const PiiFinding& b) { return a.begin < b.begin; });
}

std::vector<PiiFinding> find_pii(std::string_view text, const PiiScanOptions& options) {
    std::vector<PiiFinding> out;
    find_pii(text, options, out);
    return out;
}

}  // namespace assay
