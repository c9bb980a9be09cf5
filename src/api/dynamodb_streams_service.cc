#include "api/dynamodb_streams_service.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>

#include "api/kinesis_service.h"
#include "api/shard_read.h"

namespace eddy::api {
namespace {

constexpr int64_t kNanosPerMilli = 1'000'000;
constexpr size_t kMaxRecordsBytes = 1u << 20;

using StreamPtr = std::shared_ptr<log::Stream>;

ApiError InternalServerError(std::string message) {
  return MakeApiError("InternalServerError", std::move(message), 500);
}

// Maps a log status to DynamoDB Streams' error vocabulary.
ApiError StreamsErrorFromStatus(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kNotFound:
      return ResourceNotFoundError("Requested resource not found: " + status.message());
    case ErrorCode::kTrimmed:
      return MakeApiError("TrimmedDataAccessException", status.message());
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange:
      return ValidationError(status.message());
    case ErrorCode::kResourceExhausted:
      return LimitExceededError(status.message());
    default:
      return InternalServerError(status.message());
  }
}

struct ResolvedStream {
  StreamPtr stream;
  log::StreamInfo info;
};

class Handler {
 public:
  Handler(const ApiContext* context, RequestBody& in, JsonWriter& out)
      : context_(context), in_(in), out_(out) {}

  std::optional<ApiError> ListStreams();
  std::optional<ApiError> DescribeStream();
  std::optional<ApiError> GetShardIterator();
  std::optional<ApiError> GetRecords();

 private:
  std::string TableName(const log::StreamInfo& info) const {
    return StreamTag(info, kTagTable, info.name);
  }
  std::string StreamArn(const log::StreamInfo& info) const {
    return "arn:aws:dynamodb:" + context_->region + ":" + context_->account_id + ":table/" +
           TableName(info) + "/stream/" + DynamoDbStreamLabel(info.creation_nanos);
  }
  // CDC streams, sorted by ARN.
  std::vector<ResolvedStream> CdcStreams() const {
    std::vector<ResolvedStream> streams;
    for (const auto& name : context_->store->ListStreams()) {
      auto stream = context_->store->GetStream(name);
      if (!stream.ok()) continue;
      log::StreamInfo info = (*stream)->Describe();
      if (!IsCdcStream(info)) continue;
      streams.push_back({*stream, std::move(info)});
    }
    std::sort(streams.begin(), streams.end(), [&](const auto& a, const auto& b) {
      return StreamArn(a.info) < StreamArn(b.info);
    });
    return streams;
  }
  std::optional<ResolvedStream> FindByArn(const std::string& arn) const {
    // The table name sits between "table/" and "/stream/"; the stream is found by ARN.
    for (auto& resolved : CdcStreams()) {
      if (StreamArn(resolved.info) == arn) return resolved;
    }
    return std::nullopt;
  }
  ApiError StreamNotFound(const std::string& arn) const {
    return ResourceNotFoundError("Requested resource not found: Stream: " + arn + " not found");
  }

