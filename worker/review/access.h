#pragma once
// Who may use the review server, and which requests are safe to act on.
//   - Startup: a non-loopback listen address without a token is refused.
//   - With a token: a request is authenticated by "Authorization: Bearer T"
//     or by the session cookie the login form sets (HttpOnly, SameSite=Strict).
//   - State-changing POSTs from a browser (cookie, no bearer header) need the
//     double-submit CSRF token (cookie assay_csrf == header X-CSRF-Token) and,
//     when the browser sends one, an Origin equal to http://<Host>.
//   - Without a token (loopback only), the Host header must be a loopback
//     name, so a DNS-rebinding page cannot reach the server.
// Thread-safe: sessions are guarded by a mutex.

#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "core/status.h"

namespace assay::review {

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

// invalid_argument with the message to print when `host` is not loopback and
// `token` is empty.
Status check_listen_policy(const std::string& host, const std::string& token);

// 32 random bytes as hex (OpenSSL RAND_bytes); internal error if unavailable.
Result<std::string> random_token();

// Constant-time comparison.
bool same_secret(const std::string& a, const std::string& b);

// The value of cookie `name` in a Cookie header, if present.
std::optional<std::string> cookie_value(const std::string& header, const std::string& name);

class AccessControl {
public:
    explicit AccessControl(std::string token) : m_token(std::move(token)) {}

    bool token_required() const { return !m_token.empty(); }
    // Is the request authenticated? (always true without a token)
    bool authenticated(const std::string& authorization_header,
                       const std::string& cookie_header) const;
    bool bearer_ok(const std::string& authorization_header) const;
    // Checks the login form's token; on success returns a new session id to
    // set as the cookie.
    std::optional<std::string> login(const std::string& token);
    // Host header acceptable? (any host with a token; loopback names without)
    bool host_ok(const std::string& host_header) const;
    // CSRF check for a state-changing request; a non-OK status names the problem.
    Status csrf_ok(const std::string& authorization_header, const std::string& cookie_header,
                   const std::string& csrf_header, const std::string& origin_header,
                   const std::string& host_header) const;

    static constexpr const char* k_session_cookie = "assay_session";
    static constexpr const char* k_csrf_cookie = "assay_csrf";

private:
    std::string m_token;
    mutable std::mutex m_mu;
    std::set<std::string> m_sessions;
};

}  // namespace assay::review
