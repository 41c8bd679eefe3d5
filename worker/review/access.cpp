#include "review/access.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

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

bool AccessControl::bearer_ok(const std::string& auth) const {
    static const std::string k_prefix = "Bearer ";
    return !m_token.empty() && auth.rfind(k_prefix, 0) == 0 &&
           same_secret(auth.substr(k_prefix.size()), m_token);
}

bool AccessControl::authenticated(const std::string& auth, const std::string& cookies) const {
    if (m_token.empty() || bearer_ok(auth)) {
        return true;
    }
    auto sid = cookie_value(cookies, k_session_cookie);
    if (!sid) {
        return false;
    }
    std::lock_guard lock(m_mu);
    return m_sessions.count(*sid) > 0;
}

std::optional<std::string> AccessControl::login(const std::string& token) {
    if (m_token.empty() || !same_secret(token, m_token)) {
        return std::nullopt;
    }
    auto sid = random_token();
    if (!sid.ok()) {
        return std::nullopt;
    }
    std::lock_guard lock(m_mu);
    m_sessions.insert(*sid);
    return *sid;
}

bool AccessControl::host_ok(const std::string& host_header) const {
    if (!m_token.empty()) {
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

Status AccessControl::csrf_ok(const std::string& auth, const std::string& cookies,
                              const std::string& csrf_header, const std::string& origin,
                              const std::string& host) const {
    if (bearer_ok(auth)) {
        return {};  // a script with the bearer header: browsers never add it on their own
    }
    if (!origin.empty() && origin != "http://" + host) {
        return Status::invalid_argument("CSRF: Origin '" + origin +
                                        "' is not this server (http://" + host + ")");
    }
    auto cookie = cookie_value(cookies, k_csrf_cookie);
    if (!cookie || cookie->empty() || csrf_header.empty() || !same_secret(*cookie, csrf_header)) {
        return Status::invalid_argument(
            "CSRF: the X-CSRF-Token header must equal the assay_csrf cookie");
    }
    return {};
}

}  // namespace assay::review
