#include "store/store_location.h"

namespace assay {

namespace {

constexpr std::string_view k_schemes[] = {"postgresql://", "postgres://"};
constexpr std::string_view k_mask = "***";

}  // namespace

bool is_postgres_uri(std::string_view location) {
    for (auto scheme : k_schemes) {
        if (location.substr(0, scheme.size()) == scheme) {
            return true;
        }
    }
    return false;
}

std::string mask_store_location(std::string_view location) {
    if (!is_postgres_uri(location)) {
        return std::string(location);
    }
    const size_t start = location.find("://") + 3;
    // The authority ends at the first '/', '?' or '#' after the scheme.
    size_t auth_end = location.find_first_of("/?#", start);
    if (auth_end == std::string_view::npos) {
        auth_end = location.size();
    }
    std::string out(location.substr(0, start));
    std::string_view auth = location.substr(start, auth_end - start);
    // The user-info part ends at the LAST '@' of the authority (a password
    // may itself contain a raw '@').
    if (size_t at = auth.rfind('@'); at != std::string_view::npos) {
        std::string_view userinfo = auth.substr(0, at);
        if (size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
            out += userinfo.substr(0, colon + 1);
            out += k_mask;
        } else {
            out += userinfo;
        }
        out += auth.substr(at);
    } else {
        out += auth;
    }
    // Query parameters: password=... (any case) loses its value.
    std::string_view rest = location.substr(auth_end);
    size_t q = rest.find('?');
    out += rest.substr(0, q == std::string_view::npos ? rest.size() : q + 1);
    if (q == std::string_view::npos) {
        return out;
    }
    std::string_view query = rest.substr(q + 1);
    bool first = true;
    while (true) {
        size_t amp = query.find('&');
        std::string_view param = query.substr(0, amp);
        if (!first) {
            out += '&';
        }
        first = false;
        size_t eq = param.find('=');
        std::string key(param.substr(0, eq));
        for (char& c : key) {
            c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
        if (eq != std::string_view::npos && key == "password") {
            out += param.substr(0, eq + 1);
            out += k_mask;
        } else {
            out += param;
        }
        if (amp == std::string_view::npos) {
            break;
        }
        query = query.substr(amp + 1);
    }
    return out;
}

Status sqlite_only(const std::string& location, const std::string& what) {
    if (!is_postgres_uri(location)) {
        return {};
    }
    return Status::invalid_argument("store '" + mask_store_location(location) + "': " + what +
                                    " is not yet implemented on PostgreSQL; use a SQLite store "
                                    "for it (README, PostgreSQL)");
}

}  // namespace assay
