#include "api/kinesis_service.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "api/sequence_format.h"
#include "api/shard_read.h"

namespace eddy::api {
namespace {

constexpr int64_t kNanosPerMilli = 1'000'000;
constexpr int64_t kNanosPerHour = 3600LL * 1'000'000'000;
constexpr size_t kMaxGetRecordsBytes = 10u << 20;
constexpr size_t kMaxPutRecordsBytes = 10u << 20;
constexpr int64_t kNextTokenLifetimeMillis = 300'000;

using StreamPtr = std::shared_ptr<log::Stream>;

// Either a value or an ApiError, for the helpers below.
template <typename T>
struct Or {
  std::optional<T> value;
  std::optional<ApiError> error;
  Or(T v) : value(std::move(v)) {}                 // NOLINT: implicit
  Or(ApiError e) : error(std::move(e)) {}          // NOLINT: implicit
};

bool IsArnChar(char c) { return c > 0x20 && c < 0x7f; }

// A stream name or shard id member: 1 to 128 of [a-zA-Z0-9_.-].
void CheckName(ConstraintChecker& check, std::string_view field,
               const std::optional<std::string>& value) {
  check.Length(field, value, 1, 128);
  check.Charset(field, value, "[a-zA-Z0-9_.-]+", IsNameChar);
}

// A decimal number member of at most `max_digits` digits (sequence numbers: 129, hash keys:
// 39), worded as AWS words the pattern.
void CheckDecimal(ConstraintChecker& check, std::string_view field,
                  const std::optional<std::string>& value, size_t max_digits) {
  if (value && !IsDecimalNumber(*value, max_digits)) {
    check.Custom(field, *value,
                 "Member must satisfy regular expression pattern: 0|([1-9]\\d{0," +
                     std::to_string(max_digits - 1) + "})");
  }
}

bool IsReservedTag(std::string_view key) { return key.rfind(kReservedTagPrefix, 0) == 0; }

ApiError ReservedTagError() {
  return InvalidArgumentError("Tag keys starting with '" + std::string(kReservedTagPrefix) +
                              "' are reserved.");
}

// A record larger than the stream's maximum (data plus partition key).
std::optional<ApiError> CheckRecordSize(const log::AppendRecord& record,
                                        const log::StreamInfo& info) {
  if (record.payload.size() + record.partition_key.size() <= info.options.max_record_bytes) {
    return std::nullopt;
  }
  return InvalidArgumentError(
      "Record size (data plus partition key) exceeds the stream's "
      "maximum record size of " +
      std::to_string(info.options.max_record_bytes / 1024) + " KiB.");
}

// A reader at `start`; a position behind the retention horizon reads from the oldest record
// still kept.
Result<std::unique_ptr<log::ShardReader>> OpenReaderWithinRetention(log::Stream& stream,
                                                                    uint32_t shard_index,
                                                                    log::StartPosition start) {
  auto reader = stream.OpenReader(shard_index, start);
  if (!reader.ok() && reader.status().code() == ErrorCode::kTrimmed) {
    reader = stream.OpenReader(shard_index, log::StartPosition::TrimHorizon());
  }
  return reader;
}

class Handler {
 public:
  Handler(const ApiContext* context, RequestBody& in, JsonWriter& out, int get_records_wait_ms)
      : context_(context), in_(in), out_(out), get_records_wait_ms_(get_records_wait_ms) {}

  std::optional<ApiError> Run(std::string_view operation);

 private:
  // ---- helpers ----
  std::string NotFoundMessage(std::string_view name) const {
    return "Stream " + std::string(name) + " under account " + context_->account_id +
           " not found.";
  }
  // Reads StreamName / StreamARN and opens the stream.
  Or<StreamPtr> ResolveStream(ConstraintChecker& check, std::optional<std::string>* name_out);
  Or<StreamPtr> OpenStream(const std::string& name);
  void WriteShard(const log::ShardInfo& shard);
  void WriteModeDetails(const log::StreamInfo& info);
  int64_t RetentionHours(const log::StreamInfo& info) const {
    return info.options.retention_nanos / kNanosPerHour;
  }
  std::optional<ApiError> InputError(ConstraintChecker& check) {
    if (in_.error()) return in_.error();
    return check.error();
  }
  std::optional<ApiError> RejectCdcWrites(const log::StreamInfo& info) {
    if (IsCdcStream(info)) {
      return MakeApiError("AccessDeniedException",
                          "Stream " + info.name + " under account " + context_->account_id +
                              " is a change-data-capture stream fed by eddy's capture; it is "
                              "read-only through the Kinesis API.");
    }
    return std::nullopt;
  }
  Or<log::ShardInfo> FindShard(const StreamPtr& stream, const std::string& shard_id);
  ApiError ShardNotFoundError(std::string_view shard_id, std::string_view stream_name) const {
    return ResourceNotFoundError("Shard " + std::string(shard_id) + " in stream " +
                                 std::string(stream_name) + " under account " +
                                 context_->account_id + " does not exist");
  }
  ApiError ShardClosedError(std::string_view shard_id, std::string_view stream_name) const {
    return InvalidArgumentError("Shard " + std::string(shard_id) + " in stream " +
                                std::string(stream_name) + " under account " +
                                context_->account_id +
                                " has already been merged or split, and thus is not eligible "
                                "for merging or splitting.");
  }
  // `operation` (SplitShard, MergeShards) on an ON_DEMAND stream.
  static std::optional<ApiError> RejectOnDemand(const StreamPtr& stream,
                                                std::string_view operation) {
    if (StreamTag(stream->Describe(), kTagStreamMode) != "ON_DEMAND") return std::nullopt;
    return ValidationError(std::string(operation) +
                           " is not supported for a stream in ON_DEMAND mode.");
  }
  // The reply of an operation that answers with an empty object.
  std::optional<ApiError> EmptyReply() {
    out_.BeginObject();
    out_.EndObject();
    return std::nullopt;
  }
  // Replaces the stream's retention and tags (keeping its retention bytes) and replies with
  // an empty object.
  std::optional<ApiError> UpdateOptions(const StreamPtr& stream, const log::StreamInfo& info,
                                        int64_t retention_nanos,
                                        const std::map<std::string, std::string>& tags,
                                        const std::string& name) {
    Status updated = stream->UpdateOptions(retention_nanos, info.options.retention_bytes, tags);
    if (!updated.ok()) return ApiErrorFromStatus(updated, name);
    return EmptyReply();
  }
  // StreamName, StreamARN, StreamStatus and StreamModeDetails (DescribeStream, its summary
  // and ListStreams' StreamSummaries).
  void WriteStreamIdentity(const log::StreamInfo& info);
  // RetentionPeriodHours, StreamCreationTimestamp, EnhancedMonitoring and EncryptionType.
  void WriteStreamRetention(const log::StreamInfo& info);

 public:
  // ---- operations ----
  std::optional<ApiError> CreateStream();
  std::optional<ApiError> DeleteStream();
  std::optional<ApiError> DescribeStream();
  std::optional<ApiError> DescribeStreamSummary();
  std::optional<ApiError> ListStreams();
  std::optional<ApiError> ListShards();
  std::optional<ApiError> GetShardIterator();
  std::optional<ApiError> GetRecords();
  std::optional<ApiError> PutRecord();
  std::optional<ApiError> PutRecords();
  std::optional<ApiError> SplitShard();
  std::optional<ApiError> MergeShards();
  std::optional<ApiError> UpdateShardCount();
  std::optional<ApiError> ChangeRetention(bool increase);
  std::optional<ApiError> AddTagsToStream();
  std::optional<ApiError> RemoveTagsFromStream();
  std::optional<ApiError> ListTagsForStream();
  std::optional<ApiError> DescribeLimits();

