#pragma once
// JSON replies of the review server (review_server.cpp, api_routes.cpp,
// gate_routes.cpp): one way to send a body, an error and to map a Status to an
// HTTP status, and to read a field of a JSON request body. Called
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

// body[key] as text: a string as is, a number or boolean spelled out; "" when
// absent or of another type.
std::string json_string(const nlohmann::json& body, const char* key);

}  // namespace assay::review
