#pragma once
// JsonlReader: reads a JSON Lines file (or standard input) one record at a
// time with its 1-based line number, without ever holding more than
// `max_line_bytes` + 1 bytes of one line in memory: a longer line is returned
// cut, with `oversized` set and its full length counted. Blank lines are
// skipped (but counted in line numbers). Not thread-safe; one reader per
// input.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "core/status.h"

namespace assay {

struct JsonlRecord {
    std::string text;        // the line without its newline (cut when oversized)
    int64_t line = 0;        // 1-based line number
    bool oversized = false;  // the line was longer than max_line_bytes
    uint64_t full_bytes = 0;
};

class JsonlReader {
public:
    // Opens `path`; "-" means standard input. Returns io_error naming the path.
    static Result<std::unique_ptr<JsonlReader>> open(const std::string& path,
                                                     size_t max_line_bytes);
    ~JsonlReader();
    JsonlReader(const JsonlReader&) = delete;
    JsonlReader& operator=(const JsonlReader&) = delete;

    // Reads the next non-blank line into `out`. Returns false at end of input.
    // A read error is reported through status() after next() returns false.
    bool next(JsonlRecord& out);
    const Status& status() const { return m_status; }
    // Bytes consumed so far, and the input's size when known (0 for pipes).
    uint64_t bytes_read() const { return m_bytes_read; }
    uint64_t total_bytes() const { return m_total_bytes; }

private:
    JsonlReader(FILE* f, bool owned, size_t max_line_bytes, uint64_t total);
    bool fill();

    FILE* m_file;
    bool m_owned;
    size_t m_max_line_bytes;
    uint64_t m_total_bytes;
    uint64_t m_bytes_read = 0;
    int64_t m_line = 0;
    std::unique_ptr<char[]> m_buf;
    size_t m_pos = 0;
    size_t m_len = 0;
    bool m_eof = false;
    Status m_status;
};

}  // namespace assay
