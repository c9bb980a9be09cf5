// One running source capture behind a common face, so the engine supervises PostgreSQL and
// MySQL/MariaDB captures alike.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/status.h"
#include "engine/config.h"
#include "log/log_store.h"
#include "model/schema_registry.h"
#include "source/capture_state.h"

namespace eddy::engine {

class Capture {
 public:
  virtual ~Capture() = default;
  // Stops the capture; returns the fatal error that ended it, or OK.
  virtual Status Stop() = 0;
  // True when the capture ended by itself (finished initial_only snapshot or fatal error).
  virtual bool WaitUntilFinished(std::chrono::milliseconds timeout) = 0;
  // One line for the operator: state, positions, counts, last error.
  virtual std::string ProgressLine() const = 0;
  // The capture's state (source/capture_state.h).
  virtual source::CaptureState State() const = 0;
  // The last error it reported (reconnecting or failed); empty when none.
  virtual std::string LastError() const = 0;
  // Change events appended so far.
  virtual uint64_t events() const = 0;
  // Where the capture stands in the source, as its own position text: the durable LSN (and
  // the one acknowledged to the slot) for PostgreSQL, binlog file:position (and GTID) for
  // MySQL/MariaDB.
  virtual std::string Position() const = 0;
  // Snapshot progress for the operator ("" when no snapshot ran in this process): rows read
  // of the estimate or tables done for a blocking snapshot, state, rows and chunks for an
  // incremental one.
  virtual std::string SnapshotProgress() const = 0;
};

// Starts the capture of `config.source` into `stream` (named `stream_config.name`), choosing
// PostgreSQL or MySQL/MariaDB by the URL scheme. `stream_count` is the number of configured
// streams: with more than one, each stream gets its own PostgreSQL slot and publication
// (`<slot_name>_<stream>`), since each stream keeps its own exactly-once position.
// `schemas` is the stream's schema registry (the capture records every table schema it
// decodes with there); null only in tests.
Result<std::unique_ptr<Capture>> StartCapture(
    const EngineConfig& config, const StreamConfig& stream_config, size_t stream_index,
    size_t stream_count, std::shared_ptr<log::Stream> stream,
    std::shared_ptr<model::SchemaRegistry> schemas = nullptr);

}  // namespace eddy::engine
