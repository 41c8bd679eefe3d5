#include "review/api_routes.h"

#include <nlohmann/json.hpp>
#include <random>

#include "core/clock.h"
#include "core/text.h"
#include "core/time_format.h"
#include "review/calibration.h"
#include "review/calibration_queue.h"
#include "review/dataset_export.h"
#include "review/gate_routes.h"
#include "review/http_reply.h"
#include "review/review_server.h"
#include "review/trends.h"
#include "review/views.h"

namespace assay::review {

namespace {

using nlohmann::json;

// "2026-11-22", or RFC 3339.
Result<int64_t> parse_time(const std::string& s) {
    if (s.size() == 10) {
        auto d = day_number(s);
        if (!d) {
            return Status::invalid_argument("'" + s + "' is not a date (YYYY-MM-DD)");
        }
        return *d * 86400000;
    }
    return parse_rfc3339_ms(s);
}

Result<std::optional<bool>> parse_bool_param(const std::string& name, const std::string& v) {
    if (v.empty() || v == "any") {
        return std::optional<bool>();
    }
    if (v == "true" || v == "1" || v == "yes") {
        return std::optional<bool>(true);
    }
    if (v == "false" || v == "0" || v == "no") {
        return std::optional<bool>(false);
    }
    return Status::invalid_argument(name + " '" + v + "': expected true, false or any");
}

Result<int64_t> parse_int_param(const std::string& name, const std::string& v, int64_t def,
                                int64_t lo, int64_t hi) {
    if (v.empty()) {
        return def;
    }
    try {
        size_t used = 0;
        long long n = std::stoll(v, &used);
        if (used == v.size() && n >= lo && n <= hi) {
            return static_cast<int64_t>(n);
        }
    } catch (const std::exception&) {
    }
    return Status::invalid_argument(name + " '" + v + "': expected an integer " +
                                    std::to_string(lo) + "-" + std::to_string(hi));
}

// Filters from a key -> value getter (query parameters or a JSON body).
template <typename Get>
Result<ReviewFilter> parse_filter(Get get) {
    ReviewFilter f;
    f.scorer = get("scorer");
    if (f.scorer.empty()) {
        return Status::invalid_argument("scorer: required (e.g. ?scorer=refusal)");
    }
    f.scorer_version = get("scorer_version");
    f.feature = get("feature");
    f.tenant = get("tenant");
    f.prompt_version = get("prompt_version");
    f.model = get("model");
    for (const char* k : {"since", "until"}) {
        std::string v = get(k);
        if (!v.empty()) {
            auto t = parse_time(v);
            if (!t.ok()) {
                return Status::invalid_argument(std::string(k) + ": " + t.status().message());
            }
            (std::string(k) == "since" ? f.since_ms : f.until_ms) = *t;
        }
    }
    auto passed = parse_bool_param("passed", get("passed"));
    if (!passed.ok()) {
        return passed.status();
    }
    f.passed = *passed;
    auto labelled = parse_bool_param("labelled", get("labelled"));
    if (!labelled.ok()) {
        return labelled.status();
    }
    f.labelled = *labelled;
    return f;
}

}  // namespace

void add_api_routes(HttpServer& srv, ReviewStore& store, const ReviewServerOptions& options) {
    srv.get("/api/scorers", [&store](const HttpRequest&, HttpResponse& res) {
        auto s = store.scorers();
        if (!s.ok()) {
            send_error(res, http_status(s.status()), s.status().message());
            return;
        }
        json out = json::array();
        for (const auto& v : *s) {
            out.push_back(scorer_json(v));
        }
        send_json(res, out);
    });

    srv.get("/api/bottom", [&store, &options](const HttpRequest& req, HttpResponse& res) {
        auto get = [&](const char* k) { return req.get_param_value(k); };
        auto f = parse_filter(get);
        auto sort = parse_review_sort(get("sort"));
        auto offset = parse_int_param("offset", get("offset"), 0, 0, INT64_MAX / 2);
        auto limit = parse_int_param("limit", get("limit"), 50, 1, options.max_page);
        for (const Status* st : {&f.status(), &sort.status(), &offset.status(), &limit.status()}) {
            if (!st->ok()) {
                send_error(res, 400, st->message());
                return;
            }
        }
        auto list = store.list(*f, *sort, *offset, *limit);
        if (!list.ok()) {
            send_error(res, http_status(list.status()), list.status().message());
            return;
        }
        send_json(res, list_json(*list, *offset, *limit));
    });

    srv.get("/api/trace", [&store](const HttpRequest& req, HttpResponse& res) {
        std::string id = req.get_param_value("id");
        if (id.empty()) {
            send_error(res, 400, "id: required (e.g. ?id=tr_123)");
            return;
        }
        auto d = store.trace(id);
        if (!d.ok()) {
            send_error(res, http_status(d.status()), d.status().message());
            return;
        }
        send_json(res, trace_json(*d));
    });

    srv.post("/api/labels", [&store](const HttpRequest& req, HttpResponse& res) {
        auto body = json::parse(req.body, nullptr, false);
        if (body.is_discarded() || !body.is_object()) {
            send_error(res, 400, "body: expected a JSON object");
            return;
        }
        NewLabel l;
        l.trace_id = json_string(body, "trace_id");
        l.scorer = json_string(body, "scorer");
        l.scorer_version = json_string(body, "scorer_version");
        l.reviewer = std::string(trim(json_string(body, "reviewer")));
        l.verdict = json_string(body, "verdict");
        l.note = json_string(body, "note");
        if (std::string source = json_string(body, "source"); !source.empty()) {
            l.source = source;
        }
        if (l.trace_id.empty() || l.scorer.empty()) {
            send_error(res, 400, "trace_id and scorer: required");
            return;
        }
        if (l.reviewer.size() > 200 || l.note.size() > 20000) {
            send_error(res, 400, "reviewer (200 bytes) or note (20000 bytes) too long");
            return;
        }
        if (body.contains("score") && !body["score"].is_null()) {
            if (!body["score"].is_number()) {
                send_error(res, 400, "score: expected a number");
                return;
            }
            l.score = body["score"].get<double>();
        }
        l.at_ms = now_ms();
        auto id = store.add_label(l);
        if (!id.ok()) {
            send_error(res, http_status(id.status()), id.status().message());
            return;
        }
        send_json(res, json{{"id", *id}}, 201);
    });

    srv.get("/api/calibration", [&store, &options](const HttpRequest& req, HttpResponse& res) {
        CalibrationOptions opts;
        opts.min_kappa = options.min_kappa;
        opts.min_labels = options.min_labels;
        if (req.has_param("min_kappa")) {
            try {
                opts.min_kappa = std::stod(req.get_param_value("min_kappa"));
            } catch (const std::exception&) {
                send_error(res, 400, "min_kappa: expected a number");
                return;
            }
        }
        std::vector<std::string> names;
        if (req.has_param("scorer")) {
            names.push_back(req.get_param_value("scorer"));
        } else {
            auto s = store.scorers();
            if (!s.ok()) {
                send_error(res, 500, s.status().message());
                return;
            }
            for (const auto& v : *s) {
                if (names.empty() || names.back() != v.scorer) {
                    names.push_back(v.scorer);
                }
            }
        }
        json out = {{"min_kappa", opts.min_kappa},
                    {"min_labels", opts.min_labels},
                    {"versions", json::array()}};
        for (const auto& n : names) {
            auto cal = calibrate_scorer(store, n, req.get_param_value("scorer_version"), opts);
            if (!cal.ok()) {
                send_error(res, http_status(cal.status()), cal.status().message());
                return;
            }
            for (const auto& c : *cal) {
                out["versions"].push_back(to_json(c));
            }
        }
        send_json(res, out);
    });

    srv.get("/api/calibration/queue", [&store](const HttpRequest& req, HttpResponse& res) {
        std::string scorer = req.get_param_value("scorer");
        if (scorer.empty()) {
            send_error(res, 400, "scorer: required (e.g. ?scorer=refusal)");
            return;
        }
        auto n = parse_int_param("n", req.get_param_value("n"), 1, 1, 100);
        if (!n.ok()) {
            send_error(res, 400, n.status().message());
            return;
        }
        std::mt19937_64 rng{std::random_device{}()};
        auto q =
            sample_calibration_queue(store, scorer, req.get_param_value("scorer_version"), *n, rng);
        if (!q.ok()) {
            send_error(res, http_status(q.status()), q.status().message());
            return;
        }
        send_json(res, to_json(*q));
    });

    srv.get("/api/trends", [&store](const HttpRequest& req, HttpResponse& res) {
        auto days = parse_int_param("days", req.get_param_value("days"), 90, 1, 3650);
        if (!days.ok()) {
            send_error(res, 400, days.status().message());
            return;
        }
        std::string scorer = req.get_param_value("scorer");
        if (scorer.empty()) {
            send_error(res, 400, "scorer: required");
            return;
        }
        // The last `days` days up to the newest trace, so that a store of old traffic still shows.
        auto pts = store.trends(scorer, req.get_param_value("scorer_version"), *days);
        if (!pts.ok()) {
            send_error(res, http_status(pts.status()), pts.status().message());
            return;
        }
        const auto& recent = *pts;
        send_json(res, json{{"scorer", scorer},
                            {"days", *days},
                            {"series", series_json(build_series(recent))}});
    });

    srv.post("/api/export", [&store](const HttpRequest& req, HttpResponse& res) {
        auto body = json::parse(req.body, nullptr, false);
        if (body.is_discarded() || !body.is_object()) {
            send_error(res, 400, "body: expected a JSON object");
            return;
        }
        auto f = parse_filter([&](const char* k) { return json_string(body, k); });
        if (!f.ok()) {
            send_error(res, 400, f.status().message());
            return;
        }
        auto limit = parse_int_param("limit", json_string(body, "limit"), 50, 1, 100000);
        if (!limit.ok()) {
            send_error(res, 400, limit.status().message());
            return;
        }
        std::vector<std::string> ids;
        if (body.contains("trace_ids")) {
            if (!body["trace_ids"].is_array() || body["trace_ids"].size() > 100000) {
                send_error(res, 400, "trace_ids: expected an array of at most 100000 trace ids");
                return;
            }
            for (const auto& v : body["trace_ids"]) {
                if (!v.is_string()) {
                    send_error(res, 400, "trace_ids: every entry must be a string");
                    return;
                }
                ids.push_back(v.get<std::string>());
            }
        }
        auto cases = export_cases(store, *f, *limit, ids);
        if (!cases.ok()) {
            send_error(res, http_status(cases.status()), cases.status().message());
            return;
        }
        std::string out;
        for (const auto& c : *cases) {
            out += c.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
            out += '\n';
        }
        res.set_header("Cache-Control", "no-store");
        res.set_header("Content-Disposition", "attachment; filename=\"cases.jsonl\"");
        res.set_content(out, "application/x-ndjson; charset=utf-8");
    });

    add_gate_routes(srv, options);
}

}  // namespace assay::review
