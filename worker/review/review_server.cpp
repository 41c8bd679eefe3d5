#include "review/review_server.h"

#include <chrono>

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

// The page with every root-relative link (href, src, action) under `prefix`.
std::string prefixed(std::string html, const std::string& prefix) {
    if (prefix.empty()) {
        return html;
    }
    for (const std::string attr : {"href=\"/", "src=\"/", "action=\"/"}) {
        for (size_t pos = html.find(attr); pos != std::string::npos;
             pos = html.find(attr, pos + attr.size() + prefix.size())) {
            html.insert(pos + attr.size() - 1, prefix);
        }
    }
    return html;
}

// 429 with Retry-After for an address locked out by the login back-off.
void send_throttled(HttpResponse& res, const std::string& addr, int64_t retry_after_s) {
    res.set_header("Retry-After", std::to_string(retry_after_s));
    send_error(res, 429,
               "too many failed logins from " + addr + ": try again in " +
                   std::to_string(retry_after_s) + " s");
}

const char* const k_pages[] = {"/", "/trace", "/calibration", "/trends", "/gate", "/login"};

// Milliseconds of a monotonic clock: session expiry and login back-off.
int64_t mono_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

ReviewServer::ReviewServer(ReviewStore& store, ReviewServerOptions options)
    : m_store(store),
      m_options(std::move(options)),
      m_access(AccessOptions{m_options.token, m_options.sessions, {}, m_options.public_url}),
      m_server(m_options.http) {
    for (const char* p : k_pages) {
        if (auto f = embedded_file(page_for(p))) {
            std::string html = prefixed(std::string(*f), m_access.prefix());
            if (!m_access.token_required()) {  // no login, nothing to log out of
                const std::string button = "<button id=\"logout\"";
                if (size_t at = html.find(button); at != std::string::npos) {
                    html.insert(at + button.size(), " hidden");
                }
            }
            m_pages[p] = std::move(html);
        }
    }
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
        // same-origin, not no-referrer: with no-referrer, browsers send "Origin: null"
        // on form POSTs (the login), which the CSRF check must refuse.
        res.set_header("Referrer-Policy", "same-origin");
        if (!m_access.host_ok(req.get_header_value("Host"))) {
            send_error(res, 403, "Host header is not a loopback name (DNS rebinding protection)");
            return true;
        }
        const std::string cookies = req.get_header_value("Cookie");
        if (!cookie_value(cookies, AccessControl::k_csrf_cookie)) {
            auto t = random_token();
            if (t.ok()) {
                res.headers.emplace_back("Set-Cookie", std::string(AccessControl::k_csrf_cookie) +
                                                           "=" + *t + m_access.cookie_attributes());
            }
        }
        const bool open_path = req.path == "/login" || req.path == "/favicon.ico" ||
                               req.path.rfind("/static/", 0) == 0;
        if (!open_path) {
            auto auth = m_access.authenticate(req.get_header_value("Authorization"), cookies,
                                              req.remote_addr, mono_ms());
            if (auth.verdict == AccessControl::Verdict::throttled) {
                send_throttled(res, req.remote_addr, auth.retry_after_s);
                return true;
            }
            if (auth.verdict != AccessControl::Verdict::allowed) {
                if (req.path.rfind("/api/", 0) == 0) {
                    res.set_header("WWW-Authenticate", "Bearer");
                    send_error(res, 401,
                               "authentication required: Authorization: Bearer <token>, or log in "
                               "at /login");
                } else {
                    res.status = 303;
                    res.set_header("Location", m_access.prefix() + "/login");
                }
                return true;
            }
        }
        if (req.method == "POST") {
            // The login form has no session yet: only its Origin matters.
            Status st = req.path == "/login"
                            ? m_access.origin_ok(req.get_header_value("Origin"),
                                                 req.get_header_value("Host"))
                            : m_access.csrf_ok(req.get_header_value("Authorization"), cookies,
                                               req.get_header_value("X-CSRF-Token"),
                                               req.get_header_value("Origin"),
                                               req.get_header_value("Host"));
            if (!st.ok()) {
                send_error(res, 403, st.message());
                return true;
            }
        }
        return false;
    });

    auto page = [this](const HttpRequest& req, HttpResponse& res) {
        auto f = m_pages.find(req.path);
        if (f == m_pages.end()) {
            send_error(res, 404, "no page " + req.path);
            return;
        }
        res.set_header("Cache-Control", "no-store");
        res.set_content(f->second, "text/html; charset=utf-8");
    };
    for (const char* p : k_pages) {
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
        const std::string& prefix = m_access.prefix();
        res.status = 303;
        if (!m_access.token_required()) {
            res.set_header("Location", prefix + "/");
            return;
        }
        auto login = m_access.login(req.get_param_value("token"), req.remote_addr, mono_ms());
        if (login.verdict == AccessControl::Verdict::throttled) {
            send_throttled(res, req.remote_addr, login.retry_after_s);
            return;
        }
        if (login.verdict != AccessControl::Verdict::allowed) {
            res.set_header("Location", prefix + "/login?failed=1");
            return;
        }
        res.headers.emplace_back("Set-Cookie", std::string(AccessControl::k_session_cookie) + "=" +
                                                   login.session + "; HttpOnly" +
                                                   m_access.cookie_attributes());
        res.set_header("Location", prefix + "/");
    });

    // CSRF-checked by the pre-routing hook like every POST.
    srv.post("/logout", [this](const HttpRequest& req, HttpResponse& res) {
        m_access.logout(req.get_header_value("Cookie"));
        res.headers.emplace_back("Set-Cookie", std::string(AccessControl::k_session_cookie) +
                                                   "=; Max-Age=0; HttpOnly" +
                                                   m_access.cookie_attributes());
        res.status = 303;
        res.set_header("Location",
                       m_access.prefix() + (m_access.token_required() ? "/login" : "/"));
    });

    add_api_routes(srv, m_store, m_options);
}

}  // namespace assay::review
