// SqliteStore's bulk load of an empty store (store.h, defer_indexes and
// restore_indexes): the secondary indexes that only reads use are dropped
// before the load and built once at its end, which sorts each index once
// instead of inserting into it per row. The SQL that builds them is the
// schema's own (sqlite_master), kept in deferred_indexes until they exist
// again, so a load that dies leaves them to the next open.
#include <sqlite3.h>

#include <string>
#include <utility>
#include <vector>

#include "store/sqlite/stmt.h"
#include "store/sqlite/store.h"

namespace assay {

namespace {

using sqlite_detail::Stmt;

// The indexes every new trace or score row costs an entry in, that no
// constraint and no write path needs: the time, feature, tenant, prompt
// version and model orders of traces, and the review order of scores.
constexpr const char* k_deferrable[] = {"traces_ts",     "traces_feature",
                                        "traces_tenant", "traces_prompt_version",
                                        "traces_model",  "scores_review"};

}  // namespace

Result<bool> SqliteStore::defer_indexes() {
    bool deferred = false;
    Status st = in_write_txn([&]() -> Status {
        Stmt any;
        if (any.prepare(m_db, "SELECT EXISTS (SELECT 1 FROM traces)") != SQLITE_OK ||
            any.step() != SQLITE_ROW) {
            return error("checking whether the store is empty");
        }
        if (any.col_int(0) != 0) {
            return {};  // not empty: readers may be using the indexes
        }
        Stmt find;
        Stmt keep;
        if (find.prepare(m_db,
                         "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1") !=
                SQLITE_OK ||
            keep.prepare(m_db,
                         "INSERT OR REPLACE INTO deferred_indexes (name, sql) "
                         "VALUES (?1, ?2)") != SQLITE_OK) {
            return error("preparing to defer indexes");
        }
        for (const char* name : k_deferrable) {
            find.reset();
            find.bind_text(1, name);
            const int rc = find.step();
            if (rc == SQLITE_DONE) {
                continue;  // already deferred, or dropped by a later migration
            }
            if (rc != SQLITE_ROW) {
                return error(std::string("reading index ") + name);
            }
            const std::string sql = find.col_text(0);
            find.reset();
            keep.reset();
            keep.bind_text(1, name);
            keep.bind_text(2, sql);
            if (keep.step() != SQLITE_DONE) {
                return error(std::string("recording index ") + name);
            }
            keep.reset();
            // A name from the list above: nothing from outside is spliced in.
            ASSAY_RETURN_IF_ERROR(exec((std::string("DROP INDEX ") + name).c_str()));
            deferred = true;
        }
        return {};
    });
    if (!st.ok()) {
        return st;
    }
    return deferred;
}

Status SqliteStore::restore_indexes() {
    return in_write_txn([&]() -> Status {
        Stmt list;
        if (list.prepare(m_db,
                         "SELECT d.sql FROM deferred_indexes d WHERE NOT EXISTS (SELECT 1 FROM "
                         "sqlite_master m WHERE m.type = 'index' AND m.name = d.name) ORDER BY "
                         "d.name") != SQLITE_OK) {
            return error("listing deferred indexes");
        }
        std::vector<std::string> builds;
        int rc = SQLITE_ROW;
        while ((rc = list.step()) == SQLITE_ROW) {
            builds.push_back(list.col_text(0));
        }
        if (rc != SQLITE_DONE) {
            return error("listing deferred indexes");
        }
        list.reset();
        for (const std::string& sql : builds) {
            // The schema's own CREATE INDEX, as sqlite_master held it.
            ASSAY_RETURN_IF_ERROR(exec(sql.c_str()));
        }
        return exec("DELETE FROM deferred_indexes");
    });
}

}  // namespace assay
