// Fuzz target: decoding of API request bodies and authentication headers — the JSON body
// through RequestBody's typed accessors (every type, nested structures, lists and maps) and
// the constraint checks the handlers run, SigV4 Authorization parsing, and shard iterator
// decoding. Input layout: the first line is used as the Authorization header, the rest as
// the JSON body (and as a candidate iterator token).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/iterator_token.h"
#include "api/json_input.h"
#include "api/sigv4.h"

namespace {

void Exercise(eddy::api::RequestBody& body, int depth) {
  using eddy::api::ConstraintChecker;
  ConstraintChecker check;
  static const char* kNames[] = {"StreamName", "ShardId", "Limit", "Data", "Timestamp",
                                 "ShardFilter", "Records", "Tags", "TagKeys", "Enforce"};
  for (const char* name : kNames) {
    auto text = body.String(name);
    check.Length(name, text, 1, 128);
    check.Charset(name, text, "[a-zA-Z0-9_.-]+", eddy::api::IsNameChar);
    check.Enum(name, text, {"TRIM_HORIZON", "LATEST"});
    check.Range(name, body.Integer(name), 1, 10000);
    (void)body.TimestampMillis(name);
    (void)body.Bool(name);
    (void)body.Blob(name);
    (void)body.StringMap(name);
    (void)body.StringList(name);
    if (depth < 3) {
      if (auto object = body.Object(name)) {
        eddy::api::RequestBody nested(*object);
        Exercise(nested, depth + 1);
      }
      if (auto array = body.Array(name)) {
        for (auto element : *array) {
          simdjson::dom::object object;
          if (!element.get(object)) {
            eddy::api::RequestBody nested(object);
            Exercise(nested, depth + 1);
          }
        }
      }
    }
  }
  (void)check.error();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  std::string_view header = input.substr(0, newline);
  std::string_view rest = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

  eddy::api::HttpRequest request;
  request.target = "/";
  request.headers.emplace_back("authorization", std::string(header));
  request.headers.emplace_back("x-amz-date", "20261121T000000Z");
  auto auth = eddy::api::ParseSigV4(request);
  if (auth.authorization && auth.authorization->access_key_id.empty()) __builtin_trap();

  eddy::api::RequestBody body;
  if (!eddy::api::RequestBody::Parse(rest, &body)) Exercise(body, 0);

  static const eddy::api::IteratorCodec codec(std::string(32, 'f'));
  auto position = codec.Decode(rest);
  if (position.ok() && codec.Encode(*position) != rest) __builtin_trap();
  return 0;
}
