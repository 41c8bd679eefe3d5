#pragma once
// WalCheckpointer: copies a SQLite file's WAL back into the database on a
// thread and a connection of its own, so that the writer's COMMIT does not run
// the whole checkpoint (issue 12). Installed on the writer's connection as its
// WAL hook, in place of wal_autocheckpoint: after a commit that leaves at
// least `pages` pages in the WAL it wakes the thread, which runs a PASSIVE
// checkpoint (it never takes the write lock, so the writer goes on). SQLite
// starts the WAL over only when a write begins with every frame copied, which
// never happens while the thread copies beside a busy writer; so when the WAL
// reaches 4 x `pages`, the writer checkpoints the rest itself, as SQLite's
// autocheckpoint would (waiting out a checkpoint that runs: this thread's, or
// that of another writer on the same file), and its next transaction restarts
// the WAL: the WAL stays bounded (unless a reader holds an old snapshot). The
// thread and its connection start at the first request, so a store that is
// only read never starts them.
//
// Failure: a checkpoint that cannot run (busy, I/O) is left to the next
// request or to the writer; nothing is lost (the WAL keeps the pages).
// Thread safety: install() and the hook run on the writer's thread; the
// checkpoint thread touches only its own connection; their state is under a
// mutex. Destroy it before the writer's connection is closed (the writer's
// close then checkpoints the rest and removes the WAL, as before).

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace assay {

class WalCheckpointer {
public:
    // The WAL size at which a checkpoint is requested by default: about
    // 64 MiB whatever the page size.
    static constexpr int64_t k_default_bytes = int64_t{64} << 20;

    // A checkpointer for the file at `path` that checkpoints when the WAL
    // holds about `bytes` (in pages of the file's page size, read on
    // `writer`), installed on `writer`. Every connection that writes to the
    // file needs one (or autocheckpoint would run in its commits; SQLite's
    // default of 1,000 pages is far below `bytes`, so nearly every commit of
    // such a connection would checkpoint the whole WAL).
    static std::unique_ptr<WalCheckpointer> attach(sqlite3* writer, const std::string& path,
                                                   int64_t bytes, int busy_timeout_ms);
    ~WalCheckpointer();
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

    // Checkpoints the thread has run so far that copied frames.
    int64_t background_checkpoints() const;

private:
    WalCheckpointer(std::string path, int64_t pages, int busy_timeout_ms);
    // Makes this the WAL hook of `writer` (which must outlive this object's
    // use of it: the hook runs inside the writer's commits).
    void install(sqlite3* writer);
    static int hook(void* self, sqlite3* db, const char* schema, int pages);
    void loop();

    const std::string m_path;
    const int64_t m_pages;
    const int m_busy_timeout_ms;
    mutable std::mutex m_mu;
    std::condition_variable m_cv;
    bool m_requested = false;
    bool m_stopping = false;
    int64_t m_background = 0;
    std::thread m_thread;  // started by the first request
};

}  // namespace assay
