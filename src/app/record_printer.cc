#include "app/record_printer.h"

#include "format/json.h"
#include "format/native_encoded.h"
#include "log/kinesis.h"
#include "log/stream_tags.h"
#include "model/event_codec.h"

namespace eddy::app {

Result<RecordPrinter> RecordPrinter::Create(const log::StreamInfo& info,
                                            const RecordPrinterOptions& options) {
  RecordPrinter printer;
  if (!log::IsCdcStream(info)) return printer;
  std::string format =
      options.format.empty() ? log::StreamTag(info, log::kTagFormat, "native") : options.format;
  std::string view = options.view_type.empty()
                         ? log::StreamTag(info, log::kTagViewType, "NEW_AND_OLD_IMAGES")
                         : options.view_type;
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<format::Renderer> renderer, format::MakeRenderer(format));
  printer.native_ = renderer->name() == "native";
  printer.renderer_ = std::move(renderer);
  EDDY_ASSIGN_OR_RETURN(printer.view_, format::ParseViewType(view));
  return printer;
}

Status RecordPrinter::AppendLine(const consume::ReadRecord& read, std::string* out) const {
  const log::Record& record = read.record;
  return Append(read.shard_index, read.shard_creation_nanos, record.sequence, record.partition_key,
                record.payload, record.arrival_nanos, out);
}

Status RecordPrinter::AppendLine(const consume::ReadRecordView& read, std::string* out) const {
  const log::RecordView& record = read.record;
  return Append(read.shard_index, read.shard_creation_nanos, record.sequence, record.partition_key,
                record.payload, record.arrival_nanos, out);
}

Status RecordPrinter::Append(uint32_t shard_index, int64_t shard_creation_nanos,
                             SequenceNumber sequence_number, std::string_view partition_key,
                             std::string_view payload, int64_t arrival_nanos,
                             std::string* out) const {
  // Native row changes are written straight from the encoded event (format/native_encoded.h);
  // the native record has no sequence number, so none is formatted.
  if (native_ && format::AppendNativeRecord(payload, view_, out)) {
    out->push_back('\n');
    return Status::Ok();
  }
  std::string sequence =
      log::FormatSequenceNumber(sequence_number, shard_index, shard_creation_nanos);
  if (renderer_ != nullptr) {
    auto event = model::DecodeEvent(payload);
    if (!event.ok()) {
      return event.status().WithContext("record " + sequence + " of " +
                                        log::FormatShardId(shard_index));
    }
    format::RecordContext context;
    context.sequence_number = std::move(sequence);
    std::string line = renderer_->Render(*event, view_, context);
    if (line.empty()) return Status::Ok();  // the format has no record for this event
    out->append(line);
    out->push_back('\n');
    return Status::Ok();
  }
  format::JsonWriter writer;
  writer.BeginObject();
  writer.Member("SequenceNumber", sequence);
  writer.Member("ShardId", log::FormatShardId(shard_index));
  writer.Member("PartitionKey", partition_key);
  writer.Member("Data", format::Base64Encode(payload));
  writer.MemberInt("ApproximateArrivalTimestamp", arrival_nanos / 1'000'000);
  writer.EndObject();
  out->append(writer.str());
  out->push_back('\n');
  return Status::Ok();
}

}  // namespace eddy::app
