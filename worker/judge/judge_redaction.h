#pragma once
// The PII redactor the judge stage applies to trace text before it leaves
// the machine: judge/redact.h's redact_pii (emails, phone numbers, card
// numbers; the kinds a judge's `redact` key turns on), replacing each span
// with [EMAIL], [PHONE] or [CARD]. Thread-safe.

#include "judge/judge_stage.h"

namespace assay {

// The built-in redactor, or an empty function when this build has no
// judge/redact.h (then JudgeStage::create refuses judges with redaction on,
// naming the judge, rather than sending unredacted text).
JudgeRedactor builtin_redactor();

}  // namespace assay
