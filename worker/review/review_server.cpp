#include "review/review_server.h"

#include "core/embedded_files.h"
#include "review/api_routes.h"
#include "review/http_reply.h"

namespace assay::review {

namespace {

const char* k_csp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src "
    "'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

std::string page_for(const std::string& path) {
    if (path == "/") {
        return "review/assets/index.html";
    }
    if (path == "/trace") {  // older links to one trace: the workspace opens it
        return "review/assets/index.html";
    }
    if (path == "/calibration") {
        return "review/assets/calibration.html";
    }
    if (path == "/trends") {
        return "review/assets/trends.html";
    }
    if (path == "/gate") {
        return "review/assets/gate.html";
    }
    if (path == "/login") {
        return "review/assets/login.html";
    }
    return "";
}

}  // namespace

ReviewServer::ReviewServer(ReviewStore& store, ReviewServerOptions options)
    : m_store(store),
      m_options(std::move(options)),
      m_access(m_options.token),
      m_server(m_options.http) {
    routes();
}

ReviewServer::~ReviewServer() { stop(); }

Status ReviewServer::bind(const std::string& listen) {
    auto addr = parse_listen(listen);
    if (!addr.ok()) {
        return addr.status();
    }
    const auto& [host, port] = *addr;
    ASSAY_RETURN_IF_ERROR(check_listen_policy(host, m_options.token));
    return m_server.bind(listen);
}

Status ReviewServer::run() { return m_server.run(); }

void ReviewServer::stop() { m_server.stop(); }

void ReviewServer::routes() {
    auto& srv = m_server;
    srv.set_pre_routing([this](const HttpRequest& req, HttpResponse& res) {
        res.set_header("Content-Security-Policy", k_csp);
        res.set_header("X-Content-Type-Options", "nosniff");
        res.set_header("X-Frame-Options", "DENY");
        res.set_header("Referrer-Policy", "no-referrer");
        if (!m_access.host_ok(req.get_header_value("Host"))) {
            send_error(res, 403, "Host header is not a loopback name (DNS rebinding protection)");
            return true;
        }
        const std::string cookies = req.get_header_value("Cookie");
        if (!cookie_value(cookies, AccessControl::k_csrf_cookie)) {
            auto t = random_token();
            if (t.ok()) {
                res.set_header("Set-Cookie", std::string(AccessControl::k_csrf_cookie) + "=" + *t +
                                                 "; Path=/; SameSite=Strict");
            }
        }
        const bool open_path = req.path == "/login" || req.path == "/favicon.ico" ||
                               req.path.rfind("/static/", 0) == 0;
        if (!open_path && !m_access.authenticated(req.get_header_value("Authorization"), cookies)) {
            if (req.path.rfind("/api/", 0) == 0) {
                res.set_header("WWW-Authenticate", "Bearer");
                send_error(
                    res, 401,
                    "authentication required: Authorization: Bearer <token>, or log in at /login");
            } else {
                res.status = 303;
                res.set_header("Location", "/login");
            }
            return true;
        }
        if (req.method == "POST") {
            Status st =
                m_access.csrf_ok(req.get_header_value("Authorization"), cookies,
                                 req.get_header_value("X-CSRF-Token"),
                                 req.get_header_value("Origin"), req.get_header_value("Host"));
            if (req.path == "/login") {
                // No session yet: only the Origin matters.
                std::string origin = req.get_header_value("Origin");
                st = (origin.empty() || origin == "http://" + req.get_header_value("Host"))
                         ? Status()
                         : Status::invalid_argument("CSRF: Origin '" + origin +
                                                    "' is not this server");
            }
            if (!st.ok()) {
                send_error(res, 403, st.message());
                return true;
            }
        }
        return false;
    });

    auto page = [](const HttpRequest& req, HttpResponse& res) {
        auto f = embedded_file(page_for(req.path));
        if (!f) {
            send_error(res, 404, "no page " + req.path);
            return;
        }
        res.set_header("Cache-Control", "no-store");
        res.set_content(std::string(*f), "text/html; charset=utf-8");
    };
    for (const char* p : {"/", "/trace", "/calibration", "/trends", "/gate", "/login"}) {
        srv.get(p, page);
    }
    for (const char* name : {"app.js", "trace_view.js", "workspace.js", "gate.js", "style.css"}) {
        const std::string file = name;
        const std::string type =
            file.ends_with(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
        srv.get("/static/" + file, [file, type](const HttpRequest&, HttpResponse& res) {
            res.set_content(std::string(embedded_file("review/assets/" + file).value_or("")), type);
        });
    }

    srv.get("/favicon.ico", [](const HttpRequest&, HttpResponse& res) { res.status = 204; });

    srv.post("/login", [this](const HttpRequest& req, HttpResponse& res) {
        if (!m_access.token_required()) {
            res.status = 303;
            res.set_header("Location", "/");
            return;
        }
        auto sid = m_access.login(req.get_param_value("token"));
        if (!sid) {
            res.status = 303;
            res.set_header("Location", "/login?failed=1");
            return;
        }
        res.set_header("Set-Cookie", std::string(AccessControl::k_session_cookie) + "=" + *sid +
                                         "; Path=/; HttpOnly; SameSite=Strict");
        res.status = 303;
        res.set_header("Location", "/");
    });

    add_api_routes(srv, m_store, m_options);
}

}  // namespace assay::review
