#include "api/http1_parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace eddy::api {
namespace {

Http1ParseResult Error(int status, std::string message) {
  Http1ParseResult result;
  result.state = Http1ParseState::kError;
  result.error_status = status;
  result.error_message = std::move(message);
  return result;
}

// RFC 9110 token characters (method and header names).
bool IsTokenChar(unsigned char c) {
  if (std::isalnum(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

std::string_view TrimOws(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string Lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::string_view HttpReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

Http1ParseResult ParseHttp1Request(std::string_view buffer, const Http1Limits& limits,
                                   HttpRequest* request) {
  // Tolerate (RFC 9112 §2.2) empty lines before the request line.
  size_t start = 0;
  while (start + 1 < buffer.size() && buffer[start] == '\r' && buffer[start + 1] == '\n') {
    start += 2;
  }
  size_t header_end = buffer.find("\r\n\r\n", start);
  if (header_end == std::string_view::npos) {
    if (buffer.size() - start > limits.max_header_bytes) {
      return Error(431, "request header section exceeds " +
                            std::to_string(limits.max_header_bytes) + " bytes");
    }
    return {};
  }
  if (header_end - start + 4 > limits.max_header_bytes) {
    return Error(431, "request header section exceeds " +
                          std::to_string(limits.max_header_bytes) + " bytes");
  }
  std::string_view head = buffer.substr(start, header_end - start);

  // Request line.
  size_t line_end = head.find("\r\n");
  std::string_view request_line = head.substr(0, line_end);
  std::string_view fields =
      line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  size_t space1 = request_line.find(' ');
  if (space1 == std::string_view::npos || space1 == 0) {
    return Error(400, "malformed request line");
  }
  size_t space2 = request_line.find(' ', space1 + 1);
  if (space2 == std::string_view::npos || space2 == space1 + 1) {
    return Error(400, "malformed request line");
  }
  std::string_view method = request_line.substr(0, space1);
  std::string_view target = request_line.substr(space1 + 1, space2 - space1 - 1);
  std::string_view version = request_line.substr(space2 + 1);
  for (char c : method) {
    if (!IsTokenChar(static_cast<unsigned char>(c))) return Error(400, "malformed method");
  }
  for (char c : target) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return Error(400, "malformed request target");
  }
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." ||
      (version[7] != '0' && version[7] != '1')) {
    if (version.substr(0, 5) == "HTTP/") return Error(505, "only HTTP/1.0 and HTTP/1.1 are served");
    return Error(400, "malformed HTTP version");
  }

  HttpRequest parsed;
  parsed.method = std::string(method);
  parsed.target = std::string(target);
  parsed.http_major = 1;
  parsed.http_minor = version[7] - '0';

  std::optional<size_t> content_length;
  bool expect_continue = false;
  while (!fields.empty()) {
    size_t end = fields.find("\r\n");
    std::string_view line = fields.substr(0, end);
    fields = end == std::string_view::npos ? std::string_view() : fields.substr(end + 2);
    if (line.empty()) return Error(400, "empty header line");
    if (line.front() == ' ' || line.front() == '\t') {
      return Error(400, "obsolete header line folding is not accepted");
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return Error(400, "malformed header field");
    std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!IsTokenChar(static_cast<unsigned char>(c))) {
        return Error(400, "malformed header field name");
      }
    }
    std::string_view value = TrimOws(line.substr(colon + 1));
    for (char c : value) {
      unsigned char u = static_cast<unsigned char>(c);
      if ((u < 0x20 && u != '\t') || u == 0x7f) return Error(400, "control character in header");
    }
    if (parsed.headers.size() >= limits.max_header_count) {
      return Error(431, "more than " + std::to_string(limits.max_header_count) + " header fields");
    }
    std::string lower = Lowercase(name);
    if (lower == "content-length") {
      size_t length = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (ec != std::errc() || ptr != value.data() + value.size() || value.empty()) {
        return Error(400, "malformed Content-Length");
      }
      if (content_length && *content_length != length) {
        return Error(400, "conflicting Content-Length headers");
      }
      content_length = length;
    } else if (lower == "transfer-encoding") {
      return Error(501, "Transfer-Encoding is not supported; send Content-Length");
    } else if (lower == "expect") {
      if (!EqualsIgnoreCase(value, "100-continue")) return Error(400, "unsupported Expect value");
      expect_continue = true;
    }
    parsed.headers.emplace_back(std::move(lower), std::string(value));
  }

  size_t body_length = content_length.value_or(0);
  if (body_length > limits.max_body_bytes) {
    return Error(413, "request body of " + std::to_string(body_length) + " bytes exceeds " +
                          std::to_string(limits.max_body_bytes) + " bytes");
  }
  size_t body_start = header_end + 4;
  if (buffer.size() - body_start < body_length) {
    Http1ParseResult more;
    more.headers_complete = true;
    more.expect_continue = expect_continue;
    return more;
  }
  parsed.body = std::string(buffer.substr(body_start, body_length));
  *request = std::move(parsed);
  Http1ParseResult done;
  done.state = Http1ParseState::kComplete;
  done.consumed = body_start + body_length;
  return done;
}

bool Http1KeepAlive(const HttpRequest& request) {
  const std::string* connection = request.Header("connection");
  if (request.http_minor == 0) {
    return connection != nullptr && EqualsIgnoreCase(*connection, "keep-alive");
  }
  return connection == nullptr || !EqualsIgnoreCase(*connection, "close");
}

std::string SerializeHttp1Response(const HttpResponse& response, bool keep_alive) {
  std::string out = SerializeHttp1ResponseHead(response, keep_alive);
  out += response.body;
  return out;
}

std::string SerializeHttp1ResponseHead(const HttpResponse& response, bool keep_alive) {
  std::string out;
  out.reserve(256);
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += HttpReasonPhrase(response.status);
  out += "\r\n";
  for (const auto& [name, value] : response.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "content-length: ";
  out += std::to_string(response.body.size());
  out += "\r\n";
  if (!keep_alive) out += "connection: close\r\n";
  out += "\r\n";
  return out;
}

}  // namespace eddy::api
