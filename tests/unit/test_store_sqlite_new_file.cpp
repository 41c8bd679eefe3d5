// NewFileBuild: a new SQLite store built under a private name and published
// whole (store/sqlite/new_file_build.h).
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "core/trace_json.h"
#include "sql_value.h"
#include "store/sqlite/new_file_build.h"
#include "store/sqlite/store.h"
#include "temp_dir.h"

using namespace assay;
using assay::testing::sql_text;
using assay::testing::sql_value;
using assay::testing::TempDir;

namespace {

bool exists(const std::string& path) { return std::filesystem::exists(path); }

Trace make_trace(const std::string& id) {
    auto t = parse_trace(R"({"trace_id":")" + id +
                             R"(","timestamp":"2026-11-20T10:00:00Z","input":"q","output":"a"})",
                         {}, 5);
    REQUIRE(t.ok());
    return *t;
}

ScoreRow scored(const std::string& id, double v) {
    ScoreRow r;
    r.trace_id = id;
    r.scorer = "json";
    r.scorer_version = "1.aaaa";
    r.decision = Decision::scored;
    r.score = Score{v, true, "ok", "because"};
    r.at_ms = 1;
    return r;
}

// Opens the build's store, registers "json" and writes `ids` with a score each.
void write_traces(const NewFileBuild& build, const std::vector<std::string>& ids) {
    auto s = open_store(build.options());
    REQUIRE(s.ok());
    REQUIRE((*s)->register_scorers({{"json", "1.aaaa", "format", "{}"}}).ok());
    WriteBatch b;
    for (const auto& id : ids) {
        b.traces.push_back(make_trace(id));
        b.scores.push_back(scored(id, 0.5));
    }
    REQUIRE((*s)->write(b).ok());
}

}  // namespace

TEST_CASE("store: a new file is built under a private name and appears whole when published") {
    TempDir dir;
    const std::string path = dir.file("new.db");
    auto build = NewFileBuild::begin({path});
    REQUIRE(build != nullptr);
    CHECK(build->private_path() == path + ".building-" + std::to_string(getpid()));
    CHECK(build->options().private_build);
    {
        auto s = open_store(build->options());
        REQUIRE(s.ok());
        REQUIRE((*s)->register_scorers({{"json", "1.aaaa", "format", "{}"}}).ok());
        // A batch that fails after its trace rows went in is rolled back
        // (from the journal in memory): its traces and dead letter are gone.
        WriteBatch bad;
        for (int i = 0; i < 20; ++i) {
            bad.traces.push_back(make_trace("gone" + std::to_string(i)));
        }
        bad.dead_letters = {{1, "test", 3, "line 3: bad", "{", 1}};
        ScoreRow bogus = scored("gone0", 1);
        bogus.decision = Decision::sampled_out;  // with a value: violates the CHECK
        bad.scores = {bogus};
        CHECK_FALSE((*s)->write(bad).ok());
        WriteBatch good;
        for (int i = 0; i < 300; ++i) {
            good.traces.push_back(make_trace("t" + std::to_string(i)));
            good.scores.push_back(scored("t" + std::to_string(i), 0.5));
        }
        good.dead_letters = bad.dead_letters;
        REQUIRE((*s)->write(good).ok());
        // Nothing at the store's path yet, and no journal or WAL on disk.
        CHECK_FALSE(exists(path));
        CHECK(exists(build->private_path()));
        CHECK_FALSE(exists(build->private_path() + "-journal"));
        CHECK_FALSE(exists(build->private_path() + "-wal"));
        // The file is this connection's alone while it is built.
        sqlite3* other = nullptr;
        REQUIRE(sqlite3_open(build->private_path().c_str(), &other) == SQLITE_OK);
        CHECK(sqlite3_exec(other, "SELECT count(*) FROM traces", nullptr, nullptr, nullptr) ==
              SQLITE_BUSY);
        sqlite3_close(other);
    }
    REQUIRE(build->publish().ok());
    CHECK_FALSE(exists(build->private_path()));
    REQUIRE(exists(path));
    CHECK(sql_text(path, "PRAGMA journal_mode") == "wal");
    CHECK(sql_text(path, "PRAGMA integrity_check") == "ok");
    CHECK(sql_value(path, "PRAGMA page_size") == 16384);
    CHECK(sql_value(path, "SELECT count(*) FROM traces") == 300);
    CHECK(sql_value(path, "SELECT count(*) FROM scores") == 300);
    CHECK(sql_value(path, "SELECT count(*) FROM dead_letters") == 1);
    CHECK(sql_value(path, "SELECT count(*) FROM traces WHERE trace_id LIKE 'gone%'") == 0);
    build.reset();
    CHECK(exists(path));  // published: the destructor leaves it
    // An ordinary store from now on: it opens and takes more.
    auto again = SqliteStore::open({path});
    REQUIRE(again.ok());
    WriteBatch more;
    more.traces = {make_trace("later")};
    CHECK((*again)->write(more).ok());
    CHECK(sql_value(path, "SELECT count(*) FROM traces") == 301);
}