  const ApiContext* context_;
  RequestBody& in_;
  JsonWriter& out_;
};

std::optional<ApiError> Handler::ListStreams() {
  ConstraintChecker check;
  auto table = in_.String("TableName");
  auto limit = in_.Integer("Limit");
  auto start = in_.String("ExclusiveStartStreamArn");
  check.Length("tableName", table, 3, 255);
  check.Range("limit", limit, 1, 100);
  check.Length("exclusiveStartStreamArn", start, 37, 1024);
  if (in_.error()) return in_.error();
  if (auto error = check.error()) return error;
  size_t max = static_cast<size_t>(limit.value_or(100));
  std::vector<ResolvedStream> page;
  for (auto& resolved : CdcStreams()) {
    if (table && TableName(resolved.info) != *table) continue;
    if (start && StreamArn(resolved.info) <= *start) continue;
    page.push_back(std::move(resolved));
  }
  bool more = page.size() > max;
  if (more) page.resize(max);
  out_.BeginObject();
  out_.Key("Streams");
  out_.BeginArray();
  for (const auto& resolved : page) {
    out_.BeginObject();
    out_.Member("StreamArn", StreamArn(resolved.info));
    out_.Member("TableName", TableName(resolved.info));
    out_.Member("StreamLabel", DynamoDbStreamLabel(resolved.info.creation_nanos));
    out_.EndObject();
  }
  out_.EndArray();
  if (more) out_.Member("LastEvaluatedStreamArn", StreamArn(page.back().info));
  out_.EndObject();
  return std::nullopt;
}

std::optional<ApiError> Handler::DescribeStream() {
  ConstraintChecker check;
  auto arn = in_.String("StreamArn");
  auto limit = in_.Integer("Limit");
  auto start = in_.String("ExclusiveStartShardId");
  auto filter_object = in_.Object("ShardFilter");
  check.Required("streamArn", arn.has_value());
  check.Length("streamArn", arn, 37, 1024);
  check.Range("limit", limit, 1, 100);
  check.Length("exclusiveStartShardId", start, 28, 65);
  std::optional<std::string> filter_type, filter_shard;
  if (filter_object) {
    RequestBody filter(*filter_object);
    filter_type = filter.String("Type");
    filter_shard = filter.String("ShardId");
    if (filter.error()) return filter.error();
    check.Enum("shardFilter.type", filter_type, {"CHILD_SHARDS"});
  }
  if (in_.error()) return in_.error();
  if (auto error = check.error()) return error;
  auto resolved = FindByArn(*arn);
  if (!resolved) return StreamNotFound(*arn);
  const log::StreamInfo& info = resolved->info;

  std::optional<uint32_t> parent_filter;
  if (filter_type) {
    if (!filter_shard) {
      return ValidationError("ShardFilter of type CHILD_SHARDS requires a ShardId.");
    }
    parent_filter = ParseDynamoDbShardId(*filter_shard);
    if (!parent_filter) return ResourceNotFoundError("Requested resource not found: Shard: " +
                                                     *filter_shard + " not found");
  }
  int64_t after = -1;
  if (start) {
    auto index = ParseDynamoDbShardId(*start);
    after = index ? static_cast<int64_t>(*index) : -1;
  }
  std::vector<const log::ShardInfo*> shards;
  for (const auto& shard : info.shards) {
    if (shard.expired || static_cast<int64_t>(shard.index) <= after) continue;
    if (parent_filter && shard.parent_index != parent_filter &&
        shard.adjacent_parent_index != parent_filter) {
      continue;
    }
    shards.push_back(&shard);
  }
  size_t max = static_cast<size_t>(limit.value_or(100));
  bool more = shards.size() > max;
  if (more) shards.resize(max);

  out_.BeginObject();
  out_.Key("StreamDescription");
  out_.BeginObject();
  out_.Member("StreamArn", StreamArn(info));
  out_.Member("StreamLabel", DynamoDbStreamLabel(info.creation_nanos));
  out_.Member("StreamStatus", "ENABLED");
  out_.Member("StreamViewType", StreamTag(info, kTagViewType, "NEW_AND_OLD_IMAGES"));
  out_.Key("CreationRequestDateTime");
  out_.TimestampMillis(info.creation_nanos / kNanosPerMilli);
  out_.Member("TableName", TableName(info));
  std::string key_columns = StreamTag(info, kTagKeyColumns);
  if (!key_columns.empty()) {
    out_.Key("KeySchema");
    out_.BeginArray();
    size_t begin = 0;
    for (int position = 0; position < 2 && begin <= key_columns.size(); ++position) {
      size_t comma = key_columns.find(',', begin);
      std::string column = key_columns.substr(begin, comma == std::string::npos ? std::string::npos
                                                                                 : comma - begin);
      if (!column.empty()) {
        out_.BeginObject();
        out_.Member("AttributeName", column);
        out_.Member("KeyType", position == 0 ? "HASH" : "RANGE");
        out_.EndObject();
      }
      if (comma == std::string::npos) break;
      begin = comma + 1;
    }
    out_.EndArray();
  }
  out_.Key("Shards");
  out_.BeginArray();
  for (const auto* shard : shards) {
    out_.BeginObject();
    out_.Member("ShardId", DynamoDbShardId(shard->index, shard->creation_nanos));
    out_.Key("SequenceNumberRange");
    out_.BeginObject();
    out_.Member("StartingSequenceNumber", DynamoDbSequenceNumber(shard->starting_sequence.value()));
    if (shard->ending_sequence) {
      out_.Member("EndingSequenceNumber", DynamoDbSequenceNumber(shard->ending_sequence->value()));
    }
    out_.EndObject();
    if (shard->parent_index) {
      for (const auto& parent : info.shards) {
        if (parent.index == *shard->parent_index) {
          out_.Member("ParentShardId", DynamoDbShardId(parent.index, parent.creation_nanos));
        }
      }
    }
    out_.EndObject();
  }
  out_.EndArray();
  if (more) {
    out_.Member("LastEvaluatedShardId",
                DynamoDbShardId(shards.back()->index, shards.back()->creation_nanos));
  }
  out_.EndObject();
  out_.EndObject();
  return std::nullopt;
}

std::optional<ApiError> Handler::GetShardIterator() {
  ConstraintChecker check;
  auto arn = in_.String("StreamArn");
  auto shard_id = in_.String("ShardId");
  auto type = in_.String("ShardIteratorType");
  auto sequence = in_.String("SequenceNumber");
  check.Required("streamArn", arn.has_value());
  check.Length("streamArn", arn, 37, 1024);
  check.Required("shardId", shard_id.has_value());
  check.Length("shardId", shard_id, 28, 65);
  check.Required("shardIteratorType", type.has_value());
  check.Enum("shardIteratorType", type,
             {"TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"});
  check.Length("sequenceNumber", sequence, 21, 40);
  if (in_.error()) return in_.error();
  if (auto error = check.error()) return error;
  auto resolved = FindByArn(*arn);
  if (!resolved) return StreamNotFound(*arn);
  auto index = ParseDynamoDbShardId(*shard_id);
  const log::ShardInfo* shard = nullptr;
  for (const auto& candidate : resolved->info.shards) {
    if (index && candidate.index == *index && !candidate.expired) shard = &candidate;
  }
  if (shard == nullptr) {
    return ResourceNotFoundError("Requested resource not found: Shard: " + *shard_id +
                                 " in Stream: " + *arn + " not found");
  }
  bool needs_sequence = *type == "AT_SEQUENCE_NUMBER" || *type == "AFTER_SEQUENCE_NUMBER";
  if (needs_sequence != sequence.has_value()) {
    return ValidationError(needs_sequence
                               ? "SequenceNumber is required for ShardIteratorType " + *type
                               : "SequenceNumber must not be given for ShardIteratorType " + *type);
  }
  log::StartPosition start = *type == "LATEST" ? log::StartPosition::Latest()
                                               : log::StartPosition::TrimHorizon();
  if (needs_sequence) {
    auto parsed = ParseDynamoDbSequenceNumber(*sequence);
    if (!parsed) return ValidationError("Invalid SequenceNumber " + *sequence);
    start = *type == "AT_SEQUENCE_NUMBER"
                ? log::StartPosition::AtSequence(SequenceNumber(*parsed))
                : log::StartPosition::AfterSequence(SequenceNumber(*parsed));
  }
  auto reader = resolved->stream->OpenReader(shard->index, start);
  if (!reader.ok()) return StreamsErrorFromStatus(reader.status());
  IteratorPosition position;
  position.api = IteratorApi::kDynamoDbStreams;
  position.issued_millis = context_->NowMillis();
  position.stream_created_millis = resolved->info.creation_nanos / kNanosPerMilli;
  position.shard_index = shard->index;
  position.next_sequence = (*reader)->next_sequence().value();
  position.stream_name = resolved->info.name;
  out_.BeginObject();
  out_.Member("ShardIterator", context_->iterators.Encode(position));
  out_.EndObject();
  return std::nullopt;
}

std::optional<ApiError> Handler::GetRecords() {
  ConstraintChecker check;
  auto iterator = in_.String("ShardIterator");
  auto limit = in_.Integer("Limit");
  check.Required("shardIterator", iterator.has_value());
  check.Length("shardIterator", iterator, 1, 2048);
  check.Range("limit", limit, 1, 1000);
  if (in_.error()) return in_.error();
  if (auto error = check.error()) return error;
  auto position = context_->iterators.Decode(*iterator);
  if (!position.ok() || position->api != IteratorApi::kDynamoDbStreams) {
    return ValidationError("Invalid ShardIterator.");
  }
  int64_t now = context_->NowMillis();
  if (now - position->issued_millis > DynamoDbStreamsService::kIteratorLifetimeMillis) {
    return MakeApiError("ExpiredIteratorException", "Iterator expired");
  }
  auto stream = context_->store->GetStream(position->stream_name);
  if (!stream.ok()) {
    return ResourceNotFoundError("Requested resource not found: Stream: " +
                                 position->stream_name + " not found");
  }
  log::StreamInfo info = (*stream)->Describe();
  if (info.creation_nanos / kNanosPerMilli != position->stream_created_millis) {
    return ResourceNotFoundError("Requested resource not found: Stream: " +
                                 position->stream_name + " not found");
  }
  if (!context_->rendering.dynamodb_record) {
    return InternalServerError("No DynamoDB Streams record renderer is configured on this "
                               "server (RecordRendering::dynamodb_record).");
  }
  auto reader = (*stream)->OpenReader(
      position->shard_index, log::StartPosition::AtSequence(SequenceNumber(position->next_sequence)));
  if (!reader.ok()) return StreamsErrorFromStatus(reader.status());
  log::ReadLimits limits;
  limits.max_records = static_cast<size_t>(limit.value_or(1000));
  limits.max_bytes = kMaxRecordsBytes;
  ShardReadOptions read_options;
  read_options.limits = limits;
  auto read = ReadWholeRecords(**reader, read_options);
  if (!read.ok()) return StreamsErrorFromStatus(read.status());
  const std::vector<log::Record>& records = read->records;
  out_.BeginObject();
  out_.Key("Records");
  out_.BeginArray();
  for (const auto& record : records) {
    auto rendered = context_->rendering.dynamodb_record(
        info, record, DynamoDbSequenceNumber(record.sequence.value()));
    if (!rendered.ok()) return StreamsErrorFromStatus(rendered.status());
    if (rendered->has_value()) out_.RawValue(**rendered);
  }
  out_.EndArray();
  if (!read->read_to_end()) {
    IteratorPosition next = *position;
    next.issued_millis = now;
    next.next_sequence = read->resume.value();
    out_.Member("NextShardIterator", context_->iterators.Encode(next));
  }
  out_.EndObject();
  return std::nullopt;
}

}  // namespace

