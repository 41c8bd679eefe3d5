#include "core/text_table.h"

#include <algorithm>

#include "core/text.h"

namespace assay {

std::string format_table(const std::vector<std::vector<std::string>>& rows,
                         std::string_view indent) {
    std::vector<size_t> widths;
    for (const auto& r : rows) {
        widths.resize(std::max(widths.size(), r.size()), 0);
        for (size_t i = 0; i < r.size(); ++i) {
            widths[i] = std::max(widths[i], count_code_points(r[i]));
        }
    }
    std::string out;
    for (const auto& r : rows) {
        out += indent;
        for (size_t i = 0; i < r.size(); ++i) {
            out += r[i];
            if (i + 1 < r.size()) {
                out.append(widths[i] - count_code_points(r[i]) + 2, ' ');
            }
        }
        out += '\n';
    }
    return out;
}

}  // namespace assay
