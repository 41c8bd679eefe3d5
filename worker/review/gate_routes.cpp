#include "review/gate_routes.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/text.h"
#include "core/time_format.h"
#include "review/http_reply.h"
#include "review/review_server.h"
#include "store/gate_mark_store.h"

namespace assay::review {

namespace {

using nlohmann::json;

// The regressed case ids of the report, in the order of its regressions.
std::vector<std::string> regressed_cases(const json& gate) {
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const auto& c : gate["report"]["regressions"]) {
        if (c.contains("case_id") && c["case_id"].is_string()) {
            const auto id = c["case_id"].get<std::string>();
            if (seen.insert(id).second) {
                out.push_back(id);
            }
        }
    }
    return out;
}

// Sends 404 and returns false when the server has no gate report.
bool have_gate(const ReviewServerOptions& o, HttpResponse& res) {
    if (!o.gate || o.gate_marks == nullptr) {
        send_error(res, 404,
                   "no gate report: start assay review with --gate-report R.json (written by "
                   "assay gate --json R.json)");
        return false;
    }
    return true;
}

std::string run_id(const ReviewServerOptions& o) { return (*o.gate)["run_id"].get<std::string>(); }

}  // namespace

void add_gate_routes(HttpServer& srv, const ReviewServerOptions& options) {
    srv.get("/api/gate", [&options](const HttpRequest&, HttpResponse& res) {
        if (have_gate(options, res)) {
            send_json(res, *options.gate);
        }
    });

    srv.get("/api/gate/marks", [&options](const HttpRequest&, HttpResponse& res) {
        if (!have_gate(options, res)) {
            return;
        }
        auto marks = options.gate_marks->gate_marks(run_id(options));
        if (!marks.ok()) {
            send_error(res, http_status(marks.status()), marks.status().message());
            return;
        }
        json out = {{"run_id", run_id(options)}, {"marks", json::object()}};
        for (const auto& m : *marks) {
            out["marks"][m.case_id] = {{"mark", m.mark},
                                       {"note", m.note},
                                       {"reviewer", m.reviewer},
                                       {"at", format_rfc3339_ms(m.at_ms)}};
        }
        send_json(res, out);
    });

    srv.post("/api/gate/marks", [&options](const HttpRequest& req, HttpResponse& res) {
        if (!have_gate(options, res)) {
            return;
        }
        auto body = json::parse(req.body, nullptr, false);
        if (body.is_discarded() || !body.is_object()) {
            send_error(res, 400, "body: expected a JSON object");
            return;
        }
        GateMark m;
        m.gate_run = run_id(options);
        m.case_id = json_string(body, "case_id");
        m.mark = json_string(body, "mark");
        m.reviewer = std::string(trim(json_string(body, "reviewer")));
        m.note = json_string(body, "note");
        m.at_ms = now_ms();
        const auto cases = regressed_cases(*options.gate);
        if (std::find(cases.begin(), cases.end(), m.case_id) == cases.end()) {
            send_error(res, 400,
                       "case_id '" + m.case_id + "': not a regressed case of this gate run");
            return;
        }
        if (m.reviewer.size() > 200 || m.note.size() > 20000) {
            send_error(res, 400, "reviewer (200 bytes) or note (20000 bytes) too long");
            return;
        }
        if (Status st = options.gate_marks->set_gate_mark(m); !st.ok()) {
            send_error(res, http_status(st), st.message());
            return;
        }
        send_json(res,
                  json{{"case_id", m.case_id},
                       {"mark", m.mark},
                       {"note", m.note},
                       {"reviewer", m.reviewer},
                       {"at", format_rfc3339_ms(m.at_ms)}},
                  201);
    });

    srv.get("/api/gate/export", [&options](const HttpRequest&, HttpResponse& res) {
        if (!have_gate(options, res)) {
            return;
        }
        const json& cases = (*options.gate)["cases"];
        if (!cases.is_object()) {
            send_error(res, 409,
                       "export unavailable: " + (*options.gate)["cases_note"].get<std::string>());
            return;
        }
        auto marks = options.gate_marks->gate_marks(run_id(options));
        if (!marks.ok()) {
            send_error(res, http_status(marks.status()), marks.status().message());
            return;
        }
        std::set<std::string> real;
        for (const auto& m : *marks) {
            if (m.mark == "real") {
                real.insert(m.case_id);
            }
        }
        std::string out;
        for (const auto& id : regressed_cases(*options.gate)) {
            if (real.count(id) != 0 && cases.contains(id)) {
                out += cases[id].dump(-1, ' ', false, json::error_handler_t::replace);
                out += '\n';
            }
        }
        res.set_header("Cache-Control", "no-store");
        res.set_header("Content-Disposition", "attachment; filename=\"real-regressions.jsonl\"");
        res.set_content(out, "application/x-ndjson; charset=utf-8");
    });
}

}  // namespace assay::review
