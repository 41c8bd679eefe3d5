#pragma once
// PII redaction of judge prompts: the redactor the judge stage applies to
// trace text before it leaves the machine (judge/redact.h's redact_pii:
// emails, phone numbers, card numbers; the kinds a judge's `redact` key turns
// on, each span replaced by [EMAIL], [PHONE] or [CARD]), and its application
// to every text field a rubric can render. Thread-safe, pure functions.

#include "core/trace.h"
#include "judge/judge_options.h"

namespace assay {

// The built-in redactor (judge/redact.h). A JudgeStage given an empty
// redactor disables judges with redaction on, naming the reason, rather than
// sending unredacted text.
JudgeRedactor builtin_redactor();

// A copy of `trace` with `redactor` applied to the input and output (text
// and messages), the reference, every context document and every string
// metadata value. `redactor` must be set.
Trace redact_trace(const Trace& trace, const JudgeRedaction& kinds, const JudgeRedactor& redactor);

}  // namespace assay
