#include "judge/redact.h"

#include <nlohmann/json.hpp>
#include <vector>

namespace assay {

namespace {

const char* kind_label(PiiKind kind) {
    switch (kind) {
        case PiiKind::email:
            return "EMAIL";
        case PiiKind::phone:
            return "PHONE";
        case PiiKind::credit_card:
            return "CARD";
        case PiiKind::iban:
            return "IBAN";
        case PiiKind::secret:
            return "SECRET";
    }
    return "PII";
}

void append_replacement(std::string& out, std::string_view format, const char* label) {
    static constexpr std::string_view k_placeholder = "{KIND}";
    size_t pos = 0;
    while (true) {
        const size_t at = format.find(k_placeholder, pos);
        if (at == std::string_view::npos) {
            out.append(format.substr(pos));
            return;
        }
        out.append(format.substr(pos, at - pos));
        out.append(label);
        pos = at + k_placeholder.size();
    }
}

}  // namespace

PiiScanOptions redact_scan_options(const RedactOptions& options) {
    PiiScanOptions scan;
    scan.detect[static_cast<size_t>(PiiKind::email)] = options.email;
    scan.detect[static_cast<size_t>(PiiKind::phone)] = options.phone;
    scan.detect[static_cast<size_t>(PiiKind::credit_card)] = options.card;
    scan.detect[static_cast<size_t>(PiiKind::iban)] = options.iban;
    scan.detect[static_cast<size_t>(PiiKind::secret)] = options.secrets;
    scan.ignore_examples = false;
    return scan;
}

RedactResult redact_pii(std::string_view text, const RedactOptions& options) {
    RedactResult result;
    if (!(options.email || options.phone || options.card || options.iban || options.secrets)) {
        result.text.assign(text);
        return result;
    }
    std::vector<PiiFinding> findings;
    find_pii(text, redact_scan_options(options), findings);
    if (findings.empty()) {
        result.text.assign(text);
        return result;
    }
    result.text.reserve(text.size());
    size_t pos = 0;
    for (const auto& f : findings) {  // sorted by begin, non-overlapping
        result.text.append(text.substr(pos, f.begin - pos));
        append_replacement(result.text, options.replacement_format, kind_label(f.kind));
        pos = f.end;
        ++result.redactions;
    }
    result.text.append(text.substr(pos));
    return result;
}

Result<RedactOptions> parse_redact_options(const nlohmann::json& j) {
    if (Status ready = pii_detectors_status(); !ready.ok()) {
        return ready;
    }
    RedactOptions options;
    if (j.is_null()) {
        return options;
    }
    if (!j.is_object()) {
        return Status::invalid_argument(
            "redact: must be a mapping of email, phone, card, iban, secrets, replacement_format");
    }
    for (const auto& [key, value] : j.items()) {
        bool* flag = nullptr;
        if (key == "email") {
            flag = &options.email;
        } else if (key == "phone") {
            flag = &options.phone;
        } else if (key == "card") {
            flag = &options.card;
        } else if (key == "iban") {
            flag = &options.iban;
        } else if (key == "secrets") {
            flag = &options.secrets;
        } else if (key == "replacement_format") {
            if (!value.is_string()) {
                return Status::invalid_argument("redact.replacement_format: must be a string");
            }
            options.replacement_format = value.get<std::string>();
            continue;
        } else {
            return Status::invalid_argument("redact." + key +
                                            ": unknown key (expected email, phone, card, iban, "
                                            "secrets, replacement_format)");
        }
        if (!value.is_boolean()) {
            return Status::invalid_argument("redact." + key + ": must be true or false");
        }
        *flag = value.get<bool>();
    }
    return options;
}

}  // namespace assay
