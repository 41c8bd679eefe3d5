#include "monitor/report.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/text_table.h"
#include "core/time_format.h"
#include "monitor/rule_eval.h"

namespace assay {

namespace {

std::string key_of(const GroupStats& g) {
    std::string k = g.scorer + '\x1f' + g.scorer_version;
    for (const auto& v : g.group) {
        k += '\x1f' + v;
    }
    return k;
}

ReportRow make_row(const GroupStats& cur, const GroupStats* prev) {
    ReportRow r;
    r.scorer = cur.scorer;
    r.scorer_version = cur.scorer_version;
    r.group = cur.group.empty() ? "" : cur.group[0];
    r.count = cur.count;
    r.mean = cur.mean();
    r.pass_rate = cur.pass_rate();
    r.seen = cur.seen;
    r.in_scope = cur.in_scope;
    r.sampled = cur.sampled;
    r.estimated_scored = cur.estimated_scored();
    if (prev != nullptr && prev->count > 0) {
        r.prev_count = prev->count;
        r.prev_mean = prev->mean();
        r.prev_pass_rate = prev->pass_rate();
    }
    return r;
}

// Lowest pass rate first (scorers with pass/fail), else lowest mean.
std::vector<ReportRow> worst(const std::vector<GroupStats>& rows, int top) {
    std::vector<ReportRow> out;
    for (const auto& g : rows) {
        if (g.count > 0 && !g.group[0].empty()) {
            out.push_back(make_row(g, nullptr));
        }
    }
    std::sort(out.begin(), out.end(), [](const ReportRow& a, const ReportRow& b) {
        if (a.scorer != b.scorer) {
            return a.scorer < b.scorer;
        }
        const double va = a.pass_rate.value_or(a.mean);
        const double vb = b.pass_rate.value_or(b.mean);
        return va != vb ? va < vb : a.group < b.group;
    });
    std::vector<ReportRow> kept;
    std::map<std::string, int> per_scorer;
    for (auto& r : out) {
        if (per_scorer[r.scorer]++ < top) {
            kept.push_back(std::move(r));
        }
    }
    return kept;
}

std::string num(double v, int prec) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", prec, v);
    return buf;
}

std::string signed_num(double v, int prec) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%+.*f", prec, v);
    return buf;
}

// Not measured: "n/a".
std::string opt(const std::optional<double>& v, int prec) { return v ? num(*v, prec) : "n/a"; }

std::string delta(const std::optional<double>& cur, const std::optional<double>& prev, int prec) {
    return cur && prev ? signed_num(*cur - *prev, prec) : "n/a";
}

// The mean of a row: nothing when nothing was scored.
std::optional<double> mean_of(const ReportRow& x) {
    return x.count > 0 ? std::optional<double>(x.mean) : std::nullopt;
}

struct Section {
    std::string title;
    std::vector<std::vector<std::string>> rows;  // first: header
};

std::vector<Section> sections(const Report& r) {
    std::vector<Section> out;
    Section q{"Quality by scorer" + (r.by.empty() ? std::string() : " and " + r.by) +
                  " (delta vs the previous period)",
              {{"scorer", "version", r.by.empty() ? "group" : r.by, "count", "prev", "mean",
                "Δmean", "pass_rate", "Δpass", "seen", "sampled", "est_scored"}}};
    for (const auto& x : r.rows) {
        q.rows.push_back({x.scorer, x.scorer_version, x.group.empty() ? "(all)" : x.group,
                          std::to_string(x.count), std::to_string(x.prev_count), opt(mean_of(x), 3),
                          delta(mean_of(x), x.prev_mean, 3), opt(x.pass_rate, 3),
                          delta(x.pass_rate, x.prev_pass_rate, 3), std::to_string(x.seen),
                          std::to_string(x.sampled), num(x.estimated_scored, 0)});
    }
    out.push_back(std::move(q));
    auto worst_section = [](const std::string& title, const std::string& dim,
                            const std::vector<ReportRow>& rows) {
        Section s{title, {{"scorer", dim, "count", "mean", "pass_rate"}}};
        for (const auto& x : rows) {
            s.rows.push_back({x.scorer, x.group, std::to_string(x.count), opt(mean_of(x), 3),
                              opt(x.pass_rate, 3)});
        }
        return s;
    };
    out.push_back(worst_section("Worst features", "feature", r.worst_features));
    out.push_back(
        worst_section("Worst prompt versions", "prompt_version", r.worst_prompt_versions));
    Section c{"Top tenants by judge cost",
              {{"tenant", "cost_usd", "judge_calls", "input_tokens", "output_tokens"}}};
    for (const auto& x : r.top_tenants_by_cost) {
        c.rows.push_back({x.tenant.empty() ? "(none)" : x.tenant, num(x.cost_usd, 4),
                          std::to_string(x.calls), std::to_string(x.input_tokens),
                          std::to_string(x.output_tokens)});
    }
    out.push_back(std::move(c));
    Section h{
        "Errors and skips",
        {{"scorer", "version", "sampled", "scored", "pending", "skipped", "skip_rate", "errors",
          "error_rate", "judge_calls", "judge_errors", "judge_error_rate", "judge_cost_usd"}}};
    for (const auto& x : r.health) {
        auto rate = [](int64_t a, int64_t b) {
            return b > 0 ? num(static_cast<double>(a) / static_cast<double>(b), 3) : "n/a";
        };
        h.rows.push_back({x.scorer, x.scorer_version, std::to_string(x.sampled),
                          std::to_string(x.scored), std::to_string(x.pending),
                          std::to_string(x.skipped), rate(x.skipped, x.sampled),
                          std::to_string(x.errors), rate(x.errors, x.sampled),
                          std::to_string(x.judge_calls), std::to_string(x.judge_errors),
                          rate(x.judge_errors, x.judge_calls), num(x.judge_cost_usd, 4)});
    }
    out.push_back(std::move(h));
    return out;
}

