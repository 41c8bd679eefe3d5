#pragma once
// Who may use the review server, and which requests are safe to act on.
//   - Startup: a non-loopback listen address without a token is refused, and
//     so is a token shorter than k_min_token_chars.
//   - With a token: a request is authenticated by the session cookie the
//     login form sets (HttpOnly, SameSite=Strict, Secure behind https; valid
//     until it expires or logout ends it, session_table.h) or by
//     "Authorization: Bearer T".
//   - Wrong tokens, in the login form or a bearer header, are throttled per
//     client address (login_throttle.h): a locked-out address gets 429 with
//     Retry-After whatever token it sends; a valid session cookie still works.
//   - State-changing POSTs from a browser (cookie, no bearer header) need the
//     double-submit CSRF token (cookie assay_csrf == header X-CSRF-Token) and,
//     when the browser sends one, an Origin equal to the public URL's origin
//     (--public-url), else to http://<Host>.
//   - Without a token (loopback only), the Host header must be a loopback
//     name, so a DNS-rebinding page cannot reach the server.
// Thread-safe: sessions and the throttle guard themselves with mutexes.

#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"
#include "review/login_throttle.h"
#include "review/public_url.h"
#include "review/session_table.h"

namespace assay::review {

// The shortest token the server accepts.
inline constexpr size_t k_min_token_chars = 16;

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

// invalid_argument with the message to print when `host` is not loopback and
// `token` is empty, or when `token` is shorter than k_min_token_chars (the
// message names its length, never the token).
Status check_listen_policy(const std::string& host, const std::string& token);

// 32 random bytes as hex (OpenSSL RAND_bytes); internal error if unavailable.
Result<std::string> random_token();

// Constant-time comparison.
bool same_secret(const std::string& a, const std::string& b);

// The value of cookie `name` in a Cookie header, if present.
std::optional<std::string> cookie_value(const std::string& header, const std::string& name);

struct AccessOptions {
    std::string token;                    // empty: no login (loopback only)
    SessionOptions sessions;              // session lifetime and count
    LoginThrottleOptions throttle;        // back-off of failed logins
    std::optional<PublicUrl> public_url;  // --public-url: origin, Secure, prefix
};

class AccessControl {
public:
    explicit AccessControl(AccessOptions options);

    bool token_required() const { return !m_options.token.empty(); }

    enum class Verdict { allowed, denied, throttled };
    struct Outcome {
        Verdict verdict = Verdict::denied;
        int64_t retry_after_s = 0;  // throttled: seconds until the address may try again
        std::string session;        // a login that succeeded: the new session id
    };
    // Is the request from `addr` authenticated (always, without a token)? A
    // valid session cookie is; else a bearer header is checked (and throttled
    // like a login); else denied. `now_ms`: a monotonic clock.
    Outcome authenticate(const std::string& authorization_header, const std::string& cookie_header,
                         const std::string& addr, int64_t now_ms);
    bool bearer_ok(const std::string& authorization_header) const;
    // Checks the login form's token from `addr`; allowed carries a new session id.
    Outcome login(const std::string& token, const std::string& addr, int64_t now_ms);
    // Ends the session of the cookie header, if any.
    void logout(const std::string& cookie_header);
    // Host header acceptable? (any host with a token; loopback names without)
    bool host_ok(const std::string& host_header) const;
    // An Origin header acceptable for a POST? (absent is)
    Status origin_ok(const std::string& origin_header, const std::string& host_header) const;
    // CSRF check for a state-changing request; a non-OK status names the problem.
    Status csrf_ok(const std::string& authorization_header, const std::string& cookie_header,
                   const std::string& csrf_header, const std::string& origin_header,
                   const std::string& host_header) const;
    // "; Path=P; SameSite=Strict" (+ "; Secure" behind https) for Set-Cookie.
    std::string cookie_attributes() const;
    // The path prefix of links ("" or "/prefix").
    const std::string& prefix() const { return m_prefix; }

    static constexpr const char* k_session_cookie = "assay_session";
    static constexpr const char* k_csrf_cookie = "assay_csrf";

private:
    Outcome refused(const std::string& addr, int64_t now_ms);
    AccessOptions m_options;
    std::string m_prefix;
    SessionTable m_sessions;
    LoginThrottle m_throttle;
};

}  // namespace assay::review
