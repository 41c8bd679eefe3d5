#pragma once
// PublicUrl: where browsers reach the review server when it runs behind a
// proxy (--public-url https://host[:port][/prefix], README "Behind a TLS
// proxy"). It gives the origin the CSRF check accepts, whether cookies get
// `Secure` (https), and the path prefix of every link and redirect. Plain
// values; thread-safe to share once built.

#include <string>

#include "core/status.h"

namespace assay::review {

struct PublicUrl {
    std::string scheme;     // "http" or "https"
    std::string authority;  // host[:port], as given (lower-cased)
    std::string prefix;     // "" or "/a/b" (no trailing slash)

    std::string origin() const { return scheme + "://" + authority; }
    bool secure() const { return scheme == "https"; }
};

// Parses `url`: http or https, a host name, IPv4 or [IPv6] address with an
// optional port (1-65535), and an optional path of letters, digits and
// `-._~/` (a trailing slash is dropped); no user, query or fragment.
// invalid_argument naming the value and what is wrong with it.
Result<PublicUrl> parse_public_url(const std::string& url);

}  // namespace assay::review
