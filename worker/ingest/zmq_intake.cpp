#include "ingest/zmq_intake.h"

#include <spdlog/spdlog.h>

#include <zmq_addon.hpp>

#include "core/clock.h"
#include "core/prometheus_text.h"
#include "core/text.h"

namespace assay {

namespace {

// Tags: message sequence number in the high 40 bits, trace index in the low 24.
constexpr int k_index_bits = 24;
constexpr uint64_t k_max_traces_per_message = (uint64_t{1} << k_index_bits) - 1;

uint64_t make_tag(uint64_t seq, uint64_t index) { return (seq << k_index_bits) | index; }

// Binds, or connects when the endpoint starts with '>'. Returns the endpoint
// in use (the bound address, with the real port).
Result<std::string> attach(zmq::socket_t& s, const std::string& endpoint) {
    try {
        if (!endpoint.empty() && endpoint[0] == '>') {
            s.connect(endpoint.substr(1));
            return endpoint.substr(1);
        }
        s.bind(endpoint);
        return s.get(zmq::sockopt::last_endpoint);
    } catch (const zmq::error_t& e) {
        return Status::io_error("cannot open ZeroMQ endpoint '" + endpoint + "': " + e.what());
    }
}

// The payload frames [first, end) as one text (a message refused whole).
std::string join_frames(const std::vector<zmq::message_t>& frames, size_t first) {
    std::string out;
    for (size_t i = first; i < frames.size(); ++i) {
        out.append(i > first ? "\n" : "").append(frames[i].to_string_view());
    }
    return out;
}

}  // namespace

std::optional<std::vector<std::string_view>> ZmqIntake::split_message(
    const std::vector<zmq::message_t>& frames, size_t first) const {
    const size_t limit =
        std::min<uint64_t>(m_options.max_traces_per_message, k_max_traces_per_message);
    std::vector<std::string_view> traces;
    for (size_t i = first; i < frames.size(); ++i) {
        for (std::string_view t :
             split_payload(frames[i].to_string_view(), limit - traces.size())) {
            traces.push_back(t);
        }
        if (traces.size() > limit) {
            return std::nullopt;
        }
    }
    return traces;
}

std::string ZmqIntake::too_many_reason(const char* socket) const {
    return std::string("zmq ") + socket + ": the message holds more than " +
           std::to_string(m_options.max_traces_per_message) +
           " traces; the limit (worker.zmq_max_traces_per_message) is " +
           std::to_string(m_options.max_traces_per_message) +
           ": send them in smaller messages (the whole message is kept as one dead letter)";
}

ZmqIntake::ZmqIntake(ZmqIntakeOptions options, size_t max_trace_bytes)
    : m_options(std::move(options)), m_max_trace_bytes(max_trace_bytes), m_ctx(1) {}

ZmqIntake::~ZmqIntake() {
    m_pull.reset();
    m_router.reset();
    m_ctx.close();
}

Status ZmqIntake::open() {
    auto setup = [&](std::unique_ptr<zmq::socket_t>& sock, zmq::socket_type type,
                     const std::string& ep, std::string& bound) -> Status {
        if (ep.empty()) {
            return {};
        }
        sock = std::make_unique<zmq::socket_t>(m_ctx, type);
        sock->set(zmq::sockopt::rcvhwm, m_options.rcvhwm);
        sock->set(zmq::sockopt::linger, m_options.linger_ms);
        sock->set(zmq::sockopt::maxmsgsize, m_options.max_message_bytes);
        if (type == zmq::socket_type::router) {
            sock->set(zmq::sockopt::router_mandatory, 0);
        }
        auto r = attach(*sock, ep);
        if (!r.ok()) {
            return r.status();
        }
        bound = *r;
        return {};
    };
    ASSAY_RETURN_IF_ERROR(
        setup(m_pull, zmq::socket_type::pull, m_options.pull_endpoint, m_pull_bound));
    ASSAY_RETURN_IF_ERROR(
        setup(m_router, zmq::socket_type::router, m_options.router_endpoint, m_router_bound));
    if (!m_pull && !m_router) {
        return Status::invalid_argument(
            "no intake configured: give worker.zmq_pull and/or worker.zmq_router");
    }
    return {};
}

Status ZmqIntake::submit(RecordSink& sink, std::string text, uint64_t tag,
                         const std::string& source, std::string reject) {
    RawRecord r;
    r.reject = std::move(reject);
    r.text = std::move(text);
    r.source = source;
    r.received_ms = now_ms();
    r.full_bytes = r.text.size();
    if (r.reject.empty() && r.text.size() > m_max_trace_bytes) {
        r.oversized = true;
        r.text.resize(m_max_trace_bytes);
    }
    return sink.submit(std::move(r), tag);
}

Status ZmqIntake::read_pull(RecordSink& sink) {
    // Drain what is queued, bounded so the ROUTER and acks are not starved.
    for (int n = 0; n < 1000; ++n) {
        std::vector<zmq::message_t> frames;
        zmq::recv_result_t got;
        try {
            got =
                zmq::recv_multipart(*m_pull, std::back_inserter(frames), zmq::recv_flags::dontwait);
        } catch (const zmq::error_t& e) {
            spdlog::get("ingest")->warn("pull: receive failed: {}", e.what());
            return {};
        }
        if (!got) {
            return {};
        }
        auto traces = split_message(frames, 0);
        Status st;
        if (!traces) {
            st = submit(sink, join_frames(frames, 0), 0, "zmq:pull", too_many_reason("pull"));
        } else {
            for (std::string_view t : *traces) {
                if (st.ok()) {
                    st = submit(sink, std::string(t), 0, "zmq:pull");
                }
            }
        }
        {
            std::lock_guard<std::mutex> lock(m_mu);
            ++m_counters.messages;
            m_counters.traces += traces ? traces->size() : 0;
            m_counters.too_many_traces += traces ? 0 : 1;
        }
        if (!st.ok()) {
            return st;
        }
    }
    return {};
}

Status ZmqIntake::read_router(RecordSink& sink) {
    for (int n = 0; n < 1000; ++n) {
        std::vector<zmq::message_t> frames;
        zmq::recv_result_t got;
        try {
            got = zmq::recv_multipart(*m_router, std::back_inserter(frames),
                                      zmq::recv_flags::dontwait);
        } catch (const zmq::error_t& e) {
            spdlog::get("ingest")->warn("router: receive failed: {}", e.what());
            return {};
        }
        if (!got) {
            return {};
        }
        // frames[0] is the peer identity (added by ROUTER), then msg_id, payloads.
        if (frames.size() < 2 || frames[1].size() == 0 || frames[1].size() > k_max_msg_id_bytes) {
            // No usable id: nothing can be acknowledged; keep what we got as
            // dead letters so nothing is lost silently.
            {
                std::lock_guard<std::mutex> lock(m_mu);
                ++m_counters.bad_frames;
            }
            const std::string why = frames.size() < 2
                                        ? "zmq router: message has no id frame"
                                        : "zmq router: the id frame must be 1-" +
                                              std::to_string(k_max_msg_id_bytes) + " bytes, got " +
                                              std::to_string(frames[1].size());
            // Keep the payload frames; with none, the odd id frame itself.
            for (size_t i = frames.size() > 2 ? 2 : 1; i < frames.size(); ++i) {
                ASSAY_RETURN_IF_ERROR(submit(sink, frames[i].to_string(), 0, "zmq:router", why));
            }
            continue;
        }
        const uint64_t seq = m_next_seq++;
        Pending p;
        p.identity = frames[0].to_string();
        p.msg_id = frames[1].to_string();
        p.ack.id = p.msg_id;
        auto traces = split_message(frames, 2);
        p.whole = !traces;
        p.total = traces ? static_cast<uint32_t>(traces->size()) : 1;
        {
            std::lock_guard<std::mutex> lock(m_mu);
            ++m_counters.messages;
            m_counters.traces += traces ? traces->size() : 0;
            m_counters.too_many_traces += traces ? 0 : 1;
        }
        if (p.total == 0) {
            send_ack(p);
            continue;
        }
        auto it = m_pending.emplace(seq, std::move(p)).first;
        const std::string source = "zmq:router id=" + excerpt(it->second.msg_id, 64);
        if (!traces) {
            // One dead letter holds the message; its ack (after that commit)
            // carries the one reason.
            ASSAY_RETURN_IF_ERROR(submit(sink, join_frames(frames, 2), make_tag(seq, 0), source,
                                         too_many_reason("router")));
            continue;
        }
        for (size_t i = 0; i < traces->size(); ++i) {
            ASSAY_RETURN_IF_ERROR(
                submit(sink, std::string((*traces)[i]), make_tag(seq, i), source));
        }
    }
    return {};
}

void ZmqIntake::committed(const std::vector<uint64_t>& tags,
                          const std::vector<std::string>& errors) {
    std::lock_guard<std::mutex> lock(m_mu);
    for (size_t i = 0; i < tags.size(); ++i) {
        if (tags[i] != 0) {
            m_committed.emplace_back(tags[i], errors[i]);
        }
    }
}

void ZmqIntake::deliver_commits() {
    std::deque<std::pair<uint64_t, std::string>> done;
    {
        std::lock_guard<std::mutex> lock(m_mu);
        done.swap(m_committed);
    }
    for (auto& [tag, error] : done) {
        auto it = m_pending.find(tag >> k_index_bits);
        if (it == m_pending.end()) {
            continue;
        }
        Pending& p = it->second;
        if (p.whole) {
            p.ack.error = error.empty() ? too_many_reason("router") : std::move(error);
        } else if (error.empty()) {
            ++p.ack.accepted;
        } else if (++p.ack.rejected_total <= k_max_listed_rejections) {
            // Beyond the listed ones the ack only counts them (each is a dead letter).
            p.ack.rejected.push_back(
                {static_cast<uint32_t>(tag & k_max_traces_per_message), std::move(error)});
        }
        if (++p.done == p.total) {
            send_ack(p);
            m_pending.erase(it);
        }
    }
}

void ZmqIntake::send_ack(Pending& p) {
    try {
        const std::string ack = encode_ack(p.ack);  // must outlive the send
        std::array<zmq::const_buffer, 3> frames = {zmq::buffer(p.identity), zmq::buffer(p.msg_id),
                                                   zmq::buffer(ack)};
        // A vanished peer's ack is dropped (router_mandatory off): the
        // producer resends after its timeout and the upserts make that harmless.
        zmq::send_multipart(*m_router, frames, zmq::send_flags::dontwait);
        std::lock_guard<std::mutex> lock(m_mu);
        ++m_counters.acks_sent;
    } catch (const zmq::error_t& e) {
        spdlog::get("ingest")->warn("router: ack for '{}' not sent: {}", excerpt(p.msg_id, 64),
                                    e.what());
    }
}

Status ZmqIntake::poll(RecordSink& sink, std::chrono::milliseconds wait) {
    std::vector<zmq::pollitem_t> items;
    if (m_pull) {
        items.push_back({m_pull->handle(), 0, ZMQ_POLLIN, 0});
    }
    if (m_router) {
        items.push_back({m_router->handle(), 0, ZMQ_POLLIN, 0});
    }
    try {
        zmq::poll(items, wait);
    } catch (const zmq::error_t& e) {
        if (e.num() != EINTR) {
            return Status::io_error(std::string("zmq poll: ") + e.what());
        }
    }
    size_t k = 0;
    if (m_pull && (items[k++].revents & ZMQ_POLLIN)) {
        ASSAY_RETURN_IF_ERROR(read_pull(sink));
    }
    if (m_router && (items[k].revents & ZMQ_POLLIN)) {
        ASSAY_RETURN_IF_ERROR(read_router(sink));
    }
    deliver_commits();
    publish_pending();
    return {};
}

void ZmqIntake::finish() {
    deliver_commits();
    publish_pending();
    if (!m_pending.empty()) {
        spdlog::get("ingest")->warn(
            "{} messages were not acknowledged (their traces were not all committed)",
            m_pending.size());
    }
}

std::string ZmqIntake::describe() const {
    std::string out;
    if (!m_router_bound.empty()) {
        out += "router=" + m_router_bound;
    }
    if (!m_pull_bound.empty()) {
        out += (out.empty() ? "pull=" : " pull=") + m_pull_bound;
    }
    return out;
}

std::string ZmqIntake::metrics_text() const {
    const Counters c = counters();
    std::string out;
    auto counter = [&](const char* name, const char* type, const char* help, uint64_t v) {
        prom::header(out, name, type, help);
        out += std::string(name) + " " + std::to_string(v) + "\n";
    };
    counter("assay_messages_received_total", "counter", "ZeroMQ messages received", c.messages);
    counter("assay_traces_received_total", "counter", "Trace records received", c.traces);
    counter("assay_acks_sent_total", "counter", "Acknowledgements sent to producers", c.acks_sent);
    counter("assay_bad_messages_total", "counter", "Messages without a usable id frame",
            c.bad_frames);
    counter("assay_zmq_messages_too_many_traces_total", "counter",
            "Messages refused whole for holding more than worker.zmq_max_traces_per_message traces",
            c.too_many_traces);
    counter("assay_pending_acks", "gauge", "Acknowledged-intake messages waiting for their commit",
            c.pending_acks);
    return out;
}

ZmqIntake::Counters ZmqIntake::counters() const {
    std::lock_guard<std::mutex> lock(m_mu);
    return m_counters;
}

void ZmqIntake::publish_pending() {
    std::lock_guard<std::mutex> lock(m_mu);
    m_counters.pending_acks = m_pending.size();
}

}  // namespace assay
