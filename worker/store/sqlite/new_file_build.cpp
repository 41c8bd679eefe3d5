#include "store/sqlite/new_file_build.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "store/sqlite/open_error.h"
#include "store/store_location.h"

namespace assay {

namespace {

// The private file and its transient journal, which the signal handlers
// remove: fixed buffers filled before the handlers are installed, as a
// handler may only call async-signal-safe functions.
char g_private[4096];
char g_private_journal[4096 + 16];
constexpr int k_signals[] = {SIGINT, SIGTERM, SIGHUP};
struct sigaction g_previous[3];
bool g_installed[3];

extern "C" void remove_and_reraise(int sig) {
    unlink(g_private);  // unlink, signal and raise are async-signal-safe
    unlink(g_private_journal);
    signal(sig, SIG_DFL);
    raise(sig);
}

void install_handlers() {
    for (size_t i = 0; i < 3; ++i) {
        struct sigaction now {};
        g_installed[i] = false;
        if (sigaction(k_signals[i], nullptr, &now) != 0 || now.sa_handler != SIG_DFL) {
            continue;  // ignored, or handled by someone else: left alone
        }
        struct sigaction sa {};
        sa.sa_handler = remove_and_reraise;
        sigemptyset(&sa.sa_mask);
        g_installed[i] = sigaction(k_signals[i], &sa, &g_previous[i]) == 0;
    }
}

void restore_handlers() {
    for (size_t i = 0; i < 3; ++i) {
        if (g_installed[i]) {
            sigaction(k_signals[i], &g_previous[i], nullptr);
            g_installed[i] = false;
        }
    }
}

bool exists(const std::string& path) {
    struct stat st {};
    return lstat(path.c_str(), &st) == 0 || errno != ENOENT;
}

// The folder holding `path` ("." for a bare file name).
std::filesystem::path folder_of(const std::string& path) {
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    return parent.empty() ? std::filesystem::path(".") : parent;
}

Status sync_path(const std::string& path, int flags, const std::string& what) {
    int fd = open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        Status e = Status::io_error("syncing " + what + " '" + path + "': " + std::strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return e;
    }
    close(fd);
    return {};
}

}  // namespace

std::unique_ptr<NewFileBuild> NewFileBuild::begin(const StoreOptions& options) {
    const std::string& path = options.sqlite_path;
    if (path.empty() || is_postgres_uri(path) || path == ":memory:" ||
        path.rfind("file:", 0) == 0 || path.size() + 32 > sizeof g_private) {
        return nullptr;
    }
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        if (exists(path + suffix)) {
            return nullptr;
        }
    }
    struct stat st {};
    if (stat(folder_of(path).c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return nullptr;
    }
    StoreOptions o = options;
    o.sqlite_path = path + ".building-" + std::to_string(getpid());
    o.private_build = true;
    // A file left by an earlier process of the same pid (killed) is stale.
    unlink(o.sqlite_path.c_str());
    unlink((o.sqlite_path + "-journal").c_str());
    std::unique_ptr<NewFileBuild> b(new NewFileBuild(path, std::move(o)));
    std::snprintf(g_private, sizeof g_private, "%s", b->private_path().c_str());
    std::snprintf(g_private_journal, sizeof g_private_journal, "%s-journal",
                  b->private_path().c_str());
    install_handlers();
    b->m_write_back = std::thread([p = b.get()] { p->write_back_loop(); });
    return b;
}

NewFileBuild::Found NewFileBuild::private_files(const std::string& path) {
    std::error_code ec;
    const std::string prefix = std::filesystem::path(path).filename().string() + ".building-";
    Found found;
    for (const auto& e : std::filesystem::directory_iterator(folder_of(path), ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size() ||
            name.find_first_not_of("0123456789", prefix.size()) != std::string::npos) {
            continue;
        }
        const pid_t pid = static_cast<pid_t>(std::stol(name.substr(prefix.size())));
        const bool runs = kill(pid, 0) == 0 || errno == EPERM;
        std::string& list = runs ? found.under_way : found.left_behind;
        list += (list.empty() ? "'" : ", '") + e.path().string() + "'";
    }
    return found;
}

NewFileBuild::NewFileBuild(std::string target, StoreOptions options)
    : m_target(std::move(target)), m_options(std::move(options)) {}

void NewFileBuild::write_back_loop() {
    int fd = -1;
    std::unique_lock lock(m_mu);
    while (!m_cv.wait_for(lock, std::chrono::milliseconds(250), [this] { return m_stop; })) {
        if (fd < 0) {
            fd = open(private_path().c_str(), O_RDONLY | O_CLOEXEC);
        }
        if (fd >= 0) {
            // Starts writing the dirty pages out, without waiting for them.
            sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
        }
    }
    if (fd >= 0) {
        close(fd);
    }
}

void NewFileBuild::stop_write_back() {
    {
        std::lock_guard lock(m_mu);
        m_stop = true;
    }
    m_cv.notify_all();
    if (m_write_back.joinable()) {
        m_write_back.join();
    }
}

NewFileBuild::~NewFileBuild() {
    stop_write_back();
    restore_handlers();
    if (!m_keep) {
        for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
            unlink((private_path() + suffix).c_str());
        }
    }
}

Status NewFileBuild::publish() {
    stop_write_back();
    // WAL mode, as every store is: a header change on a file with no other
    // connection; closing the last connection leaves no WAL behind.
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(private_path().c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
    char* err = nullptr;
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL", nullptr, nullptr, &err);
    }
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite_detail::error_text(db, rc, private_path());
        sqlite3_free(err);
        sqlite3_close_v2(db);
        return Status::io_error("switching '" + private_path() + "' to WAL mode: " + msg);
    }
    sqlite3_close_v2(db);
    unlink((private_path() + "-shm").c_str());
    if (exists(private_path() + "-wal")) {
        return Status::io_error("'" + private_path() +
                                "-wal' is still there after its last connection "
                                "closed; the store was not published");
    }
    ASSAY_RETURN_IF_ERROR(sync_path(private_path(), O_RDONLY, "the new store"));
    auto clash = [this]() {
        m_keep = true;
        restore_handlers();
        return Status::io_error("'" + m_target +
                                "' appeared while this run built it (another process created it); "
                                "it was left as it is, and this run's store is kept at '" +
                                private_path() + "'");
    };
    for (const char* suffix : {"-wal", "-journal"}) {
        if (exists(m_target + suffix)) {
            return clash();
        }
    }
    // Never replaces: renameat2's RENAME_NOREPLACE, or link and unlink where
    // the file system does not offer it.
    if (renameat2(AT_FDCWD, private_path().c_str(), AT_FDCWD, m_target.c_str(), RENAME_NOREPLACE) !=
        0) {
        if (errno == EEXIST) {
            return clash();
        }
        if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
            return Status::io_error("renaming '" + private_path() + "' to '" + m_target +
                                    "': " + std::strerror(errno));
        }
        if (link(private_path().c_str(), m_target.c_str()) != 0) {
            if (errno == EEXIST) {
                return clash();
            }
            return Status::io_error("linking '" + private_path() + "' as '" + m_target +
                                    "': " + std::strerror(errno));
        }
        unlink(private_path().c_str());
    }
    m_keep = true;
    restore_handlers();
    return sync_path(folder_of(m_target).string(), O_RDONLY | O_DIRECTORY, "the folder");
}

}  // namespace assay
