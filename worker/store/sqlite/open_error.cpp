#include "store/sqlite/open_error.h"

#include <sqlite3.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>

namespace assay::sqlite_detail {

namespace {

std::string cause(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path dir = fs::path(path).parent_path();
    if (dir.empty()) {
        dir = ".";
    }
    const std::string d = dir.string();
    if (!fs::is_directory(dir, ec)) {
        return "the folder '" + d + "' does not exist";
    }
    struct statvfs vfs {};
    if (statvfs(d.c_str(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY) != 0) {
        return "the file system holding '" + d +
               "' is mounted read-only; the store writes the database and its -wal and -shm "
               "files there";
    }
    if (fs::exists(path, ec) && access(path.c_str(), W_OK) != 0) {
        return "no permission to write '" + path + "'";
    }
    if (access(d.c_str(), W_OK) != 0) {
        return "no permission to write in '" + d +
               "' (the store creates its -wal and -shm files there)";
    }
    return {};
}

}  // namespace

std::string error_text(sqlite3* db, int rc, const std::string& path) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    const int code = (db ? sqlite3_errcode(db) : rc) & 0xff;
    if (code == SQLITE_CANTOPEN || code == SQLITE_READONLY) {
        if (std::string why = cause(path); !why.empty()) {
            msg += " (" + why + ")";
        }
    }
    return msg;
}

}  // namespace assay::sqlite_detail
