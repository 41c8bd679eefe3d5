#pragma once
// The worker (`assay worker`): every configured trace source (ZeroMQ, OTLP)
// feeding one Pipeline from one producer thread, the judge stage, the
// monitor loop and the ops server (/metrics, /healthz, /readyz), until a stop
// is requested; then the drain: the sources stop reading, everything
// received is committed and acknowledged, the judge stage and the monitor
// stop.
//
// run_worker() blocks on the calling thread. `stop` may be set from any
// thread or a signal handler. `on_ready(line)` runs once, when every listener
// is up, with the line scripts wait for ("listening router=... store=...").
// Returns OK after a clean drain; otherwise a Status naming the problem: a
// start-up failure (no source configured, a bad or busy address, a store
// that does not open) or the store error that stopped the pipeline. A drain
// that outlasts worker.shutdown_deadline_ms ends the process with exit code
// 3 (committed traces are safe; unacknowledged ones are resent by
// acknowledged producers).

#include <atomic>
#include <functional>
#include <string>

#include "config/config.h"
#include "core/status.h"

namespace assay {

Status run_worker(const Config& cfg, const std::atomic<bool>& stop,
                  const std::function<void(const std::string& line)>& on_ready);

}  // namespace assay
