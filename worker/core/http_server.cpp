#include "core/http_server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "core/clock.h"

namespace assay {

namespace {

bool same_name(const std::string& a, const std::string& b) {
    return a.size() == b.size() && strncasecmp(a.c_str(), b.c_str(), a.size()) == 0;
}

const std::string* find_value(const std::vector<std::pair<std::string, std::string>>& pairs,
                              const std::string& name, bool any_case) {
    for (const auto& [k, v] : pairs) {
        if (any_case ? same_name(k, name) : k == name) {
            return &v;
        }
    }
    return nullptr;
}

// Decodes one application/x-www-form-urlencoded component ('+' is a space).
std::string form_decode(std::string s) {
    std::replace(s.begin(), s.end(), '+', ' ');
    s.push_back('\0');
    s.resize(MHD_http_unescape(s.data()));
    return s;
}

void parse_form(const std::string& body, std::vector<std::pair<std::string, std::string>>& params) {
    size_t pos = 0;
    while (pos <= body.size()) {
        size_t amp = body.find('&', pos);
        if (amp == std::string::npos) {
            amp = body.size();
        }
        std::string part = body.substr(pos, amp - pos);
        if (!part.empty()) {
            size_t eq = part.find('=');
            params.emplace_back(form_decode(part.substr(0, eq)),
                                eq == std::string::npos ? "" : form_decode(part.substr(eq + 1)));
        }
        pos = amp + 1;
    }
}

// Appends one header or query parameter to the vector `pairs` points to.
MHD_Result collect(void* pairs, MHD_ValueKind, const char* key, const char* value) {
    static_cast<std::vector<std::pair<std::string, std::string>>*>(pairs)->emplace_back(
        key, value ? value : "");
    return MHD_YES;
}

std::string numeric_address(const sockaddr* addr) {
    if (addr == nullptr) {
        return "";
    }
    char host[NI_MAXHOST] = {0};
    const socklen_t len = addr->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    if (getnameinfo(addr, len, host, sizeof(host), nullptr, 0, NI_NUMERICHOST) != 0) {
        return "";
    }
    return host;
}

// Where a connection stands, for the watchdog that enforces the header and
// body deadlines (libmicrohttpd has an idle timeout only).
enum Phase : int { k_headers = 0, k_body = 1, k_handling = 2 };

struct ConnState {
    int fd = -1;
    std::atomic<int> phase{k_headers};
    std::atomic<int64_t> deadline_ms{0};
    std::atomic<uint64_t> answered{0};  // requests answered on this connection
    bool killed = false;                // guarded by the registry mutex
};

struct RequestState {
    HttpRequest req;
    HttpResponse res;       // pre-routing's headers carry into the handler's answer
    bool answered = false;  // a response is queued; the rest is discarded
    bool linger = false;    // answered before its body was read: drain before closing
};

const char* reason_phrase(int status) {
    switch (status) {
        case 400:
            return "Bad Request";
        case 408:
            return "Request Timeout";
        case 413:
            return "Content Too Large";
        case 431:
            return "Request Header Fields Too Large";
        default:
            return "Error";
    }
}

// `res` as HTTP/1.1 bytes, closing the connection.
std::string serialize(const HttpResponse& res) {
    std::string out = "HTTP/1.1 " + std::to_string(res.status) + " " + reason_phrase(res.status) +
                      "\r\nConnection: close\r\n";
    for (const auto& [k, v] : res.headers) {
        if (!same_name(k, "Connection") && !same_name(k, "Content-Length")) {
            out += k + ": " + v + "\r\n";
        }
    }
    return out + "Content-Length: " + std::to_string(res.body.size()) + "\r\n\r\n" + res.body;
}

// Sends `bytes` on `fd` within `ms`; false when it could not.
bool send_within(int fd, const std::string& bytes, int64_t ms) {
    const int64_t until = now_ms() + ms;
    size_t off = 0;
    while (off < bytes.size()) {
        const ssize_t n =
            send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            off += static_cast<size_t>(n);
            continue;
        }
        const int64_t left = until - now_ms();
        pollfd p{fd, POLLOUT, 0};
        if ((n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || left <= 0 ||
            poll(&p, 1, static_cast<int>(left)) <= 0) {
            return false;
        }
    }
    return true;
}

// After an answer sent before the request's body was read (413, 408, ...):
// libmicrohttpd has already shut down our sending side, so the client has
// the answer and a FIN. Discard what the client still sends for a moment,
// so that closing does not reset the connection and destroy the answer in
// the client's receive buffer (a lingering close, as other servers do).
void drain(int fd) {
    constexpr int64_t k_linger_ms = 1000;
    constexpr size_t k_linger_bytes = 16u << 20;
    const int64_t until = now_ms() + k_linger_ms;
    size_t drained = 0;
    char buf[16 * 1024];
    while (drained < k_linger_bytes) {
        const int64_t left = until - now_ms();
        pollfd p{fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) {
            return;
        }
        const ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n <= 0) {
            return;
        }
        drained += static_cast<size_t>(n);
    }
}

}  // namespace

