#include "review/trends.h"

#include <cstdio>
#include <map>

#include "core/time_format.h"

namespace assay::review {

std::optional<int64_t> day_number(const std::string& day) { return parse_day(day); }

std::vector<Series> build_series(const std::vector<TrendPoint>& points) {
    std::vector<Series> out;
    std::map<std::string, size_t> index;
    std::map<std::string, bool> has_pass;
    for (const auto& p : points) {
        has_pass[p.feature] = has_pass[p.feature] || p.pass_rate.has_value();
    }
    for (const auto& p : points) {
        auto it = index.find(p.feature);
        if (it == index.end()) {
            it = index.emplace(p.feature, out.size()).first;
            out.push_back({p.feature, has_pass[p.feature] ? "pass_rate" : "mean", {}});
        }
        Series& s = out[it->second];
        double v = s.metric == "pass_rate" ? p.pass_rate.value_or(0.0) : p.mean;
        s.points.push_back({p.day, p.n, v, 0});
    }
    for (auto& s : out) {
        for (size_t i = 0; i < s.points.size(); ++i) {
            auto di = day_number(s.points[i].day).value_or(0);
            double sum = 0;
            int cnt = 0;
            for (size_t j = i + 1; j-- > 0;) {
                auto dj = day_number(s.points[j].day).value_or(0);
                if (di - dj > 6) {
                    break;
                }
                sum += s.points[j].value;
                ++cnt;
            }
            s.points[i].ma7 = cnt ? sum / cnt : 0;
        }
    }
    return out;
}

nlohmann::json series_json(const std::vector<Series>& series) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : series) {
        nlohmann::json pts = nlohmann::json::array();
        for (const auto& p : s.points) {
            pts.push_back({{"day", p.day}, {"n", p.n}, {"value", p.value}, {"ma7", p.ma7}});
        }
        out.push_back({{"feature", s.feature}, {"metric", s.metric}, {"points", pts}});
    }
    return out;
}

}  // namespace assay::review
