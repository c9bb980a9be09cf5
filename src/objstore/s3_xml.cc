#include "objstore/s3_xml.h"

#include <charconv>

namespace eddy::objstore {

namespace {

// The text of the first <name>...</name> at or after `from` and before `limit`; sets `*next`
// past its end tag. nullopt when absent.
std::optional<std::string_view> Element(std::string_view body, std::string_view name,
                                        size_t from = 0, size_t* next = nullptr) {
  std::string open = "<" + std::string(name);
  std::string close = "</" + std::string(name) + ">";
  size_t start = body.find(open, from);
  // The start tag is <name> or <name attributes...> (S3 adds xmlns="..."), not <nameSuffix>.
  while (start != std::string_view::npos) {
    size_t after = start + open.size();
    if (after < body.size() && (body[after] == '>' || body[after] == ' ' || body[after] == '\t' ||
                                body[after] == '\n' || body[after] == '\r')) {
      break;
    }
    start = body.find(open, after);
  }
  if (start == std::string_view::npos) return std::nullopt;
  size_t tag_end = body.find('>', start);
  if (tag_end == std::string_view::npos) return std::nullopt;
  if (body[tag_end - 1] == '/') {  // <name/>: empty
    if (next != nullptr) *next = tag_end + 1;
    return body.substr(tag_end + 1, 0);
  }
  start = tag_end + 1;
  size_t end = body.find(close, start);
  if (end == std::string_view::npos) return std::nullopt;
  if (next != nullptr) *next = end + close.size();
  return body.substr(start, end - start);
}

std::string Text(std::string_view body, std::string_view name) {
  auto element = Element(body, name);
  if (!element) return "";
  auto decoded = DecodeXmlText(*element);
  return decoded.ok() ? std::move(decoded).value() : std::string(*element);
}

void AppendUtf8(uint32_t code_point, std::string* out) {
  if (code_point < 0x80) {
    out->push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

std::string Shown(std::string_view text) {
  std::string shown;
  for (char c : text.substr(0, 300)) {
    unsigned char u = static_cast<unsigned char>(c);
    shown.push_back(u < 0x20 || u == 0x7F ? ' ' : c);
  }
  return shown;
}

}  // namespace

Result<std::string> DecodeXmlText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out.push_back(text[i]);
      continue;
    }
    size_t semicolon = text.find(';', i);
    if (semicolon == std::string_view::npos || semicolon - i > 12) {
      return Corruption("unterminated XML entity at offset " + std::to_string(i));
    }
    std::string_view entity = text.substr(i + 1, semicolon - i - 1);
    if (entity == "amp") {
      out.push_back('&');
    } else if (entity == "lt") {
      out.push_back('<');
    } else if (entity == "gt") {
      out.push_back('>');
    } else if (entity == "quot") {
      out.push_back('"');
    } else if (entity == "apos") {
      out.push_back('\'');
    } else if (entity.size() >= 2 && entity[0] == '#') {
      bool hex = entity[1] == 'x' || entity[1] == 'X';
      std::string_view digits = entity.substr(hex ? 2 : 1);
      uint32_t code_point = 0;
      auto [end, error] =
          std::from_chars(digits.data(), digits.data() + digits.size(), code_point, hex ? 16 : 10);
      if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
          code_point == 0 || code_point > 0x10FFFF ||
          (code_point >= 0xD800 && code_point <= 0xDFFF)) {
        return Corruption("bad XML character reference '&" + std::string(entity) + ";'");
      }
      AppendUtf8(code_point, &out);
    } else {
      return Corruption("unknown XML entity '&" + Shown(entity) + ";'");
    }
    i = semicolon;
  }
  return out;
}

std::string EscapeXmlText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

S3ErrorDocument ParseS3ErrorDocument(std::string_view body) {
  S3ErrorDocument document;
  auto error = Element(body, "Error");
  if (!error) return document;
  document.code = Shown(Text(*error, "Code"));
  document.message = Shown(Text(*error, "Message"));
  document.bucket_name = Shown(Text(*error, "BucketName"));
  document.request_id = Shown(Text(*error, "RequestId"));
  return document;
}

