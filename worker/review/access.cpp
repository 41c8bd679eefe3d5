#include "review/access.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

namespace assay::review {

bool is_loopback_host(const std::string& host) {
    if (host == "localhost" || host == "::1" || host == "[::1]") {
        return true;
    }
    // 127.a.b.c
    if (host.rfind("127.", 0) != 0) {
        return false;
    }
    int parts = 2;  // "127" and the octet after its dot
    for (size_t i = 4; i < host.size(); ++i) {
        if (host[i] == '.') {
            ++parts;
        } else if (host[i] < '0' || host[i] > '9') {
            return false;
        }
    }
    return parts == 4;
}

Status check_listen_policy(const std::string& host, const std::string& token) {
    if (!is_loopback_host(host) && token.empty()) {
        return Status::invalid_argument(
            "refusing to listen on '" + host +
            "' without --token: the review pages show production traces; listen on 127.0.0.1 (the "
            "default) "
            "or pass --token (or ASSAY_REVIEW_TOKEN) so that every request must authenticate");
    }
    if (!token.empty() && token.size() < k_min_token_chars) {
        return Status::invalid_argument(
            "the review token (--token or ASSAY_REVIEW_TOKEN) is " + std::to_string(token.size()) +
            " characters long; at least " + std::to_string(k_min_token_chars) +
            " are required (e.g. the output of `openssl rand -hex 32`)");
    }
    return {};
}

Result<std::string> random_token() {
    unsigned char buf[32];
    if (RAND_bytes(buf, sizeof buf) != 1) {
        return Status::internal("no random bytes from OpenSSL");
    }
    static const char* k_hex = "0123456789abcdef";
    std::string out;
    for (unsigned char c : buf) {
        out += k_hex[c >> 4];
        out += k_hex[c & 15];
    }
    return out;
}

bool same_secret(const std::string& a, const std::string& b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::string> cookie_value(const std::string& header, const std::string& name) {
    size_t pos = 0;
    while (pos < header.size()) {
        size_t end = header.find(';', pos);
        if (end == std::string::npos) {
            end = header.size();
        }
        std::string part = header.substr(pos, end - pos);
        size_t b = part.find_first_not_of(' ');
        if (b != std::string::npos) {
            part = part.substr(b);
            size_t eq = part.find('=');
            if (eq != std::string::npos && part.substr(0, eq) == name) {
                return part.substr(eq + 1);
            }
        }
        pos = end + 1;
    }
    return std::nullopt;
}

AccessControl::AccessControl(AccessOptions options)
    : m_options(std::move(options)),
      m_prefix(m_options.public_url ? m_options.public_url->prefix : ""),
      m_sessions(m_options.sessions),
      m_throttle(m_options.throttle) {}

bool AccessControl::bearer_ok(const std::string& auth) const {
    static const std::string k_prefix = "Bearer ";
    return !m_options.token.empty() && auth.rfind(k_prefix, 0) == 0 &&
           same_secret(auth.substr(k_prefix.size()), m_options.token);
}

AccessControl::Outcome AccessControl::refused(const std::string& addr, int64_t now_ms) {
    LoginThrottle::Failure f = m_throttle.failed(addr, now_ms);
    if (f.lock_ms > 0) {
        // Once per back-off step of an address; never the token.
        auto log = spdlog::get("review");
        (log ? log : spdlog::default_logger())
            ->warn(
                "{} failed logins in a row from {}: refusing its logins for {} s ({} failed "
                "logins since start)",
                f.failures, addr, (f.lock_ms + 999) / 1000, m_throttle.failures_total());
    }
    return {Verdict::denied, 0, ""};
}

AccessControl::Outcome AccessControl::authenticate(const std::string& auth,
                                                   const std::string& cookies,
                                                   const std::string& addr, int64_t now_ms) {
    if (m_options.token.empty()) {
        return {Verdict::allowed, 0, ""};
    }
    auto sid = cookie_value(cookies, k_session_cookie);
    if (sid && m_sessions.valid(*sid, now_ms)) {
        return {Verdict::allowed, 0, ""};
    }
    if (auth.empty()) {
        return {Verdict::denied, 0, ""};
    }
    if (int64_t wait = m_throttle.wait_ms(addr, now_ms); wait > 0) {
        return {Verdict::throttled, (wait + 999) / 1000, ""};
    }
    if (!bearer_ok(auth)) {
        return refused(addr, now_ms);
    }
    m_throttle.succeeded(addr);
    return {Verdict::allowed, 0, ""};
}

AccessControl::Outcome AccessControl::login(const std::string& token, const std::string& addr,
                                            int64_t now_ms) {
    if (int64_t wait = m_throttle.wait_ms(addr, now_ms); wait > 0) {
        return {Verdict::throttled, (wait + 999) / 1000, ""};
    }
    if (m_options.token.empty() || !same_secret(token, m_options.token)) {
        return refused(addr, now_ms);
    }
    m_throttle.succeeded(addr);
    auto sid = m_sessions.create(now_ms);
    if (!sid.ok()) {
        return {Verdict::denied, 0, ""};
    }
    return {Verdict::allowed, 0, *sid};
}

void AccessControl::logout(const std::string& cookies) {
    if (auto sid = cookie_value(cookies, k_session_cookie)) {
        m_sessions.end(*sid);
    }
}

std::string AccessControl::cookie_attributes() const {
    std::string out =
        "; Path=" + (m_prefix.empty() ? std::string("/") : m_prefix) + "; SameSite=Strict";
    if (m_options.public_url && m_options.public_url->secure()) {
        out += "; Secure";
    }
    return out;
}

bool AccessControl::host_ok(const std::string& host_header) const {
    if (!m_options.token.empty()) {
        return true;
    }
    std::string host = host_header;
    if (!host.empty() && host.front() == '[') {
        host = host.substr(0, host.find(']') + 1);
    } else {
        host = host.substr(0, host.find(':'));
    }
    return is_loopback_host(host);
}

Status AccessControl::origin_ok(const std::string& origin, const std::string& host) const {
    const std::string expected =
        m_options.public_url ? m_options.public_url->origin() : "http://" + host;
    if (!origin.empty() && origin != expected) {
        return Status::invalid_argument("CSRF: Origin '" + origin + "' is not this server (" +
                                        expected + ")");
    }
    return {};
}

Status AccessControl::csrf_ok(const std::string& auth, const std::string& cookies,
                              const std::string& csrf_header, const std::string& origin,
                              const std::string& host) const {
    if (bearer_ok(auth)) {
        return {};  // a script with the bearer header: browsers never add it on their own
    }
    ASSAY_RETURN_IF_ERROR(origin_ok(origin, host));
    auto cookie = cookie_value(cookies, k_csrf_cookie);
    if (!cookie || cookie->empty() || csrf_header.empty() || !same_secret(*cookie, csrf_header)) {
        return Status::invalid_argument(
            "CSRF: the X-CSRF-Token header must equal the assay_csrf cookie");
    }
    return {};
}

}  // namespace assay::review
