// `assay review`: the web app where reviewers browse the bottom-scoring
// traces, label them and calibrate the judges (see review/review_server.h).
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/review_args.h"
#include "cli/review_gate.h"
#include "config/config.h"
#include "review/review_server.h"

namespace assay::cli {

namespace {

struct ReviewArgs {
    std::string db;
    std::string listen = "127.0.0.1:8700";
    std::string token;
    std::string session_ttl;  // "" = ASSAY_REVIEW_SESSION_TTL, else 12 h
    std::string public_url;
    double min_kappa = 0.6;
    int64_t min_labels = 20;
    std::string gate_report;   // --gate-report: shown on /gate
    std::string gate_dataset;  // --gate-dataset: its cases, for exporting regressions
};

int run_review(const ReviewArgs& a) {
    setup_logging(LogOptions{});
    const auto env = environ_map();
    review::ReviewServerOptions opts;
    opts.token = review_token_setting(a.token, env);
    auto ttl = review_session_ttl_setting(a.session_ttl, env);
    if (!ttl.ok()) {
        std::fprintf(stderr, "assay review: %s\n", ttl.status().message().c_str());
        return 2;
    }
    opts.sessions.ttl_ms = *ttl * 1000;
    if (std::string url = review_public_url_setting(a.public_url, env); !url.empty()) {
        auto parsed = review::parse_public_url(url);
        if (!parsed.ok()) {
            std::fprintf(stderr, "assay review: %s\n", parsed.status().message().c_str());
            return 2;
        }
        opts.public_url = *parsed;
    }
    opts.min_kappa = a.min_kappa;
    opts.min_labels = a.min_labels;
    if (!a.gate_report.empty()) {
        auto gate = load_gate_view(a.gate_report, a.gate_dataset);
        if (!gate.ok()) {
            std::fprintf(stderr, "assay review: %s\n", gate.status().message().c_str());
            return 2;
        }
        opts.gate = *gate;
        if ((*opts.gate)["cases"].is_null()) {
            std::fprintf(stderr,
                         "assay review: gate report loaded; exporting regressions as cases "
                         "is off: %s\n",
                         (*opts.gate)["cases_note"].get<std::string>().c_str());
        }
    }
    // Block the stop signals in every thread; this one waits for them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    auto store = open_review_store("review", a.db);
    if (!store) {
        return 2;
    }
    std::unique_ptr<GateMarkStore> marks;
    if (opts.gate) {
        auto m = open_gate_mark_store(store_path_setting(a.db, env));
        if (!m.ok()) {
            std::fprintf(stderr, "assay review: %s\n", m.status().message().c_str());
            return 2;
        }
        marks = std::move(m.value());
        opts.gate_marks = marks.get();
    }
    review::ReviewServer server(*store, opts);
    Status st = server.bind(a.listen);
    if (!st.ok()) {
        std::fprintf(stderr, "assay review: %s\n", st.message().c_str());
        return 2;
    }
    std::string host = a.listen.substr(0, a.listen.rfind(':'));
    std::printf(
        "assay review: listening on http://%s:%d/%s%s\n", host.c_str(), server.port(),
        opts.token.empty() ? "" : " (token required)",
        opts.public_url
            ? (", public URL " + opts.public_url->origin() + opts.public_url->prefix + "/").c_str()
            : "");
    std::fflush(stdout);
    std::thread serving([&] {
        if (Status served = server.run(); !served.ok()) {
            std::fprintf(stderr, "assay review: %s\n", served.message().c_str());
        }
    });
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server.stop();
    serving.join();
    std::printf("assay review: stopped\n");
    return 0;
}

}  // namespace

void add_review_command(CLI::App& app, Runner& run) {
    auto a = std::make_shared<ReviewArgs>();
    CLI::App* c =
        app.add_subcommand("review", "Serve the review pages: browse, label and calibrate");
    c->add_option("--db", a->db,
                  "SQLite file or postgresql:// URI (default: ASSAY_DB, then ./assay.db)");
    c->add_option("--listen", a->listen,
                  "HOST:PORT to listen on (port 0 picks one; default 127.0.0.1:8700)");
    c->add_option("--token", a->token,
                  "Require this token (bearer header or login form); default ASSAY_REVIEW_TOKEN. "
                  "Mandatory for a non-loopback --listen; at least 16 characters");
    c->add_option("--session-ttl", a->session_ttl,
                  "How long a login lasts: 90s, 30m, 12h, 7d (default ASSAY_REVIEW_SESSION_TTL, "
                  "then 12h)");
    c->add_option("--public-url", a->public_url,
                  "The URL browsers use behind a proxy, e.g. https://host/prefix: Secure cookies, "
                  "that origin for CSRF, links under the prefix (default ASSAY_REVIEW_PUBLIC_URL)");
    c->add_option("--min-kappa", a->min_kappa, "Calibration bar: warn below this kappa")
        ->check(CLI::Range(-1.0, 1.0));
    c->add_option("--min-labels", a->min_labels, "Calibration: warn with fewer labels")
        ->check(CLI::Range(1, 1000000));
    c->add_option("--gate-report", a->gate_report,
                  "Show this gate run (assay gate --json R.json) on the /gate page");
    c->add_option("--gate-dataset", a->gate_dataset,
                  "The gate run's dataset, for exporting regressions as cases (default: the "
                  "report's dataset path, as given or beside the report)");
    c->callback([a, &run] { run = [a] { return run_review(*a); }; });
}

}  // namespace assay::cli