std::string DynamoDbStreamLabel(int64_t creation_nanos) {
  int64_t millis = creation_nanos / kNanosPerMilli;
  time_t seconds = static_cast<time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[96];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03d", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis % 1000));
  return text;
}

std::string DynamoDbShardId(uint32_t shard_index, int64_t shard_creation_nanos) {
  char text[64];
  std::snprintf(text, sizeof(text), "shardId-%020lld-%08x",
                static_cast<long long>(shard_creation_nanos / kNanosPerMilli), shard_index);
  return text;
}

std::optional<uint32_t> ParseDynamoDbShardId(std::string_view shard_id) {
  // shardId- + 20 digits + '-' + 8 hex = 37 characters.
  if (shard_id.size() != 37 || shard_id.substr(0, 8) != "shardId-" || shard_id[28] != '-') {
    return std::nullopt;
  }
  for (char c : shard_id.substr(8, 20)) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  uint32_t index = 0;
  std::string_view hex = shard_id.substr(29);
  auto [ptr, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), index, 16);
  if (ec != std::errc() || ptr != hex.data() + hex.size()) return std::nullopt;
  return index;
}

std::string DynamoDbSequenceNumber(uint64_t sequence) {
  char text[32];
  std::snprintf(text, sizeof(text), "1%020llu", static_cast<unsigned long long>(sequence));
  return text;
}

std::optional<uint64_t> ParseDynamoDbSequenceNumber(std::string_view text) {
  if (text.size() != 21 || text[0] != '1') return std::nullopt;
  uint64_t value = 0;
  std::string_view digits = text.substr(1);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
  return value;
}

bool DynamoDbStreamsService::Knows(std::string_view operation) {
  return operation == "ListStreams" || operation == "DescribeStream" ||
         operation == "GetShardIterator" || operation == "GetRecords";
}

std::optional<ApiError> DynamoDbStreamsService::Handle(std::string_view operation,
                                                       RequestBody& input, JsonWriter& out) {
  Handler handler(context_, input, out);
  if (operation == "ListStreams") return handler.ListStreams();
  if (operation == "DescribeStream") return handler.DescribeStream();
  if (operation == "GetShardIterator") return handler.GetShardIterator();
  if (operation == "GetRecords") return handler.GetRecords();
  return MakeApiError("UnknownOperationException", "Unknown operation " + std::string(operation));
}

}  // namespace eddy::api
