// GenerationStore on SQLite (generation_store.h). All SQL is parameterised.
#include <sqlite3.h>

#include "store/generation_store.h"
#include "store/sqlite_conn.h"

namespace assay {

namespace {

class SqliteGenerationStore final : public GenerationStore {
public:
    explicit SqliteGenerationStore(std::unique_ptr<SqliteConn> c) : m_c(std::move(c)) {}

    Result<std::optional<JudgeCacheEntry>> cached(const std::string& request_hash) override {
        auto st = m_c->prepare("SELECT judge, model, reply, input_tokens, output_tokens, at_ms FROM judge_cache "
                               "WHERE request_hash = ?1");
        if (!st.ok()) {
            return st.status();
        }
        st->bind_text(1, request_hash);
        const int rc = st->step();
        if (rc == SQLITE_DONE) {
            return std::optional<JudgeCacheEntry>();
        }
        if (rc != SQLITE_ROW) {
            return m_c->error("reading the judge cache");
        }
        JudgeCacheEntry e;
        e.request_hash = request_hash;
        e.judge = st->col_text(0);
        e.model = st->col_text(1);
        e.reply = st->col_text(2);
        e.input_tokens = st->col_int(3);
        e.output_tokens = st->col_int(4);
        e.at_ms = st->col_int(5);
        return std::optional<JudgeCacheEntry>(std::move(e));
    }

    Result<JudgeSpend> spent(const std::string& name, const std::string& day) override {
        auto st = m_c->prepare("SELECT calls, input_tokens, output_tokens, cost_usd, cache_hits FROM judge_spend "
                               "WHERE judge = ?1 AND day = ?2");
        if (!st.ok()) {
            return st.status();
        }
        st->bind_text(1, name);
        st->bind_text(2, day);
        JudgeSpend out;
        out.judge = name;
        out.day = day;
        const int rc = st->step();
        if (rc == SQLITE_ROW) {
            out.calls = st->col_int(0);
            out.input_tokens = st->col_int(1);
            out.output_tokens = st->col_int(2);
            out.cost_usd = st->col_double(3);
            out.cache_hits = st->col_int(4);
        } else if (rc != SQLITE_DONE) {
            return m_c->error("reading judge spend");
        }
        return out;
    }

    Status record(const std::vector<JudgeCacheEntry>& cache, const std::vector<JudgeSpend>& spend) override {
        if (cache.empty() && spend.empty()) {
            return {};
        }
        SqlTxn txn(*m_c);
        ASSAY_RETURN_IF_ERROR(txn.begin());
        if (!cache.empty()) {
            auto c = m_c->prepare(
                "INSERT INTO judge_cache (request_hash, judge, model, reply, input_tokens, output_tokens, at_ms) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (request_hash) DO NOTHING");
            if (!c.ok()) {
                return c.status();
            }
            for (const JudgeCacheEntry& e : cache) {
                c->reset();
                c->bind_text(1, e.request_hash);
                c->bind_text(2, e.judge);
                c->bind_text(3, e.model);
                c->bind_text(4, e.reply);
                c->bind_int(5, e.input_tokens);
                c->bind_int(6, e.output_tokens);
                c->bind_int(7, e.at_ms);
                ASSAY_RETURN_IF_ERROR(m_c->run(*c, "storing a generation cache entry"));
            }
        }
        if (!spend.empty()) {
            auto s = m_c->prepare(
                "INSERT INTO judge_spend (judge, day, calls, input_tokens, output_tokens, cost_usd, cache_hits) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (judge, day) DO UPDATE SET "
                "calls = calls + excluded.calls, input_tokens = input_tokens + excluded.input_tokens, "
                "output_tokens = output_tokens + excluded.output_tokens, cost_usd = cost_usd + excluded.cost_usd, "
                "cache_hits = cache_hits + excluded.cache_hits");
            if (!s.ok()) {
                return s.status();
            }
            for (const JudgeSpend& d : spend) {
                s->reset();
                s->bind_text(1, d.judge);
                s->bind_text(2, d.day);
                s->bind_int(3, d.calls);
                s->bind_int(4, d.input_tokens);
                s->bind_int(5, d.output_tokens);
                s->bind_double(6, d.cost_usd);
                s->bind_int(7, d.cache_hits);
                ASSAY_RETURN_IF_ERROR(m_c->run(*s, "updating the subject's spend"));
            }
        }
        return txn.commit();
    }

private:
    std::unique_ptr<SqliteConn> m_c;
};

}  // namespace

Result<std::unique_ptr<GenerationStore>> open_generation_store(const std::string& sqlite_path) {
    auto c = SqliteConn::open(sqlite_path);
    if (!c.ok()) {
        return c.status();
    }
    return std::unique_ptr<GenerationStore>(new SqliteGenerationStore(std::move(c.value())));
}

}  // namespace assay
