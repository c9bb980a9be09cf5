#include "engine/shaping_stream.h"

#include "model/event_codec.h"

namespace eddy::engine {
namespace {

class ShapingStream final : public log::Stream {
 public:
  ShapingStream(std::shared_ptr<log::Stream> inner, format::Shaper shaper)
      : inner_(std::move(inner)), shaper_(std::move(shaper)) {}

  const std::string& name() const override { return inner_->name(); }
  log::StreamInfo Describe() override { return inner_->Describe(); }
  Result<log::ShardInfo> DescribeShard(uint32_t shard_index) override {
    return inner_->DescribeShard(shard_index);
  }

  Result<log::AppendResult> AppendTransaction(std::vector<log::AppendRecord> records,
                                              SourcePosition end_position) override {
    std::vector<size_t> kept;  // input index of each shaped record
    EDDY_ASSIGN_OR_RETURN(std::vector<log::AppendRecord> shaped, Shape(records, &kept));
    EDDY_ASSIGN_OR_RETURN(log::AppendResult result,
                          inner_->AppendTransaction(std::move(shaped), std::move(end_position)));
    if (result.duplicate) return result;
    // Report one entry per input record, as the contract says; filtered records point at
    // nothing (shard 0, sequence 0).
    std::vector<log::AppendedRecord> per_input(records.size());
    for (size_t j = 0; j < kept.size() && j < result.records.size(); ++j) {
      per_input[kept[j]] = result.records[j];
    }
    result.records = std::move(per_input);
    return result;
  }

  Result<std::unique_ptr<log::TransactionAppender>> BeginTransaction() override;

  // Shapes `records` (change events); `kept` receives the input index of each output record.
  Result<std::vector<log::AppendRecord>> Shape(std::vector<log::AppendRecord>& records,
                                               std::vector<size_t>* kept) const {
    std::vector<log::AppendRecord> shaped;
    shaped.reserve(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      auto event = model::DecodeEvent(records[i].payload);
      if (!event.ok()) {
        return Internal("stream '" + inner_->name() + "' shapes change events, and record " +
                        std::to_string(i) + " is not one: " + event.status().message());
      }
      std::optional<model::ChangeEvent> result = shaper_.Apply(*event);
      if (!result) continue;  // table excluded
      log::AppendRecord record;
      record.partition_key = result->PartitionKey();
      record.payload = model::EncodeEvent(*result);
      record.position = std::move(records[i].position);
      shaped.push_back(std::move(record));
      if (kept != nullptr) kept->push_back(i);
    }
    return shaped;
  }

  Result<log::AppendedRecord> Append(log::AppendRecord) override {
    return FailedPrecondition("stream '" + inner_->name() +
                              "' is a CDC stream; plain appends are not accepted");
  }
  Result<std::vector<log::AppendedRecord>> AppendRecords(std::vector<log::AppendRecord>) override {
    return FailedPrecondition("stream '" + inner_->name() +
                              "' is a CDC stream; plain appends are not accepted");
  }
  SourcePosition HighestDurablePosition() override { return inner_->HighestDurablePosition(); }
  Result<std::unique_ptr<log::ShardReader>> OpenReader(uint32_t shard_index,
                                                       log::StartPosition start) override {
    return inner_->OpenReader(shard_index, start);
  }
  Result<std::vector<uint32_t>> SplitShard(uint32_t shard_index, log::HashKey key) override {
    return inner_->SplitShard(shard_index, key);
  }
  Result<uint32_t> MergeShards(uint32_t shard_index, uint32_t adjacent_shard_index) override {
    return inner_->MergeShards(shard_index, adjacent_shard_index);
  }
  Status UpdateOptions(int64_t retention_nanos, uint64_t retention_bytes,
                       std::map<std::string, std::string> tags) override {
    return inner_->UpdateOptions(retention_nanos, retention_bytes, std::move(tags));
  }
  Result<size_t> EnforceRetention() override { return inner_->EnforceRetention(); }

 private:
  std::shared_ptr<log::Stream> inner_;
  format::Shaper shaper_;
};

// Shapes each part before handing it to the wrapped stream's appender, so a transaction
// appended in parts is shaped exactly like one given to AppendTransaction.
class ShapingTransactionAppender final : public log::TransactionAppender {
 public:
  ShapingTransactionAppender(const ShapingStream* stream,
                             std::unique_ptr<log::TransactionAppender> inner)
      : stream_(stream), inner_(std::move(inner)) {}

  Status Append(std::vector<log::AppendRecord> records) override {
    EDDY_ASSIGN_OR_RETURN(std::vector<log::AppendRecord> shaped, stream_->Shape(records, nullptr));
    if (shaped.empty()) return Status::Ok();
    return inner_->Append(std::move(shaped));
  }
  Result<log::TransactionCommitResult> Commit(SourcePosition end_position) override {
    return inner_->Commit(std::move(end_position));
  }
  Status Abort() override { return inner_->Abort(); }

 private:
  const ShapingStream* stream_;  // outlives the appender: the caller holds the stream
  std::unique_ptr<log::TransactionAppender> inner_;
};

Result<std::unique_ptr<log::TransactionAppender>> ShapingStream::BeginTransaction() {
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<log::TransactionAppender> inner,
                        inner_->BeginTransaction());
  return std::unique_ptr<log::TransactionAppender>(
      std::make_unique<ShapingTransactionAppender>(this, std::move(inner)));
}

}  // namespace

std::shared_ptr<log::Stream> MakeShapingStream(std::shared_ptr<log::Stream> inner,
                                               format::Shaper shaper) {
  return std::make_shared<ShapingStream>(std::move(inner), std::move(shaper));
}

}  // namespace eddy::engine
