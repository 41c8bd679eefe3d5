#include "pipeline/scorer_set.h"

#include <cctype>
#include <set>

#include "core/scorer_registry.h"

namespace assay {

namespace {

bool valid_name(const std::string& n) {
    if (n.empty() || n.size() > 64) {
        return false;
    }
    for (char c : n) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
            return false;
        }
    }
    return true;
}

std::string known_types() {
    std::string s;
    for (const auto* t : ScorerRegistry::instance().all()) {
        s += (s.empty() ? "" : ", ") + t->type;
    }
    return s;
}

}  // namespace

Result<std::vector<ConfiguredScorer>> build_scorers(const YAML::Node& scorers,
                                                    const std::string& salt,
                                                    const std::string& base_dir) {
    std::vector<ConfiguredScorer> out;
    if (!scorers || scorers.IsNull()) {
        return out;
    }
    if (!scorers.IsSequence()) {
        return Status::invalid_argument("key 'scorers': expected a list of scorer entries");
    }
    std::set<std::string> names;
    for (size_t i = 0; i < scorers.size(); ++i) {
        const YAML::Node& entry = scorers[i];
        std::string where = "scorers[" + std::to_string(i) + "]";
        if (!entry.IsMap()) {
            return Status::invalid_argument(where + ": expected a mapping with name and type");
        }
        ConfigBlock block(entry, where, base_dir);
        auto type = block.get_string("type");
        auto name = block.get_string("name");
        if (!type) {
            ASSAY_RETURN_IF_ERROR(block.finish());
            return Status::invalid_argument(
                where + ": key 'type' is required (one of: " + known_types() + ")");
        }
        ConfiguredScorer cs;
        cs.type = *type;
        cs.name = name.value_or(*type);
        where += " (" + cs.name + ")";
        block = ConfigBlock(entry, where, base_dir);
        block.mark_used("type");
        block.mark_used("name");
        if (!valid_name(cs.name)) {
            return Status::invalid_argument(
                where + ": key 'name': use 1-64 letters, digits, '_', '-' or '.'");
        }
        if (!names.insert(cs.name).second) {
            return Status::invalid_argument(where + ": key 'name': '" + cs.name +
                                            "' is used twice");
        }
        cs.type_info = ScorerRegistry::instance().find(cs.type);
        if (cs.type_info == nullptr) {
            return Status::invalid_argument(where + ": key 'type': unknown scorer type '" +
                                            cs.type + "' (known: " + known_types() + ")");
        }

        // Generic keys: sample_rate, filter, always_when.
        auto rate = block.get_double("sample_rate");
        if (rate) {
            if (*rate < 0 || *rate > 1) {
                block.fail("sample_rate", "must be between 0 and 1");
            }
            cs.policy.rate = *rate;
        } else if (cs.type_info->default_sample_rate < 0) {
            block.fail("sample_rate", "is required for " + cs.type + " scorers");
        } else {
            cs.policy.rate = cs.type_info->default_sample_rate;
        }
        cs.policy.salt = salt;
        if (auto f = block.get_node("filter")) {
            auto filter = Filter::parse(*f, where + ": key 'filter'");
            if (!filter.ok()) {
                return filter.status();
            }
            cs.policy.filter = std::move(filter.value());
        }
        if (auto a = block.get_node("always_when")) {
            auto always = AlwaysWhen::parse(*a, where + ": key 'always_when'");
            if (!always.ok()) {
                return always.status();
            }
            cs.policy.always = std::move(always.value());
        }

        Status built;
        if (cs.type_info->make_deferred != nullptr) {
            auto deferred = cs.type_info->make_deferred(block);
            built = deferred.status();
            if (deferred.ok()) {
                cs.deferred = std::shared_ptr<const DeferredScorer>(std::move(deferred).value());
            }
        } else {
            auto impl = cs.type_info->make(block);
            built = impl.status();
            if (impl.ok()) {
                cs.impl = std::shared_ptr<const Scorer>(std::move(impl).value());
            }
        }
        ASSAY_RETURN_IF_ERROR(block.finish());
        if (!built.ok()) {
            const std::string& m = built.message();
            return Status::invalid_argument(m.rfind(where, 0) == 0 ? m : where + ": " + m);
        }
        cs.version =
            std::to_string(cs.type_info->impl_version) + "." +
            block.version_fingerprint({"name", "sample_rate", "filter", "always_when", "when"});
        cs.config_json = yaml_to_json(entry).dump();
        out.push_back(std::move(cs));
    }
    return out;
}

std::vector<ScorerVersionInfo> version_infos(const std::vector<ConfiguredScorer>& scorers) {
    std::vector<ScorerVersionInfo> out;
    out.reserve(scorers.size());
    for (const auto& s : scorers) {
        out.push_back({s.name, s.version, s.type, s.config_json});
    }
    return out;
}

}  // namespace assay
