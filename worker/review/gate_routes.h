#pragma once
// The gate-report part of the review server's JSON API (`assay review
// --gate-report R.json`; the /gate page, gate.js):
//   GET  /api/gate         {"report", "cases", "cases_note", "run_id"} (404 without a report)
//   GET  /api/gate/marks   {"run_id", "marks": {case_id: {"mark", "note", "reviewer", "at"}}}
//   POST /api/gate/marks   {"case_id", "mark": "real"|"noise", "reviewer", "note"?} -> 201 the
//   mark;
//                          400 for a case that did not regress in the run, an empty reviewer,
//                          a reviewer over 200 or a note over 20000 bytes
//   GET  /api/gate/export  the dataset lines of the cases marked real (JSONL, in the order
//                          of the report's regressions); 409 when the dataset was not loaded
// Marks live in the store (GateMarkStore), shared by every reviewer of the run.
// POSTs pass the server's session and CSRF checks like every POST.
//
// Thread-safety: handlers run on the server's connection threads; the
// GateMarkStore serialises its calls, the report is read only.

#include "core/http_server.h"

namespace assay::review {

struct ReviewServerOptions;

// Registers the /api/gate routes on `server`. `options` (and the gate mark
// store it points to) must outlive the server.
void add_gate_routes(HttpServer& server, const ReviewServerOptions& options);

}  // namespace assay::review
