// `eddy tail`: prints a stream's records as JSON lines on stdout, rendered in the stream's
// format (or --format). Opens the data directory read-only, so it runs beside `eddy run`.
//
// Order: records of each shard in sequence order; across shards, merged by sequence number
// (one per-stream counter), which is commit order for what was durable when each round of
// reads began. Without --follow it exits after every durable record; with --follow it keeps
// waiting for new ones until SIGINT/SIGTERM.
#include <cstdio>
#include <iostream>
#include <deque>
#include <map>

#include "api/api_context.h"
#include "app/commands.h"
#include "app/shutdown.h"
#include "format/json.h"
#include "format/renderer.h"
#include "log/chunking.h"
#include "log/log_store.h"
#include "model/event_codec.h"

namespace eddy::app {
namespace {

struct TailFlags {
  std::string data_dir;
  std::string stream;
  std::string from = "trim-horizon";
  bool follow = false;
  std::string format;
  std::string view_type;
};

// One shard's reader with a buffered batch and chunk reassembly.
struct ShardCursor {
  uint32_t shard_index = 0;
  std::unique_ptr<log::ShardReader> reader;
  log::Reassembler reassembler;
  std::deque<log::Record> buffered;
  bool finished = false;  // closed shard fully read
};

class Tail {
 public:
  Tail(TailFlags flags) : flags_(std::move(flags)) {}

  int Run() {
    log::LogStoreOptions options;
    options.read_only = true;
    auto store = log::LogStore::Open(flags_.data_dir, options);
    if (!store.ok()) return Fail(store.status());
    store_ = std::move(*store);
    auto stream = store_->GetStream(flags_.stream);
    if (!stream.ok()) return Fail(stream.status());
    stream_ = *stream;
    info_ = stream_->Describe();
    if (Status status = SetUpRendering(); !status.ok()) return Fail(status, kExitUsage);
    if (Status status = ResolveStart(); !status.ok()) return Fail(status, kExitUsage);

    ShutdownSignal& shutdown = ShutdownSignal::Install();
    while (true) {
      if (Status status = OpenNewShards(); !status.ok()) return Fail(status);
      if (Status status = DrainOnce(); !status.ok()) return Fail(status);
      std::fflush(stdout);
      if (!flags_.follow || shutdown.requested()) break;
      // Wait for new data on any open shard; the read-only store re-checks the commit journal.
      auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
      for (auto& [index, cursor] : cursors_) {
        if (!cursor.finished) {
          cursor.reader->WaitForData(deadline).IgnoreError();  // a failed wait just re-reads
          break;
        }
      }
      if (shutdown.requested()) break;
      info_ = stream_->Describe();
    }
    return kExitOk;
  }

 private:
  int Fail(const Status& status, int code = kExitFailure) {
    std::fprintf(stderr, "eddy tail: %s\n", status.message().c_str());
    return code;
  }

  Status SetUpRendering() {
    cdc_ = api::IsCdcStream(info_);
    std::string format = flags_.format.empty() ? api::StreamTag(info_, api::kTagFormat, "native")
                                               : flags_.format;
    std::string view = flags_.view_type.empty()
                           ? api::StreamTag(info_, api::kTagViewType, "NEW_AND_OLD_IMAGES")
                           : flags_.view_type;
    if (!cdc_) return Status::Ok();
    EDDY_ASSIGN_OR_RETURN(renderer_, format::MakeRenderer(format));
    EDDY_ASSIGN_OR_RETURN(view_, format::ParseViewType(view));
    return Status::Ok();
  }

  Status ResolveStart() {
    if (flags_.from == "trim-horizon") {
      start_ = log::StartPosition::TrimHorizon();
    } else if (flags_.from == "latest") {
      start_ = log::StartPosition::Latest();
    } else {
      auto parsed = log::ParseSequenceNumber(flags_.from);
      if (!parsed.ok()) {
        return InvalidArgument("--from '" + flags_.from +
                               "' is neither trim-horizon, latest nor a sequence number");
      }
      start_ = log::StartPosition::AtSequence(parsed->sequence);
    }
    return Status::Ok();
  }

  // Opens a reader for every shard not yet seen (including children created by resharding
  // while following). A sequence-number start applies to every shard: each reader starts at
  // its first record at or after it.
  Status OpenNewShards() {
    for (const auto& shard : info_.shards) {
      if (cursors_.count(shard.index) || shard.expired) continue;
      log::StartPosition start = start_;
      if (start.type == log::IteratorType::kAtSequenceNumber) {
        start = shard.last_sequence < start.sequence || shard.last_sequence.value() == 0
                    ? log::StartPosition::Latest()
                    : log::StartPosition::AtSequence(std::max(start.sequence, shard.trim_horizon));
      }
      if (start.type == log::IteratorType::kLatest && opened_once_) {
        // Shards that appear while following start at their beginning.
        start = log::StartPosition::TrimHorizon();
      }
      auto reader = stream_->OpenReader(shard.index, start);
      if (!reader.ok()) return reader.status().WithContext("opening " + shard.id);
      ShardCursor cursor;
      cursor.shard_index = shard.index;
      cursor.reader = std::move(*reader);
      cursors_.emplace(shard.index, std::move(cursor));
    }
    opened_once_ = true;
    return Status::Ok();
  }

