#pragma once
// Listening for HTTP (cpp-httplib) the one way every Assay server does: parse
// "HOST:PORT", bind exclusively (a port another process or socket already
// listens on is an error at start-up, never a shared listener: no
// SO_REUSEPORT), and serve on a thread of the listener's own. Used by the
// worker's ops and OTLP servers and by `assay review`.
//
// Thread safety: start()/bind()/stop() from the owner's thread; port() and
// host() from any thread after a successful bind.

#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "core/status.h"

namespace httplib {
class Server;
}

namespace assay {

// Splits "HOST:PORT" ("[::1]:4318" too); invalid_argument naming the text
// on a malformed address or a port outside 0-65535.
Result<std::pair<std::string, int>> parse_listen(const std::string& listen);

// Makes `server` bind without SO_REUSEPORT and with a listen backlog fit for
// a server (the library's default is 5). Call before binding.
void configure_exclusive_listen(httplib::Server& server);

class HttpListener {
public:
    // Borrows `server`, which must outlive the listener.
    explicit HttpListener(httplib::Server& server);
    ~HttpListener();  // stop()s
    HttpListener(const HttpListener&) = delete;
    HttpListener& operator=(const HttpListener&) = delete;

    // Binds "HOST:PORT" (PORT 0 picks a free port). invalid_argument for a
    // malformed address; io_error "cannot listen on 'ADDR': the address is
    // already in use" or "... not an address of this host".
    Status bind(const std::string& listen);
    // bind() and then serve on the listener's own thread.
    Status start(const std::string& listen);
    // Serves until stop(), on the calling thread (after bind()).
    void run();
    // Stops serving; requests in progress finish first. Idempotent.
    void stop();

    int port() const { return m_port; }
    const std::string& host() const { return m_host; }

private:
    httplib::Server& m_server;
    std::thread m_thread;
    std::string m_host;
    int m_port = -1;
};

}  // namespace assay