nlohmann::json row_json(const ReportRow& x) {
    auto o = [](const std::optional<double>& v) {
        return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
    };
    return {{"scorer", x.scorer},
            {"scorer_version", x.scorer_version},
            {"group", x.group},
            {"count", x.count},
            {"prev_count", x.prev_count},
            {"mean", o(mean_of(x))},
            {"prev_mean", o(x.prev_mean)},
            {"mean_delta", x.count > 0 && x.prev_mean ? nlohmann::json(x.mean - *x.prev_mean)
                                                      : nlohmann::json(nullptr)},
            {"pass_rate", o(x.pass_rate)},
            {"prev_pass_rate", o(x.prev_pass_rate)},
            {"pass_rate_delta", x.pass_rate && x.prev_pass_rate
                                    ? nlohmann::json(*x.pass_rate - *x.prev_pass_rate)
                                    : nlohmann::json(nullptr)},
            {"seen", x.seen},
            {"in_scope", x.in_scope},
            {"sampled", x.sampled},
            {"estimated_scored", x.estimated_scored}};
}

}  // namespace

Result<Report> build_report(AggregateStore& store, const ReportOptions& o) {
    Report r;
    r.by = o.by;
    r.to_ms = window_end_ms(o.now_ms);
    r.from_ms = r.to_ms - o.period_ms;
    r.prev_from_ms = r.from_ms - o.period_ms;
    AggregateQuery q;
    q.from_ms = r.from_ms;
    q.to_ms = r.to_ms;
    if (!o.by.empty()) {
        q.by = {o.by};
    }
    auto cur = store.query(q);
    if (!cur.ok()) {
        return cur.status();
    }
    AggregateQuery pq = q;
    pq.from_ms = r.prev_from_ms;
    pq.to_ms = r.from_ms;
    auto prev = store.query(pq);
    if (!prev.ok()) {
        return prev.status();
    }
    std::map<std::string, const GroupStats*> prev_by_key;
    for (const auto& g : *prev) {
        prev_by_key[key_of(g)] = &g;
    }
    for (const auto& g : *cur) {
        auto it = prev_by_key.find(key_of(g));
        r.rows.push_back(make_row(g, it == prev_by_key.end() ? nullptr : it->second));
    }
    for (const auto& [dim, target] : {std::pair{"feature", &r.worst_features},
                                      std::pair{"prompt_version", &r.worst_prompt_versions}}) {
        AggregateQuery wq = q;
        wq.by = {dim};
        auto rows = store.query(wq);
        if (!rows.ok()) {
            return rows.status();
        }
        *target = worst(*rows, o.top);
    }
    AggregateQuery tq = q;
    tq.by = {"tenant"};
    auto tenants = store.query(tq);
    if (!tenants.ok()) {
        return tenants.status();
    }
    std::map<std::string, CostRow> cost;
    for (const auto& g : *tenants) {
        auto& c = cost[g.group[0]];
        c.tenant = g.group[0];
        c.cost_usd += g.judge_cost_usd;
        c.calls += g.judge_calls;
        c.input_tokens += g.judge_input_tokens;
        c.output_tokens += g.judge_output_tokens;
    }
    for (auto& [t, c] : cost) {
        if (c.calls > 0 || c.cost_usd > 0) {
            r.top_tenants_by_cost.push_back(c);
        }
    }
    std::sort(r.top_tenants_by_cost.begin(), r.top_tenants_by_cost.end(),
              [](const CostRow& a, const CostRow& b) {
                  return a.cost_usd != b.cost_usd ? a.cost_usd > b.cost_usd : a.tenant < b.tenant;
              });
    if (r.top_tenants_by_cost.size() > static_cast<size_t>(o.top)) {
        r.top_tenants_by_cost.resize(static_cast<size_t>(o.top));
    }
    AggregateQuery hq = q;
    hq.by.clear();
    auto all = store.query(hq);
    if (!all.ok()) {
        return all.status();
    }
    auto range = store.data_range();
    if (!range.ok()) {
        return range.status();
    }
    r.data = *range;
    for (const auto& g : *all) {
        HealthRow h;
        h.scorer = g.scorer;
        h.scorer_version = g.scorer_version;
        h.sampled = g.sampled;
        h.scored = g.count;
        h.skipped = g.skipped;
        h.errors = g.errors;
        h.pending = g.pending;
        h.judge_calls = g.judge_calls;
        h.judge_errors = g.judge_errors;
        h.judge_cost_usd = g.judge_cost_usd;
        r.health.push_back(h);
    }
    return r;
}

