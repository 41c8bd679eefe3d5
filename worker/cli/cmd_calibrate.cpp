// `assay calibrate`: how well a scorer agrees with the reviewers' labels.
#include <cstdio>
#include <iostream>
#include <optional>
#include <random>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/review_args.h"
#include "review/calibration.h"
#include "review/calibration_queue.h"

namespace assay::cli {

namespace {

struct CalibrateArgs {
    std::string db, scorer, version;
    std::string format = "table";
    double min_kappa = 0.6;
    int64_t min_labels = 20;
    int64_t queue = 0;  // --queue N: print N traces of the calibration queue instead
    std::optional<uint64_t> seed;
};

// `--queue N`: random unlabelled traces, stratified by the scorer's verdict.
int run_queue(ReviewStore& store, const CalibrateArgs& a) {
    std::mt19937_64 rng(a.seed ? *a.seed : std::random_device{}());
    auto q = review::sample_calibration_queue(store, a.scorer, a.version, a.queue, rng);
    if (!q.ok()) {
        std::fprintf(stderr, "assay calibrate: %s\n", q.status().message().c_str());
        return q.status().code() == StatusCode::not_found ? 1 : 2;
    }
    if (a.format == "json") {
        std::cout << review::to_json(*q).dump(2, ' ', false,
                                              nlohmann::json::error_handler_t::replace)
                  << "\n";
        return 0;
    }
    std::printf(
        "calibration queue of %s %s: %zu random unlabelled traces, stratified by the scorer's "
        "verdict\n",
        q->scorer.c_str(), q->version.c_str(), q->items.size());
    for (const auto& st : q->strata) {
        std::printf("  %s: %lld scored, %lld unlabelled, %lld labelled from the queue\n",
                    st.verdict.c_str(), static_cast<long long>(st.scored),
                    static_cast<long long>(st.unlabelled), static_cast<long long>(st.queue_labels));
    }
    std::vector<std::vector<std::string>> rows = {{"trace_id", "scorer said", "workspace link"}};
    for (const auto& it : q->items) {
        rows.push_back({it.trace_id, it.verdict, review::workspace_link(*q, it)});
    }
    print_table(rows);
    std::printf(
        "label them in assay review (open a link under its URL, e.g. http://127.0.0.1:8700/?...: "
        "the workspace in calibration-queue mode) or with POST /api/labels and \"source\": "
        "\"calibration\"\n");
    return 0;
}

int run_calibrate(const CalibrateArgs& a) {
    auto store = open_review_store("calibrate", a.db);
    if (!store) {
        return 2;
    }
    if (a.queue > 0) {
        return run_queue(*store, a);
    }
    review::CalibrationOptions opts;
    opts.min_kappa = a.min_kappa;
    opts.min_labels = a.min_labels;
    auto cal = review::calibrate_scorer(*store, a.scorer, a.version, opts);
    if (!cal.ok()) {
        std::fprintf(stderr, "assay calibrate: %s\n", cal.status().message().c_str());
        return 2;
    }
    const auto& versions = *cal;
    if (a.format == "json") {
        nlohmann::json out = {{"scorer", a.scorer},
                              {"min_kappa", opts.min_kappa},
                              {"min_labels", opts.min_labels},
                              {"versions", nlohmann::json::array()}};
        for (const auto& v : versions) {
            out["versions"].push_back(review::to_json(v));
        }
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else if (versions.empty()) {
        std::printf("no labels for scorer '%s' yet: label traces with assay review\n",
                    a.scorer.c_str());
    } else {
        for (const auto& v : versions) {
            std::cout << review::to_table(v) << "\n";
        }
    }
    if (versions.empty()) {
        return 1;
    }
    for (const auto& v : versions) {
        if (!v.warnings.empty()) {
            return 1;
        }
    }
    return 0;
}

}  // namespace

void add_calibrate_command(CLI::App& app, Runner& run) {
    auto a = std::make_shared<CalibrateArgs>();
    CLI::App* c =
        app.add_subcommand("calibrate",
                           "Agreement of a scorer with human labels (agreement, precision, kappa, "
                           "Spearman, MAE); --queue N picks traces to label");
    c->add_option("--db", a->db,
                  "SQLite file or postgresql:// URI (default: ASSAY_DB, then ./assay.db)");
    c->add_option("--scorer,-s", a->scorer, "Scorer name")->required();
    c->add_option("--scorer-version", a->version,
                  "Only this version (default: every labelled version)");
    c->add_option("--format", a->format, "Output format")->check(CLI::IsMember({"table", "json"}));
    c->add_option("--min-kappa", a->min_kappa, "Warn below this kappa (default 0.6)")
        ->check(CLI::Range(-1.0, 1.0));
    c->add_option("--min-labels", a->min_labels, "Warn with fewer labels (default 20)")
        ->check(CLI::Range(1, 1000000));
    c->add_option("--queue", a->queue,
                  "Print N random unlabelled traces to label, stratified by the scorer's verdict "
                  "(the calibration queue)")
        ->check(CLI::Range(1, 1000));
    c->add_option("--seed", a->seed, "Random seed of --queue (default: a fresh one)");
    c->callback([a, &run] { run = [a] { return run_calibrate(*a); }; });
}

}  // namespace assay::cli