Status S3ErrorStatus(int http_status, std::string_view body, std::string_view operation,
                     std::string_view bucket) {
  S3ErrorDocument document = ParseS3ErrorDocument(body);
  std::string what = std::string(operation) + " on bucket '" + std::string(bucket) +
                     "' answered HTTP " + std::to_string(http_status);
  if (!document.code.empty()) what += " " + document.code;
  if (!document.message.empty()) what += " (" + document.message + ")";
  if (!document.request_id.empty()) what += " [request " + document.request_id + "]";
  const std::string& code = document.code;
  if (code == "NoSuchBucket") {
    return NotFound(what + ": the bucket does not exist; create it (aws s3 mb s3://" +
                    std::string(bucket) + ") or correct the sink URL");
  }
  if (code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "InvalidToken" ||
      code == "ExpiredToken" || code == "TokenRefreshRequired" || code == "InvalidSecurity" ||
      code == "AccessDenied" || code == "AllAccessDisabled" || code == "AccountProblem" ||
      http_status == 401 || http_status == 403) {
    return PermissionDenied(what +
                            ": the credentials are wrong or lack permission; check "
                            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) and the "
                            "bucket policy (s3:PutObject, s3:ListBucket, s3:GetObject)");
  }
  if (code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed" ||
      code == "IllegalLocationConstraintException" || http_status == 301) {
    return FailedPrecondition(what +
                              ": the bucket is in another region; set region= to the "
                              "bucket's region in the sink URL");
  }
  if (code == "PreconditionFailed" || http_status == 412) {
    return AlreadyExists(what + ": an object exists at the key");
  }
  if (code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" ||
      code == "ServiceUnavailable" || code == "ConditionalRequestConflict" ||
      code == "OperationAborted" || http_status == 429 || http_status == 409 ||
      http_status >= 500) {
    return Unavailable(what + "; retrying");
  }
  if (http_status == 404) {
    return NotFound(what + ": not found; check the bucket and the endpoint in the sink URL");
  }
  if (http_status == 405 || http_status == 501) {
    return Unimplemented(what + ": the server does not support this call");
  }
  return InvalidArgument(what + ": the server refused the request; check the sink's settings");
}

int64_t ParseLastModifiedMs(std::string_view text) {
  // "2009-10-12T17:50:30.000Z" (ISO 8601 in UTC, as S3 writes it).
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text.back() != 'Z') {
    return 0;
  }
  auto number = [&](size_t at, size_t length, int& out) {
    auto [end, error] = std::from_chars(text.data() + at, text.data() + at + length, out);
    return error == std::errc() && end == text.data() + at + length;
  };
  if (!number(0, 4, year) || !number(5, 2, month) || !number(8, 2, day) || !number(11, 2, hour) ||
      !number(14, 2, minute) || !number(17, 2, second) || month < 1 || month > 12 || day < 1 ||
      day > 31) {
    return 0;
  }
  int millis = 0;
  if (text[19] == '.' && text.size() >= 24) {
    if (!number(20, 3, millis)) millis = 0;
  }
  // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = static_cast<int64_t>(era) * 146097 + doe - 719468;
  return ((days * 24 + hour) * 60 + minute) * 60'000LL + second * 1000LL + millis;
}

Result<ListPage> ParseListObjectsV2(std::string_view body) {
  auto result = Element(body, "ListBucketResult");
  if (!result) {
    return Corruption("the ListObjectsV2 reply has no <ListBucketResult>: '" +
                      Shown(body.substr(0, 120)) + "'");
  }
  ListPage page;
  size_t position = 0;
  size_t next = 0;
  while (auto contents = Element(*result, "Contents", position, &next)) {
    position = next;
    auto key = Element(*contents, "Key");
    if (!key) return Corruption("a ListObjectsV2 <Contents> has no <Key>");
    EDDY_ASSIGN_OR_RETURN(std::string decoded, DecodeXmlText(*key));
    ObjectInfo info;
    info.key = std::move(decoded);
    if (auto size = Element(*contents, "Size")) {
      auto [end, error] = std::from_chars(size->data(), size->data() + size->size(), info.size);
      if (error != std::errc() || end != size->data() + size->size()) {
        return Corruption("a ListObjectsV2 <Size> is not a number: '" + Shown(*size) + "'");
      }
    }
    if (auto modified = Element(*contents, "LastModified")) {
      info.modified_ms = ParseLastModifiedMs(*modified);
    }
    page.objects.push_back(std::move(info));
  }
  std::string truncated = Text(*result, "IsTruncated");
  if (truncated == "true") {
    auto token = Element(*result, "NextContinuationToken");
    if (!token || token->empty()) {
      return Corruption("a truncated ListObjectsV2 reply has no <NextContinuationToken>");
    }
    EDDY_ASSIGN_OR_RETURN(page.continuation, DecodeXmlText(*token));
  }
  return page;
}

Result<std::string> ParseUploadId(std::string_view body) {
  auto upload_id = Element(body, "UploadId");
  if (!upload_id || upload_id->empty()) {
    return Corruption("the CreateMultipartUpload reply has no <UploadId>: '" +
                      Shown(body.substr(0, 120)) + "'");
  }
  return DecodeXmlText(*upload_id);
}

}  // namespace eddy::objstore
