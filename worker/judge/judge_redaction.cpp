#include "judge/judge_redaction.h"

#include "judge/redact.h"

namespace assay {

JudgeRedactor builtin_redactor() {
    return [](std::string_view text, const JudgeRedaction& kinds) {
        RedactOptions o;
        o.email = kinds.email;
        o.phone = kinds.phone;
        o.card = kinds.card;
        return redact_pii(text, o).text;
    };
}

Trace redact_trace(const Trace& t, const JudgeRedaction& kinds, const JudgeRedactor& redactor) {
    Trace r = t;
    auto red = [&](std::string& s) {
        if (!s.empty()) {
            s = redactor(s, kinds);
        }
    };
    red(r.input);
    red(r.output);
    for (auto& m : r.input_messages) {
        red(m.content);
    }
    for (auto& m : r.output_messages) {
        red(m.content);
    }
    if (r.reference) {
        red(*r.reference);
    }
    for (auto& c : r.context) {
        red(c);
    }
    for (std::string* f :
         {&r.metadata.feature, &r.metadata.tenant, &r.metadata.user_id, &r.metadata.session_id,
          &r.metadata.prompt_name, &r.metadata.prompt_version, &r.metadata.model,
          &r.metadata.environment, &r.metadata.expected_format}) {
        red(*f);
    }
    for (auto it = r.metadata.extra.begin(); it != r.metadata.extra.end(); ++it) {
        if (it->is_string()) {
            std::string s = it->get<std::string>();
            red(s);
            *it = s;
        }
    }
    return r;
}

}  // namespace assay
