#pragma once
// Loads one side's outputs (baseline or candidate): a JSONL file in the trace
// format with trace_id equal to the case id. Each trace is completed from its
// case: input, reference, context and metadata keys the trace does not carry
// are taken from the dataset, so scorers see what the case says (e.g.
// metadata.expected_format). Pure function; thread-safe.

#include <string>
#include <vector>

#include "core/status.h"
#include "core/trace.h"
#include "core/trace_json.h"
#include "gate/dataset.h"

namespace assay::gate {

// One trace per case, in dataset order. invalid_argument naming the file,
// line and problem for: a line that is not a valid trace (the trace parser's
// message), a trace_id that is not a case id, a duplicate trace_id, and a
// case with no output ("candidate 'c.jsonl': no output for case 'refund-07'").
// io_error when the file cannot be read.
Result<std::vector<Trace>> load_side(const std::string& side, const std::string& path,
                                     const Dataset& dataset, const ParseLimits& limits);

// Completes a parsed trace from its case (see above). Exposed for tests.
Result<Trace> complete_from_case(const Trace& trace, const GateCase& c);

}  // namespace assay::gate
