#include "engine/dsql_request.h"

#include <fmt/format.h>
#include <openssl/rand.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include "api/json_writer.h"
#include "source/source_url.h"

namespace eddy::engine {
namespace {

std::string Shown(std::string_view text) {
  constexpr size_t kMax = 80;
  std::string shown;
  for (char c : text.substr(0, kMax)) {
    shown +=
        (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) ? '?' : c;
  }
  if (text.size() > kMax) shown += "...";
  return shown;
}

bool IsNameCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

bool IsName(std::string_view name) {
  return !name.empty() && name.size() <= 128 &&
         std::all_of(name.begin(), name.end(), IsNameCharacter);
}

// The idempotency token: 1-128 printable ASCII characters without spaces (^[!-~]+$).
bool IsClientToken(std::string_view token) {
  return !token.empty() && token.size() <= 128 &&
         std::all_of(token.begin(), token.end(), [](char c) { return c >= '!' && c <= '~'; });
}

// Splits "a=1&b=2" into decoded pairs; nullopt on bad percent-encoding.
std::optional<std::vector<std::pair<std::string, std::string>>> QueryPairs(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t begin = 0;
  while (begin < query.size()) {
    size_t end = query.find('&', begin);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(begin, end - begin);
    begin = end + 1;
    if (pair.empty()) continue;
    size_t equals = pair.find('=');
    auto key = source::PercentDecode(pair.substr(0, equals), true);
    auto value = source::PercentDecode(
        equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1), true);
    if (!key.ok() || !value.ok()) return std::nullopt;
    pairs.emplace_back(*key, *value);
  }
  return pairs;
}

std::optional<DsqlError> StringMember(simdjson::dom::object object, std::string_view name,
                                      std::string_view field, std::string* out, bool required) {
  simdjson::dom::element value;
  if (object.at_key(name).get(value) || value.is_null()) {
    if (!required) return std::nullopt;
    return DsqlValidation(std::string(field), fmt::format("{} is required", field));
  }
  std::string_view text;
  if (value.get_string().get(text)) {
    return DsqlValidation(std::string(field), fmt::format("{} must be a string", field));
  }
  *out = std::string(text);
  return std::nullopt;
}

std::optional<DsqlError> OnlyMembers(simdjson::dom::object object, std::string_view where,
                                     std::initializer_list<std::string_view> known) {
  for (auto member : object) {
    if (std::find(known.begin(), known.end(), member.key) != known.end()) continue;
    std::string names;
    for (auto name : known) names += (names.empty() ? "" : ", ") + std::string(name);
    std::string field = where.empty() ? std::string(member.key)
                                      : std::string(where) + "." + std::string(member.key);
    return DsqlValidation(Shown(field),
                          fmt::format("{} is not a member of {}; the members are {}", Shown(field),
                                      where.empty() ? "CreateStream" : where, names));
  }
  return std::nullopt;
}

}  // namespace

DsqlError DsqlValidation(std::string field, std::string message) {
  DsqlError error;
  error.http_status = 400;
  error.type = "ValidationException";
  error.reason = "fieldValidationFailed";
  error.message = message;
  error.fields.emplace_back(std::move(field), std::move(message));
  return error;
}

DsqlError DsqlNotFound(std::string message, std::string resource_id, std::string resource_type) {
  DsqlError error;
  error.http_status = 404;
  error.type = "ResourceNotFoundException";
  error.message = std::move(message);
  error.resource_id = std::move(resource_id);
  error.resource_type = std::move(resource_type);
  return error;
}

DsqlError DsqlConflict(std::string message, std::string resource_id, std::string resource_type) {
  DsqlError error;
  error.http_status = 409;
  error.type = "ConflictException";
  error.message = std::move(message);
  error.resource_id = std::move(resource_id);
  error.resource_type = std::move(resource_type);
  return error;
}

