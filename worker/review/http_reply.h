#pragma once
// JSON replies of the review server (review_server.cpp, api_routes.cpp): one
// way to send a body, an error and to map a Status to an HTTP status. Called
// from the server's connection threads; each call touches only its own response.

#include <nlohmann/json.hpp>
#include <string>

#include "core/http_server.h"
#include "core/status.h"

namespace assay::review {

// `j` as the body (application/json, UTF-8; invalid UTF-8 replaced), with
// Cache-Control: no-store. ordered_json for trace content, which keeps its
// key order (a json would sort it).
void send_json(HttpResponse& res, const nlohmann::json& j, int status = 200);
void send_json(HttpResponse& res, const nlohmann::ordered_json& j, int status = 200);

// {"error": message} with `status`.
void send_error(HttpResponse& res, int status, const std::string& message);

// 404 for not_found, 400 for invalid_argument and limit_exceeded, else 500.
int http_status(const Status& s);

}  // namespace assay::review
