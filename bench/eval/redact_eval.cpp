// redact_eval: how much of the labelled PII in presidio_synth.dev.jsonl the
// judge-prompt redaction (judge/redact.h) removes.
//
//   redact_eval [--data DIR] [--all-kinds]
//
// Options: the defaults (email, phone, card), or with --all-kinds also IBANs
// and secrets. For every gold span of a type redaction claims (EMAIL_ADDRESS,
// PHONE_NUMBER, CREDIT_CARD; IBAN_CODE with --all-kinds), at byte level:
//   redacted  every byte of the span lies inside a redacted span;
//   partial   some bytes, not all;
//   missed    none;
//   verbatim  the gold value still occurs verbatim in the redacted text.
// Recall = redacted / gold. "Spurious" redactions overlap no gold span of
// any type; "other type" ones overlap only gold spans of unclaimed types
// (dates, SSNs, addresses, ...). The spans measured are checked to be
// exactly those redact_pii replaced (the text is rebuilt from them).
// Exit 2 on usage or data errors, 1 when that consistency check fails.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/pii_detect.h"
#include "judge/redact.h"
#include "support/shared_data.h"

namespace assay {
namespace {

struct Tally {
    long gold = 0, redacted = 0, partial = 0, missed = 0, verbatim = 0;
};

int run(int argc, char** argv) {
    std::string data = testing::shared_data_dir(ASSAY_SHARED_DATA_DIR);
    bool all_kinds = false;
    for (int i = 1; i < argc; ++i) {
        const std::string f = argv[i];
        if (f == "--data" && i + 1 < argc) {
            data = argv[++i];
        } else if (f == "--all-kinds") {
            all_kinds = true;
        } else {
            std::cerr << "usage: redact_eval [--data DIR] [--all-kinds]\n";
            return 2;
        }
    }
    RedactOptions options;
    options.replacement_format = "\x01";  // a byte the data never holds: the rebuild check below
    if (all_kinds) {
        options.iban = true;
        options.secrets = true;
    }
    std::map<std::string, bool> claimed = {{"EMAIL_ADDRESS", options.email},
                                           {"PHONE_NUMBER", options.phone},
                                           {"CREDIT_CARD", options.card},
                                           {"IBAN_CODE", options.iban}};
    const std::string path = data + "/presidio_synth.dev.jsonl";
    std::ifstream in(path);
    if (!in) {
        std::cerr << "redact_eval: cannot read " << path << "\n";
        return 2;
    }
    std::map<std::string, Tally> tally;
    long docs = 0, redactions = 0, spurious = 0, other_type = 0, no_pii_docs_touched = 0;
    std::map<std::string, long> other_types;
    std::string line;
    long line_no = 0;
    while (std::getline(in, line)) {
        ++line_no;
        nlohmann::json r;
        try {
            r = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception& e) {
            std::cerr << path << ":" << line_no << ": " << e.what() << "\n";
            return 2;
        }
        ++docs;
        const std::string text = r.value("output", "");
        const RedactResult red = redact_pii(text, options);
        const std::vector<PiiFinding> spans = find_pii(text, redact_scan_options(options));
        // Consistency: the spans are exactly what redact_pii replaced.
        std::string rebuilt;
        size_t pos = 0;
        for (const auto& s : spans) {
            rebuilt += text.substr(pos, s.begin - pos) + "\x01";
            pos = s.end;
        }
        rebuilt += text.substr(pos);
        if (rebuilt != red.text || static_cast<int>(spans.size()) != red.redactions) {
            std::cerr << path << ":" << line_no << ": redact_pii and find_pii disagree\n";
            return 1;
        }
        redactions += red.redactions;
        if (r.value("label", "") == "no_pii" && red.redactions > 0) {
            ++no_pii_docs_touched;
        }
        std::vector<std::pair<size_t, size_t>> gold_all;
        std::vector<std::string> gold_types;
        for (const auto& g : r.at("spans")) {
            const auto b = g.at("start_byte").get<size_t>();
            const auto e = g.at("end_byte").get<size_t>();
            const std::string type = g.at("entity_type").get<std::string>();
            gold_all.emplace_back(b, e);
            gold_types.push_back(type);
            auto it = claimed.find(type);
            if (it == claimed.end() || !it->second) {
                continue;
            }
            Tally& t = tally[type];
            ++t.gold;
            size_t covered = 0;
            for (const auto& s : spans) {
                const size_t lo = std::max(b, s.begin);
                const size_t hi = std::min(e, s.end);
                if (lo < hi) {
                    covered += hi - lo;
                }
            }
            if (covered == e - b) {
                ++t.redacted;
            } else if (covered > 0) {
                ++t.partial;
            } else {
                ++t.missed;
            }
            if (red.text.find(text.substr(b, e - b)) != std::string::npos) {
                ++t.verbatim;
            }
        }
        for (const auto& s : spans) {
            bool any = false;
            bool claimed_type = false;
            std::string other;
            for (size_t i = 0; i < gold_all.size(); ++i) {
                if (s.begin < gold_all[i].second && gold_all[i].first < s.end) {
                    any = true;
                    auto it = claimed.find(gold_types[i]);
                    if (it != claimed.end() && it->second) {
                        claimed_type = true;
                    } else {
                        other = gold_types[i];
                    }
                }
            }
            if (!any) {
                ++spurious;
                std::printf("  spurious %s: %s\n", to_string(s.kind),
                            text.substr(s.begin, s.end - s.begin).c_str());
            } else if (!claimed_type) {
                ++other_type;
                ++other_types[other];
            }
        }
    }
    std::printf(
        "redact_eval: %s, %ld texts, options email=%d phone=%d card=%d iban=%d secrets=%d\n",
        path.c_str(), docs, options.email, options.phone, options.card, options.iban,
        options.secrets);
    std::printf(
        "| entity | gold spans | fully redacted | partly | missed | left verbatim | recall |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
    Tally sum;
    for (const auto& [type, t] : tally) {
        std::printf("| %s | %ld | %ld | %ld | %ld | %ld | %.3f |\n", type.c_str(), t.gold,
                    t.redacted, t.partial, t.missed, t.verbatim,
                    t.gold ? double(t.redacted) / double(t.gold) : 0.0);
        sum.gold += t.gold;
        sum.redacted += t.redacted;
        sum.partial += t.partial;
        sum.missed += t.missed;
        sum.verbatim += t.verbatim;
    }
    std::printf("| all | %ld | %ld | %ld | %ld | %ld | %.3f |\n", sum.gold, sum.redacted,
                sum.partial, sum.missed, sum.verbatim,
                sum.gold ? double(sum.redacted) / double(sum.gold) : 0.0);
    std::printf("redactions: %ld; on gold spans of other types only: %ld", redactions, other_type);
    for (const auto& [type, n] : other_types) {
        std::printf(" %s×%ld", type.c_str(), n);
    }
    std::printf("; on no gold span at all: %ld; no_pii texts changed: %ld\n", spurious,
                no_pii_docs_touched);
    return 0;
}

}  // namespace
}  // namespace assay

int main(int argc, char** argv) { return assay::run(argc, argv); }
