#include "sink/kinesis/put_records.h"

#include <simdjson.h>

#include "aws/sigv4.h"
#include "format/json.h"
#include "log/chunking.h"

namespace eddy::sink::kinesis {
namespace {

std::string_view Text(simdjson::dom::element object, const char* key) {
  std::string_view value;
  if (object[key].get(value) != simdjson::SUCCESS) return {};
  return value;
}

}  // namespace

std::string KinesisPartitionKey(std::string_view key) {
  if (key.empty()) return "-";
  if (key.size() > kMaxPartitionKeyBytes) return "sha256:" + aws::Sha256Hex(key);
  return std::string(key);
}

std::vector<std::string> SplitIntoEntries(std::string_view kinesis_key, std::string_view data,
                                          size_t max_record_bytes) {
  std::vector<std::string> entries;
  for (log::ChunkPiece& piece :
       log::SplitPayload(kinesis_key, data, static_cast<uint32_t>(max_record_bytes))) {
    entries.push_back(std::move(piece.payload));
  }
  return entries;
}

void BuildPutRecordsBody(std::string_view stream, const std::vector<PutEntry>& entries,
                         std::string* out) {
  format::JsonWriter writer(std::move(*out));
  writer.BeginObject();
  writer.Key("StreamName");
  writer.String(stream);
  writer.Key("Records");
  writer.BeginArray();
  for (const PutEntry& entry : entries) {
    writer.BeginObject();
    writer.Key("Data");
    writer.Base64String(entry.data);
    writer.Key("PartitionKey");
    writer.String(entry.partition_key);
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();
  *out = writer.Take();
}

std::string BuildDescribeStreamSummaryBody(std::string_view stream) {
  format::JsonWriter writer;
  writer.BeginObject();
  writer.Key("StreamName");
  writer.String(stream);
  writer.EndObject();
  return writer.Take();
}

Result<std::vector<EntryResult>> ParsePutRecordsReply(std::string_view body, size_t expected) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element document;
  simdjson::dom::array records;
  if (parser.parse(padded).get(document) != simdjson::SUCCESS ||
      document["Records"].get_array().get(records) != simdjson::SUCCESS) {
    return Corruption("PutRecords reply is not JSON with a Records array: " +
                      std::string(body.substr(0, 200)));
  }
  std::vector<EntryResult> results;
  results.reserve(expected);
  for (simdjson::dom::element record : records) {
    if (!record.is_object()) return Corruption("PutRecords reply has a non-object record");
    EntryResult result;
    result.error_code = std::string(Text(record, "ErrorCode"));
    result.error_message = std::string(Text(record, "ErrorMessage"));
    result.ok = result.error_code.empty() && !Text(record, "SequenceNumber").empty();
    if (!result.ok && result.error_code.empty()) {
      result.error_code = "MissingSequenceNumber";
      result.error_message = "the reply gives neither a SequenceNumber nor an ErrorCode";
    }
    results.push_back(std::move(result));
  }
  if (results.size() != expected) {
    return Corruption("PutRecords reply has " + std::to_string(results.size()) + " records for " +
                      std::to_string(expected) + " sent");
  }
  return results;
}

bool IsRetriableEntryError(std::string_view code) {
  return code == "ProvisionedThroughputExceededException" || code == "InternalFailure" ||
         code == "InternalFailureException" || code == "KMSThrottlingException" ||
         code == "ThrottlingException";
}

Result<StreamSummary> ParseDescribeStreamSummaryReply(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element document;
  simdjson::dom::element summary;
  if (parser.parse(padded).get(document) != simdjson::SUCCESS ||
      document["StreamDescriptionSummary"].get(summary) != simdjson::SUCCESS ||
      !summary.is_object()) {
    return Corruption("DescribeStreamSummary reply lacks StreamDescriptionSummary: " +
                      std::string(body.substr(0, 200)));
  }
  StreamSummary result;
  result.status = std::string(Text(summary, "StreamStatus"));
  uint64_t kib = 0;
  if (summary["MaxRecordSizeInKiB"].get(kib) == simdjson::SUCCESS) {
    result.max_record_bytes = kib * 1024;
  }
  return result;
}

Status ErrorFromReply(std::string_view operation, int http_status, std::string_view body,
                      std::string_view stream, std::string_view endpoint) {
  std::string type;
  std::string message;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element document;
  if (parser.parse(padded).get(document) == simdjson::SUCCESS && document.is_object()) {
    type = std::string(Text(document, "__type"));
    message = std::string(Text(document, "message"));
    if (message.empty()) message = std::string(Text(document, "Message"));
  }
  size_t hash = type.rfind('#');
  if (hash != std::string::npos) type = type.substr(hash + 1);
  std::string what = "Kinesis " + std::string(operation) + " at " + std::string(endpoint) +
                     " answered HTTP " + std::to_string(http_status);
  if (!type.empty()) what += " " + type;
  if (!message.empty()) what += ": " + message;
  if (type.empty() && message.empty() && !body.empty()) {
    what += ": " + std::string(body.substr(0, 200));
  }
  if (http_status >= 500 || http_status == 429 ||
      type == "ProvisionedThroughputExceededException" || type == "ThrottlingException" ||
      type == "LimitExceededException" || type == "KMSThrottlingException" ||
      type == "InternalFailure" || type == "InternalFailureException" ||
      type == "ServiceUnavailable") {
    return Unavailable(what);
  }
  if (type == "ResourceNotFoundException") {
    return NotFound(what + "; create the stream (aws kinesis create-stream --stream-name " +
                    std::string(stream) + " --shard-count 1) or correct ?stream= in the sink URL");
  }
  if (type == "UnrecognizedClientException" || type == "InvalidSignatureException" ||
      type == "AccessDeniedException" || type == "MissingAuthenticationTokenException" ||
      type == "IncompleteSignatureException" || type == "ExpiredTokenException" ||
      type == "InvalidClientTokenId" || type == "SignatureDoesNotMatch" || http_status == 403) {
    return PermissionDenied(what +
                            "; check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or the profile "
                            "in ~/.aws/credentials), the session token, and that the key may "
                            "call kinesis:" +
                            std::string(operation) + " on stream " + std::string(stream));
  }
  if (type == "ValidationException" || type == "InvalidArgumentException" ||
      type == "SerializationException") {
    return InvalidArgument(what);
  }
  return FailedPrecondition(what);
}

}  // namespace eddy::sink::kinesis
