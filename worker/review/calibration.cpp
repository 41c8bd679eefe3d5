#include "review/calibration.h"

#include <cstdio>
#include <map>
#include <set>
#include <string>

namespace assay::review {

namespace {

std::string fmt(std::optional<double> v, int digits = 3) {
    if (!v) {
        return "n/a";
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, *v);
    return buf;
}

nlohmann::json opt_json(std::optional<double> v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json ci_json(const std::optional<Interval>& ci) {
    return ci ? nlohmann::json::array({ci->lo, ci->hi}) : nlohmann::json(nullptr);
}

std::string ci_text(const std::optional<Interval>& ci) {
    return ci ? " (95% CI " + fmt(ci->lo) + "-" + fmt(ci->hi) + ")" : "";
}

std::string percent(double share) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f%%", share * 100.0);
    return buf;
}

void count(Proportion& p, bool agree) {
    ++p.labels;
    p.agree += agree ? 1 : 0;
}

void finish(Proportion& p) {
    if (p.labels > 0) {
        p.rate = static_cast<double>(p.agree) / static_cast<double>(p.labels);
        p.ci95 = wilson_interval(*p.rate, static_cast<double>(p.labels));
    }
}

const char* k_queue_hint =
    "label random traces from the calibration queue (the Calibration page of assay review, or "
    "assay calibrate "
    "--queue N)";

// The share of scored traces a reviewer agrees with, from the queue's labels:
// each verdict's rate weighted by its share of the scored traces.
AgreementEstimate estimate(const std::vector<VerdictAgreement>& by_verdict) {
    AgreementEstimate e;
    double value = 0, inv_n_eff = 0;
    int64_t scored = 0;
    for (const auto& v : by_verdict) {
        e.labels += v.queue.labels;
        scored += v.scored;
    }
    if (scored == 0) {
        e.not_measured = "the version has no scored traces";
        return e;
    }
    if (e.labels == 0) {
        e.not_measured =
            "no label from the calibration queue yet, and the bottom list is not a random sample "
            "(it "
            "shows failures first); " +
            std::string(k_queue_hint);
        return e;
    }
    for (const auto& v : by_verdict) {
        if (v.scored == 0) {
            continue;
        }
        if (v.queue.labels == 0) {
            e.not_measured = "no calibration-queue label yet where the scorer said " + v.verdict +
                             " (" + std::to_string(v.scored) + " scored traces, " +
                             percent(v.share) + "): every verdict needs one; " + k_queue_hint;
            return e;
        }
        value += v.share * *v.queue.rate;
        inv_n_eff += v.share * v.share / static_cast<double>(v.queue.labels);
    }
    e.value = value;
    e.effective_labels = 1.0 / inv_n_eff;
    e.ci95 = wilson_interval(value, e.effective_labels);
    return e;
}

nlohmann::json proportion_json(const Proportion& p) {
    return {{"labels", p.labels},
            {"agree", p.agree},
            {"rate", opt_json(p.rate)},
            {"ci95", ci_json(p.ci95)}};
}

nlohmann::json kappa_json(const KappaResult& k) {
    return {
        {"kappa", opt_json(k.kappa)},
        {"kappa_not_defined", k.kappa ? nlohmann::json(nullptr) : nlohmann::json(k.not_defined)},
        {"observed_agreement", k.observed},
        {"chance_agreement", k.expected},
        {"pairs", k.matrix.total},
        {"confusion",
         {{"categories", k.matrix.categories},
          {"rows", "scorer"},
          {"columns", "human"},
          {"counts", k.matrix.counts}}}};
}

std::string matrix_table(const std::string& title, const KappaResult& k) {
    std::string out =
        title + ": " +
        (k.kappa ? "kappa " + fmt(k.kappa) : "kappa not defined (" + k.not_defined + ")") +
        " over " + std::to_string(k.matrix.total) + " labels (observed agreement " +
        fmt(k.observed) + (k.kappa ? ", by chance " + fmt(k.expected) : std::string()) + ")\n";
    size_t w = 12;
    for (const auto& c : k.matrix.categories) {
        w = std::max(w, c.size() + 2);
    }
    auto pad = [&](const std::string& s) {
        return s + std::string(w > s.size() ? w - s.size() : 1, ' ');
    };
    out += "    " + pad("scorer\\human");
    for (const auto& c : k.matrix.categories) {
        out += pad(c);
    }
    out += "\n";
    for (size_t i = 0; i < k.matrix.categories.size(); ++i) {
        out += "    " + pad(k.matrix.categories[i]);
        for (size_t j = 0; j < k.matrix.categories.size(); ++j) {
            out += pad(std::to_string(k.matrix.counts[i][j]));
        }
        out += "\n";
    }
    return out;
}

}  // namespace

const VerdictAgreement* VersionCalibration::failures() const {
    for (const auto& v : by_verdict) {
        if (v.verdict == "fail") {
            return &v;
        }
    }
    return nullptr;
}

std::vector<VersionCalibration> calibrate(const std::vector<CalibrationPair>& pairs,
                                          const std::vector<VersionStrata>& strata,
                                          const CalibrationOptions& options) {
    std::vector<std::string> order;
    std::map<std::string, std::vector<const CalibrationPair*>> by_version;
    for (const auto& p : pairs) {
        if (!by_version.count(p.scorer_version)) {
            order.push_back(p.scorer_version);
        }
        by_version[p.scorer_version].push_back(&p);
    }
    std::vector<VersionCalibration> out;
    for (const auto& version : order) {
        const auto& ps = by_version[version];
        VersionCalibration c;
        c.scorer = ps.front()->human.scorer;
        c.version = version;
        c.labels = static_cast<int64_t>(ps.size());
        // Verdict strata: the store's scored counts, then labels on each.
        for (const char* verdict : {"fail", "pass", "none"}) {
            VerdictAgreement va;
            va.verdict = verdict;
            for (const auto& vs : strata) {
                for (const auto& st : vs.strata) {
                    if (vs.version == version && st.verdict == verdict) {
                        va.scored = st.scored;
                    }
                }
            }
            c.by_verdict.push_back(va);
        }
        int64_t scored = 0;
        for (const auto& va : c.by_verdict) {
            scored += va.scored;
        }
        for (auto& va : c.by_verdict) {
            va.share =
                scored > 0 ? static_cast<double>(va.scored) / static_cast<double>(scored) : 0.0;
        }
        for (const auto* p : ps) {
            const bool queue = p->human.source == "calibration";
            c.queue_labels += queue ? 1 : 0;
            if (p->human.verdict != "agree" && p->human.verdict != "disagree") {
                continue;
            }
            auto& va = c.by_verdict[!p->passed ? 2 : (*p->passed ? 1 : 0)];
            count(va.all, p->human.verdict == "agree");
            if (queue) {
                count(va.queue, p->human.verdict == "agree");
            }
        }
        std::erase_if(c.by_verdict, [](const VerdictAgreement& va) {
            return va.scored == 0 && va.all.labels == 0;
        });
        for (auto& va : c.by_verdict) {
            finish(va.all);
            finish(va.queue);
        }
        c.agreement = estimate(c.by_verdict);
        std::set<std::string> choices;
        for (const auto* p : ps) {
            if (!p->choice.empty()) {
                choices.insert(p->choice);
            }
        }
        std::vector<std::pair<std::string, std::string>> pf, ch;
        std::vector<std::pair<double, double>> num;
        for (const auto* p : ps) {
            const std::string& v = p->human.verdict;
            if (v == "score") {
                if (p->human.score) {
                    num.emplace_back(p->value, *p->human.score);
                }
                continue;
            }
            const bool agree = v == "agree";
            if (agree) {
                num.emplace_back(p->value, p->value);
            }
            if (p->passed) {
                std::string judge = *p->passed ? "pass" : "fail";
                std::string human = (*p->passed == agree) ? "pass" : "fail";
                pf.emplace_back(judge, human);
            }
            if (!p->choice.empty()) {
                std::string human = p->choice;
                if (!agree) {
                    if (choices.size() == 2) {
                        human =
                            *choices.begin() == p->choice ? *choices.rbegin() : *choices.begin();
                    } else {
                        human = "not " + p->choice;
                    }
                }
                ch.emplace_back(p->choice, human);
            }
        }
        c.pass_fail_pairs = static_cast<int64_t>(pf.size());
        c.choice_pairs = static_cast<int64_t>(ch.size());
        c.numeric_pairs = static_cast<int64_t>(num.size());
        if (!pf.empty()) {
            c.pass_fail = cohen_kappa(pf);
        }
        if (!ch.empty()) {
            c.choice = cohen_kappa(ch);
        }
        c.spearman = spearman(num);
        c.mae = mean_absolute_error(num);
        if (c.labels < options.min_labels) {
            c.warnings.push_back("too few labels to tell: " + std::to_string(c.labels) + " < " +
                                 std::to_string(options.min_labels));
        }
        const KappaResult* bar = c.pass_fail ? &*c.pass_fail : (c.choice ? &*c.choice : nullptr);
        if (bar && bar->kappa && *bar->kappa < options.min_kappa) {
            c.warnings.push_back("kappa " + fmt(bar->kappa) + " is below the bar " +
                                 fmt(options.min_kappa, 2) +
                                 ": do not trust this scorer version without more review");
        } else if (bar && !bar->kappa && bar->matrix.total > 0) {
            c.warnings.push_back("kappa is not defined (" + bar->not_defined +
                                 "), so it cannot tell agreement from chance: " + k_queue_hint +
                                 ", which samples every verdict");
        }
        out.push_back(std::move(c));
    }
    return out;
}

Result<std::vector<VersionCalibration>> calibrate_scorer(ReviewStore& store,
                                                         const std::string& scorer,
                                                         const std::string& scorer_version,
                                                         const CalibrationOptions& options) {
    auto pairs = store.calibration_pairs(scorer, scorer_version);
    if (!pairs.ok()) {
        return pairs.status();
    }
    std::vector<VersionStrata> strata;
    std::set<std::string> versions;
    for (const auto& p : *pairs) {
        if (versions.insert(p.scorer_version).second) {
            auto st = store.verdict_strata(scorer, p.scorer_version, false);
            if (!st.ok()) {
                return st.status();
            }
            strata.push_back(std::move(*st));
        }
    }
    return calibrate(*pairs, strata, options);
}

nlohmann::json to_json(const VersionCalibration& c) {
    nlohmann::json by_verdict = nlohmann::json::array();
    for (const auto& v : c.by_verdict) {
        by_verdict.push_back({{"verdict", v.verdict},
                              {"scored", v.scored},
                              {"share", v.share},
                              {"labels", v.all.labels},
                              {"agree", v.all.agree},
                              {"rate", opt_json(v.all.rate)},
                              {"ci95", ci_json(v.all.ci95)},
                              {"queue", proportion_json(v.queue)}});
    }
    const VerdictAgreement* fails = c.failures();
    nlohmann::json j = {
        {"scorer", c.scorer},
        {"scorer_version", c.version},
        {"labels", c.labels},
        {"queue_labels", c.queue_labels},
        {"agreement",
         {{"value", opt_json(c.agreement.value)},
          {"ci95", ci_json(c.agreement.ci95)},
          {"labels", c.agreement.labels},
          {"effective_labels", c.agreement.effective_labels},
          {"not_measured", c.agreement.value ? nlohmann::json(nullptr)
                                             : nlohmann::json(c.agreement.not_measured)}}},
        {"by_verdict", by_verdict},
        {"precision_of_failures",
         fails && fails->all.labels > 0 ? proportion_json(fails->all) : nlohmann::json(nullptr)},
        {"pass_fail", c.pass_fail ? kappa_json(*c.pass_fail) : nlohmann::json(nullptr)},
        {"choice", c.choice ? kappa_json(*c.choice) : nlohmann::json(nullptr)},
        {"numeric",
         {{"pairs", c.numeric_pairs},
          {"spearman", opt_json(c.spearman)},
          {"mae", opt_json(c.mae)}}},
        {"warnings", c.warnings}};
    return j;
}

std::string to_table(const VersionCalibration& c) {
    std::string out = "scorer " + c.scorer + " version " + c.version + ": " +
                      std::to_string(c.labels) + " labels (" + std::to_string(c.queue_labels) +
                      " from the calibration queue)\n";
    if (c.agreement.value) {
        out +=
            "  agreement: " + fmt(c.agreement.value) + ci_text(c.agreement.ci95) + " from " +
            std::to_string(c.agreement.labels) +
            " calibration-queue labels, each verdict weighted by its share of the scored traces\n";
    } else {
        out += "  agreement: not measured: " + c.agreement.not_measured + "\n";
    }
    for (const auto& v : c.by_verdict) {
        out += "  scorer said " + v.verdict + " (" + std::to_string(v.scored) + " scored traces, " +
               percent(v.share) + "): ";
        if (v.all.labels == 0) {
            out += "no agree/disagree label yet\n";
            continue;
        }
        out += "reviewers agreed on " + std::to_string(v.all.agree) + " of " +
               std::to_string(v.all.labels) + " labels = " + fmt(v.all.rate) + ci_text(v.all.ci95) +
               (v.verdict == "fail" ? ": the precision of the failures it flags" : "") + "\n";
    }
    if (c.pass_fail) {
        out += matrix_table("  pass/fail", *c.pass_fail);
    }
    if (c.choice) {
        out += matrix_table("  choice", *c.choice);
    }
    out += "  numeric: spearman " + fmt(c.spearman) + ", MAE " + fmt(c.mae) + " over " +
           std::to_string(c.numeric_pairs) + " labels\n";
    for (const auto& w : c.warnings) {
        out += "  WARNING: " + w + "\n";
    }
    return out;
}

}  // namespace assay::review