bool HttpRequest::has_header(const std::string& name) const {
    return find_value(headers, name, true) != nullptr;
}

std::string HttpRequest::get_header_value(const std::string& name) const {
    const std::string* v = find_value(headers, name, true);
    return v ? *v : "";
}

bool HttpRequest::has_param(const std::string& name) const {
    return find_value(params, name, false) != nullptr;
}

std::string HttpRequest::get_param_value(const std::string& name) const {
    const std::string* v = find_value(params, name, false);
    return v ? *v : "";
}

void HttpResponse::set_header(const std::string& name, const std::string& value) {
    for (auto& [k, v] : headers) {
        if (same_name(k, name)) {
            v = value;
            return;
        }
    }
    headers.emplace_back(name, value);
}

std::string HttpResponse::get_header_value(const std::string& name) const {
    const std::string* v = find_value(headers, name, true);
    return v ? *v : "";
}

void HttpResponse::set_content(std::string content, const std::string& content_type) {
    body = std::move(content);
    set_header("Content-Type", content_type);
}

struct HttpServer::Impl {
    explicit Impl(HttpServerOptions o) : options(o) {}

    HttpServerOptions options;
    std::map<std::pair<std::string, std::string>, HttpHandler> routes;  // (method, path)
    HttpPreRouting pre;
    HttpHandler on_error;

    ListenSocket listen;
    MHD_Daemon* daemon = nullptr;
    std::mutex run_mu;  // guards daemon, stopping
    std::condition_variable run_cv;
    bool stopping = false;

    std::mutex conns_mu;  // guards conns and each ConnState::killed
    std::unordered_set<ConnState*> conns;
    std::thread watchdog;

    std::atomic<uint64_t> requests{0}, rejected_431{0}, rejected_413{0}, rejected_408{0};

    static MHD_Result access(void* cls, MHD_Connection* c, const char* url, const char* method,
                             const char* version, const char* upload_data, size_t* upload_data_size,
                             void** con_cls);
    static void completed(void* cls, MHD_Connection* c, void** con_cls,
                          MHD_RequestTerminationCode toe);
    static void notify(void* cls, MHD_Connection* c, void** socket_context,
                       MHD_ConnectionNotificationCode toe);

    MHD_Result answer(MHD_Connection* c, RequestState& rs, HttpResponse& res, bool close);
    // An answer the server makes itself (404, 405, 413, 431), with the error
    // hook's body.
    MHD_Result refuse(MHD_Connection* c, RequestState& rs, int status, bool close);
    // Counts a refusal and has the error hook fill rs.res (status set).
    void fill_error(RequestState& rs);
    void watch();
    void start_watchdog();
    void stop_daemon();
};

