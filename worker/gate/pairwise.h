#pragma once
// Pairwise mode of `assay gate`: a judge scorer whose rubric is pairwise
// (rubric.h, `pairwise: true`) compares the baseline and the candidate
// output of each case, in both orders to control position bias:
//   order "ab": A = baseline,  B = candidate;
//   order "ba": A = candidate, B = baseline.
// Each order is one stored pair trace, id "pair/<case id>/<order>", whose
// reserved metadata keys (k_pair_output_a_key, k_pair_output_b_key) hold
// the two outputs; the judge stage judges it like any trace (same rendering,
// redaction, cache, budget, concurrency, retries and judgements rows). All
// "ab" requests go to the CaseJudge in one call, then all "ba" requests.
//
// Combination per case: both orders prefer the candidate -> win; both prefer
// the baseline -> loss; anything else -> tie. Orders that disagree are
// counted as order-inconsistent (position bias).
// The scorer's `filter` scopes the cases compared (matched against the
// case's completed baseline trace): a case out of scope is "filtered_out",
// outcome "skipped", never judged. `always_when` and `sample_rate` do not
// apply (every case in scope is compared).
// Identical outputs (the same text on both sides) are a tie without a call.
// Short-circuit (gate.short_circuit, on by default): when exactly one side
// failed a code check on the case (a code scorer with passed = false, or an
// expect check other than min_score on a judge), that side loses without a
// judge call; when both failed, the case is a tie without a call.
//
// Verdict rule: a pairwise scorer blocks when losses - wins > K (gate rule
// pairwise_max_net_losses, default gate.max_regressions; per scorer under
// gate.scorers.NAME) and, with gate.count_test "sign", the one-sided sign
// test of losses against wins has p <= count_alpha. Failed requests are
// judge errors: with the sides' judge errors, more than allow_judge_errors
// make the verdict "error" (exit 2).
//
// Thread safety: run_pairwise makes CaseJudge calls (one at a time); the
// other functions are pure.

#include <string>
#include <vector>

#include "core/status.h"
#include "core/trace.h"
#include "core/trace_json.h"
#include "gate/case_judge.h"
#include "gate/dataset.h"
#include "gate/gate_rules.h"
#include "gate/pairwise_result.h"
#include "gate/side_result.h"
#include "gate/verdict.h"
#include "judge/rubric.h"
#include "pipeline/scorer_set.h"

namespace assay::gate {

// The side a judge preferred in one order, from its score on the pairwise
// rubric: "baseline", "candidate" or "tie".
std::string preferred_side(const Rubric& rubric, double score, bool baseline_is_a);

// Combines the two orders' preferences into `pc.outcome` and
// `pc.order_inconsistent` (ab and ba must be set).
void combine_orders(PairwiseCase& pc);

// The pair trace for one case and order: the case's input, reference,
// context and metadata, the two outputs under the reserved metadata keys,
// and as `output` both outputs labelled "[A]" and "[B]" (for `assay trace`).
// Its trace_id is "<case id>/<order>". invalid_argument when the fields do
// not form a valid trace.
Result<Trace> make_pair_trace(const GateCase& c, const Trace& a, const Trace& b,
                              const std::string& order);

// A side failed a code check on this case (the short-circuit condition).
bool failed_code_check(const SideResult& side, size_t case_index,
                       const std::vector<bool>& judge_scorers);

// Runs every pairwise scorer over the dataset. `base`/`cand` are the
// completed side traces (dataset order) and their scored results;
// `judge_scorers[i]` says whether base_result.scorer_names[i] is a judge.
// Failure: unavailable when `judge` is null, or the judge's own non-OK
// Status; internal when the judge returns the wrong number of outcomes.
Result<std::vector<PairwiseSummary>> run_pairwise(
    const Dataset& dataset, const std::vector<Trace>& base, const std::vector<Trace>& cand,
    const SideResult& base_result, const SideResult& cand_result,
    const std::vector<bool>& judge_scorers, const std::vector<const ConfiguredScorer*>& pairwise,
    const GateRules& rules, CaseJudge* judge);

// Counts the outcomes of `s.cases` into wins/ties/losses/errors/... (not
// judge_errors, which run_pairwise counts per request).
void tally(PairwiseSummary& s);

// Applies the pairwise rule to every summary (sets max_net_losses,
// sign_test_p, blocks) and folds the result into `v`: pairwise judge errors
// beyond rules.allow_judge_errors (with the sides' own) make it "error"
// (exit 2); otherwise each block is a reason and a "pass" becomes "block".
void apply_pairwise_verdict(Verdict& v, std::vector<PairwiseSummary>& pairwise,
                            const GateRules& rules);

}  // namespace assay::gate
