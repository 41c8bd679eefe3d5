#include "review/http_reply.h"

namespace assay::review {

using nlohmann::json;

namespace {

template <typename Json>
void send_body(HttpResponse& res, const Json& j, int status) {
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    res.set_content(j.dump(-1, ' ', false, Json::error_handler_t::replace),
                    "application/json; charset=utf-8");
}

}  // namespace

void send_json(HttpResponse& res, const json& j, int status) { send_body(res, j, status); }

void send_json(HttpResponse& res, const nlohmann::ordered_json& j, int status) {
    send_body(res, j, status);
}

void send_error(HttpResponse& res, int status, const std::string& message) {
    send_json(res, json{{"error", message}}, status);
}

int http_status(const Status& s) {
    switch (s.code()) {
        case StatusCode::not_found:
            return 404;
        case StatusCode::invalid_argument:
        case StatusCode::limit_exceeded:
            return 400;
        default:
            return 500;
    }
}

std::string json_string(const json& body, const char* key) {
    if (body.contains(key) && body[key].is_string()) {
        return body[key].get<std::string>();
    }
    if (body.contains(key) && body[key].is_number()) {
        return body[key].dump();
    }
    if (body.contains(key) && body[key].is_boolean()) {
        return body[key].get<bool>() ? "true" : "false";
    }
    return "";
}

}  // namespace assay::review
