#include <doctest/doctest.h>

#include <fstream>

#include "ingest/jsonl_reader.h"
#include "temp_dir.h"

using namespace assay;
using assay::testing::TempDir;

TEST_CASE("jsonl reader: line numbers, blank lines, CRLF, no trailing newline") {
    TempDir dir;
    std::string path = dir.file("in.jsonl");
    {
        std::ofstream f(path, std::ios::binary);
        f << "{\"a\":1}\r\n\n   \n{\"b\":2}\n{\"c\":3}";
    }
    auto r = JsonlReader::open(path, 100);
    REQUIRE(r.ok());
    JsonlRecord rec;
    REQUIRE((*r)->next(rec));
    CHECK(rec.text == "{\"a\":1}");
    CHECK(rec.line == 1);
    REQUIRE((*r)->next(rec));
    CHECK(rec.text == "{\"b\":2}");
    CHECK(rec.line == 4);
    REQUIRE((*r)->next(rec));
    CHECK(rec.text == "{\"c\":3}");
    CHECK(rec.line == 5);
    CHECK_FALSE((*r)->next(rec));
    CHECK((*r)->status().ok());
}

TEST_CASE("jsonl reader: an oversized line is cut and flagged, later lines still read") {
    TempDir dir;
    std::string path = dir.file("big.jsonl");
    {
        std::ofstream f(path, std::ios::binary);
        f << std::string(3 << 20, 'x') << "\n{\"ok\":true}\n";
    }
    auto r = JsonlReader::open(path, 1024);
    REQUIRE(r.ok());
    JsonlRecord rec;
    REQUIRE((*r)->next(rec));
    CHECK(rec.oversized);
    CHECK(rec.text.size() == 1024);
    CHECK(rec.full_bytes == (3u << 20));
    REQUIRE((*r)->next(rec));
    CHECK_FALSE(rec.oversized);
    CHECK(rec.text == "{\"ok\":true}");
    CHECK(rec.line == 2);
}

TEST_CASE("jsonl reader: missing file and directory are clear errors") {
    auto r = JsonlReader::open("/nonexistent/x.jsonl", 10);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("cannot open '/nonexistent/x.jsonl'") == 0);
    TempDir dir;
    auto d = JsonlReader::open(dir.path(), 10);
    REQUIRE_FALSE(d.ok());
    CHECK(d.status().message().find("is a directory") != std::string::npos);
}
