// `assay calibrate`: how well a scorer agrees with the reviewers' labels.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/review_args.h"
#include "review/calibration.h"

namespace assay::cli {

namespace {

struct CalibrateArgs {
    std::string db, scorer, version;
    std::string format = "table";
    double min_kappa = 0.6;
    int64_t min_labels = 20;
};

int run_calibrate(const CalibrateArgs& a) {
    auto store = open_review_store("calibrate", a.db);
    if (!store) {
        return 2;
    }
    auto pairs = store->calibration_pairs(a.scorer, a.version);
    if (!pairs.ok()) {
        std::fprintf(stderr, "assay calibrate: %s\n", pairs.status().message().c_str());
        return 2;
    }
    review::CalibrationOptions opts;
    opts.min_kappa = a.min_kappa;
    opts.min_labels = a.min_labels;
    auto versions = review::calibrate(*pairs, opts);
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
    CLI::App* c = app.add_subcommand(
        "calibrate", "Agreement of a scorer with human labels (kappa, Spearman, MAE)");
    c->add_option("--db", a->db, "SQLite store (default: ASSAY_DB, then ./assay.db)");
    c->add_option("--scorer,-s", a->scorer, "Scorer name")->required();
    c->add_option("--scorer-version", a->version,
                  "Only this version (default: every labelled version)");
    c->add_option("--format", a->format, "Output format")->check(CLI::IsMember({"table", "json"}));
    c->add_option("--min-kappa", a->min_kappa, "Warn below this kappa (default 0.6)")
        ->check(CLI::Range(-1.0, 1.0));
    c->add_option("--min-labels", a->min_labels, "Warn with fewer labels (default 20)")
        ->check(CLI::Range(1, 1000000));
    c->callback([a, &run] { run = [a] { return run_calibrate(*a); }; });
}

}  // namespace assay::cli
