#include "core/http_listen.h"

#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace assay {

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

void configure_exclusive_listen(httplib::Server& server) {
    // SO_REUSEADDR only: on Linux it lets a restarted server bind past
    // TIME_WAIT but never lets two sockets listen on one port.
    server.set_socket_options([](socket_t sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
}

namespace {

// Why binding `host`:`port` fails, probed with a plain socket (httplib only
// says it failed).
std::string bind_failure(const std::string& host, int port) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 ||
        res == nullptr) {
        return "not an address of this host";
    }
    std::string why = "not an address of this host";
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd >= 0) {
        int yes = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
        if (::bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
            why = errno == EADDRINUSE
                      ? "the address is already in use (another process listens on it)"
                      : std::strerror(errno);
        }
        close(fd);
    }
    freeaddrinfo(res);
    return why;
}

}  // namespace

HttpListener::HttpListener(httplib::Server& server) : m_server(server) {
    configure_exclusive_listen(m_server);
}

HttpListener::~HttpListener() { stop(); }

Status HttpListener::bind(const std::string& listen) {
    auto addr = parse_listen(listen);
    if (!addr.ok()) {
        return addr.status();
    }
    const auto& [host, port] = *addr;
    m_host = host;
    m_port = port == 0 ? m_server.bind_to_any_port(host)
                       : (m_server.bind_to_port(host, port) ? port : -1);
    if (m_port < 0) {
        return Status::io_error("cannot listen on '" + listen + "': " + bind_failure(host, port));
    }
    return {};
}

Status HttpListener::start(const std::string& listen) {
    ASSAY_RETURN_IF_ERROR(bind(listen));
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    // stop() right after start() must find the server running, or it would
    // not wake the serving thread.
    for (int i = 0; i < 2000 && !m_server.is_running(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return {};
}

void HttpListener::run() { m_server.listen_after_bind(); }

void HttpListener::stop() {
    if (m_port >= 0) {
        m_server.stop();
    }
    if (m_thread.joinable()) {
        m_thread.join();
    }
}

}  // namespace assay
