#include "sink/webhook/lambda_events.h"

#include <simdjson.h>

#include <charconv>
#include <unordered_map>

#include "format/json.h"
#include "format/renderer.h"

namespace eddy::sink::webhook {

namespace {

// Epoch seconds with milliseconds as the fraction, as Lambda writes
// approximateArrivalTimestamp (1545084650.987).
double ArrivalSeconds(int64_t arrival_nanos) {
  int64_t millis = arrival_nanos / 1'000'000;
  return static_cast<double>(millis) / 1000.0;
}

// The members every record of a batch repeats, each value escaped and quoted once per batch
// rather than once per record.
struct BatchConstants {
  std::string region;
  std::string source_arn;
  std::string identity_arn;
  // Everything after a record's eventID, which is the same for every record of the batch:
  // one append instead of seven per record.
  std::string tail;
};

std::string Quoted(std::string_view text) {
  std::string out;
  format::AppendJsonString(out, text);
  return out;
}

// One record of a Kinesis event, appended straight to the body: every member but the
// partition key is either a constant of the batch, digits, or base64, none of which needs
// escaping, so only the partition key goes through the JSON escaper.
void AppendKinesisRecord(std::string& out, const consume::SinkRecord& record,
                         const BatchConstants& constants) {
  out += R"({"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":)";
  format::AppendJsonString(out, record.partition_key);
  out += R"(,"sequenceNumber":")";
  out += record.sequence_number;  // decimal digits
  out += R"(","data":)";
  format::AppendJsonBase64(out, record.data);
  out += R"(,"approximateArrivalTimestamp":)";
  char number[32];
  auto [end, error] =
      std::to_chars(number, number + sizeof(number), ArrivalSeconds(record.arrival_nanos));
  out.append(number, end);
  out += R"(},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":")";
  out += record.shard_id;  // shardId- and digits
  out += ':';
  out += record.sequence_number;
  out += constants.tail;
}

// A short, printable excerpt of a reply for messages.
std::string Excerpt(std::string_view body) {
  constexpr size_t kMax = 200;
  std::string out;
  for (char c : body.substr(0, kMax)) {
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  }
  if (body.size() > kMax) out += "...";
  return out;
}

consume::DeliveryOutcome Failed(int status, std::string message) {
  consume::DeliveryOutcome outcome;
  outcome.acknowledged = 0;
  outcome.failure = Unavailable(std::move(message));
  outcome.protocol_status = status;
  return outcome;
}

}  // namespace

Result<std::optional<std::string>> BuildEventBody(const consume::SinkBatch& batch,
                                                  const WebhookSettings& settings) {
  std::string body;
  EDDY_ASSIGN_OR_RETURN(bool any, BuildEventBodyInto(batch, settings, &body));
  if (!any) return std::optional<std::string>();
  return std::optional<std::string>(std::move(body));
}

Result<bool> BuildEventBodyInto(const consume::SinkBatch& batch, const WebhookSettings& settings,
                                std::string* body) {
  std::string source_arn = EventSourceArn(settings, batch.stream_name);
  size_t written = 0;
  if (settings.event == EventShape::kKinesis) {
    const std::string identity_arn = "arn:aws:iam::" + settings.account_id + ":role/eddy";
    BatchConstants constants{Quoted(settings.region), Quoted(source_arn), Quoted(identity_arn), ""};
    constants.tail = R"(","eventName":"aws:kinesis:record","invokeIdentityArn":)" +
                     constants.identity_arn + R"(,"awsRegion":)" + constants.region +
                     R"(,"eventSourceARN":)" + constants.source_arn + "}";
    // Base64 grows the data by 4/3; the rest of a record's event is a few hundred bytes.
    size_t estimate = 64;
    for (const consume::SinkRecord& record : batch.records) {
      estimate += 4 * ((record.data.size() + 2) / 3) + 2 * record.sequence_number.size() +
                  record.partition_key.size() + source_arn.size() + identity_arn.size() + 320;
    }
    std::string& out = *body;  // its capacity is reused
    out.clear();
    out.reserve(estimate);
    out += R"({"Records":[)";
    for (const consume::SinkRecord& record : batch.records) {
      if (written > 0) out += ',';
      AppendKinesisRecord(out, record, constants);
      ++written;
    }
    out += "]}";
    return written > 0;
  }
  static const std::unique_ptr<format::Renderer> renderer =
      std::move(format::MakeRenderer("dynamodb")).value();
  format::JsonWriter writer(std::move(*body));
  writer.BeginObject();
  writer.Key("Records");
  writer.BeginArray();
  format::RecordContext context;
  context.region = settings.region;
  context.event_source_arn = source_arn;
  for (const consume::SinkRecord& record : batch.records) {
    if (record.event == nullptr) {
      *body = writer.Take();
      return FailedPrecondition(
          "event=dynamodb needs a change-data-capture stream, and stream '" + batch.stream_name +
          "' holds plain records; use event=kinesis (the records' data, base64) for it");
    }
    context.sequence_number = record.sequence_number;
    std::string rendered = renderer->Render(*record.event, settings.view_type, context);
    if (rendered.empty()) continue;  // no DynamoDB Streams equivalent (truncate, ...)
    writer.RawJson(rendered);
    ++written;
  }
  writer.EndArray();
  writer.EndObject();
  *body = writer.Take();
  return written > 0;
}

