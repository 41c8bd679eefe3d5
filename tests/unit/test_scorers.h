#pragma once
// Scorer types registered only in the unit-test binary, so pipeline and
// config tests do not depend on the real scorers' semantics:
//   test_len:   value = output bytes; passed = bytes <= max (key `max`, default 10);
//               missing_input on empty output; failed when output == "boom";
//               throws std::runtime_error when output == "throw";
//               not_applicable when metadata.kind == "skip".
//   test_judge: a deferred (judge-like) type; sample_rate required.
