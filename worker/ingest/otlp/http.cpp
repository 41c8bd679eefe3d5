#include "ingest/otlp/http.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "core/clock.h"
#include "ingest/otlp/gzip_body.h"

namespace assay {

namespace {

constexpr const char* k_path = "/v1/traces";

// The media type of a Content-Type value: before ';', trimmed, lowercase.
std::string media_type(const std::string& content_type) {
    std::string t = content_type.substr(0, content_type.find(';'));
    auto not_space = [](unsigned char c) { return !std::isspace(c); };
    t.erase(t.begin(), std::find_if(t.begin(), t.end(), not_space));
    t.erase(std::find_if(t.rbegin(), t.rend(), not_space).base(), t.end());
    std::transform(t.begin(), t.end(), t.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return t;
}

void send(HttpResponse& res, const OtlpReply& r) {
    res.status = r.status;
    if (r.retry_after_s > 0) {
        res.set_header("Retry-After", std::to_string(r.retry_after_s));
    }
    res.set_content(r.body, r.content_type);
}

// The door of a request by its media type; nullopt for an unsupported one.
std::optional<OtlpDoor> door_of(const std::string& type) {
    if (type == "application/json") {
        return OtlpDoor::http_json;
    }
    if (type == "application/x-protobuf" || type == "application/protobuf") {
        return OtlpDoor::http_protobuf;
    }
    return std::nullopt;
}

int64_t claimed_length(const HttpRequest& req) {
    const std::string v = req.get_header_value("Content-Length");
    if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), ::isdigit)) {
        return static_cast<int64_t>(req.body.size());
    }
    return std::stoll(v);
}

}  // namespace

Result<std::string> normalize_otlp_listen(const std::string& listen) {
    if (!listen.empty() && std::all_of(listen.begin(), listen.end(),
                                       [](unsigned char c) { return std::isdigit(c); })) {
        return normalize_otlp_listen("127.0.0.1:" + listen);
    }
    auto addr = parse_listen(listen);
    if (!addr.ok()) {
        return addr.status();
    }
    return listen;
}

OtlpReply export_http_body(OtlpIntake& intake, const std::string& content_type,
                           const std::string& content_encoding, std::string_view body,
                           size_t max_body_bytes, int64_t now_ms) {
    const OtlpDoor door = door_of(media_type(content_type)).value_or(OtlpDoor::http_json);
    if (media_type(content_encoding) != "gzip") {
        return intake.export_request(body, door, now_ms);
    }
    auto inflated = gunzip_body(body, max_body_bytes);
    if (!inflated.ok()) {
        const bool over = inflated.status().code() == StatusCode::limit_exceeded;
        const std::string why = over ? "request body inflates to more than " +
                                           std::to_string(max_body_bytes) +
                                           " bytes, the limit (worker.otlp_max_body_bytes)"
                                     : inflated.status().message();
        return intake.reject(over ? 413 : 400, why, static_cast<int64_t>(body.size()), now_ms, door,
                             body);
    }
    return intake.export_request(*inflated, door, now_ms);
}

namespace {

HttpServerOptions with_body_limit(HttpServerOptions o, size_t max_body_bytes) {
    o.max_body_bytes = max_body_bytes;
    return o;
}

}  // namespace

OtlpHttpServer::OtlpHttpServer(OtlpIntake& intake, size_t max_body_bytes, HttpServerOptions http)
    : m_intake(intake),
      m_max_body_bytes(max_body_bytes),
      m_server(with_body_limit(http, max_body_bytes)) {
    // Runs before the body is read: refuse what cannot be handled without
    // reading it.
    m_server.set_pre_routing([this](const HttpRequest& req, HttpResponse& res) {
        if (req.path != k_path || req.method != "POST") {
            return false;
        }
        const int64_t claimed = claimed_length(req);
        const std::string type = media_type(req.get_header_value("Content-Type"));
        const auto door = door_of(type);
        if (!door) {
            send(res, m_intake.reject(415,
                                      "unsupported Content-Type '" +
                                          req.get_header_value("Content-Type") +
                                          "'; send application/x-protobuf or application/json",
                                      claimed, now_ms()));
            return true;
        }
        const std::string encoding = media_type(req.get_header_value("Content-Encoding"));
        const std::string raw_encoding = req.get_header_value("Content-Encoding");
        if (!encoding.empty() && encoding != "identity" && encoding != "gzip") {
            send(res, m_intake.reject(415,
                                      "unsupported Content-Encoding '" + raw_encoding +
                                          "'; send the body uncompressed or with gzip",
                                      claimed, now_ms(), *door));
            return true;
        }
        return false;
    });
    m_server.post(k_path, [this](const HttpRequest& req, HttpResponse& res) {
        send(res, export_http_body(m_intake, req.get_header_value("Content-Type"),
                                   req.get_header_value("Content-Encoding"), req.body,
                                   m_max_body_bytes, now_ms()));
    });
    m_server.set_error_handler([this](const HttpRequest& req, HttpResponse& res) {
        if (res.status == 413 && req.path == k_path) {
            // Over the limit by Content-Length or while reading: counted and
            // dead-lettered with what was read.
            const int64_t claimed =
                std::max<int64_t>(claimed_length(req), static_cast<int64_t>(req.body.size()) + 1);
            const std::string why = (req.has_header("Content-Length")
                                         ? "request body is " + std::to_string(claimed) + " bytes"
                                         : "request body (chunked) passes " +
                                               std::to_string(m_max_body_bytes) + " bytes") +
                                    "; the limit is " + std::to_string(m_max_body_bytes) +
                                    " (worker.otlp_max_body_bytes)";
            const OtlpDoor door = door_of(media_type(req.get_header_value("Content-Type")))
                                      .value_or(OtlpDoor::http_json);
            send(res, m_intake.reject(413, why, claimed, now_ms(), door, req.body));
            return;
        }
        nlohmann::json body = {
            {"code", res.status == 404 ? 5 : 3},
            {"message", res.status == 404
                            ? std::string("not found; OTLP traces go to POST ") + k_path
                            : "HTTP " + std::to_string(res.status)}};
        res.set_content(body.dump(), "application/json");
    });
}

OtlpHttpServer::~OtlpHttpServer() { stop(); }

Status OtlpHttpServer::start(const std::string& listen) {
    auto norm = normalize_otlp_listen(listen);
    if (!norm.ok()) {
        return norm.status();
    }
    return m_server.start(*norm);
}

void OtlpHttpServer::stop() { m_server.stop(); }

}  // namespace assay
