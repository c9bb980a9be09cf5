// CheckpointStore: the durable state of every named consumer (sink) of the data directory:
// its stream, state, position and counters. Format: docs/formats/consumer-checkpoint.md.
//
// Durability: Save returns only after the new state is fsync'd and atomically replaces the
// old one (temp file, fsync, rename, fsync of the directory, through io::FileSystem), so after
// a crash a consumer's state is either the last saved one or the one before, never torn. A
// file that fails its CRC is reported as kCorruption naming the file, never silently reset.
//
// Registration: every consumer with a saved state is registered with its stream; the engine's
// retention pass asks Holds() what the log must keep for them (log::RetentionHolds).
//
// Thread safety: every method may be called from any thread; one writer per consumer name.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "consume/sink.h"
#include "io/file_system.h"
#include "log/log_store.h"

namespace eddy::consume {

// An operator's request to a running sink (`eddy sink pause|resume|reset`), kept in the state
// until the sink applies it.
enum class ControlRequest : uint8_t { kNone = 0, kPause = 1, kResume = 2, kReset = 3 };

struct ConsumerState {
  std::string name;
  std::string stream;
  std::string url;  // credentials removed
  SinkState state = SinkState::kCreating;
  std::string reason;  // why IMPAIRED/FAILED/PAUSED; empty when ACTIVE
  int64_t state_since_nanos = 0;
  Checkpoint checkpoint;  // the next records to deliver
  SourcePosition last_delivered_position;
  int64_t last_delivered_arrival_nanos = 0;
  uint64_t delivered_records = 0;
  uint64_t delivered_bytes = 0;
  uint64_t failed_records = 0;  // given up by the limits and sent to on_failure
  ControlRequest request = ControlRequest::kNone;
  log::StartPosition reset_to;  // with kReset
  // Does this consumer hold retention? False once FAILED for exceeding max_backlog.
  bool holds_retention = true;
};

class CheckpointStore {
 public:
  // `data_dir` is the eddy data directory; states live under data_dir/consumers/.
  static Result<std::unique_ptr<CheckpointStore>> Open(const std::string& data_dir,
                                                       io::FileSystem* fs = nullptr);
  virtual ~CheckpointStore() = default;

  // kNotFound for an unknown consumer.
  [[nodiscard]] virtual Result<ConsumerState> Load(const std::string& name) = 0;
  [[nodiscard]] virtual Status Save(const ConsumerState& state) = 0;
  [[nodiscard]] virtual Status Remove(const std::string& name) = 0;
  [[nodiscard]] virtual Result<std::vector<ConsumerState>> List() = 0;

  // What retention must keep in `stream` for its registered consumers that hold retention:
  // per shard the lowest checkpointed sequence among them.
  [[nodiscard]] virtual Result<log::RetentionHolds> Holds(const std::string& stream) = 0;
};

// The later of two checkpoints: the one of the later generation whole (a reset, possibly
// backwards, happened after the other was taken), else shard by shard the later position (a
// finished shard is later than any position). Within one generation every committed checkpoint
// is safe on its own, so their per-shard maximum is too, whatever order batches of different
// lanes commit in. The runner resumes from the later of the store's and the destination's
// checkpoint; destinations that commit checkpoints with their data merge with it.
Checkpoint LaterCheckpoint(const Checkpoint& a, const Checkpoint& b);

// Text encoding of a Checkpoint for destinations that store it with the data (a Kafka
// transaction, an Iceberg snapshot summary, a row): stable, versioned, ASCII.
std::string EncodeCheckpoint(const Checkpoint& checkpoint);
Result<Checkpoint> DecodeCheckpoint(std::string_view text);

}  // namespace eddy::consume