TEST_CASE("store: a new-file build is only for a path where nothing exists") {
    TempDir dir;
    CHECK(NewFileBuild::begin({dir.file("free.db")}) != nullptr);
    const std::string stored = dir.file("stored.db");
    REQUIRE(SqliteStore::open({stored}).ok());
    CHECK(NewFileBuild::begin({stored}) == nullptr);
    for (const char* suffix : {"-wal", "-shm", "-journal"}) {
        // A leftover of a store whose file is gone: its WAL would be played
        // into whatever file appears at the path, so no build there.
        const std::string path = dir.file(std::string("left") + suffix + ".db");
        std::FILE* f = std::fopen((path + suffix).c_str(), "w");
        REQUIRE(f != nullptr);
        std::fclose(f);
        CHECK(NewFileBuild::begin({path}) == nullptr);
    }
    CHECK(NewFileBuild::begin({":memory:"}) == nullptr);
    CHECK(NewFileBuild::begin({"postgresql://assay@127.0.0.1:1/assay"}) == nullptr);
    CHECK(NewFileBuild::begin({dir.file("no/such/folder/a.db")}) == nullptr);
}

TEST_CASE("store: a build never replaces a store that appeared meanwhile, and keeps its file") {
    TempDir dir;
    const std::string path = dir.file("race.db");
    auto build = NewFileBuild::begin({path});
    REQUIRE(build != nullptr);
    write_traces(*build, {"mine1", "mine2"});
    {
        auto theirs = SqliteStore::open({path});  // another process got there first
        REQUIRE(theirs.ok());
        WriteBatch b;
        b.traces = {make_trace("theirs")};
        REQUIRE((*theirs)->write(b).ok());
    }
    Status st = build->publish();
    CHECK_FALSE(st.ok());
    CHECK(st.message().find("'" + path + "' appeared while this run built it") !=
          std::string::npos);
    CHECK(st.message().find("kept at '" + build->private_path() + "'") != std::string::npos);
    const std::string kept = build->private_path();
    build.reset();
    CHECK(sql_value(path, "SELECT count(*) FROM traces WHERE trace_id = 'theirs'") == 1);
    CHECK(sql_value(path, "SELECT count(*) FROM traces") == 1);
    REQUIRE(exists(kept));
    CHECK(sql_value(kept, "SELECT count(*) FROM traces") == 2);
}

TEST_CASE("store: a build that is not published leaves nothing behind") {
    TempDir dir;
    const std::string path = dir.file("dropped.db");
    auto build = NewFileBuild::begin({path});
    REQUIRE(build != nullptr);
    const std::string priv = build->private_path();
    write_traces(*build, {"a", "b"});
    CHECK(exists(priv));
    build.reset();
    CHECK_FALSE(exists(priv));
    CHECK_FALSE(exists(path));
    CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("store: SIGTERM or SIGINT during a build removes its file and ends the process") {
    for (int sig : {SIGTERM, SIGINT}) {
        TempDir dir;
        const std::string path = dir.file("killed.db");
        pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            // As in the assay binary: doctest's crash handlers replaced.
            for (int s : {SIGINT, SIGTERM, SIGHUP}) {
                signal(s, SIG_DFL);
            }
            auto build = NewFileBuild::begin({path});
            if (build == nullptr) {
                _exit(3);
            }
            {
                auto s = open_store(build->options());
                WriteBatch b;
                b.traces = {make_trace("x")};
                if (!s.ok() || !(*s)->write(b).ok() || !exists(build->private_path())) {
                    _exit(4);
                }
                raise(sig);  // mid-run: the store is still open
            }
            _exit(5);
        }
        int status = 0;
        REQUIRE(waitpid(child, &status, 0) == child);
        CHECK(WIFSIGNALED(status));
        if (WIFSIGNALED(status)) {
            CHECK(WTERMSIG(status) == sig);
        } else {
            INFO("child exit code " << WEXITSTATUS(status));
        }
        CHECK(std::filesystem::is_empty(dir.path()));
    }
}

TEST_CASE("store: the private files beside a path: builds under way and files left behind") {
    TempDir dir;
    const std::string path = dir.file("x.db");
    pid_t gone = fork();  // a pid that no longer runs once reaped
    REQUIRE(gone >= 0);
    if (gone == 0) {
        _exit(0);
    }
    REQUIRE(waitpid(gone, nullptr, 0) == gone);
    const std::string live = path + ".building-" + std::to_string(getpid());
    const std::string dead = path + ".building-" + std::to_string(gone);
    for (const std::string& f : {live, dead, live + "-journal", path + ".building-abc",
                                 dir.file("y.db.building-" + std::to_string(getpid()))}) {
        std::FILE* fp = std::fopen(f.c_str(), "w");
        REQUIRE(fp != nullptr);
        std::fclose(fp);
    }
    const NewFileBuild::Found found = NewFileBuild::private_files(path);
    CHECK(found.under_way == "'" + live + "'");
    CHECK(found.left_behind == "'" + dead + "'");
    const NewFileBuild::Found none = NewFileBuild::private_files(dir.file("z.db"));
    CHECK(none.under_way.empty());
    CHECK(none.left_behind.empty());
}
