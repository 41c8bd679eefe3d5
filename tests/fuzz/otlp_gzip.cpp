// Fuzz target: the gzip inflater of OTLP/HTTP bodies (ingest/otlp/gzip_body.h).
// Invariants: it never crashes; the output never exceeds max_output; feeding
// the body in pieces (cut where the input's first byte says) gives the same
// result as feeding it whole; and the input gzip-compressed by zlib inflates
// back to itself (so the success path is exercised too).
// README "Fuzzing and sanitizers".

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "ingest/otlp/gzip_body.h"

namespace {

constexpr size_t k_max_output = 1 << 20;

std::string outcome(const assay::Result<std::string>& r) {
    return r.ok() ? "ok, " + std::to_string(r->size()) + " bytes" : r.status().to_string();
}

// Feeds `body` in pieces of `piece` bytes.
assay::Result<std::string> inflate_in_pieces(std::string_view body, size_t piece) {
    assay::GzipInflater inflater(k_max_output);
    std::string out;
    for (size_t at = 0; at < body.size(); at += piece) {
        ASSAY_RETURN_IF_ERROR(inflater.feed(body.substr(at, piece), out));
    }
    ASSAY_RETURN_IF_ERROR(inflater.finish());
    return out;
}

std::string gzip(std::string_view in) {
    z_stream z{};
    FUZZ_CHECK(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK,
               "deflateInit2");
    std::string out(deflateBound(&z, static_cast<uLong>(in.size())) + 32, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    FUZZ_CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END, "deflate");
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    const auto whole = assay::gunzip_body(body, k_max_output);
    if (whole.ok()) {
        FUZZ_CHECK(whole->size() <= k_max_output, "inflated past max_output");
    } else {
        FUZZ_CHECK(!whole.status().message().empty(), "a failure without a message");
    }
    const size_t piece = size == 0 ? 1 : std::max<size_t>(1, data[0] % 64);
    const auto pieces = inflate_in_pieces(body, piece);
    FUZZ_CHECK(whole.ok() == pieces.ok() && (!whole.ok() || *whole == *pieces),
               "whole: " + outcome(whole) + ", in pieces of " + std::to_string(piece) + ": " +
                   outcome(pieces));

    const auto back = assay::gunzip_body(gzip(body), k_max_output);
    FUZZ_CHECK(back.ok() && *back == body, "gzip of the input inflates to " + outcome(back));
    return 0;
}
