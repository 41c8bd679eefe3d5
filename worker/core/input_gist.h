#pragma once
// What a list of traces shows of a trace's input (`assay bottom`, the review
// list): the message the user sent, not the system prompt that leads a chat.

#include <string>

#include "core/trace.h"

namespace assay {

// The content of the last "user" message of a chat input; failing that, of
// the last message that is not a system message; failing that (a plain-string
// input, or a chat of system messages only), the input text. Messages with
// empty content are passed over. Pure; thread-safe.
std::string input_gist(const Trace& t);

}  // namespace assay
