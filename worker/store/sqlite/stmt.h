#pragma once
// Stmt: owns one prepared SQLite statement (finalised on destruction), with
// typed bind/column helpers. Internal to the SQLite store's .cpp files. Text
// and blobs are bound SQLITE_STATIC: the caller keeps them alive until the
// statement is reset. Not thread-safe (one connection, one thread).

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace assay::sqlite_detail {

// Owns one prepared statement; reset() clears bindings for reuse.
class Stmt {
public:
    Stmt() = default;
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    ~Stmt() { sqlite3_finalize(m_s); }

    int prepare(sqlite3* db, const char* sql) {
        sqlite3_finalize(m_s);
        m_s = nullptr;
        return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &m_s, nullptr);
    }
    sqlite3_stmt* get() const { return m_s; }
    void reset() {
        sqlite3_reset(m_s);
        sqlite3_clear_bindings(m_s);
    }
    void bind_text(int i, std::string_view v) {
        sqlite3_bind_text(m_s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    }
    void bind_text_or_null(int i, std::string_view v) {
        if (v.empty()) {
            sqlite3_bind_null(m_s, i);
        } else {
            bind_text(i, v);
        }
    }
    void bind_blob(int i, std::string_view v) {
        sqlite3_bind_blob(m_s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    }
    void bind_int(int i, int64_t v) { sqlite3_bind_int64(m_s, i, v); }
    void bind_double(int i, double v) { sqlite3_bind_double(m_s, i, v); }
    template <typename T>
    void bind_opt(int i, const std::optional<T>& v) {
        if (!v) {
            sqlite3_bind_null(m_s, i);
        } else if constexpr (std::is_floating_point_v<T>) {
            bind_double(i, *v);
        } else {
            bind_int(i, static_cast<int64_t>(*v));
        }
    }
    int step() { return sqlite3_step(m_s); }
    std::string col_text(int i) const {
        auto* p = sqlite3_column_text(m_s, i);
        return p ? std::string(reinterpret_cast<const char*>(p),
                               static_cast<size_t>(sqlite3_column_bytes(m_s, i)))
                 : std::string();
    }
    bool col_null(int i) const { return sqlite3_column_type(m_s, i) == SQLITE_NULL; }
    int64_t col_int(int i) const { return sqlite3_column_int64(m_s, i); }
    double col_double(int i) const { return sqlite3_column_double(m_s, i); }

private:
    sqlite3_stmt* m_s = nullptr;
};

}  // namespace assay::sqlite_detail
