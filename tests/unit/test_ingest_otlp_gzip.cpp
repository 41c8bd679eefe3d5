#include <doctest/doctest.h>
#include <zlib.h>

#include <string>

#include "ingest/otlp/gzip_body.h"

using namespace assay;

namespace {

// One gzip member of `text` (zlib's deflate with the gzip wrapper).
std::string gzip(const std::string& text) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) ==
            Z_OK);
    std::string out(deflateBound(&z, text.size()) + 32, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::string sample_text() {
    std::string s;
    for (int i = 0; i < 2000; ++i) {
        s += "span " + std::to_string(i) + " of the trace; ";
    }
    return s;
}

}  // namespace

TEST_CASE("gzip body: a whole member inflates, fed at once or byte by byte") {
    const std::string text = sample_text();
    const std::string gz = gzip(text);
    auto whole = gunzip_body(gz, 1 << 20);
    REQUIRE(whole.ok());
    CHECK(*whole == text);

    GzipInflater z(1 << 20);
    std::string out;
    for (char c : gz) {
        REQUIRE(z.feed(std::string_view(&c, 1), out).ok());
    }
    CHECK(z.finish().ok());
    CHECK(out == text);
}

TEST_CASE("gzip body: concatenated members are one body") {
    auto r = gunzip_body(gzip("first ") + gzip("second"), 1024);
    REQUIRE(r.ok());
    CHECK(*r == "first second");
}

TEST_CASE("gzip body: cut anywhere, its trailer included, is refused") {
    const std::string gz = gzip(sample_text());
    // The trailer is the last 8 bytes (CRC-32, ISIZE): cut 1, 4 and 8 of them,
    // then cuts inside the deflate data.
    for (size_t cut : {size_t{1}, size_t{4}, size_t{8}, gz.size() / 2, gz.size() - 10}) {
        CAPTURE(cut);
        auto r = gunzip_body(gz.substr(0, gz.size() - cut), 1 << 20);
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().code() == StatusCode::invalid_argument);
        CHECK(r.status().message().find("ends before its end of stream") != std::string::npos);
    }
    auto empty = gunzip_body("", 1024);
    CHECK_FALSE(empty.ok());
}

TEST_CASE("gzip body: a wrong CRC or length, a bad header, trailing junk are refused") {
    const std::string gz = gzip(sample_text());
    std::string bad_crc = gz;
    bad_crc[bad_crc.size() - 8] ^= 0x01;
    auto r = gunzip_body(bad_crc, 1 << 20);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("incorrect data check") != std::string::npos);
    std::string bad_len = gz;
    bad_len[bad_len.size() - 1] ^= 0x01;
    r = gunzip_body(bad_len, 1 << 20);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("incorrect length check") != std::string::npos);
    r = gunzip_body("{\"resourceSpans\": []}", 1024);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("does not inflate at byte") != std::string::npos);
    r = gunzip_body(gz + "junk", 1 << 20);
    CHECK_FALSE(r.ok());
}

TEST_CASE("gzip body: the inflated size is bounded (a gzip bomb stops at the limit)") {
    const std::string bomb = gzip(std::string(10 * 1024 * 1024, ' '));
    CHECK(bomb.size() < 20000);
    GzipInflater z(65536);
    std::string out;
    Status st = z.feed(bomb, out);
    CHECK(st.code() == StatusCode::limit_exceeded);
    CHECK(st.message().find("65536") != std::string::npos);
    CHECK(out.size() <= 65536);
    CHECK(z.finish().code() == StatusCode::limit_exceeded);
}
