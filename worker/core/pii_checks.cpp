#include "core/pii_checks.h"

#include <algorithm>
#include <iterator>
#include <map>

#include "core/text.h"

namespace assay {

namespace {

// ISO 13616 IBAN lengths by country (the SWIFT IBAN registry).
int iban_length(std::string_view cc) {
    static const std::map<std::string_view, int> k_lengths = {
        {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16},
        {"BG", 22}, {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22},
        {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20},
        {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22},
        {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28},
        {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30},
        {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21},
        {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20}, {"MR", 27},
        {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24},
        {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33},
        {"SA", 24}, {"SC", 31}, {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27},
        {"SO", 23}, {"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29},
        {"VA", 22}, {"VG", 24}, {"XK", 20},
    };
    auto it = k_lengths.find(cc);
    return it == k_lengths.end() ? 0 : it->second;
}

// Separators between digit groups of a card candidate must be one kind, and
// the groups of a separated number must be at least 3 digits (4-4-4-4,
// 4-6-5, ...), so runs of short numbers are not glued into a card.
bool card_grouping_ok(std::string_view s) {
    char sep = 0;
    size_t group = 0;
    size_t groups = 0;
    size_t shortest = 99;
    for (char c : s) {
        if (is_ascii_digit(c)) {
            ++group;
            continue;
        }
        if (sep != 0 && c != sep) {
            return false;
        }
        sep = c;
        shortest = std::min(shortest, group);
        group = 0;
        ++groups;
    }
    if (groups == 0) {
        return true;
    }
    shortest = std::min(shortest, group);
    return shortest >= 3;
}

}  // namespace

std::string digits_of(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (is_ascii_digit(c)) {
            out.push_back(c);
        }
    }
    return out;
}

bool is_example_email(std::string_view email) {
    const size_t at = email.rfind('@');
    if (at == std::string_view::npos) {
        return false;
    }
    const std::string domain = ascii_lower(email.substr(at + 1));
    auto ends_with = [&domain](std::string_view suffix) {
        return domain.size() >= suffix.size() &&
               domain.compare(domain.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    return domain == "example.com" || domain == "example.org" || domain == "example.net" ||
           domain == "localhost" || ends_with(".example.com") || ends_with(".example.org") ||
           ends_with(".example.net") || ends_with(".example") || ends_with(".test") ||
           ends_with(".invalid") || ends_with(".localhost");
}

bool is_test_card(std::string_view digits) {
    static constexpr std::string_view k_test_cards[] = {
        "4242424242424242", "4111111111111111", "4012888888881881", "4000056655665556",
        "5555555555554444", "5105105105105100", "5200828282828210", "378282246310005",
        "371449635398431",  "6011111111111117", "6011000990139424", "3056930009020004",
        "30569309025904",   "38520000023237",   "3530111333300000", "3566002020360505",
    };
    return std::find(std::begin(k_test_cards), std::end(k_test_cards), digits) !=
           std::end(k_test_cards);
}

bool looks_like_date(std::string_view s) {
    // Split on the separators . / - and look at the group lengths.
    size_t groups[4] = {0, 0, 0, 0};
    size_t n = 0;
    char sep = 0;
    for (char c : s) {
        if (is_ascii_digit(c)) {
            if (n == 0) {
                n = 1;
            }
            ++groups[n - 1];
        } else if (c == '.' || c == '/' || c == '-') {
            if (sep != 0 && c != sep) {
                return false;
            }
            sep = c;
            if (++n > 3) {
                return false;
            }
        } else {
            return false;
        }
    }
    if (n != 3 || sep == 0) {
        return false;
    }
    const bool ymd = groups[0] == 4 && groups[1] <= 2 && groups[2] <= 2;
    const bool dmy = groups[0] <= 2 && groups[1] <= 2 && (groups[2] == 2 || groups[2] == 4);
    return ymd || dmy;
}

bool looks_like_ssn(std::string_view s) {
    if (s.size() != 11 || s[3] != '-' || s[6] != '-') {
        return false;
    }
    for (size_t i : {0, 1, 2, 4, 5, 7, 8, 9, 10}) {
        if (!is_ascii_digit(s[i])) {
            return false;
        }
    }
    return true;
}

bool card_number_ok(std::string_view candidate) {
    const std::string d = digits_of(candidate);
    if (d.size() < 12 || d.size() > 19) {
        return false;
    }
    // 12-digit numbers are only Maestro-style (5x/6x) cards.
    if (d.size() == 12 && d[0] != '5' && d[0] != '6') {
        return false;
    }
    if (std::all_of(d.begin(), d.end(), [&d](char c) { return c == d[0]; })) {
        return false;
    }
    return card_grouping_ok(candidate) && luhn_valid(d);
}

bool luhn_valid(std::string_view s) {
    int sum = 0;
    bool dbl = false;
    bool any = false;
    for (auto it = s.rbegin(); it != s.rend(); ++it) {
        if (!is_ascii_digit(*it)) {
            continue;
        }
        any = true;
        int d = *it - '0';
        if (dbl) {
            d *= 2;
            if (d > 9) {
                d -= 9;
            }
        }
        sum += d;
        dbl = !dbl;
    }
    return any && sum % 10 == 0;
}

bool iban_valid(std::string_view compact) {
    if (compact.size() < 15 || compact.size() > 34) {
        return false;
    }
    if (iban_length(compact.substr(0, 2)) != static_cast<int>(compact.size())) {
        return false;
    }
    if (!is_ascii_digit(compact[2]) || !is_ascii_digit(compact[3])) {
        return false;
    }
    // Move the first four characters to the end; letters become 10..35.
    int rem = 0;
    for (size_t i = 0; i < compact.size(); ++i) {
        const char c = compact[(i + 4) % compact.size()];
        if (is_ascii_digit(c)) {
            rem = (rem * 10 + (c - '0')) % 97;
        } else if (c >= 'A' && c <= 'Z') {
            rem = (rem * 100 + (c - 'A' + 10)) % 97;
        } else {
            return false;
        }
    }
    return rem == 1;
}

}  // namespace assay
