#pragma once
// Pieces of the Prometheus text exposition format (version 0.0.4) shared by
// everything that renders /metrics lines: the worker's pipeline counters, the
// OTLP intake, the judge stage and the monitoring gauges. Pure functions;
// thread-safe.

#include <string>
#include <string_view>

namespace assay::prom {

// A label value with backslash, double quote and newline escaped.
std::string label(std::string_view value);

// Appends the "# HELP name help" and "# TYPE name type" lines of a family.
void header(std::string& out, std::string_view name, std::string_view type, std::string_view help);

// A sample value: shortest round-trip text of a double ("%.17g").
std::string number(double value);

}  // namespace assay::prom
