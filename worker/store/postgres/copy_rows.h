#pragma once
// CopyRows: the rows of one `COPY ... FROM STDIN` in PostgreSQL's text format
// (one line per row, columns separated by tabs, \N for NULL, backslash
// escapes for backslash, tab, newline and carriage return), built column by
// column and sent with PgConn::copy_in. Internal to worker/store/postgres.
//
// Values are data, never SQL: COPY parses them with each column's input
// function, as it does bound parameters. A NUL byte becomes U+FFFD (text
// holds no NUL), as PgParams::text does. Not thread-safe; cheap to move.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace assay::pg {

class CopyRows {
public:
    void text(std::string_view v);          // NUL as U+FFFD, a byte not part of UTF-8 as \xNN
    void text_or_null(std::string_view v);  // empty -> NULL
    void integer(int64_t v);
    void real(double v);  // round-trips; NaN and infinities too
    void null();
    template <typename T>
    void opt(const std::optional<T>& v) {
        if (!v) {
            null();
        } else if constexpr (std::is_floating_point_v<T>) {
            real(*v);
        } else {
            integer(static_cast<int64_t>(*v));
        }
    }
    // Ends the current row.
    void end_row();
    size_t rows() const { return m_rows; }
    const std::string& data() const { return m_data; }

private:
    void separate();
    std::string m_data;
    size_t m_rows = 0;
    bool m_row_open = false;
};

}  // namespace assay::pg