std::optional<DsqlError> ParseDsqlRoute(std::string_view method, std::string_view target,
                                        DsqlRoute* out) {
  *out = DsqlRoute{};
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  if (path.substr(0, kDsqlPrefix.size()) != kDsqlPrefix) {
    return DsqlNotFound(fmt::format("no DSQL stream resource at {}", Shown(path)), "", "");
  }
  path.remove_prefix(kDsqlPrefix.size());
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.find('/');
  std::string_view cluster = path.substr(0, slash);
  std::string_view stream =
      slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  if (!IsName(cluster)) {
    return DsqlValidation("clusterIdentifier",
                          fmt::format("clusterIdentifier '{}' must name one of eddy's sources "
                                      "(1-128 of letters, digits, '_', '.', '-'; GET "
                                      "/admin/v1/sources lists them)",
                                      Shown(cluster)));
  }
  out->cluster = std::string(cluster);
  if (slash != std::string_view::npos && !IsName(stream)) {
    return DsqlValidation("streamIdentifier",
                          fmt::format("streamIdentifier '{}' is not a stream identifier (26 "
                                      "characters of a-z and 0-9, as CreateStream returned it)",
                                      Shown(stream)));
  }
  out->stream_id = std::string(stream);
  auto pairs = QueryPairs(query);
  if (!pairs) return DsqlValidation("query", "the query string has bad percent-encoding");
  if (stream.empty()) {
    if (method == "POST") {
      out->operation = DsqlOperation::kCreateStream;
    } else if (method == "GET") {
      out->operation = DsqlOperation::kListStreams;
      for (const auto& [key, value] : *pairs) {
        if (key == "max-results") {
          uint32_t number = 0;
          auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
          if (error != std::errc() || end != value.data() + value.size() || number < 1 ||
              number > 100) {
            return DsqlValidation("maxResults", fmt::format("maxResults is '{}'; it must be "
                                                            "between 1 and 100",
                                                            Shown(value)));
          }
          out->max_results = number;
        } else if (key == "next-token") {
          out->next_token = value;
        }
      }
    } else {
      DsqlError error = DsqlValidation(
          "method", fmt::format("{} /stream/CLUSTER is not a DSQL operation; use POST "
                                "(CreateStream) or GET (ListStreams)",
                                Shown(method)));
      error.reason = "unknownOperation";
      return error;
    }
    return std::nullopt;
  }
  if (method == "GET") {
    out->operation = DsqlOperation::kGetStream;
  } else if (method == "DELETE") {
    out->operation = DsqlOperation::kDeleteStream;
    for (const auto& [key, value] : *pairs) {
      if (key != "client-token") continue;
      if (!IsClientToken(value)) {
        return DsqlValidation("clientToken",
                              "clientToken must be 1-128 printable ASCII "
                              "characters without spaces");
      }
      out->client_token = value;
    }
  } else {
    DsqlError error = DsqlValidation(
        "method", fmt::format("{} /stream/CLUSTER/STREAM is not a DSQL operation; use GET "
                              "(GetStream) or DELETE (DeleteStream)",
                              Shown(method)));
    error.reason = "unknownOperation";
    return error;
  }
  return std::nullopt;
}

