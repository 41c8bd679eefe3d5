#include "ingest/otlp/http.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "core/clock.h"
#include "ingest/otlp/gzip_body.h"

namespace assay {

namespace {

constexpr const char* k_path = "/v1/traces";
// Marks a request whose body is gzip (set by the pre-routing handler).
constexpr const char* k_gzip_marker = "Assay-Gzip-Body";

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

void send(httplib::Response& res, const OtlpReply& r) {
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

OtlpHttpServer::OtlpHttpServer(OtlpIntake& intake, size_t max_body_bytes)
    : m_intake(intake),
      m_max_body_bytes(max_body_bytes),
      m_server(std::make_unique<httplib::Server>()),
      m_listener(*m_server) {
    // Bodies over the limit sent without a Content-Length (chunked) are cut
    // off by httplib with a 413; the error handler below gives it a body.
    m_server->set_payload_max_length(max_body_bytes);
    // Without it, Nagle's algorithm and the client's delayed ACK add ~40 ms
    // to every answer written in two parts (measured: p50 42 ms → see README).
    m_server->set_tcp_nodelay(true);
    // Runs before the body is read: refuse what cannot be handled without
    // reading it.
    m_server->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        if (req.path != k_path || req.method != "POST") {
            return httplib::Server::HandlerResponse::Unhandled;
        }
        int64_t claimed = 0;
        try {
            claimed = req.has_header("Content-Length")
                          ? std::stoll(req.get_header_value("Content-Length"))
                          : 0;
        } catch (const std::exception&) {
            claimed = 0;  // httplib itself refuses a malformed Content-Length
        }
        const std::string type = media_type(req.get_header_value("Content-Type"));
        const auto door = door_of(type);
        if (!door) {
            send(res, m_intake.reject(415,
                                      "unsupported Content-Type '" +
                                          req.get_header_value("Content-Type") +
                                          "'; send application/x-protobuf or application/json",
                                      claimed, now_ms()));
            return httplib::Server::HandlerResponse::Handled;
        }
        const std::string raw_encoding = req.get_header_value("Content-Encoding");
        const std::string encoding = media_type(raw_encoding);
        if (!encoding.empty() && encoding != "identity" && encoding != "gzip") {
            send(res, m_intake.reject(415,
                                      "unsupported Content-Encoding '" + raw_encoding +
                                          "'; send the body uncompressed or with gzip",
                                      claimed, now_ms(), *door));
            return httplib::Server::HandlerResponse::Handled;
        }
        // cpp-httplib would inflate a gzip body as it reads it, without
        // checking that the stream ends or its trailer (CRC-32, length): the
        // body is inflated here instead (gzip_body.h). httplib decides by the
        // Content-Encoding header when it reads the body, after this handler,
        // so the header is moved to k_gzip_marker. The Request is not const
        // (httplib's own local, passed here as const): the cast is defined.
        auto& headers = const_cast<httplib::Headers&>(req.headers);
        headers.erase(k_gzip_marker);
        if (encoding == "gzip") {
            headers.erase("Content-Encoding");
            headers.emplace(k_gzip_marker, "1");
        }
        if (claimed > 0 && static_cast<uint64_t>(claimed) > m_max_body_bytes) {
            send(res, m_intake.reject(
                          413,
                          "request body is " + std::to_string(claimed) + " bytes; the limit is " +
                              std::to_string(m_max_body_bytes) + " (worker.otlp_max_body_bytes)",
                          claimed, now_ms(), *door));
            return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });
    m_server->Post(k_path, [this](const httplib::Request& req, httplib::Response& res,
                                  const httplib::ContentReader& reader) {
        const OtlpDoor door =
            door_of(media_type(req.get_header_value("Content-Type"))).value_or(OtlpDoor::http_json);
        // The inflated body counts against the limit: reading stops at it, so
        // a gzip bomb costs no more memory than the limit.
        const bool gzip = req.has_header(k_gzip_marker);
        GzipInflater inflater(m_max_body_bytes);
        std::string body;
        Status inflated;
        bool over = false;
        const bool read = reader([&](const char* data, size_t n) {
            if (gzip) {
                inflated = inflater.feed(std::string_view(data, n), body);
                return inflated.ok();
            }
            if (body.size() + n > m_max_body_bytes) {
                over = true;
                return false;
            }
            body.append(data, n);
            return true;
        });
        if (read && gzip) {
            inflated = inflater.finish();
        }
        over = over || inflated.code() == StatusCode::limit_exceeded;
        if (over || !read || !inflated.ok()) {
            const std::string why =
                over ? "request body inflates to more than " + std::to_string(m_max_body_bytes) +
                           " bytes, the limit (worker.otlp_max_body_bytes)"
                : !inflated.ok() ? inflated.message()
                                 : std::string("request body could not be read");
            const int64_t bytes =
                static_cast<int64_t>(gzip ? inflater.compressed_bytes() : body.size());
            send(res, m_intake.reject(over ? 413 : 400, why, bytes, now_ms(), door, body));
            // The rest of the body may be unread: this connection cannot go on.
            res.set_header("Connection", "close");
            return;
        }
        send(res, m_intake.export_request(body, door, now_ms()));
    });
    m_server->set_error_handler([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) {
            return;
        }
        nlohmann::json body = {
            {"code", res.status == 404 ? 5 : 3},
            {"message", res.status == 404
                            ? std::string("not found; OTLP traces go to POST ") + k_path
                            : "HTTP " + std::to_string(res.status)}};
        if (res.status == 413) {
            body["message"] = "request body over the limit (worker.otlp_max_body_bytes)";
        }
        res.set_content(body.dump(), "application/json");
    });
}

OtlpHttpServer::~OtlpHttpServer() { stop(); }

Status OtlpHttpServer::start(const std::string& listen) {
    auto norm = normalize_otlp_listen(listen);
    if (!norm.ok()) {
        return norm.status();
    }
    return m_listener.start(*norm);
}

void OtlpHttpServer::stop() { m_listener.stop(); }

}  // namespace assay