  Status Refill(ShardCursor& cursor) {
    while (cursor.buffered.empty() && !cursor.finished) {
      log::ReadLimits limits;
      limits.max_records = 1000;
      limits.max_bytes = 8u << 20;
      EDDY_ASSIGN_OR_RETURN(log::ReadBatch batch, cursor.reader->Read(limits));
      for (auto& record : batch.records) {
        EDDY_ASSIGN_OR_RETURN(auto whole, cursor.reassembler.Add(std::move(record)));
        if (whole) cursor.buffered.push_back(std::move(*whole));
      }
      if (batch.end_of_shard) cursor.finished = true;
      if (batch.records.empty()) break;  // caught up
    }
    return Status::Ok();
  }

  // Prints everything currently durable, merged across shards by sequence number.
  Status DrainOnce() {
    while (true) {
      ShardCursor* next = nullptr;
      for (auto& [index, cursor] : cursors_) {
        EDDY_RETURN_IF_ERROR(Refill(cursor));
        if (cursor.buffered.empty()) continue;
        if (next == nullptr || cursor.buffered.front().sequence < next->buffered.front().sequence) {
          next = &cursor;
        }
      }
      if (next == nullptr) return Status::Ok();
      log::Record record = std::move(next->buffered.front());
      next->buffered.pop_front();
      EDDY_RETURN_IF_ERROR(Print(next->shard_index, record));
    }
  }

  Status Print(uint32_t shard_index, const log::Record& record) {
    std::string sequence = log::FormatSequenceNumber(record.sequence, shard_index,
                                                     ShardCreation(shard_index));
    std::string line;
    if (cdc_) {
      auto event = model::DecodeEvent(record.payload);
      if (!event.ok()) {
        return event.status().WithContext("record " + sequence + " of shard " +
                                          log::FormatShardId(shard_index));
      }
      format::RecordContext context;
      context.sequence_number = sequence;
      line = renderer_->Render(*event, view_, context);
      if (line.empty()) return Status::Ok();  // the format has no record for this event
    } else {
      format::JsonWriter writer;
      writer.BeginObject();
      writer.Member("SequenceNumber", sequence);
      writer.Member("ShardId", log::FormatShardId(shard_index));
      writer.Member("PartitionKey", record.partition_key);
      writer.Member("Data", format::Base64Encode(record.payload));
      writer.MemberInt("ApproximateArrivalTimestamp", record.arrival_nanos / 1'000'000);
      writer.EndObject();
      line = writer.Take();
    }
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
    return Status::Ok();
  }

  int64_t ShardCreation(uint32_t shard_index) const {
    for (const auto& shard : info_.shards) {
      if (shard.index == shard_index) return shard.creation_nanos;
    }
    return 0;
  }

  TailFlags flags_;
  std::unique_ptr<log::LogStore> store_;
  std::shared_ptr<log::Stream> stream_;
  log::StreamInfo info_;
  bool cdc_ = false;
  std::unique_ptr<format::Renderer> renderer_;
  format::ViewType view_ = format::ViewType::kNewAndOldImages;
  log::StartPosition start_;
  bool opened_once_ = false;
  std::map<uint32_t, ShardCursor> cursors_;
};

}  // namespace

void RegisterTailCommand(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<TailFlags>();
  auto* command = app.add_subcommand(
      "tail", "Print a stream's records as JSON lines (safe beside a running eddy run)");
  command->add_option("--data-dir", flags->data_dir, "The data directory")->required();
  command->add_option("--stream", flags->stream, "The stream")->required();
  command->add_option("--from", flags->from, "trim-horizon (default), latest, or a sequence number");
  command->add_flag("--follow", flags->follow, "Keep printing new records until interrupted");
  command->add_option("--format", flags->format,
                      "native|debezium|debezium-schema|dms|dynamodb (default: the stream's)");
  command->add_option("--view-type", flags->view_type,
                      "NEW_AND_OLD_IMAGES|NEW_IMAGE|OLD_IMAGE|KEYS_ONLY (default: the stream's)");
  command->callback([&runner, flags] {
    runner = [flags] { return Tail(*flags).Run(); };
  });
}

}  // namespace eddy::app
