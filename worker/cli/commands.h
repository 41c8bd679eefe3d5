#pragma once
// Each subcommand registers itself on the CLI11 app and sets `run` to the
// function that executes it when it is the one chosen. Exit codes: 0 success
// (bad input records are reported, not fatal), 1 the command's own failure
// (e.g. nothing found), 2 unusable config, flags, store or I/O.

#include <CLI/CLI.hpp>
#include <functional>

namespace assay::cli {

using Runner = std::function<int()>;

void add_score_command(CLI::App& app, Runner& run);
void add_bottom_command(CLI::App& app, Runner& run);
void add_sample_command(CLI::App& app, Runner& run);
void add_scorers_command(CLI::App& app, Runner& run);
void add_trace_command(CLI::App& app, Runner& run);
void add_worker_command(CLI::App& app, Runner& run);
void add_push_command(CLI::App& app, Runner& run);
void add_gate_command(CLI::App& app, Runner& run);
void add_report_command(CLI::App& app, Runner& run);
void add_alerts_command(CLI::App& app, Runner& run);
void add_retention_command(CLI::App& app, Runner& run);
void add_erase_command(CLI::App& app, Runner& run);
void add_judges_command(CLI::App& app, Runner& run);
// `assay judges compare` (cmd_judges_compare.cpp), under `judges`.
void add_judges_compare_command(CLI::App& judges, Runner& run);
void add_backfill_command(CLI::App& app, Runner& run);
void add_review_command(CLI::App& app, Runner& run);
void add_calibrate_command(CLI::App& app, Runner& run);
void add_export_command(CLI::App& app, Runner& run);

}  // namespace assay::cli
