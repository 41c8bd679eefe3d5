#pragma once
// The JSON API of `assay review` (review_server.h serves the pages, static
// files and login, and checks access before any route runs).
//
// API (JSON; errors are {"error": "..."} with 400/401/403/404):
//   GET  /api/scorers   (each version: scored or not, and why not: pending judge work)
//   GET  /api/bottom?scorer=S[&scorer_version&feature&tenant&prompt_version&model
//                   &since&until&passed=true|false&labelled=true|false
//                   &sort=bottom|top|newest|oldest&offset&limit]
//   GET  /api/trace?id=T   (trace content in its original key order)
//   POST /api/labels   {"trace_id","scorer","scorer_version"?,"reviewer","verdict","score"?,
//                       "note"?,"source"?: "review"|"calibration"}
//   GET  /api/calibration?scorer=S[&min_kappa&min_labels]   (all scorers without scorer)
//   GET  /api/calibration/queue?scorer=S[&scorer_version&n=1]   random unlabelled traces,
//                                                               stratified by verdict
//   GET  /api/trends?scorer=S[&scorer_version&days=90]
//   /api/gate...     the --gate-report run and its real/noise marks (gate_routes.h)
//   POST /api/export   {"scorer", filters..., "limit"?, "trace_ids"?: [...]} -> JSONL cases
//
// Thread-safety: handlers run on the server's connection threads and share the
// ReviewStore (which serialises its calls).

#include "core/http_server.h"

namespace assay {
class ReviewStore;
}

namespace assay::review {

struct ReviewServerOptions;

// Registers the /api/ routes on `server`. `store` and `options` must outlive
// the server.
void add_api_routes(HttpServer& server, ReviewStore& store, const ReviewServerOptions& options);

}  // namespace assay::review
