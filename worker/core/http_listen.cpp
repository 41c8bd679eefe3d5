#include "core/http_listen.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace assay {

namespace {

constexpr int k_backlog = 511;

}  // namespace

Result<std::pair<std::string, int>> parse_listen(const std::string& listen) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
        return Status::invalid_argument("'" + listen + "' is not HOST:PORT (e.g. 127.0.0.1:9464)");
    }
    std::string host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    int port = -1;
    try {
        size_t used = 0;
        port = std::stoi(listen.substr(colon + 1), &used);
        if (used != listen.size() - colon - 1) {
            port = -1;
        }
    } catch (const std::exception&) {
        port = -1;
    }
    if (port < 0 || port > 65535) {
        return Status::invalid_argument("'" + listen + "': the port must be 0-65535");
    }
    return std::make_pair(host, port);
}

Result<ListenSocket> listen_exclusive(const std::string& host, int port,
                                      const std::string& listen) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 ||
        res == nullptr) {
        return Status::io_error("cannot listen on '" + listen + "': not an address of this host");
    }
    std::string why = "not an address of this host";
    ListenSocket out;
    for (addrinfo* ai = res; ai != nullptr && out.fd < 0; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            why = std::strerror(errno);
            continue;
        }
        // SO_REUSEADDR lets a restarted server bind past TIME_WAIT but never
        // lets two sockets listen on one port (that is SO_REUSEPORT).
        int yes = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
        if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, k_backlog) != 0) {
            why = errno == EADDRINUSE
                      ? "the address is already in use (another process listens on it)"
                      : std::strerror(errno);
            close(fd);
            continue;
        }
        sockaddr_storage bound{};
        socklen_t len = sizeof(bound);
        getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
        out.ipv6 = bound.ss_family == AF_INET6;
        out.port = out.ipv6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                            : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
        out.fd = fd;
    }
    freeaddrinfo(res);
    if (out.fd < 0) {
        return Status::io_error("cannot listen on '" + listen + "': " + why);
    }
    return out;
}

}  // namespace assay
