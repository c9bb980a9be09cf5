#include "api/shard_read.h"

#include <algorithm>
#include <utility>

#include "log/chunking.h"

namespace eddy::api {

Result<ShardRead> ReadWholeRecords(log::ShardReader& reader, const ShardReadOptions& options) {
  ShardRead out;
  log::Reassembler reassembler;
  log::ReadBatch& batch = out.last_batch;
  SequenceNumber pending_head;  // head of the chunked payload being reassembled
  for (int round = 0; round < 64; ++round) {
    EDDY_ASSIGN_OR_RETURN(batch, reader.Read(options.limits));
    if (round == 0 && batch.records.empty() && !batch.end_of_shard &&
        options.wait_when_empty.count() > 0) {
      EDDY_RETURN_IF_ERROR(
          reader.WaitForData(std::chrono::steady_clock::now() + options.wait_when_empty));
      EDDY_ASSIGN_OR_RETURN(batch, reader.Read(options.limits));
    }
    bool whole_records = round == 0 && std::all_of(batch.records.begin(), batch.records.end(),
                                                   [](const log::Record& record) {
                                                     return record.kind == log::RecordKind::kData;
                                                   });
    if (whole_records) {
      // The common case (no chunked payloads): the batch is the reply, without the reassembler.
      for (const auto& record : batch.records) {
        out.bytes += record.payload.size() + record.partition_key.size();
      }
      out.records = std::move(batch.records);
      batch.records.clear();
      break;
    }
    for (auto& record : batch.records) {
      if (record.kind == log::RecordKind::kChunkedHead) pending_head = record.sequence;
      out.bytes += record.payload.size() + record.partition_key.size();
      EDDY_ASSIGN_OR_RETURN(std::optional<log::Record> whole, reassembler.Add(std::move(record)));
      if (whole.has_value()) out.records.push_back(std::move(*whole));
    }
    if (!reassembler.pending() || batch.records.empty() || batch.end_of_shard ||
        out.bytes >= options.max_bytes_read_on) {
      break;
    }
  }
  batch.records.clear();
  out.group_pending = reassembler.pending();
  // A group that did not complete within the caps: the next call starts again at its head.
  out.resume = out.group_pending ? pending_head : batch.next_sequence;
  return out;
}

}  // namespace eddy::api
