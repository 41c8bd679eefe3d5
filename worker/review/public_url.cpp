#include "review/public_url.h"

#include <algorithm>
#include <cctype>

namespace assay::review {

namespace {

bool all_of(const std::string& s, const char* extra) {
    return std::all_of(s.begin(), s.end(), [&](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string(extra).find(c) != std::string::npos;
    });
}

Status host_port_ok(const std::string& authority) {
    std::string host = authority;
    std::string port;
    if (!host.empty() && host.front() == '[') {
        size_t close = host.find(']');
        if (close == std::string::npos || !all_of(host.substr(1, close - 1), ":.") || close == 1) {
            return Status::invalid_argument("its IPv6 address is malformed");
        }
        if (close + 1 < host.size()) {
            if (host[close + 1] != ':') {
                return Status::invalid_argument("unexpected characters after the IPv6 address");
            }
            port = host.substr(close + 2);
            if (port.empty()) {
                return Status::invalid_argument("the port is empty");
            }
        }
    } else {
        size_t colon = host.find(':');
        if (colon != std::string::npos) {
            port = host.substr(colon + 1);
            host = host.substr(0, colon);
            if (port.empty()) {
                return Status::invalid_argument("the port is empty");
            }
        }
        if (host.empty() || !all_of(host, ".-") || host.front() == '.' || host.front() == '-') {
            return Status::invalid_argument("the host '" + host +
                                            "' is not a host name or address");
        }
    }
    if (!port.empty()) {
        if (port.size() > 5 ||
            !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
            std::stoi(port) < 1 || std::stoi(port) > 65535) {
            return Status::invalid_argument("the port '" + port + "' is not 1-65535");
        }
    }
    return {};
}

}  // namespace

Result<PublicUrl> parse_public_url(const std::string& url) {
    auto bad = [&](const std::string& why) {
        return Status::invalid_argument("--public-url '" + url + "': " + why +
                                        " (expected https://HOST[:PORT][/PREFIX], e.g. "
                                        "https://review.example.com/assay)");
    };
    PublicUrl out;
    size_t sep = url.find("://");
    if (sep == std::string::npos) {
        return bad("no scheme");
    }
    out.scheme = url.substr(0, sep);
    std::transform(out.scheme.begin(), out.scheme.end(), out.scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (out.scheme != "http" && out.scheme != "https") {
        return bad("the scheme must be http or https, not '" + out.scheme + "'");
    }
    std::string rest = url.substr(sep + 3);
    size_t slash = rest.find('/');
    out.authority = rest.substr(0, slash);
    std::transform(out.authority.begin(), out.authority.end(), out.authority.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (out.authority.empty()) {
        return bad("no host");
    }
    if (out.authority.find('@') != std::string::npos) {
        return bad("a user name or password does not belong in it");
    }
    if (Status st = host_port_ok(out.authority); !st.ok()) {
        return bad(st.message());
    }
    if (slash != std::string::npos) {
        out.prefix = rest.substr(slash);
        if (out.prefix.find_first_of("?#") != std::string::npos) {
            return bad("a query or fragment does not belong in it");
        }
        const std::string dotted = out.prefix + "/";
        if (!all_of(out.prefix, "-._~/") || out.prefix.find("//") != std::string::npos ||
            dotted.find("/./") != std::string::npos || dotted.find("/../") != std::string::npos) {
            return bad("the path may hold only letters, digits and -._~/ (no empty, . or .. part)");
        }
        while (!out.prefix.empty() && out.prefix.back() == '/') {
            out.prefix.pop_back();
        }
    }
    return out;
}

}  // namespace assay::review