std::string empty_period_hint(const Report& r) {
    if (!r.rows.empty() || !r.health.empty()) {
        return "";
    }
    const std::string read =
        "no scored traces in " + format_rfc3339_ms(r.from_ms) + " .. " + format_rfc3339_ms(r.to_ms);
    if (!r.data) {
        return read + "; the store holds no scored traces yet";
    }
    constexpr int64_t k_day = 86400000;
    const int64_t days =
        std::max<int64_t>(1, (r.data->to_ms - r.data->from_ms + k_day - 1) / k_day);
    return read + "; the store holds traces from " + format_rfc3339_ms(r.data->from_ms) + " to " +
           format_rfc3339_ms(r.data->to_ms) + ": use --now " + format_rfc3339_ms(r.data->to_ms) +
           " --since " + std::to_string(days) + "d to report on them";
}

std::string render_report(const Report& r, const std::string& format) {
    const std::string hint = empty_period_hint(r);
    if (format == "json") {
        nlohmann::json j;
        j["from"] = format_rfc3339_ms(r.from_ms);
        j["to"] = format_rfc3339_ms(r.to_ms);
        j["previous_from"] = format_rfc3339_ms(r.prev_from_ms);
        j["data_range"] = r.data ? nlohmann::json{{"from", format_rfc3339_ms(r.data->from_ms)},
                                                  {"to", format_rfc3339_ms(r.data->to_ms)}}
                                 : nlohmann::json(nullptr);
        j["note"] = hint.empty() ? nlohmann::json(nullptr) : nlohmann::json(hint);
        j["by"] = r.by;
        for (const auto& [name, list] :
             {std::pair{"rows", &r.rows}, std::pair{"worst_features", &r.worst_features},
              std::pair{"worst_prompt_versions", &r.worst_prompt_versions}}) {
            j[name] = nlohmann::json::array();
            for (const auto& x : *list) {
                j[name].push_back(row_json(x));
            }
        }
        j["top_tenants_by_judge_cost"] = nlohmann::json::array();
        for (const auto& c : r.top_tenants_by_cost) {
            j["top_tenants_by_judge_cost"].push_back({{"tenant", c.tenant},
                                                      {"cost_usd", c.cost_usd},
                                                      {"judge_calls", c.calls},
                                                      {"input_tokens", c.input_tokens},
                                                      {"output_tokens", c.output_tokens}});
        }
        j["health"] = nlohmann::json::array();
        for (const auto& h : r.health) {
            auto rate = [](int64_t a, int64_t b) {
                return b > 0 ? nlohmann::json(static_cast<double>(a) / static_cast<double>(b))
                             : nlohmann::json(nullptr);
            };
            j["health"].push_back({{"scorer", h.scorer},
                                   {"scorer_version", h.scorer_version},
                                   {"sampled", h.sampled},
                                   {"scored", h.scored},
                                   {"pending", h.pending},
                                   {"skipped", h.skipped},
                                   {"skip_rate", rate(h.skipped, h.sampled)},
                                   {"errors", h.errors},
                                   {"error_rate", rate(h.errors, h.sampled)},
                                   {"judge_calls", h.judge_calls},
                                   {"judge_errors", h.judge_errors},
                                   {"judge_error_rate", rate(h.judge_errors, h.judge_calls)},
                                   {"judge_cost_usd", h.judge_cost_usd}});
        }
        return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
    const bool md = format == "markdown";
    std::string out;
    out += md ? "# Assay report\n\n" : "";
    out += "period " + format_rfc3339_ms(r.from_ms) + " .. " + format_rfc3339_ms(r.to_ms) +
           " (previous from " + format_rfc3339_ms(r.prev_from_ms) + ")\n\n";
    if (!hint.empty()) {
        out += (md ? "**" + hint + "**" : hint) + "\n\n";
    }
    for (const auto& s : sections(r)) {
        out += md ? "## " + s.title + "\n\n" : s.title + "\n";
        if (s.rows.size() == 1) {
            out += "(no data)\n\n";
            continue;
        }
        if (md) {
            for (size_t i = 0; i < s.rows.size(); ++i) {
                out += "|";
                for (const auto& cell : s.rows[i]) {
                    std::string c;
                    for (char ch : cell) {
                        if (ch == '|') {
                            c += "\\|";
                        } else if (ch == '\n' || ch == '\r') {
                            c += ' ';
                        } else {
                            c += ch;
                        }
                    }
                    out += " " + c + " |";
                }
                out += "\n";
                if (i == 0) {
                    out += "|";
                    for (size_t k = 0; k < s.rows[0].size(); ++k) {
                        out += " --- |";
                    }
                    out += "\n";
                }
            }
            out += "\n";
            continue;
        }
        out += format_table(s.rows, "  ");
        out += "\n";
    }
    return out;
}

}  // namespace assay
