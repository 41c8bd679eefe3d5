#include "core/placeholder_template.h"

#include <algorithm>

namespace assay {

namespace {

int line_of(std::string_view text, size_t offset) {
    return 1 + static_cast<int>(std::count(
                   text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

}  // namespace

bool is_placeholder_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

Result<std::vector<TemplatePiece>> scan_placeholders(
    std::string_view text, const std::function<bool(std::string_view)>& is_known,
    std::string_view help) {
    std::vector<TemplatePiece> pieces;
    auto blank = [&text](size_t i) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) {
            ++i;
        }
        return i;
    };
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t open = text.find("{{", pos);
        if (open == std::string_view::npos) {
            pieces.push_back({false, std::string(text.substr(pos)), line_of(text, pos)});
            break;
        }
        if (open > pos) {
            pieces.push_back(
                {false, std::string(text.substr(pos, open - pos)), line_of(text, pos)});
        }
        const int line = line_of(text, open);
        size_t i = blank(open + 2);
        const size_t name_begin = i;
        while (i < text.size() && is_placeholder_name_char(text[i])) {
            ++i;
        }
        const std::string_view name = text.substr(name_begin, i - name_begin);
        i = blank(i);
        if (name.empty() || text.substr(i, 2) != "}}") {
            return Status::invalid_argument("line " + std::to_string(line) +
                                            ": '{{' does not start a variable; " +
                                            std::string(help));
        }
        if (!is_known(name)) {
            return Status::invalid_argument("line " + std::to_string(line) +
                                            ": unknown variable {{" + std::string(name) + "}}; " +
                                            std::string(help));
        }
        pieces.push_back({true, std::string(name), line});
        pos = i + 2;
    }
    return pieces;
}

}  // namespace assay