std::optional<DsqlError> ParseDsqlCreateBody(std::string_view body, DsqlCreateRequest* out) {
  *out = DsqlCreateRequest{};
  if (body.size() > kMaxDsqlBodyBytes) {
    DsqlError error = DsqlValidation("body", fmt::format("the body is {} bytes; the limit is {}",
                                                         body.size(), kMaxDsqlBodyBytes));
    error.reason = "cannotParse";
    return error;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element document;
  simdjson::dom::object object;
  if (parser.parse(body.data(), body.size()).get(document) || document.get_object().get(object)) {
    DsqlError error = DsqlValidation("body",
                                     "the body must be a JSON object (CreateStream's "
                                     "targetDefinition, ordering, format, ...)");
    error.reason = "cannotParse";
    return error;
  }
  if (auto error = OnlyMembers(object, "",
                               {"targetDefinition", "ordering", "format", "tags", "clientToken"})) {
    return error;
  }
  simdjson::dom::element target;
  if (object.at_key("targetDefinition").get(target) || target.is_null()) {
    return DsqlValidation("targetDefinition",
                          "targetDefinition is required: "
                          "{\"kinesis\": {\"streamArn\": ..., \"roleArn\": ...}}");
  }
  simdjson::dom::object target_object;
  if (target.get_object().get(target_object)) {
    return DsqlValidation("targetDefinition", "targetDefinition must be an object");
  }
  if (auto error = OnlyMembers(target_object, "targetDefinition", {"kinesis"})) return error;
  simdjson::dom::element kinesis;
  simdjson::dom::object kinesis_object;
  if (target_object.at_key("kinesis").get(kinesis) || kinesis.get_object().get(kinesis_object)) {
    return DsqlValidation("targetDefinition.kinesis",
                          "targetDefinition.kinesis is required: {\"streamArn\": ..., "
                          "\"roleArn\": ...}");
  }
  if (auto error =
          OnlyMembers(kinesis_object, "targetDefinition.kinesis", {"streamArn", "roleArn"})) {
    return error;
  }
  if (auto error = StringMember(kinesis_object, "streamArn", "targetDefinition.kinesis.streamArn",
                                &out->kinesis_stream_arn, true)) {
    return error;
  }
  if (auto error = StringMember(kinesis_object, "roleArn", "targetDefinition.kinesis.roleArn",
                                &out->role_arn, true)) {
    return error;
  }
  // arn:aws[-partition]:kinesis:REGION:ACCOUNT(12 digits):stream/NAME
  {
    std::string_view arn = out->kinesis_stream_arn;
    std::vector<std::string_view> parts;
    size_t begin = 0;
    for (int i = 0; i < 5; ++i) {
      size_t colon = arn.find(':', begin);
      if (colon == std::string_view::npos) break;
      parts.push_back(arn.substr(begin, colon - begin));
      begin = colon + 1;
    }
    std::string_view resource = begin <= arn.size() ? arn.substr(begin) : std::string_view();
    bool ok = parts.size() == 5 && parts[0] == "arn" && parts[1].substr(0, 3) == "aws" &&
              parts[2] == "kinesis" && parts[4].size() == 12 &&
              std::all_of(parts[4].begin(), parts[4].end(),
                          [](char c) { return c >= '0' && c <= '9'; }) &&
              resource.substr(0, 7) == "stream/" && IsName(resource.substr(7));
    if (!ok || arn.size() > 2048) {
      return DsqlValidation("targetDefinition.kinesis.streamArn",
                            fmt::format("streamArn '{}' must be a Kinesis stream ARN, "
                                        "arn:aws:kinesis:REGION:ACCOUNT:stream/NAME (NAME: the "
                                        "eddy stream, 1-128 of letters, digits, '_', '.', '-')",
                                        Shown(arn)));
    }
    out->stream_name = std::string(resource.substr(7));
    out->region = std::string(parts[3]);
  }
  if (out->role_arn.size() < 20 || out->role_arn.size() > 2048 ||
      out->role_arn.rfind("arn:aws", 0) != 0 || out->role_arn.find(":iam::") == std::string::npos ||
      out->role_arn.find(":role/") == std::string::npos) {
    return DsqlValidation("targetDefinition.kinesis.roleArn",
                          fmt::format("roleArn '{}' must be an IAM role ARN, "
                                      "arn:aws:iam::ACCOUNT:role/NAME (eddy records it; it "
                                      "does not assume it)",
                                      Shown(out->role_arn)));
  }
  if (auto error = StringMember(object, "ordering", "ordering", &out->ordering, true)) return error;
  if (out->ordering != "UNORDERED" && out->ordering != "ORDERED") {
    return DsqlValidation("ordering", fmt::format("ordering is '{}'; it must be UNORDERED or "
                                                  "ORDERED (one shard, commit order)",
                                                  Shown(out->ordering)));
  }
  if (auto error = StringMember(object, "format", "format", &out->format, true)) return error;
  if (out->format != "JSON") {
    return DsqlValidation("format",
                          fmt::format("format is '{}'; it must be JSON", Shown(out->format)));
  }
  if (auto error = StringMember(object, "clientToken", "clientToken", &out->client_token, false)) {
    return error;
  }
  if (!out->client_token.empty() && !IsClientToken(out->client_token)) {
    return DsqlValidation("clientToken",
                          "clientToken must be 1-128 printable ASCII characters "
                          "without spaces");
  }
  simdjson::dom::element tags;
  if (!object.at_key("tags").get(tags) && !tags.is_null()) {
    simdjson::dom::object tag_object;
    if (tags.get_object().get(tag_object)) {
      return DsqlValidation("tags", "tags must be an object of tag keys to string values");
    }
    for (auto tag : tag_object) {
      std::string_view value;
      if (tag.value.get_string().get(value)) {
        return DsqlValidation("tags." + Shown(tag.key), "a tag value must be a string");
      }
      if (tag.key.empty() || tag.key.size() > 128 || value.size() > 256) {
        return DsqlValidation("tags", "tag keys are 1-128 characters, values 0-256");
      }
      out->tags.emplace(std::string(tag.key), std::string(value));
    }
    if (out->tags.size() > 200) return DsqlValidation("tags", "at most 200 tags");
  }
  return std::nullopt;
}

std::string RenderDsqlError(const DsqlError& error) {
  api::JsonWriter json;
  json.BeginObject();
  json.Member("message", error.message);
  if (!error.reason.empty()) json.Member("reason", error.reason);
  if (!error.fields.empty()) {
    json.Key("fieldList");
    json.BeginArray();
    for (const auto& [name, message] : error.fields) {
      json.BeginObject();
      json.Member("name", name);
      json.Member("message", message);
      json.EndObject();
    }
    json.EndArray();
  }
  if (!error.resource_id.empty()) json.Member("resourceId", error.resource_id);
  if (!error.resource_type.empty()) json.Member("resourceType", error.resource_type);
  json.EndObject();
  return json.Take();
}

std::string NewDsqlStreamId() {
  constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char bytes[26];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    // OpenSSL's generator failing is not recoverable input; fall back to the clock.
    auto now = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    for (auto& byte : bytes) {
      byte = static_cast<unsigned char>(now);
      now = now * 6364136223846793005ull + 1442695040888963407ull;
    }
  }
  std::string id;
  for (unsigned char byte : bytes) id += kAlphabet[byte % kAlphabet.size()];
  return id;
}

}  // namespace eddy::engine
