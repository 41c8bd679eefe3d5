#include "ingest/otlp/gzip_body.h"

#include <zlib.h>

namespace assay {

namespace {
// windowBits 15 + 16: a gzip wrapper only (no zlib or raw deflate), so the
// CRC-32 and ISIZE trailer is checked by inflate().
constexpr int k_gzip_window_bits = 15 + 16;
}  // namespace

GzipInflater::GzipInflater(size_t max_output) : m_z(new z_stream), m_max_output(max_output) {
    *m_z = z_stream{};
    if (inflateInit2(m_z, k_gzip_window_bits) != Z_OK) {
        m_error = Status::io_error("gzip body: cannot start zlib's inflate (out of memory)");
    }
}

GzipInflater::~GzipInflater() {
    inflateEnd(m_z);
    delete m_z;
}

Status GzipInflater::feed(std::string_view data, std::string& out) {
    if (!m_error.ok()) {
        return m_error;
    }
    m_z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    m_z->avail_in = static_cast<uInt>(data.size());
    char buf[16384];
    bool more_output = false;  // inflate() filled the buffer: it may hold more
    while (m_z->avail_in > 0 || more_output) {
        m_member_open = true;
        m_any_member = true;
        m_z->next_out = reinterpret_cast<Bytef*>(buf);
        m_z->avail_out = sizeof(buf);
        const uInt before = m_z->avail_in;
        const int rc = inflate(m_z, Z_NO_FLUSH);
        m_in += before - m_z->avail_in;
        const size_t produced = sizeof(buf) - m_z->avail_out;
        more_output = m_z->avail_out == 0;
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
            m_error = Status::invalid_argument(
                "gzip body does not inflate at byte " + std::to_string(m_in) + ": " +
                (m_z->msg != nullptr ? m_z->msg : "zlib error " + std::to_string(rc)));
            return m_error;
        }
        if (out.size() + produced > m_max_output) {
            m_error = Status::limit_exceeded("gzip body inflates to more than " +
                                             std::to_string(m_max_output) + " bytes");
            return m_error;
        }
        out.append(buf, produced);
        if (rc == Z_STREAM_END) {
            // A whole member, its trailer checked; another may follow.
            m_member_open = false;
            more_output = false;
            inflateReset(m_z);
        } else if (rc == Z_BUF_ERROR) {
            break;  // no progress possible: it needs more input
        }
    }
    return {};
}

Status GzipInflater::finish() const {
    if (!m_error.ok()) {
        return m_error;
    }
    if (!m_any_member || m_member_open) {
        return Status::invalid_argument(
            "gzip body ends before its end of stream after " + std::to_string(m_in) +
            " bytes (cut short, or its CRC-32/length trailer is missing)");
    }
    return {};
}

Result<std::string> gunzip_body(std::string_view body, size_t max_output) {
    GzipInflater z(max_output);
    std::string out;
    if (Status st = z.feed(body, out); !st.ok()) {
        return st;
    }
    if (Status st = z.finish(); !st.ok()) {
        return st;
    }
    return out;
}

}  // namespace assay
