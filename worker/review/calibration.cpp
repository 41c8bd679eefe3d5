#include "review/calibration.h"

#include <cstdio>
#include <map>
#include <set>

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

nlohmann::json kappa_json(const KappaResult& k) {
    return {{"kappa", opt_json(k.kappa)},
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
    std::string out = title + ": kappa " + fmt(k.kappa) + " over " +
                      std::to_string(k.matrix.total) + " labels (observed agreement " +
                      fmt(k.observed) + ", by chance " + fmt(k.expected) + ")\n";
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

std::vector<VersionCalibration> calibrate(const std::vector<CalibrationPair>& pairs,
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
            c.warnings.push_back(
                "kappa is undefined (every label falls in one category): label more varied traces");
        }
        out.push_back(std::move(c));
    }
    return out;
}

nlohmann::json to_json(const VersionCalibration& c) {
    nlohmann::json j = {
        {"scorer", c.scorer},
        {"scorer_version", c.version},
        {"labels", c.labels},
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
                      std::to_string(c.labels) + " labels\n";
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