consume::DeliveryOutcome InterpretReply(const consume::SinkBatch& batch, int status,
                                        std::string_view body, bool report_batch_item_failures) {
  if (status < 200 || status > 299) {
    std::string message = "the endpoint answered HTTP " + std::to_string(status);
    if (!body.empty()) message += ": " + Excerpt(body);
    if (status >= 400 && status < 500 && status != 429) {
      message +=
          " (retried like a Lambda function error until maximum_retry_attempts or "
          "maximum_record_age give up)";
    }
    return Failed(status, std::move(message));
  }
  consume::DeliveryOutcome success;
  success.acknowledged = batch.records.size();
  success.protocol_status = status;
  if (!report_batch_item_failures) return success;

  size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return success;  // empty reply: full success

  auto malformed = [&](std::string_view why) {
    return Failed(status,
                  "the endpoint's batchItemFailures reply " + std::string(why) +
                      ", so the whole batch counts as failed (Lambda's rule): " + Excerpt(body));
  };
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element document;
  if (parser.parse(padded).get(document) != simdjson::SUCCESS) return malformed("is not JSON");
  if (document.is_null()) return success;
  simdjson::dom::object object;
  if (document.get(object) != simdjson::SUCCESS) return malformed("is not a JSON object");
  simdjson::dom::element failures_element;
  if (object["batchItemFailures"].get(failures_element) != simdjson::SUCCESS ||
      failures_element.is_null()) {
    return success;
  }
  simdjson::dom::array failures;
  if (failures_element.get(failures) != simdjson::SUCCESS) {
    return malformed("has a batchItemFailures that is not a list");
  }
  if (failures.size() == 0) return success;

  std::unordered_map<std::string_view, size_t> index_of;
  index_of.reserve(batch.records.size());
  for (size_t i = 0; i < batch.records.size(); ++i) {
    index_of.emplace(batch.records[i].sequence_number, i);
  }
  size_t lowest = batch.records.size();
  for (simdjson::dom::element failure : failures) {
    simdjson::dom::object entry;
    if (failure.get(entry) != simdjson::SUCCESS) {
      return malformed("has an entry that is not an object");
    }
    simdjson::dom::element identifier_element;
    if (entry["itemIdentifier"].get(identifier_element) != simdjson::SUCCESS) {
      return malformed("has an entry without itemIdentifier");
    }
    std::string_view identifier;
    if (identifier_element.get(identifier) != simdjson::SUCCESS) {
      return malformed("has an itemIdentifier that is not a string");
    }
    if (identifier.empty()) return malformed("has an empty itemIdentifier");
    auto found = index_of.find(identifier);
    if (found == index_of.end()) {
      return malformed("names itemIdentifier \"" + Excerpt(identifier) +
                       "\", which is no sequence number of the batch");
    }
    lowest = std::min(lowest, found->second);
  }
  consume::DeliveryOutcome partial;
  partial.acknowledged = lowest;
  partial.item_failure = true;
  partial.protocol_status = status;
  partial.failure =
      Unavailable("the endpoint reported record " + batch.records[lowest].sequence_number + " (" +
                  std::to_string(lowest + 1) + " of " + std::to_string(batch.records.size()) +
                  " in the batch) failed (batchItemFailures); retrying from it");
  return partial;
}

}  // namespace eddy::sink::webhook
