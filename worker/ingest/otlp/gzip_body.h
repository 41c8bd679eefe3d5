#pragma once
// GzipInflater: inflates a gzip body (RFC 1952; Content-Encoding: gzip) as it
// arrives, chunk by chunk, with zlib, and checks what cpp-httplib's own
// decompressor does not: that the stream reaches its end and its trailer
// (CRC-32 and ISIZE) is present and right. Concatenated gzip members are one
// body (RFC 1952 2.2), each checked the same way.
//
// Bounded: the inflated bytes count against max_output, and inflating stops
// there (a gzip bomb costs no more memory than the limit).
//
// Failure (Status, never throws):
//   - invalid_argument "gzip body ...: <zlib's message>" naming the offset in
//     the compressed body, for data that does not inflate (bad header, bad
//     block, wrong CRC or length);
//   - limit_exceeded "gzip body inflates to more than N bytes" past max_output;
//   - finish(): invalid_argument "gzip body ends before its end of stream ..."
//     when the body was cut (anywhere, the trailer included) or was empty.
// Owns its zlib stream; not thread-safe (one per request).

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

struct z_stream_s;

namespace assay {

class GzipInflater {
public:
    explicit GzipInflater(size_t max_output);
    ~GzipInflater();
    GzipInflater(const GzipInflater&) = delete;
    GzipInflater& operator=(const GzipInflater&) = delete;

    // Inflates `data` (the next bytes of the compressed body) and appends
    // the result to `out`. After a failure every further call fails the same.
    Status feed(std::string_view data, std::string& out);
    // After the last byte: OK only when the last member ended with its
    // trailer and nothing but whole members came before.
    Status finish() const;

    size_t compressed_bytes() const { return m_in; }

private:
    z_stream_s* m_z;
    size_t m_max_output;
    size_t m_in = 0;
    bool m_member_open = false;  // inside a member (its header has begun)
    bool m_any_member = false;
    Status m_error;
};

// Inflates a whole gzip body at once (GzipInflater::feed + finish).
Result<std::string> gunzip_body(std::string_view body, size_t max_output);

}  // namespace assay
