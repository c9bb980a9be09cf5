// The changes of one source transaction between its first change and its commit: kept in
// memory up to a byte budget, then spilled to a file under the spill directory, so memory
// stays bounded whatever the transaction size (streamed in-progress transactions can be
// arbitrarily large and several can be open at once).
//
// Each entry is one change event tagged with the (sub)transaction xid that made it, so a Stream
// Abort of one subtransaction drops only its changes. In memory, events are kept as objects
// (their size estimated); spilled ones are encoded with the model's event codec. Spill file
// layout (private, deleted on Finish/Discard; never read after a restart):
//
//   entry := u32 LE subxid | u32 LE length | length bytes of EncodeEvent
//
// Thread safety: one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "io/file_system.h"
#include "model/event.h"

namespace eddy::source::postgres {

class TransactionBuffer {
 public:
  // `spill_path`: the file to create when memory exceeds `memory_budget_bytes`.
  TransactionBuffer(io::FileSystem* file_system, std::string spill_path,
                    size_t memory_budget_bytes);
  ~TransactionBuffer();  // removes the spill file
  TransactionBuffer(const TransactionBuffer&) = delete;
  TransactionBuffer& operator=(const TransactionBuffer&) = delete;

  Status Add(uint32_t subxid, model::ChangeEvent event);
  // Marks a subtransaction aborted: its changes are skipped by ForEach.
  void AbortSubtransaction(uint32_t subxid) { aborted_.insert(subxid); }

  // Calls `visit` for every change not aborted, in arrival order. Moves the in-memory events
  // out: call once.
  Status ForEach(const std::function<Status(model::ChangeEvent&&)>& visit);

  size_t count() const { return count_; }
  bool spilled() const { return file_ != nullptr; }
  uint64_t spilled_bytes() const { return spilled_bytes_; }
  size_t memory_bytes() const { return memory_bytes_; }

 private:
  struct Entry {
    uint32_t subxid;
    model::ChangeEvent event;
  };
  Status Spill();

  io::FileSystem* file_system_;
  std::string spill_path_;
  size_t memory_budget_bytes_;
  std::vector<Entry> entries_;
  size_t memory_bytes_ = 0;
  size_t count_ = 0;
  std::unique_ptr<io::File> file_;
  uint64_t spilled_bytes_ = 0;
  std::set<uint32_t> aborted_;
};

}  // namespace eddy::source::postgres