 private:
  const ApiContext* context_;
  RequestBody& in_;
  JsonWriter& out_;
  int get_records_wait_ms_ = 0;  // opt-in GetRecords wait (0: answer at once, as AWS)
};

const std::map<std::string_view, std::optional<ApiError> (Handler::*)()>& Operations() {
  static const auto* operations =
      new std::map<std::string_view, std::optional<ApiError> (Handler::*)()>{
          {"CreateStream", &Handler::CreateStream},
          {"DeleteStream", &Handler::DeleteStream},
          {"DescribeStream", &Handler::DescribeStream},
          {"DescribeStreamSummary", &Handler::DescribeStreamSummary},
          {"ListStreams", &Handler::ListStreams},
          {"ListShards", &Handler::ListShards},
          {"GetShardIterator", &Handler::GetShardIterator},
          {"GetRecords", &Handler::GetRecords},
          {"PutRecord", &Handler::PutRecord},
          {"PutRecords", &Handler::PutRecords},
          {"SplitShard", &Handler::SplitShard},
          {"MergeShards", &Handler::MergeShards},
          {"UpdateShardCount", &Handler::UpdateShardCount},
          {"IncreaseStreamRetentionPeriod", nullptr},
          {"DecreaseStreamRetentionPeriod", nullptr},
          {"AddTagsToStream", &Handler::AddTagsToStream},
          {"RemoveTagsFromStream", &Handler::RemoveTagsFromStream},
          {"ListTagsForStream", &Handler::ListTagsForStream},
          {"DescribeLimits", &Handler::DescribeLimits},
      };
  return *operations;
}

std::optional<ApiError> Handler::Run(std::string_view operation) {
  if (operation == "IncreaseStreamRetentionPeriod") return ChangeRetention(true);
  if (operation == "DecreaseStreamRetentionPeriod") return ChangeRetention(false);
  auto it = Operations().find(operation);
  if (it == Operations().end() || it->second == nullptr) {
    return MakeApiError("UnknownOperationException", "Unknown operation " + std::string(operation));
  }
  return (this->*(it->second))();
}

Or<StreamPtr> Handler::OpenStream(const std::string& name) {
  auto stream = context_->store->GetStream(name);
  if (!stream.ok()) {
    if (stream.status().code() == ErrorCode::kNotFound) {
      return ResourceNotFoundError(NotFoundMessage(name));
    }
    return ApiErrorFromStatus(stream.status(), name);
  }
  return std::move(stream).value();
}

Or<StreamPtr> Handler::ResolveStream(ConstraintChecker& check,
                                     std::optional<std::string>* name_out) {
  auto name = in_.String("StreamName");
  auto arn = in_.String("StreamARN");
  CheckName(check, "streamName", name);
  check.Length("streamARN", arn, 1, 2048);
  check.Charset("streamARN", arn, "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+", IsArnChar);
  if (auto error = InputError(check)) return *error;
  std::optional<std::string> resolved = name;
  if (arn) {
    size_t marker = arn->find(":stream/");
    if (arn->rfind("arn:aws", 0) != 0 || arn->find(":kinesis:") == std::string::npos ||
        marker == std::string::npos) {
      return InvalidArgumentError("StreamARN " + *arn + " is not a Kinesis stream ARN "
                                  "(arn:aws:kinesis:<region>:<account>:stream/<name>).");
    }
    std::string from_arn = arn->substr(marker + 8);
    if (name && *name != from_arn) {
      return InvalidArgumentError("StreamName " + *name + " and StreamARN " + *arn +
                                  " do not name the same stream.");
    }
    resolved = from_arn;
  }
  if (!resolved) {
    return InvalidArgumentError("Stream arn and stream name can't be empty at the same time");
  }
  if (name_out) *name_out = resolved;
  return OpenStream(*resolved);
}

Or<log::ShardInfo> Handler::FindShard(const StreamPtr& stream, const std::string& shard_id) {
  auto index = log::ParseShardId(shard_id);
  if (index.ok()) {
    auto shard = stream->DescribeShard(*index);
    if (shard.ok() && !shard->expired) return *shard;
  }
  return ShardNotFoundError(shard_id, stream->name());
}

void Handler::WriteShard(const log::ShardInfo& shard) {
  out_.BeginObject();
  out_.Member("ShardId", shard.id);
  if (shard.parent_index) out_.Member("ParentShardId", log::FormatShardId(*shard.parent_index));
  if (shard.adjacent_parent_index) {
    out_.Member("AdjacentParentShardId", log::FormatShardId(*shard.adjacent_parent_index));
  }
  out_.Key("HashKeyRange");
  out_.BeginObject();
  out_.Member("StartingHashKey", shard.hash_range.start.ToString());
  out_.Member("EndingHashKey", shard.hash_range.end.ToString());
  out_.EndObject();
  out_.Key("SequenceNumberRange");
  out_.BeginObject();
  out_.Member("StartingSequenceNumber", shard.FormatSequence(shard.starting_sequence));
  if (shard.ending_sequence) {
    out_.Member("EndingSequenceNumber", shard.FormatSequence(*shard.ending_sequence));
  }
  out_.EndObject();
  out_.EndObject();
}

void Handler::WriteModeDetails(const log::StreamInfo& info) {
  out_.Key("StreamModeDetails");
  out_.BeginObject();
  out_.Member("StreamMode", StreamTag(info, kTagStreamMode, "PROVISIONED"));
  out_.EndObject();
}

void Handler::WriteStreamIdentity(const log::StreamInfo& info) {
  out_.Member("StreamName", info.name);
  out_.Member("StreamARN", context_->KinesisStreamArn(info.name));
  // Never StreamId: botocore's endpoint rules ignore endpoint_url when a request carries one.
  out_.Member("StreamStatus", "ACTIVE");
  WriteModeDetails(info);
}

void Handler::WriteStreamRetention(const log::StreamInfo& info) {
  out_.MemberInt("RetentionPeriodHours", RetentionHours(info));
  out_.Key("StreamCreationTimestamp");
  out_.TimestampMillis(info.creation_nanos / kNanosPerMilli);
  out_.Key("EnhancedMonitoring");
  out_.RawValue("[{\"ShardLevelMetrics\":[]}]");
  out_.Member("EncryptionType", "NONE");
}

// ---- CreateStream / DeleteStream ----------------------------------------------------------

std::optional<ApiError> Handler::CreateStream() {
  ConstraintChecker check;
  auto name = in_.String("StreamName");
  auto shard_count = in_.Integer("ShardCount");
  auto mode_object = in_.Object("StreamModeDetails");
  auto tags = in_.StringMap("Tags");
  auto max_record_kib = in_.Integer("MaxRecordSizeInKiB");
  std::optional<std::string> mode;
  if (mode_object) {
    RequestBody mode_body(*mode_object);
    mode = mode_body.String("StreamMode");
    if (mode_body.error()) return mode_body.error();
    check.Required("streamModeDetails.streamMode", mode.has_value());
    check.Enum("streamModeDetails.streamMode", mode, {"PROVISIONED", "ON_DEMAND"});
  }
  check.Required("streamName", name.has_value());
  CheckName(check, "streamName", name);
  check.Range("shardCount", shard_count, 1, 100000);
  check.Range("maxRecordSizeInKiB", max_record_kib, 1024, 10240);
  if (tags && (tags->empty() || tags->size() > 200)) {
    check.Custom("tags", std::to_string(tags->size()) + " tags",
                 "Member must have length between 1 and 200");
  }
  if (auto error = InputError(check)) return error;
  if (!mode) mode = shard_count ? "PROVISIONED" : "ON_DEMAND";
  if (*mode == "PROVISIONED" && !shard_count) {
    return InvalidArgumentError("ShardCount is required for a stream in PROVISIONED mode.");
  }
  uint32_t shards = static_cast<uint32_t>(shard_count.value_or(4));
  if (shards > context_->max_shards_per_stream) {
    return LimitExceededError("This request would exceed the shard limit for the account " +
                              context_->account_id + " in " + context_->region +
                              ". Limit per stream: " +
                              std::to_string(context_->max_shards_per_stream) + ".");
  }
  log::StreamOptions options;
  options.ordering = log::OrderingMode::kUnordered;
  options.shard_count = shards;
  options.max_record_bytes =
      static_cast<uint32_t>(max_record_kib.value_or(1024)) * 1024u;
  if (tags) {
    for (auto& [key, value] : *tags) {
      if (IsReservedTag(key)) return ReservedTagError();
      options.tags[key] = value;
    }
  }
  options.tags[std::string(kTagStreamMode)] = *mode;
  auto created = context_->store->CreateStream(*name, options);
  if (!created.ok()) {
    if (created.status().code() == ErrorCode::kAlreadyExists) {
      return ResourceInUseError("Stream " + *name + " under account " + context_->account_id +
                                " already exists.");
    }
    return ApiErrorFromStatus(created.status(), *name);
  }
  return EmptyReply();
}

std::optional<ApiError> Handler::DeleteStream() {
  ConstraintChecker check;
  std::optional<std::string> name;
  in_.Bool("EnforceConsumerDeletion");
  auto stream = ResolveStream(check, &name);
  if (stream.error) return stream.error;
  Status deleted = context_->store->DeleteStream(*name);
  if (!deleted.ok()) {
    if (deleted.code() == ErrorCode::kNotFound) return ResourceNotFoundError(NotFoundMessage(*name));
    return ApiErrorFromStatus(deleted, *name);
  }
  return EmptyReply();
}

// ---- Describe / List ----------------------------------------------------------------------

std::optional<ApiError> Handler::DescribeStream() {
  ConstraintChecker check;
  auto limit = in_.Integer("Limit");
  auto start = in_.String("ExclusiveStartShardId");
  check.Range("limit", limit, 1, 10000);
  CheckName(check, "exclusiveStartShardId", start);
  auto stream = ResolveStream(check, nullptr);
  if (stream.error) return stream.error;
  log::StreamInfo info = (*stream.value)->Describe();
  int64_t after = -1;
  if (start) {
    auto index = log::ParseShardId(*start);
    after = index.ok() ? static_cast<int64_t>(*index) : -1;
  }
  size_t max = static_cast<size_t>(std::min<int64_t>(limit.value_or(100), 100));
  std::vector<const log::ShardInfo*> shards;
  for (const auto& shard : info.shards) {
    if (shard.expired || static_cast<int64_t>(shard.index) <= after) continue;
    shards.push_back(&shard);
  }
  bool more = shards.size() > max;
  if (more) shards.resize(max);
  out_.BeginObject();
  out_.Key("StreamDescription");
  out_.BeginObject();
  WriteStreamIdentity(info);
  out_.Key("Shards");
  out_.BeginArray();
  for (const auto* shard : shards) WriteShard(*shard);
  out_.EndArray();
  out_.MemberBool("HasMoreShards", more);
  WriteStreamRetention(info);
  out_.EndObject();
  out_.EndObject();
  return std::nullopt;
}

std::optional<ApiError> Handler::DescribeStreamSummary() {
  ConstraintChecker check;
  auto stream = ResolveStream(check, nullptr);
  if (stream.error) return stream.error;
  log::StreamInfo info = (*stream.value)->Describe();
  int64_t open = 0;
  for (const auto& shard : info.shards) open += shard.open ? 1 : 0;
  out_.BeginObject();
  out_.Key("StreamDescriptionSummary");
  out_.BeginObject();
  WriteStreamIdentity(info);
  WriteStreamRetention(info);
  out_.MemberInt("OpenShardCount", open);
  out_.MemberInt("ConsumerCount", 0);
  out_.MemberInt("MaxRecordSizeInKiB", info.options.max_record_bytes / 1024);
  out_.EndObject();
  out_.EndObject();
  return std::nullopt;
}

std::optional<ApiError> Handler::ListStreams() {
  ConstraintChecker check;
  auto limit = in_.Integer("Limit");
  auto start = in_.String("ExclusiveStartStreamName");
  auto token = in_.String("NextToken");
  check.Range("limit", limit, 1, 10000);
  CheckName(check, "exclusiveStartStreamName", start);
  check.Length("nextToken", token, 1, 1048576);
  if (auto error = InputError(check)) return error;
  std::string after;
  if (token) {
    std::string decoded;
    if (!DecodeBase64(*token, &decoded) || decoded.rfind("eddy-streams:", 0) != 0) {
      return InvalidArgumentError("Invalid NextToken.");
    }
    after = decoded.substr(13);
  } else if (start) {
    after = *start;
  }
  std::vector<std::string> names = context_->store->ListStreams();
  std::sort(names.begin(), names.end());
  size_t max = static_cast<size_t>(std::min<int64_t>(limit.value_or(100), 100));
  std::vector<std::string> page;
  for (const auto& name : names) {
    if (!after.empty() && name <= after) continue;
    page.push_back(name);
  }
  bool more = page.size() > max;
  if (more) page.resize(max);
  out_.BeginObject();
  out_.Key("StreamNames");
  out_.BeginArray();
  for (const auto& name : page) out_.String(name);
  out_.EndArray();
  out_.MemberBool("HasMoreStreams", more);
  if (more) out_.Member("NextToken", EncodeBase64("eddy-streams:" + page.back()));
  out_.Key("StreamSummaries");
  out_.BeginArray();
  for (const auto& name : page) {
    auto stream = context_->store->GetStream(name);
    if (!stream.ok()) continue;  // deleted meanwhile
    log::StreamInfo info = (*stream)->Describe();
    out_.BeginObject();
    WriteStreamIdentity(info);
    out_.Key("StreamCreationTimestamp");
    out_.TimestampMillis(info.creation_nanos / kNanosPerMilli);
    out_.EndObject();
  }
  out_.EndArray();
  out_.EndObject();
  return std::nullopt;
}

std::optional<ApiError> Handler::ListShards() {
  ConstraintChecker check;
  auto token = in_.String("NextToken");
  auto start = in_.String("ExclusiveStartShardId");
  auto max_results = in_.Integer("MaxResults");
  in_.TimestampMillis("StreamCreationTimestamp");
  auto filter_object = in_.Object("ShardFilter");
  check.Length("nextToken", token, 1, 1048576);
  CheckName(check, "exclusiveStartShardId", start);
  check.Range("maxResults", max_results, 1, 10000);
  std::optional<std::string> filter_type, filter_shard;
  std::optional<int64_t> filter_millis;
  if (filter_object) {
    RequestBody filter(*filter_object);
    filter_type = filter.String("Type");
    filter_shard = filter.String("ShardId");
    filter_millis = filter.TimestampMillis("Timestamp");
    if (filter.error()) return filter.error();
    check.Required("shardFilter.type", filter_type.has_value());
    check.Enum("shardFilter.type", filter_type,
               {"AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST",
                "AT_TIMESTAMP", "FROM_TIMESTAMP"});
  }
  if (auto error = InputError(check)) return error;

  std::string stream_name;
  int64_t after = -1;
  StreamPtr stream;
  if (token) {
    if (start) {
      return InvalidArgumentError(
          "NextToken and ExclusiveStartShardId cannot be provided together.");
    }
    // Token: "eddy-shards:<issued ms>:<stream created ms>:<last index>:<stream name>".
    std::string decoded;
    long long issued = 0, created = 0, last = 0;
    int name_at = 0;
    if (!DecodeBase64(*token, &decoded) || decoded.size() > 400 ||
        std::sscanf(decoded.c_str(), "eddy-shards:%lld:%lld:%lld:%n", &issued, &created, &last,
                    &name_at) != 3 ||
        name_at <= 0) {
      return InvalidArgumentError("Invalid NextToken.");
    }
    if (context_->NowMillis() - issued > kNextTokenLifetimeMillis) {
      return MakeApiError("ExpiredNextTokenException",
                          "The NextToken has expired; list the shards again without it.");
    }
    stream_name = decoded.substr(static_cast<size_t>(name_at));
    // botocore's paginator resends StreamName with NextToken; accept a consistent pair.
    auto name = in_.String("StreamName");
    if (name && *name != stream_name) {
      return InvalidArgumentError("NextToken and StreamName cannot be provided together.");
    }
    auto opened = OpenStream(stream_name);
    if (opened.error) return opened.error;
    stream = *opened.value;
    if (stream->Describe().creation_nanos / kNanosPerMilli != created) {
      return InvalidArgumentError("Invalid NextToken: the stream was re-created.");
    }
    after = last;
  } else {
    std::optional<std::string> name;
    auto opened = ResolveStream(check, &name);
    if (opened.error) return opened.error;
    stream = *opened.value;
    stream_name = *name;
    if (start) {
      auto index = log::ParseShardId(*start);
      after = index.ok() ? static_cast<int64_t>(*index) : -1;
    }
  }

  log::StreamInfo info = stream->Describe();
  std::map<uint32_t, const log::ShardInfo*> by_index;
  for (const auto& shard : info.shards) {
    if (!shard.expired) by_index[shard.index] = &shard;
  }
  // When a closed shard ended: its children's creation time.
  auto closed_at = [&](const log::ShardInfo& shard) -> int64_t {
    int64_t end = INT64_MAX;
    for (uint32_t child : shard.child_indexes) {
      for (const auto& candidate : info.shards) {
        if (candidate.index == child) end = std::min(end, candidate.creation_nanos);
      }
    }
    return end;
  };
  auto has_listed_parent = [&](const log::ShardInfo& shard) {
    return (shard.parent_index && by_index.count(*shard.parent_index)) ||
           (shard.adjacent_parent_index && by_index.count(*shard.adjacent_parent_index));
  };
  std::string type = filter_type.value_or("FROM_TRIM_HORIZON");
  if (type == "AFTER_SHARD_ID") {
    if (!filter_shard) {
      return InvalidArgumentError("ShardFilter ShardId is required for type AFTER_SHARD_ID.");
    }
    auto index = log::ParseShardId(*filter_shard);
    after = std::max(after, index.ok() ? static_cast<int64_t>(*index) : -1);
  }
  if ((type == "AT_TIMESTAMP" || type == "FROM_TIMESTAMP") && !filter_millis) {
    return InvalidArgumentError("ShardFilter Timestamp is required for type " + type + ".");
  }
  int64_t at_nanos = filter_millis.value_or(0) * kNanosPerMilli;
  std::vector<const log::ShardInfo*> shards;
  for (const auto& [index, shard] : by_index) {
    if (static_cast<int64_t>(index) <= after) continue;
    bool include = true;
    if (type == "AT_TRIM_HORIZON") {
      include = !has_listed_parent(*shard);
    } else if (type == "AT_LATEST") {
      include = shard->open;
    } else if (type == "AT_TIMESTAMP") {
      bool started = shard->creation_nanos <= at_nanos || !has_listed_parent(*shard);
      include = started && (shard->open || closed_at(*shard) > at_nanos);
    } else if (type == "FROM_TIMESTAMP") {
      include = shard->open || closed_at(*shard) >= at_nanos;
    }
    if (include) shards.push_back(shard);
  }
  size_t max = static_cast<size_t>(std::min<int64_t>(max_results.value_or(1000), 1000));
  bool more = shards.size() > max;
  if (more) shards.resize(max);
  out_.BeginObject();
  out_.Key("Shards");
  out_.BeginArray();
  for (const auto* shard : shards) WriteShard(*shard);
  out_.EndArray();
  if (more) {
    out_.Member("NextToken",
                EncodeBase64("eddy-shards:" + std::to_string(context_->NowMillis()) + ":" +
                             std::to_string(info.creation_nanos / kNanosPerMilli) + ":" +
                             std::to_string(shards.back()->index) + ":" + stream_name));
  }
  out_.EndObject();
  return std::nullopt;
}

// ---- Iterators and reads -------------------------------------------------------------------

std::optional<ApiError> Handler::GetShardIterator() {
  ConstraintChecker check;
  auto shard_id = in_.String("ShardId");
  auto type = in_.String("ShardIteratorType");
  auto sequence = in_.String("StartingSequenceNumber");
  auto timestamp = in_.TimestampMillis("Timestamp");
  check.Required("shardId", shard_id.has_value());
  CheckName(check, "shardId", shard_id);
  check.Required("shardIteratorType", type.has_value());
  check.Enum("shardIteratorType", type,
             {"AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST",
              "AT_TIMESTAMP"});
  CheckDecimal(check, "startingSequenceNumber", sequence, 129);
  auto stream = ResolveStream(check, nullptr);
  if (stream.error) return stream.error;
  bool needs_sequence = *type == "AT_SEQUENCE_NUMBER" || *type == "AFTER_SEQUENCE_NUMBER";
  if (needs_sequence != sequence.has_value() || (*type == "AT_TIMESTAMP") != timestamp.has_value()) {
    return InvalidArgumentError(
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
        "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber or "
        "(3) AT_TIMESTAMP and Timestamp. Request specified " + *type +
        (sequence ? " and StartingSequenceNumber" : " and no StartingSequenceNumber") +
        (timestamp ? " and Timestamp." : " and no Timestamp."));
  }
  auto shard = FindShard(*stream.value, *shard_id);
  if (shard.error) return shard.error;
  log::StartPosition start = log::StartPosition::TrimHorizon();
  if (*type == "LATEST") {
    start = log::StartPosition::Latest();
  } else if (*type == "AT_TIMESTAMP") {
    int64_t now = context_->NowMillis();
    if (*timestamp > now) {
      return InvalidArgumentError("The timestampInMillis parameter cannot be greater than the "
                                  "currentTimestampInMillis. timestampInMillis: " +
                                  std::to_string(*timestamp) +
                                  ", currentTimestampInMillis: " + std::to_string(now));
    }
    start = log::StartPosition::AtTimestamp(*timestamp * kNanosPerMilli);
  } else if (needs_sequence) {
    auto parsed = log::ParseSequenceNumber(*sequence);
    if (!parsed.ok()) {
      return InvalidArgumentError("StartingSequenceNumber " + *sequence +
                                  " used in GetShardIterator on shard " + *shard_id +
                                  " in stream " + (*stream.value)->name() + " under account " +
                                  context_->account_id + " is invalid.");
    }
    if (parsed->has_shard_index && parsed->shard_index != shard.value->index) {
      return InvalidArgumentError("Invalid StartingSequenceNumber. It encodes " +
                                  log::FormatShardId(parsed->shard_index) +
                                  ", while it was used in a call to a shard with " + *shard_id);
    }
    start = *type == "AT_SEQUENCE_NUMBER" ? log::StartPosition::AtSequence(parsed->sequence)
                                          : log::StartPosition::AfterSequence(parsed->sequence);
  }
  auto reader = OpenReaderWithinRetention(**stream.value, shard.value->index, start);
  if (!reader.ok()) return ApiErrorFromStatus(reader.status(), *shard_id);
  IteratorPosition position;
  position.api = IteratorApi::kKinesis;
  position.issued_millis = context_->NowMillis();
  position.stream_created_millis = (*stream.value)->Describe().creation_nanos / kNanosPerMilli;
  position.shard_index = shard.value->index;
  position.next_sequence = (*reader)->next_sequence().value();
  position.stream_name = (*stream.value)->name();
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
  check.Length("shardIterator", iterator, 1, 512);
  check.Range("limit", limit, 1, 10000);
  if (auto error = InputError(check)) return error;
  auto position = context_->iterators.Decode(*iterator);
  if (!position.ok() || position->api != IteratorApi::kKinesis) {
    return InvalidArgumentError("Invalid ShardIterator.");
  }
  int64_t now = context_->NowMillis();
  if (now - position->issued_millis > KinesisService::kIteratorLifetimeMillis) {
    return MakeApiError("ExpiredIteratorException",
                        "Iterator expired. The iterator was created at time " +
                            std::to_string(position->issued_millis) +
                            " while right now it is " + std::to_string(now) +
                            " which is further in the future than the tolerated delay of " +
                            std::to_string(KinesisService::kIteratorLifetimeMillis) +
                            " milliseconds.");
  }
  auto opened = OpenStream(position->stream_name);
  if (opened.error) return opened.error;
  StreamPtr stream = *opened.value;
  log::StreamInfo info = stream->Describe();
  if (info.creation_nanos / kNanosPerMilli != position->stream_created_millis) {
    return ResourceNotFoundError(NotFoundMessage(position->stream_name));
  }
  auto reader = OpenReaderWithinRetention(
      *stream, position->shard_index,
      log::StartPosition::AtSequence(SequenceNumber(position->next_sequence)));
  if (!reader.ok()) {
    if (reader.status().code() == ErrorCode::kNotFound) {
      return ShardNotFoundError(log::FormatShardId(position->shard_index), info.name);
    }
    return ApiErrorFromStatus(reader.status());
  }
  log::ReadLimits limits;
  limits.max_records = static_cast<size_t>(limit.value_or(10000));
  limits.max_bytes = kMaxGetRecordsBytes;

  std::map<uint32_t, const log::ShardInfo*> shards;
  for (const auto& shard : info.shards) shards[shard.index] = &shard;
  const log::ShardInfo* this_shard =
      shards.count(position->shard_index) ? shards[position->shard_index] : nullptr;
  if (this_shard == nullptr) {
    return ResourceNotFoundError("Shard " + log::FormatShardId(position->shard_index) +
                                 " does not exist");
  }

  // Read a batch; a chunked payload cut by the batch end is completed by reading on.
  ShardReadOptions read_options;
  read_options.limits = limits;
  read_options.max_bytes_read_on = kMaxGetRecordsBytes * 2;
  read_options.wait_when_empty = std::chrono::milliseconds(get_records_wait_ms_);
  auto read = ReadWholeRecords(**reader, read_options);
  if (!read.ok()) return ApiErrorFromStatus(read.status());
  const std::vector<log::Record>& records = read->records;
  const log::ReadBatch& batch = read->last_batch;
  const size_t bytes = read->bytes;
  const SequenceNumber resume = read->resume;

  bool cdc = IsCdcStream(info);
  // Base64 grows payloads by 4/3; about 150 bytes of JSON per record besides.
  out_.Reserve(bytes / 3 * 4 + records.size() * 160 + 256);
  // The records are written straight into the reply (constant keys as literals, sequence
  // numbers rendered incrementally, the arrival time reused while it repeats); the partition
  // key still goes through the JSON escaping.
  SequenceRenderer sequences(this_shard->index, this_shard->creation_nanos);
  std::string sequence_number;
  int64_t last_arrival_millis = -1;
  std::string arrival_text;
  out_.BeginObject();
  out_.Key("Records");
  std::string& json = out_.BeginRawValue();
  json.push_back('[');
  bool first = true;
  for (const auto& record : records) {
    sequence_number.clear();
    sequences.Append(sequence_number, record.sequence);
    std::string_view data = record.payload;
    std::string data_storage;
    if (cdc && context_->rendering.kinesis_data) {
      auto rendered = context_->rendering.kinesis_data(info, record, sequence_number);
      if (!rendered.ok()) return ApiErrorFromStatus(rendered.status());
      if (!rendered->has_value()) continue;  // no representation in this format
      data_storage = std::move(**rendered);
      data = data_storage;
    }
    int64_t arrival_millis = record.arrival_nanos / kNanosPerMilli;
    if (arrival_millis != last_arrival_millis) {
      arrival_text.clear();
      AppendTimestampMillis(arrival_text, arrival_millis);
      last_arrival_millis = arrival_millis;
    }
    json.append(first ? R"({"SequenceNumber":")" : R"(,{"SequenceNumber":")");
    first = false;
    json.append(sequence_number);
    json.append(R"(","ApproximateArrivalTimestamp":)");
    json.append(arrival_text);
    json.append(R"(,"Data":")");
    AppendBase64(json, data);
    json.append(R"(","PartitionKey":)");
    AppendJsonString(json, record.partition_key);
    json.push_back('}');
  }
  json.push_back(']');
  out_.MemberInt("MillisBehindLatest", batch.millis_behind_latest);
  if (read->read_to_end()) {
    // KCL: no NextShardIterator exactly when ChildShards lists the children.
    out_.Key("ChildShards");
    out_.BeginArray();
    for (uint32_t child_index : batch.child_indexes) {
      auto child = stream->DescribeShard(child_index);
      if (!child.ok()) continue;
      out_.BeginObject();
      out_.Member("ShardId", child->id);
      out_.Key("ParentShards");
      out_.BeginArray();
      if (child->parent_index) out_.String(log::FormatShardId(*child->parent_index));
      if (child->adjacent_parent_index) {
        out_.String(log::FormatShardId(*child->adjacent_parent_index));
      }
      out_.EndArray();
      out_.Key("HashKeyRange");
      out_.BeginObject();
      out_.Member("StartingHashKey", child->hash_range.start.ToString());
      out_.Member("EndingHashKey", child->hash_range.end.ToString());
      out_.EndObject();
      out_.EndObject();
    }
    out_.EndArray();
  } else {
    IteratorPosition next = *position;
    next.issued_millis = now;
    next.next_sequence = resume.value();
    out_.Member("NextShardIterator", context_->iterators.Encode(next));
  }
  out_.EndObject();
  return std::nullopt;
}

// ---- Writes --------------------------------------------------------------------------------

// Validates one record's members (shared by PutRecord and PutRecords).
struct RecordInput {
  std::optional<std::string> data;
  std::optional<std::string> partition_key;
  std::optional<std::string> explicit_hash_key;
};

void CheckRecord(ConstraintChecker& check, const RecordInput& record, const std::string& prefix,
                 size_t max_data) {
  check.Required(prefix + "data", record.data.has_value());
  if (record.data && record.data->size() > max_data) {
    check.Custom(prefix + "data", "java.nio.HeapByteBuffer[size=" +
                                      std::to_string(record.data->size()) + "]",
                 "Member must have length less than or equal to " + std::to_string(max_data));
  }
  check.Required(prefix + "partitionKey", record.partition_key.has_value());
  check.Length(prefix + "partitionKey", record.partition_key, 1, 256);
  CheckDecimal(check, prefix + "explicitHashKey", record.explicit_hash_key, 39);
}

// True when CheckRecord would find nothing to report.
bool RecordPassesChecks(const RecordInput& record, size_t max_data) {
  return record.data && record.data->size() <= max_data && record.partition_key &&
         !record.partition_key->empty() && record.partition_key->size() <= 256 &&
         (!record.explicit_hash_key || IsDecimalNumber(*record.explicit_hash_key, 39));
}

Or<log::AppendRecord> ToAppendRecord(RecordInput input) {
  log::AppendRecord record;
  record.partition_key = std::move(*input.partition_key);
  record.payload = std::move(*input.data);
  if (input.explicit_hash_key) {
    auto key = log::HashKey::Parse(*input.explicit_hash_key);
    if (!key.ok()) {
      return InvalidArgumentError("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: "
                                  "[0, 2^128-1]. Specified value was " +
                                  *input.explicit_hash_key);
    }
    record.explicit_hash_key = *key;
  }
  return record;
}

std::optional<ApiError> Handler::PutRecord() {
  ConstraintChecker check;
  RecordInput input{in_.Blob("Data"), in_.String("PartitionKey"), in_.String("ExplicitHashKey")};
  auto ordering = in_.String("SequenceNumberForOrdering");
  CheckDecimal(check, "sequenceNumberForOrdering", ordering, 129);
  CheckRecord(check, input, "", log::kLargestMaxRecordBytes);
  auto stream = ResolveStream(check, nullptr);
  if (stream.error) return stream.error;
  log::StreamInfo info = (*stream.value)->Describe();
  if (auto error = RejectCdcWrites(info)) return error;
  auto record = ToAppendRecord(std::move(input));
  if (record.error) return record.error;
  if (auto error = CheckRecordSize(*record.value, info)) return error;
  auto appended = (*stream.value)->Append(std::move(*record.value));
  if (!appended.ok()) return ApiErrorFromStatus(appended.status(), info.name);
  auto shard = (*stream.value)->DescribeShard(appended->shard_index);
  if (!shard.ok()) return ApiErrorFromStatus(shard.status());
  out_.BeginObject();
  out_.Member("ShardId", shard->id);
  out_.Member("SequenceNumber", shard->FormatSequence(appended->sequence));
  out_.Member("EncryptionType", "NONE");
  out_.EndObject();
  return std::nullopt;
}

std::optional<ApiError> Handler::PutRecords() {
  ConstraintChecker check;
  auto array = in_.Array("Records");
  check.Required("records", array.has_value());
  std::vector<RecordInput> inputs;
  size_t total = 0;
  if (array) {
    size_t i = 0;
    for (auto element : *array) {
      simdjson::dom::object object;
      if (element.get(object)) {
        return SerializationError("Records member " + std::to_string(i) + " is not a structure");
      }
      RequestBody entry(object);
      RecordInput input{entry.Blob("Data"), entry.String("PartitionKey"),
                        entry.String("ExplicitHashKey")};
      if (entry.error()) return entry.error();
      if (!RecordPassesChecks(input, log::kLargestMaxRecordBytes)) {
        // Only a failing record pays for its field prefix (PutRecords: 500 records per call).
        CheckRecord(check, input, "records." + std::to_string(i + 1) + ".member.",
                    log::kLargestMaxRecordBytes);
      }
      total += (input.data ? input.data->size() : 0) +
               (input.partition_key ? input.partition_key->size() : 0);
      inputs.push_back(std::move(input));
      ++i;
    }
    if (inputs.empty() || inputs.size() > 500) {
      check.Custom("records", std::to_string(inputs.size()) + " records",
                   "Member must have length between 1 and 500");
    }
  }
  auto stream = ResolveStream(check, nullptr);
  if (stream.error) return stream.error;
  if (total > kMaxPutRecordsBytes) {
    return InvalidArgumentError("Records size exceeds 10 MB limit");
  }
  log::StreamInfo info = (*stream.value)->Describe();
  if (auto error = RejectCdcWrites(info)) return error;
  std::vector<log::AppendRecord> records;
  records.reserve(inputs.size());
  for (auto& input : inputs) {
    auto record = ToAppendRecord(std::move(input));
    if (record.error) return record.error;
    if (auto error = CheckRecordSize(*record.value, info)) return error;
    records.push_back(std::move(*record.value));
  }
  size_t count = records.size();
  auto appended = (*stream.value)->AppendRecords(std::move(records));
  out_.BeginObject();
  if (!appended.ok()) {
    if (appended.status().code() == ErrorCode::kInvalidArgument ||
        appended.status().code() == ErrorCode::kNotFound) {
      return ApiErrorFromStatus(appended.status(), info.name);
    }
    // Retriable failures are per record, as Kinesis reports them; clients resend failed ones.
    out_.MemberInt("FailedRecordCount", static_cast<int64_t>(count));
    out_.Key("Records");
    out_.BeginArray();
    for (size_t i = 0; i < count; ++i) {
      out_.BeginObject();
      out_.Member("ErrorCode", "InternalFailure");
      out_.Member("ErrorMessage", "Internal service failure: " + appended.status().message());
      out_.EndObject();
    }
    out_.EndArray();
    out_.EndObject();
    return std::nullopt;
  }
  // Shards as described before the append; a shard created by a concurrent reshard is
  // looked up on demand.
  // Per shard: its id and a sequence renderer (a batch's records of one shard are
  // consecutive numbers, rendered incrementally).
  struct ShardOutput {
    std::string id;
    SequenceRenderer sequences;
  };
  std::map<uint32_t, int64_t> shard_created;
  for (const auto& shard : info.shards) shard_created[shard.index] = shard.creation_nanos;
  std::map<uint32_t, ShardOutput> shard_outputs;
  out_.MemberInt("FailedRecordCount", 0);
  out_.Key("Records");
  std::string& json = out_.BeginRawValue();
  json.push_back('[');
  bool first = true;
  for (const auto& record : *appended) {
    auto output = shard_outputs.find(record.shard_index);
    if (output == shard_outputs.end()) {
      auto it = shard_created.find(record.shard_index);
      if (it == shard_created.end()) {
        auto shard = (*stream.value)->DescribeShard(record.shard_index);
        if (!shard.ok()) return ApiErrorFromStatus(shard.status());
        it = shard_created.emplace(record.shard_index, shard->creation_nanos).first;
      }
      output = shard_outputs
                   .emplace(record.shard_index,
                            ShardOutput{log::FormatShardId(record.shard_index),
                                        SequenceRenderer(record.shard_index, it->second)})
                   .first;
    }
    json.append(first ? R"({"SequenceNumber":")" : R"(,{"SequenceNumber":")");
    first = false;
    output->second.sequences.Append(json, record.sequence);
    json.append(R"(","ShardId":)");
    AppendJsonString(json, output->second.id);
    json.push_back('}');
  }
  json.push_back(']');
  out_.Member("EncryptionType", "NONE");
  out_.EndObject();
  return std::nullopt;
}

// ---- Resharding ----------------------------------------------------------------------------

std::optional<ApiError> Handler::SplitShard() {
  ConstraintChecker check;
  auto shard_id = in_.String("ShardToSplit");
  auto key_text = in_.String("NewStartingHashKey");
  check.Required("shardToSplit", shard_id.has_value());
  CheckName(check, "shardToSplit", shard_id);
  check.Required("newStartingHashKey", key_text.has_value());
  CheckDecimal(check, "newStartingHashKey", key_text, 39);
  auto stream = ResolveStream(check, nullptr);
  if (stream.error) return stream.error;
  auto shard = FindShard(*stream.value, *shard_id);
  if (shard.error) return shard.error;
  std::string name = (*stream.value)->name();
  if (auto error = RejectOnDemand(*stream.value, "SplitShard")) return error;
  if (!shard.value->open) return ShardClosedError(*shard_id, name);
  auto key = log::HashKey::Parse(*key_text);
  if (!key.ok() || !(shard.value->hash_range.start < *key) || shard.value->hash_range.end < *key) {
    return InvalidArgumentError("NewStartingHashKey " + *key_text + " used in SplitShard() on shard " +
                                *shard_id + " in stream " + name + " under account " +
                                context_->account_id +
                                " is not both greater than the shard's StartingHashKey " +
                                shard.value->hash_range.start.ToString() +
                                " and less than or equal to its EndingHashKey " +
                                shard.value->hash_range.end.ToString() + ".");
  }
  auto split = (*stream.value)->SplitShard(shard.value->index, *key);
  if (!split.ok()) return ApiErrorFromStatus(split.status(), name);
  return EmptyReply();
}

std::optional<ApiError> Handler::MergeShards() {
  ConstraintChecker check;
  auto first_id = in_.String("ShardToMerge");
  auto second_id = in_.String("AdjacentShardToMerge");
  check.Required("shardToMerge", first_id.has_value());
  CheckName(check, "shardToMerge", first_id);
  check.Required("adjacentShardToMerge", second_id.has_value());
  CheckName(check, "adjacentShardToMerge", second_id);
  auto stream = ResolveStream(check, nullptr);
  if (stream.error) return stream.error;
  std::string name = (*stream.value)->name();
  auto first = FindShard(*stream.value, *first_id);
  if (first.error) return first.error;
  auto second = FindShard(*stream.value, *second_id);
  if (second.error) return second.error;
  if (auto error = RejectOnDemand(*stream.value, "MergeShards")) return error;
  for (const auto* shard : {&*first.value, &*second.value}) {
    if (!shard->open) return ShardClosedError(shard->id, name);
  }
  auto adjacent = [](const log::HashKeyRange& a, const log::HashKeyRange& b) {
    return !(a.end == log::HashKey::Max()) &&
           (a.end.low == ~uint64_t{0} ? log::HashKey{a.end.high + 1, 0}
                                      : log::HashKey{a.end.high, a.end.low + 1}) == b.start;
  };
  if (!adjacent(first.value->hash_range, second.value->hash_range) &&
      !adjacent(second.value->hash_range, first.value->hash_range)) {
    return InvalidArgumentError("Shards " + *first_id + " and " + *second_id + " in stream " +
                                name + " under account " + context_->account_id +
                                " are not an adjacent pair of shards eligible for merging");
  }
  auto merged = (*stream.value)->MergeShards(first.value->index, second.value->index);
  if (!merged.ok()) return ApiErrorFromStatus(merged.status(), name);
  return EmptyReply();
}

std::optional<ApiError> Handler::UpdateShardCount() {
  ConstraintChecker check;
  auto target = in_.Integer("TargetShardCount");
  auto scaling = in_.String("ScalingType");
  check.Required("targetShardCount", target.has_value());
  check.Range("targetShardCount", target, 1, 100000);
  check.Required("scalingType", scaling.has_value());
  check.Enum("scalingType", scaling, {"UNIFORM_SCALING"});
  std::optional<std::string> name;
  auto stream = ResolveStream(check, &name);
  if (stream.error) return stream.error;
  log::StreamInfo info = (*stream.value)->Describe();
  std::vector<log::ShardInfo> open;
  for (const auto& shard : info.shards) {
    if (shard.open) open.push_back(shard);
  }
  int64_t current = static_cast<int64_t>(open.size());
  if (*target > current * 2 || *target * 2 < current ||
      *target > static_cast<int64_t>(context_->max_shards_per_stream)) {
    return LimitExceededError("UpdateShardCount can scale stream " + *name + " from " +
                              std::to_string(current) + " shards to between " +
                              std::to_string((current + 1) / 2) + " and " +
                              std::to_string(std::min<int64_t>(current * 2,
                                                               context_->max_shards_per_stream)) +
                              " shards; requested " + std::to_string(*target) + ".");
  }
  uint32_t count = static_cast<uint32_t>(*target);
  if (*target != current) {
    // 1. Split open shards at every boundary of the even target layout.
    for (uint32_t i = 1; i < count; ++i) {
      log::HashKey boundary = log::EvenHashKeyRange(i, count).start;
      log::StreamInfo now_info = (*stream.value)->Describe();
      for (const auto& shard : now_info.shards) {
        if (shard.open && shard.hash_range.start < boundary && boundary <= shard.hash_range.end) {
          auto split = (*stream.value)->SplitShard(shard.index, boundary);
          if (!split.ok()) return ApiErrorFromStatus(split.status(), *name);
          break;
        }
      }
    }
    // 2. Merge the open shards inside each target range into one.
    for (uint32_t i = 0; i < count; ++i) {
      log::HashKeyRange range = log::EvenHashKeyRange(i, count);
      while (true) {
        log::StreamInfo now_info = (*stream.value)->Describe();
        std::vector<const log::ShardInfo*> inside;
        for (const auto& shard : now_info.shards) {
          if (shard.open && range.Contains(shard.hash_range.start)) inside.push_back(&shard);
        }
        if (inside.size() <= 1) break;
        std::sort(inside.begin(), inside.end(), [](const auto* a, const auto* b) {
          return a->hash_range.start < b->hash_range.start;
        });
        auto merged = (*stream.value)->MergeShards(inside[0]->index, inside[1]->index);
        if (!merged.ok()) return ApiErrorFromStatus(merged.status(), *name);
      }
    }
  }
  out_.BeginObject();
  out_.Member("StreamName", *name);
  out_.MemberInt("CurrentShardCount", current);
  out_.MemberInt("TargetShardCount", *target);
  out_.Member("StreamARN", context_->KinesisStreamArn(*name));
  out_.EndObject();
  return std::nullopt;
}

// ---- Retention and tags --------------------------------------------------------------------

std::optional<ApiError> Handler::ChangeRetention(bool increase) {
  ConstraintChecker check;
  auto hours = in_.Integer("RetentionPeriodHours");
  check.Required("retentionPeriodHours", hours.has_value());
  check.Range("retentionPeriodHours", hours, 1, 8760);
  std::optional<std::string> name;
  auto stream = ResolveStream(check, &name);
  if (stream.error) return stream.error;
  log::StreamInfo info = (*stream.value)->Describe();
  int64_t current = RetentionHours(info);
  if (*hours < 24) {
    return InvalidArgumentError("Minimum allowed retention period is 24 hours. Requested "
                                "retention period (" + std::to_string(*hours) +
                                " hours) is too short.");
  }
  if (increase && *hours < current) {
    return InvalidArgumentError("Requested retention period (" + std::to_string(*hours) +
                                " hours) for stream " + *name +
                                " can not be shorter than existing retention period (" +
                                std::to_string(current) +
                                " hours). Use DecreaseRetentionPeriod API.");
  }
  if (!increase && *hours > current) {
    return InvalidArgumentError("Requested retention period (" + std::to_string(*hours) +
                                " hours) for stream " + *name +
                                " can not be longer than existing retention period (" +
                                std::to_string(current) +
                                " hours). Use IncreaseRetentionPeriod API.");
  }
  return UpdateOptions(*stream.value, info, *hours * kNanosPerHour, info.options.tags, *name);
}

std::optional<ApiError> Handler::AddTagsToStream() {
  ConstraintChecker check;
  auto tags = in_.StringMap("Tags");
  check.Required("tags", tags.has_value());
  if (tags) {
    if (tags->empty() || tags->size() > 50) {
      check.Custom("tags", std::to_string(tags->size()) + " tags",
                   "Member must have length between 1 and 50");
    }
    for (const auto& [key, value] : *tags) {
      if (key.empty() || key.size() > 128 || value.size() > 256) {
        check.Custom("tags", key, "Tag keys must have length 1..128 and values 0..256");
        break;
      }
    }
  }
  std::optional<std::string> name;
  auto stream = ResolveStream(check, &name);
  if (stream.error) return stream.error;
  log::StreamInfo info = (*stream.value)->Describe();
  auto merged = info.options.tags;
  for (const auto& [key, value] : *tags) {
    if (IsReservedTag(key)) return ReservedTagError();
    merged[key] = value;
  }
  size_t user_tags = 0;
  for (const auto& [key, value] : merged) {
    if (!IsReservedTag(key)) ++user_tags;
  }
  if (user_tags > 50) {
    return LimitExceededError("Failed to add tags to stream " + *name + " under account " +
                              context_->account_id +
                              " because a given stream cannot have more than 50 tags.");
  }
  return UpdateOptions(*stream.value, info, info.options.retention_nanos, merged, *name);
}

std::optional<ApiError> Handler::RemoveTagsFromStream() {
  ConstraintChecker check;
  auto keys = in_.StringList("TagKeys");
  check.Required("tagKeys", keys.has_value());
  if (keys && (keys->empty() || keys->size() > 50)) {
    check.Custom("tagKeys", std::to_string(keys->size()) + " keys",
                 "Member must have length between 1 and 50");
  }
  std::optional<std::string> name;
  auto stream = ResolveStream(check, &name);
  if (stream.error) return stream.error;
  log::StreamInfo info = (*stream.value)->Describe();
  auto tags = info.options.tags;
  for (const auto& key : *keys) {
    if (IsReservedTag(key)) continue;
    tags.erase(key);
  }
  return UpdateOptions(*stream.value, info, info.options.retention_nanos, tags, *name);
}

std::optional<ApiError> Handler::ListTagsForStream() {
  ConstraintChecker check;
  auto start = in_.String("ExclusiveStartTagKey");
  auto limit = in_.Integer("Limit");
  check.Length("exclusiveStartTagKey", start, 1, 128);
  check.Range("limit", limit, 1, 50);
  auto stream = ResolveStream(check, nullptr);
  if (stream.error) return stream.error;
  log::StreamInfo info = (*stream.value)->Describe();
  size_t max = static_cast<size_t>(limit.value_or(50));
  std::vector<std::pair<std::string, std::string>> tags;
  for (const auto& [key, value] : info.options.tags) {  // std::map: sorted by key
    if (IsReservedTag(key)) continue;
    if (start && key <= *start) continue;
    tags.emplace_back(key, value);
  }
  bool more = tags.size() > max;
  if (more) tags.resize(max);
  out_.BeginObject();
  out_.Key("Tags");
  out_.BeginArray();
  for (const auto& [key, value] : tags) {
    out_.BeginObject();
    out_.Member("Key", key);
    out_.Member("Value", value);
    out_.EndObject();
  }
  out_.EndArray();
  out_.MemberBool("HasMoreTags", more);
  out_.EndObject();
  return std::nullopt;
}

std::optional<ApiError> Handler::DescribeLimits() {
  if (in_.error()) return in_.error();
  int64_t open = 0;
  int64_t on_demand = 0;
  for (const auto& name : context_->store->ListStreams()) {
    auto stream = context_->store->GetStream(name);
    if (!stream.ok()) continue;
    log::StreamInfo info = (*stream)->Describe();
    if (StreamTag(info, kTagStreamMode) == "ON_DEMAND") ++on_demand;
    for (const auto& shard : info.shards) open += shard.open ? 1 : 0;
  }
  out_.BeginObject();
  out_.MemberInt("ShardLimit", context_->max_shards_per_stream);
  out_.MemberInt("OpenShardCount", open);
  out_.MemberInt("OnDemandStreamCount", on_demand);
  out_.MemberInt("OnDemandStreamCountLimit", 1000);
  out_.EndObject();
  return std::nullopt;
}

}  // namespace

ApiError ApiErrorFromStatus(const Status& status, std::string_view what) {
  std::string message = status.message();
  if (!what.empty() && message.find(what) == std::string::npos) {
    message = std::string(what) + ": " + message;
  }
  switch (status.code()) {
    case ErrorCode::kNotFound:
      return ResourceNotFoundError(message);
    case ErrorCode::kAlreadyExists:
      return ResourceInUseError(message);
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange:
    case ErrorCode::kTrimmed:
      return InvalidArgumentError(message);
    case ErrorCode::kResourceExhausted:
      return LimitExceededError(message);
    case ErrorCode::kPermissionDenied:
      return MakeApiError("AccessDeniedException", message);
    case ErrorCode::kNoSpace:
    case ErrorCode::kUnavailable:
    case ErrorCode::kTimeout:
    case ErrorCode::kAborted:
      return MakeApiError("ServiceUnavailable", message, 503);
    default:
      return InternalFailure(message);
  }
}

bool KinesisService::Knows(std::string_view operation) {
  return Operations().count(operation) != 0;
}

std::optional<ApiError> KinesisService::Handle(std::string_view operation, RequestBody& input,
                                               JsonWriter& out, int get_records_wait_ms) {
  Handler handler(context_, input, out, get_records_wait_ms);
  return handler.Run(operation);
}

}  // namespace eddy::api
