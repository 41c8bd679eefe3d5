// assay: one binary, one subcommand per job. This file only dispatches.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"

#ifndef ASSAY_ALLOCATOR_NAME
#define ASSAY_ALLOCATOR_NAME "system"
#endif

int main(int argc, char** argv) {
    CLI::App app{"assay: online evaluation and LLM-as-judge scoring for production LLM traffic"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "assay 0.1.0 (malloc: " ASSAY_ALLOCATOR_NAME ")");
    assay::cli::Runner run;
    assay::cli::add_score_command(app, run);
    assay::cli::add_bottom_command(app, run);
    assay::cli::add_sample_command(app, run);
    assay::cli::add_scorers_command(app, run);
    assay::cli::add_trace_command(app, run);
    assay::cli::add_worker_command(app, run);
    assay::cli::add_push_command(app, run);
    assay::cli::add_gate_command(app, run);
    assay::cli::add_report_command(app, run);
    assay::cli::add_alerts_command(app, run);
    assay::cli::add_retention_command(app, run);
    assay::cli::add_erase_command(app, run);
    assay::cli::add_judges_command(app, run);
    assay::cli::add_backfill_command(app, run);
    assay::cli::add_review_command(app, run);
    assay::cli::add_calibrate_command(app, run);
    assay::cli::add_export_command(app, run);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    return run ? run() : 2;
}
