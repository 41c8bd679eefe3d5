#include "ingest/jsonl_reader.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace assay {

namespace {
constexpr size_t k_buf_size = 1 << 20;
}

Result<std::unique_ptr<JsonlReader>> JsonlReader::open(const std::string& path,
                                                       size_t max_line_bytes) {
    if (path == "-") {
        return std::unique_ptr<JsonlReader>(new JsonlReader(stdin, false, max_line_bytes, 0));
    }
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        return Status::io_error("cannot open '" + path + "': " + std::strerror(errno));
    }
    struct stat st {};
    uint64_t total = 0;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
        total = static_cast<uint64_t>(st.st_size);
    } else if (S_ISDIR(st.st_mode)) {
        std::fclose(f);
        return Status::io_error("'" + path + "' is a directory, not a JSONL file");
    }
    return std::unique_ptr<JsonlReader>(new JsonlReader(f, true, max_line_bytes, total));
}

JsonlReader::JsonlReader(FILE* f, bool owned, size_t max_line_bytes, uint64_t total)
    : m_file(f),
      m_owned(owned),
      m_max_line_bytes(max_line_bytes),
      m_total_bytes(total),
      m_buf(new char[k_buf_size]) {}

JsonlReader::~JsonlReader() {
    if (m_owned && m_file != nullptr) {
        std::fclose(m_file);
    }
}

bool JsonlReader::fill() {
    if (m_eof) {
        return false;
    }
    m_len = std::fread(m_buf.get(), 1, k_buf_size, m_file);
    m_pos = 0;
    if (m_len == 0) {
        if (std::ferror(m_file)) {
            m_status = Status::io_error(std::string("read error: ") + std::strerror(errno));
        }
        m_eof = true;
        return false;
    }
    return true;
}

bool JsonlReader::next(JsonlRecord& out) {
    for (;;) {
        out.text.clear();
        out.oversized = false;
        out.full_bytes = 0;
        bool got_any = false;
        bool ended = false;
        while (!ended) {
            if (m_pos >= m_len && !fill()) {
                break;
            }
            got_any = true;
            const char* start = m_buf.get() + m_pos;
            const void* nl = std::memchr(start, '\n', m_len - m_pos);
            size_t n =
                nl ? static_cast<size_t>(static_cast<const char*>(nl) - start) : m_len - m_pos;
            out.full_bytes += n;
            size_t room =
                m_max_line_bytes + 1 > out.text.size() ? m_max_line_bytes + 1 - out.text.size() : 0;
            out.text.append(start, std::min(n, room));
            m_pos += n + (nl ? 1 : 0);
            m_bytes_read += n + (nl ? 1 : 0);
            ended = nl != nullptr;
        }
        if (!got_any) {
            return false;
        }
        ++m_line;
        if (!out.text.empty() && out.text.back() == '\r') {
            out.text.pop_back();
            --out.full_bytes;
        }
        if (out.full_bytes > m_max_line_bytes) {
            out.oversized = true;
            out.text.resize(m_max_line_bytes);
        }
        out.line = m_line;
        bool blank = true;
        for (char c : out.text) {
            if (c != ' ' && c != '\t') {
                blank = false;
                break;
            }
        }
        if (blank && !out.oversized) {
            if (!ended && m_eof) {
                return false;
            }
            continue;
        }
        return true;
    }
}

}  // namespace assay
