#pragma once
// NewFileBuild: a SQLite store that does not exist yet, built whole under a
// private name beside it and published by a rename when the run is done
// (`assay score` into a new file, issue 12). No other process opens the file
// while it is built, so it needs no journal on disk, no syncs before the end
// and no WAL: every page is written once, where a WAL writes it twice (into
// the WAL, then into the file). A thread starts the kernel's writeback of the
// file as it grows, so the disk works while the run does. Publishing
// switches the file to WAL mode (as every store is), syncs it, renames it
// into place without replacing anything and syncs the folder: the store
// appears whole or not at all.
//
// Failure: a build that is not published (a failed write, a crash, a kill) is
// never seen at the store's path; the destructor removes its file, and while
// the build is under way SIGINT, SIGTERM and SIGHUP remove it too before the
// process ends as the signal would. Only a crash, SIGKILL or a power cut leaves the
// private file (`<path>.building-<pid>`) behind.
// Thread safety: one object per process at a time (the signal handlers name
// its file); its methods on one thread (its writeback thread touches only
// its own descriptor of the file).

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "store/store.h"

namespace assay {

class NewFileBuild {
public:
    // A build when `options` name a SQLite file path where nothing exists:
    // no file, no `-wal`, `-shm` or `-journal` beside it, in an existing
    // folder. Otherwise an empty pointer: the store is opened in place as
    // always (a PostgreSQL URI, ":memory:", an existing store, a path whose
    // folder is missing, which open_store then reports).
    static std::unique_ptr<NewFileBuild> begin(const StoreOptions& options);
    ~NewFileBuild();
    NewFileBuild(const NewFileBuild&) = delete;
    NewFileBuild& operator=(const NewFileBuild&) = delete;

    // The private files beside `path`, for a reader that finds no store
    // there, each quoted, comma-separated ("" when none): those of builds
    // under way (their process runs), and those left behind by a process
    // that no longer runs (a crash or SIGKILL; they can be deleted).
    struct Found {
        std::string under_way;
        std::string left_behind;
    };
    static Found private_files(const std::string& path);

    // The options to open the store being built with: the private file,
    // StoreOptions::private_build set.
    const StoreOptions& options() const { return m_options; }
    // The private file's path.
    const std::string& private_path() const { return m_options.sqlite_path; }

    // Publishes the build at the store's path. Every connection to the
    // private file must be closed first. io_error when the file cannot be
    // switched to WAL, synced or renamed, and when something appeared at the
    // store's path meanwhile: that is never replaced, and the private file
    // then stays where it is, named in the message.
    [[nodiscard]] Status publish();

private:
    NewFileBuild(std::string target, StoreOptions options);
    // Starts the file's writeback every quarter second (the store never
    // syncs it), so that publishing waits for the last pages only.
    void write_back_loop();
    void stop_write_back();

    std::string m_target;
    StoreOptions m_options;  // sqlite_path: the private file
    bool m_keep = false;     // published, or kept for the user after a clash
    std::mutex m_mu;
    std::condition_variable m_cv;
    bool m_stop = false;
    std::thread m_write_back;
};

}  // namespace assay