MHD_Result HttpServer::Impl::answer(MHD_Connection* c, RequestState& rs, HttpResponse& res,
                                    bool close) {
    rs.answered = true;
    // Answering: the watchdog's deadlines no longer apply to this request.
    const auto* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (auto* conn = info ? static_cast<ConnState*>(info->socket_context) : nullptr) {
        conn->phase.store(k_handling);
    }
    MHD_Response* r =
        MHD_create_response_from_buffer(res.body.size(), res.body.data(), MHD_RESPMEM_MUST_COPY);
    if (r == nullptr) {
        return MHD_NO;
    }
    for (const auto& [k, v] : res.headers) {
        MHD_add_response_header(r, k.c_str(), v.c_str());
    }
    if (close) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
        rs.linger = true;
    }
    const MHD_Result ok = MHD_queue_response(c, static_cast<unsigned>(res.status), r);
    MHD_destroy_response(r);
    return ok;
}

void HttpServer::Impl::fill_error(RequestState& rs) {
    HttpResponse& res = rs.res;
    if (res.status == 413) {
        ++rejected_413;
    } else if (res.status == 431) {
        ++rejected_431;
    }
    if (on_error) {
        on_error(rs.req, res);
    }
    if (res.body.empty()) {
        res.set_content("HTTP " + std::to_string(res.status) + "\n", "text/plain");
    }
}

MHD_Result HttpServer::Impl::refuse(MHD_Connection* c, RequestState& rs, int status, bool close) {
    rs.res.status = status;
    fill_error(rs);
    return answer(c, rs, rs.res, close);
}

