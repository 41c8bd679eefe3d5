#pragma once
// Listening sockets the one way every Assay server binds them: parse
// "HOST:PORT", bind exclusively (a port another process or socket already
// listens on is an error at start-up, never a shared listener: SO_REUSEADDR
// only, no SO_REUSEPORT) and listen with a backlog fit for a server. Used by
// core/http_server.h (ops, OTLP/HTTP, `assay review`) and the OTLP/gRPC door.
// Pure functions; thread-safe.

#include <string>
#include <utility>

#include "core/status.h"

namespace assay {

// Splits "HOST:PORT" ("[::1]:4318" too); invalid_argument naming the text
// on a malformed address or a port outside 0-65535.
Result<std::pair<std::string, int>> parse_listen(const std::string& listen);

struct ListenSocket {
    int fd = -1;    // owned by the caller, who closes it
    int port = -1;  // the bound port (the one picked when 0 was asked)
    bool ipv6 = false;
};

// Binds and listens on `host`:`port` (port 0 picks a free one). io_error
// "cannot listen on 'LISTEN': the address is already in use (...)" or
// "...: not an address of this host".
Result<ListenSocket> listen_exclusive(const std::string& host, int port, const std::string& listen);

}  // namespace assay
