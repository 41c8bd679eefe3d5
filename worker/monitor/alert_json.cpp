#include "monitor/alert_json.h"

#include "core/time_format.h"

namespace assay {

nlohmann::json alert_json(const AlertRecord& a) {
    using nlohmann::json;
    return {
        {"id", a.id},
        {"rule", a.rule},
        {"kind", a.kind},
        {"group", a.group_key},
        {"value", a.value},
        {"baseline", a.baseline},
        {"count", a.count},
        {"baseline_count", a.baseline_count},
        {"p_value", a.p_value},
        {"message", a.message},
        {"fired_at", format_rfc3339_ms(a.fired_ms)},
        {"resolved_at", a.resolved_ms ? json(format_rfc3339_ms(*a.resolved_ms)) : json(nullptr)}};
}

}  // namespace assay