MHD_Result HttpServer::Impl::access(void* cls, MHD_Connection* c, const char* url,
                                    const char* method, const char*, const char* upload_data,
                                    size_t* upload_data_size, void** con_cls) {
    auto* self = static_cast<Impl*>(cls);
    const HttpServerOptions& o = self->options;
    const auto* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    auto* conn = info ? static_cast<ConnState*>(info->socket_context) : nullptr;
    auto* rs = static_cast<RequestState*>(*con_cls);
    if (rs == nullptr) {
        // The headers are in: bound what comes next.
        rs = new RequestState();
        *con_cls = rs;
        ++self->requests;
        if (conn) {
            conn->deadline_ms.store(now_ms() + o.body_timeout_ms);
            conn->phase.store(k_body);
        }
        rs->req.method = method;
        rs->req.path = url;
        if (const auto* a = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS)) {
            rs->req.remote_addr = numeric_address(a->client_addr);
        }
        MHD_get_connection_values(c, MHD_HEADER_KIND, &collect, &rs->req.headers);
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, &collect, &rs->req.params);
        if (rs->req.headers.size() > o.max_headers) {
            return self->refuse(c, *rs, 431, true);
        }
        const std::string length = rs->req.get_header_value("Content-Length");
        if (!length.empty() && length.size() < 20 &&
            std::all_of(length.begin(), length.end(), ::isdigit) &&
            std::stoull(length) > o.max_body_bytes) {
            return self->refuse(c, *rs, 413, true);
        }
        if (self->pre) {
            HttpResponse& res = rs->res;
            if (self->pre(rs->req, res)) {
                // The body is never read: the connection cannot go on.
                const bool has_body = !length.empty() && length != "0";
                const bool chunked = rs->req.has_header("Transfer-Encoding");
                return self->answer(c, *rs, res, has_body || chunked);
            }
        }
        return MHD_YES;
    }
    if (rs->answered) {
        *upload_data_size = 0;  // refused: discard (the connection closes)
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (rs->req.body.size() + *upload_data_size > o.max_body_bytes) {
            // libmicrohttpd takes no answer in the middle of a body: write
            // the 413 ourselves, let the client read it, and close.
            *upload_data_size = 0;
            rs->answered = true;
            if (conn != nullptr) {
                conn->phase.store(k_handling);
                rs->res.status = 413;
                self->fill_error(*rs);
                if (send_within(conn->fd, serialize(rs->res), 1000)) {
                    shutdown(conn->fd, SHUT_WR);
                    drain(conn->fd);
                }
            }
            return MHD_NO;
        }
        rs->req.body.append(upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    // The whole request is in.
    if (conn) {
        conn->phase.store(k_handling);
    }
    HttpRequest& req = rs->req;
    if (req.method == "POST" &&
        req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0) {
        parse_form(req.body, req.params);
    }
    auto route = self->routes.find({req.method == "HEAD" ? "GET" : req.method, req.path});
    if (route == self->routes.end()) {
        bool other_method = false;
        for (const auto& [key, handler] : self->routes) {
            other_method = other_method || key.second == req.path;
        }
        return self->refuse(c, *rs, other_method ? 405 : 404, false);
    }
    HttpResponse& res = rs->res;
    try {
        route->second(req, res);
    } catch (const std::exception& e) {
        // A handler bug must not take the process down; log it and say so.
        spdlog::default_logger()->error("http: {} {}: {}", req.method, req.path, e.what());
        res = HttpResponse();
        res.status = 500;
        res.set_content("internal error\n", "text/plain");
    }
    return self->answer(c, *rs, res, same_name(res.get_header_value("Connection"), "close"));
}

void HttpServer::Impl::completed(void* cls, MHD_Connection* c, void** con_cls,
                                 MHD_RequestTerminationCode) {
    auto* self = static_cast<Impl*>(cls);
    auto* rs = static_cast<RequestState*>(*con_cls);
    const bool linger = rs != nullptr && rs->linger;
    delete rs;
    *con_cls = nullptr;
    const auto* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    auto* conn = info ? static_cast<ConnState*>(info->socket_context) : nullptr;
    if (conn != nullptr && linger) {
        drain(conn->fd);
    }
    if (conn != nullptr) {
        conn->deadline_ms.store(now_ms() + self->options.header_timeout_ms);
        conn->answered.fetch_add(1);
        conn->phase.store(k_headers);
    }
}

void HttpServer::Impl::notify(void* cls, MHD_Connection* c, void** socket_context,
                              MHD_ConnectionNotificationCode toe) {
    auto* self = static_cast<Impl*>(cls);
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        auto* conn = new ConnState();
        if (const auto* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD)) {
            conn->fd = info->connect_fd;
        }
        conn->deadline_ms.store(now_ms() + self->options.header_timeout_ms);
        *socket_context = conn;
        std::lock_guard lock(self->conns_mu);
        self->conns.insert(conn);
        return;
    }
    // Closed: forget it before libmicrohttpd closes its descriptor, so the
    // watchdog never touches a descriptor number reused by another socket.
    auto* conn = static_cast<ConnState*>(*socket_context);
    if (conn != nullptr) {
        std::lock_guard lock(self->conns_mu);
        self->conns.erase(conn);
    }
    delete conn;
    *socket_context = nullptr;
}

