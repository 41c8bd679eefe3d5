#include "store/sqlite/wal_checkpointer.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>

#include "store/sqlite/busy_wait.h"
#include "store/sqlite/stmt.h"

namespace assay {

WalCheckpointer::WalCheckpointer(std::string path, int64_t pages, int busy_timeout_ms)
    : m_path(std::move(path)), m_pages(pages), m_busy_timeout_ms(busy_timeout_ms) {}

WalCheckpointer::~WalCheckpointer() {
    {
        std::lock_guard<std::mutex> lock(m_mu);
        m_stopping = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable()) {
        m_thread.join();
    }
}

void WalCheckpointer::install(sqlite3* writer) { sqlite3_wal_hook(writer, &hook, this); }

std::unique_ptr<WalCheckpointer> WalCheckpointer::attach(sqlite3* writer, const std::string& path,
                                                         int64_t bytes, int busy_timeout_ms) {
    int64_t page_size = 4096;
    {
        sqlite_detail::Stmt ps;
        if (ps.prepare(writer, "PRAGMA page_size") == SQLITE_OK && ps.step() == SQLITE_ROW) {
            page_size = std::max<int64_t>(512, ps.col_int(0));
        }
    }
    std::unique_ptr<WalCheckpointer> c(
        new WalCheckpointer(path, std::max<int64_t>(1, bytes / page_size), busy_timeout_ms));
    c->install(writer);
    return c;
}

int64_t WalCheckpointer::background_checkpoints() const {
    std::lock_guard<std::mutex> lock(m_mu);
    return m_background;
}

int WalCheckpointer::hook(void* self, sqlite3* db, const char* schema, int pages) {
    auto* c = static_cast<WalCheckpointer*>(self);
    if (pages < c->m_pages) {
        return SQLITE_OK;
    }
    if (pages >= 4 * c->m_pages) {
        // Bound the WAL here, as autocheckpoint would. SQLite starts the WAL
        // over only when a write begins with every frame copied, which a
        // thread copying beside a busy writer never sees; and it refuses a
        // checkpoint while another connection's runs (SQLITE_BUSY: this
        // thread's, or the checkpointer of another writer on the same file,
        // e.g. the span store's beside the main store's), so try again until
        // that one ends (at most ~2 s; then the next commit tries again).
        for (int tries = 0; sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE,
                                                      nullptr, nullptr) == SQLITE_BUSY &&
                            tries < 1000;
             ++tries) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        return SQLITE_OK;
    }
    {
        std::lock_guard<std::mutex> lock(c->m_mu);
        c->m_requested = true;
        if (!c->m_thread.joinable()) {
            c->m_thread = std::thread([c] { c->loop(); });
        }
    }
    c->m_cv.notify_one();
    return SQLITE_OK;
}

void WalCheckpointer::loop() {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(m_path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        sqlite3_close_v2(db);
        return;  // the writer's fallback keeps the WAL bounded
    }
    sqlite_detail::set_busy_wait(db, m_busy_timeout_ms);
    // A connection that has read nothing has not opened the WAL yet, and its
    // checkpoint copies nothing (it reports -1 frames and SQLITE_OK): it reads
    // once first, and again after a checkpoint that found no WAL.
    bool read = false;
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(m_mu);
            m_cv.wait(lock, [&] { return m_requested || m_stopping; });
            if (m_stopping) {
                break;
            }
            m_requested = false;
        }
        if (!read) {
            read = sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr,
                                nullptr) == SQLITE_OK;
        }
        int frames = -1;
        int copied = -1;
        const int rc =
            sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
        read = read && frames >= 0;
        if (rc == SQLITE_OK && copied > 0) {
            std::lock_guard<std::mutex> lock(m_mu);
            ++m_background;
        }
    }
    sqlite3_close_v2(db);
}

}  // namespace assay
