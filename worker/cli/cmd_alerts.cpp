// `assay alerts`: list stored alerts; `assay alerts check`: evaluate the
// configured rules once (cron, tests), deliver notices, print the findings.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/monitor_args.h"
#include "cli/output.h"
#include "config/config.h"
#include "core/time_format.h"
#include "monitor/alert_json.h"
#include "monitor/alert_manager.h"
#include "store/aggregate_store.h"
#include "store/alert_store.h"

namespace assay::cli {

namespace {

struct AlertsArgs {
    std::string db, config, format = "table", now;
    int limit = 50;
};

const char* delivery_name(Delivery d) {
    switch (d) {
        case Delivery::pending:
            return "pending";
        case Delivery::delivered:
            return "delivered";
        case Delivery::no_webhook:
            return "no_webhook";
        case Delivery::failed:
            return "failed";
    }
    return "?";
}

// Not measured: null.
nlohmann::json nullable(const std::optional<double>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// The stored alert (monitor/alert_json.h) with its state and deliveries.
nlohmann::json stored_alert_json(const AlertRecord& a) {
    nlohmann::json j = alert_json(a);
    j["state"] = a.state;
    j["fire_delivery"] = delivery_name(a.fire_delivered);
    j["resolve_delivery"] = delivery_name(a.resolve_delivered);
    j["delivery_error"] = a.delivery_error;
    return j;
}

int run_list(const AlertsArgs& a) {
    auto path = resolve_db_path("alerts", a.db, a.config);
    if (!path) {
        return 2;
    }
    auto store = open_alert_store(*path);
    if (!store.ok()) {
        std::fprintf(stderr, "assay alerts: %s\n", store.status().message().c_str());
        return 2;
    }
    auto list = (*store)->list(a.limit);
    if (!list.ok()) {
        std::fprintf(stderr, "assay alerts: %s\n", list.status().message().c_str());
        return 2;
    }
    if (a.format == "json") {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& x : *list) {
            out.push_back(stored_alert_json(x));
        }
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return 0;
    }
    if (list->empty()) {
        std::printf("no alerts\n");
        return 0;
    }
    std::vector<std::vector<std::string>> rows = {
        {"id", "rule", "group", "state", "fired", "resolved", "delivery", "message"}};
    for (const auto& x : *list) {
        rows.push_back({std::to_string(x.id), x.rule, x.group_key, x.state,
                        format_rfc3339_ms(x.fired_ms),
                        x.resolved_ms ? format_rfc3339_ms(*x.resolved_ms) : "-",
                        std::string(delivery_name(x.fire_delivered)) + "/" +
                            delivery_name(x.resolve_delivered),
                        x.message});
    }
    print_table(rows);
    return 0;
}

int run_check(const AlertsArgs& a) {
    ConfigOverrides flags;
    if (!a.db.empty()) {
        flags.db = a.db;
    }
    auto cfg = load_config(a.config, flags, environ_map());
    if (!cfg.ok()) {
        std::fprintf(stderr, "assay alerts check: %s\n", cfg.status().message().c_str());
        return 2;
    }
    auto path = resolve_db_path("alerts check", cfg->store.sqlite_path, "");
    auto now = resolve_now("alerts check", a.now);
    if (!path || !now) {
        return 2;
    }
    auto agg = open_aggregate_store(*path);
    auto alerts = open_alert_store(*path);
    if (!agg.ok() || !alerts.ok()) {
        std::fprintf(stderr, "assay alerts check: %s\n",
                     (!agg.ok() ? agg.status() : alerts.status()).message().c_str());
        return 2;
    }
    std::unique_ptr<Notifier> notifier;
    if (!cfg->monitoring.alerts.webhook.url.empty()) {
        notifier = std::make_unique<WebhookNotifier>(cfg->monitoring.alerts.webhook);
    }
    AlertManager manager(cfg->monitoring.alerts, **agg, **alerts, notifier.get());
    auto rep = manager.check(*now);
    if (!rep.ok()) {
        std::fprintf(stderr, "assay alerts check: %s\n", rep.status().message().c_str());
        return 2;
    }
    for (const auto& e : rep->errors) {
        std::fprintf(stderr, "assay alerts check: delivery: %s\n", e.c_str());
    }
    if (a.format == "json") {
        nlohmann::json out;
        out["now"] = format_rfc3339_ms(*now);
        out["findings"] = nlohmann::json::array();
        for (const auto& f : rep->findings) {
            out["findings"].push_back({{"rule", f.rule},
                                       {"kind", to_string(f.kind)},
                                       {"group", f.group_key},
                                       {"state", to_string(f.state)},
                                       {"value", nullable(f.value)},
                                       {"baseline", nullable(f.baseline)},
                                       {"count", f.count},
                                       {"baseline_count", f.baseline_count},
                                       {"p_value", nullable(f.p_value)},
                                       {"message", f.message}});
        }
        out["fired"] = nlohmann::json::array();
        for (const auto& x : rep->fired) {
            out["fired"].push_back(stored_alert_json(x));
        }
        out["resolved"] = nlohmann::json::array();
        for (const auto& x : rep->resolved) {
            out["resolved"].push_back(stored_alert_json(x));
        }
        out["suppressed"] = rep->suppressed;
        out["delivered"] = rep->delivered;
        out["delivery_failures"] = rep->delivery_failures;
        out["held_elsewhere"] = rep->held_elsewhere;
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
        std::vector<std::vector<std::string>> rows = {
            {"rule", "group", "state", "n", "p", "detail"}};
        for (const auto& f : rep->findings) {
            rows.push_back({f.rule, f.group_key, to_string(f.state), std::to_string(f.count),
                            f.p_value ? fmt_double(*f.p_value, 4) : "n/a", f.message});
        }
        if (rows.size() > 1) {
            print_table(rows);
        } else {
            std::printf("no findings (no rules, or no data for them)\n");
        }
        std::printf(
            "\n%zu fired, %zu resolved, %d suppressed by cooldown, %d notices delivered, %d "
            "failed, %d being delivered by another checker\n",
            rep->fired.size(), rep->resolved.size(), rep->suppressed, rep->delivered,
            rep->delivery_failures, rep->held_elsewhere);
    }
    return rep->delivery_failures > 0 ? 1 : 0;
}

}  // namespace

void add_alerts_command(CLI::App& app, Runner& run) {
    auto a = std::make_shared<AlertsArgs>();
    CLI::App* c = app.add_subcommand(
        "alerts", "List stored alerts; `alerts check` evaluates the alert rules once");
    c->add_option(
        "--db", a->db,
        "SQLite file or postgresql:// URI (default: ASSAY_DB, the store of --config, ./assay.db)");
    c->add_option("--config,-c", a->config, "Config file (store.sqlite; alert rules for check)");
    c->add_option("--format", a->format, "Output format")->check(CLI::IsMember({"table", "json"}));
    c->add_option("--limit,-n", a->limit, "How many alerts to list, newest first")
        ->check(CLI::Range(1, 1000000));
    CLI::App* check = c->add_subcommand(
        "check", "Evaluate the alert rules once, deliver notices, print the findings");
    check->add_option("--config,-c", a->config, "Config file with the alerts block");
    check->add_option("--db", a->db,
                      "SQLite file or postgresql:// URI (overrides store.sqlite / store.postgres)");
    check->add_option("--now", a->now, "Evaluate as of this RFC 3339 time (default: now)");
    check->add_option("--format", a->format, "Output format")
        ->check(CLI::IsMember({"table", "json"}));
    c->callback([a, check, &run] {
        if (check->parsed()) {
            run = [a] { return run_check(*a); };
        } else {
            run = [a] { return run_list(*a); };
        }
    });
}

}  // namespace assay::cli