void HttpServer::Impl::watch() {
    HttpResponse timeout;
    timeout.status = 408;
    timeout.set_content("the request did not arrive in time; connection closed\n", "text/plain");
    const std::string k_408 = serialize(timeout);
    std::unique_lock run_lock(run_mu);
    while (!stopping) {
        run_cv.wait_for(run_lock, std::chrono::milliseconds(100));
        const int64_t now = now_ms();
        std::lock_guard lock(conns_mu);
        for (ConnState* conn : conns) {
            if (conn->killed || conn->phase.load() == k_handling ||
                conn->deadline_ms.load() > now) {
                continue;
            }
            // A connection idle after an answer closes silently (a client
            // would read a 408 as the answer to its next request).
            if (conn->phase.load() == k_body || conn->answered.load() == 0) {
                (void)!send(conn->fd, k_408.data(), k_408.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
                ++rejected_408;
            }
            shutdown(conn->fd, SHUT_RDWR);
            conn->killed = true;
        }
    }
}

void HttpServer::Impl::stop_daemon() {
    MHD_Daemon* d = nullptr;
    {
        std::lock_guard lock(run_mu);
        stopping = true;
        d = daemon;
        daemon = nullptr;
    }
    run_cv.notify_all();
    if (watchdog.joinable()) {
        watchdog.join();
    }
    if (d != nullptr) {
        MHD_stop_daemon(d);  // closes the listening socket too
    } else if (listen.fd >= 0) {
        close(listen.fd);
    }
    listen.fd = -1;
}

HttpServer::HttpServer(HttpServerOptions options) : m_impl(std::make_unique<Impl>(options)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::get(const std::string& path, HttpHandler handler) {
    m_impl->routes[{"GET", path}] = std::move(handler);
}

void HttpServer::post(const std::string& path, HttpHandler handler) {
    m_impl->routes[{"POST", path}] = std::move(handler);
}

void HttpServer::set_pre_routing(HttpPreRouting hook) { m_impl->pre = std::move(hook); }

void HttpServer::set_error_handler(HttpHandler handler) { m_impl->on_error = std::move(handler); }

Status HttpServer::bind(const std::string& listen) {
    auto addr = parse_listen(listen);
    if (!addr.ok()) {
        return addr.status();
    }
    auto sock = listen_exclusive(addr->first, addr->second, listen);
    if (!sock.ok()) {
        return sock.status();
    }
    m_impl->listen = *sock;
    m_host = addr->first;
    m_port = sock->port;
    return {};
}

Status HttpServer::serve() {
    Impl& im = *m_impl;
    const HttpServerOptions& o = im.options;
    std::lock_guard lock(im.run_mu);
    if (im.stopping) {
        return {};
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ITC;
    if (im.listen.ipv6) {
        flags |= MHD_USE_IPv6;
    }
    const auto idle_s =
        static_cast<unsigned>(std::max<int64_t>(1, (o.idle_timeout_ms + 999) / 1000));
    im.daemon = MHD_start_daemon(
        flags, 0, nullptr, nullptr, &Impl::access, &im,                         //
        MHD_OPTION_LISTEN_SOCKET, im.listen.fd,                                 //
        MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(o.max_connections),  //
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, static_cast<unsigned>(o.max_connections_per_ip),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, o.max_header_bytes + 4096,  //
        MHD_OPTION_CONNECTION_TIMEOUT, idle_s,                          //
        MHD_OPTION_NOTIFY_COMPLETED, &Impl::completed, &im,             //
        MHD_OPTION_NOTIFY_CONNECTION, &Impl::notify, &im,               //
        MHD_OPTION_END);
    if (im.daemon == nullptr) {
        return Status::io_error("cannot serve on " + m_host + ":" + std::to_string(m_port) +
                                ": libmicrohttpd did not start");
    }
    im.watchdog = std::thread([&im] { im.watch(); });
    return {};
}

Status HttpServer::start(const std::string& listen) {
    ASSAY_RETURN_IF_ERROR(bind(listen));
    return serve();
}

Status HttpServer::run() {
    ASSAY_RETURN_IF_ERROR(serve());
    std::unique_lock lock(m_impl->run_mu);
    m_impl->run_cv.wait(lock, [this] { return m_impl->stopping; });
    return {};
}

void HttpServer::stop() {
    if (m_impl) {
        m_impl->stop_daemon();
    }
}

HttpServerStats HttpServer::stats() const {
    HttpServerStats s;
    s.requests = m_impl->requests.load();
    s.rejected_431 = m_impl->rejected_431.load();
    s.rejected_413 = m_impl->rejected_413.load();
    s.rejected_408 = m_impl->rejected_408.load();
    std::lock_guard lock(m_impl->conns_mu);
    s.open_connections = m_impl->conns.size();
    return s;
}

}  // namespace assay
