#include "net/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace eddy::net {

namespace {

Status GlobalInit() {
  static std::once_flag once;
  static CURLcode code = CURLE_OK;
  std::call_once(once, [] { code = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (code != CURLE_OK) {
    return Internal(std::string("libcurl failed to initialize: ") + curl_easy_strerror(code));
  }
  return Status::Ok();
}

// The URL without query and credentials, for messages (a query may carry a token).
std::string RedactUrl(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  size_t scheme_end = url.find("://");
  size_t authority_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  size_t authority_end = url.find('/', authority_start);
  std::string_view authority = url.substr(authority_start, authority_end == std::string_view::npos
                                                               ? std::string_view::npos
                                                               : authority_end - authority_start);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, authority_start)) + std::string(authority.substr(at + 1)) +
         std::string(authority_end == std::string_view::npos ? std::string_view()
                                                             : url.substr(authority_end));
}

bool HasLineBreak(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

struct Transfer {
  HttpResponse* response;
  size_t max_body;
  bool body_too_large = false;
  const std::atomic<bool>* cancel;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  if (transfer->response->body.size() + bytes > transfer->max_body) {
    transfer->body_too_large = true;
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  transfer->response->body.append(data, bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  std::string_view line(data, bytes);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    // A new status line: an interim 1xx reply or the final one; keep only the final's headers.
    transfer->response->headers.clear();
    return bytes;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return bytes;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  transfer->response->headers.emplace_back(std::move(name), std::string(value));
  return bytes;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  return transfer->cancel != nullptr && transfer->cancel->load() ? 1 : 0;
}

Status MapError(CURLcode code, const char* detail, const Transfer& transfer,
                std::string_view method, std::string_view url) {
  std::string where = std::string(method) + " " + RedactUrl(url) + ": ";
  std::string curl_says = detail[0] != '\0' ? detail : curl_easy_strerror(code);
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return InvalidArgument(where + "not a usable http:// or https:// URL (" + curl_says + ")");
    case CURLE_OPERATION_TIMEDOUT:
      return Timeout(where + "timed out (" + curl_says + ")");
    case CURLE_PEER_FAILED_VERIFICATION:
      return FailedPrecondition(
          where + "the server's TLS certificate failed verification (" + curl_says +
          "); set ca_file to the PEM of the CA that signed it and use a host name the "
          "certificate names");
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return FailedPrecondition(where + "the CA bundle could not be used (" + curl_says +
                                "); point ca_file at a PEM file of CA certificates");
    case CURLE_SSL_CONNECT_ERROR:
      return Unavailable(where + "TLS handshake failed (" + curl_says +
                         "); check that the endpoint speaks https on that port");
    case CURLE_WRITE_ERROR:
      if (transfer.body_too_large) {
        return ResourceExhausted(where + "the reply is larger than " +
                                 std::to_string(transfer.max_body) + " bytes");
      }
      return Internal(where + curl_says);
    case CURLE_ABORTED_BY_CALLBACK:
      return Aborted(where + "cancelled (shutting down)");
    case CURLE_OUT_OF_MEMORY:
      return ResourceExhausted(where + "out of memory (" + curl_says + ")");
    case CURLE_COULDNT_CONNECT:
      return Unavailable(where + "could not connect (" + curl_says + ")");
    case CURLE_COULDNT_RESOLVE_HOST:
      return Unavailable(where + "could not resolve the host (" + curl_says + ")");
    default:
      // Resets, a peer that closed without a reply, broken replies: the network or the peer,
      // which may recover.
      return Unavailable(where + curl_says);
  }
}

}  // namespace

const std::string* HttpResponse::Header(std::string_view lowercase_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lowercase_name) return &value;
  }
  return nullptr;
}

Result<std::unique_ptr<HttpClient>> HttpClient::Create(HttpClientOptions options) {
  EDDY_RETURN_IF_ERROR(GlobalInit());
  std::unique_ptr<HttpClient> client(new HttpClient(std::move(options)));
  client->curl_ = curl_easy_init();
  if (client->curl_ == nullptr) return Internal("libcurl could not create a handle");
  return client;
}

HttpClient::~HttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

void HttpClient::Prepare(const std::string& url, char* error_buffer, void* transfer) {
  CURL* curl = static_cast<CURL*>(curl_);
  // Reset keeps the connection cache, TLS sessions and DNS cache; only options go.
  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_pem.empty()) {
    curl_blob ca_blob{};
    ca_blob.data = const_cast<char*>(options_.ca_pem.data());
    ca_blob.len = options_.ca_pem.size();
    ca_blob.flags = CURL_BLOB_NOCOPY;  // options_ outlives every transfer
    curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &ca_blob);
  }
  if (options_.cancel != nullptr) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, transfer);
  }
}

Status HttpClient::CheckConnection(std::string_view url) {
  if (options_.cancel != nullptr && options_.cancel->load()) {
    return Aborted("connecting to " + RedactUrl(url) + ": cancelled (shutting down)");
  }
  HttpResponse unused;
  Transfer transfer{&unused, options_.max_response_bytes, false, options_.cancel};
  char error[CURL_ERROR_SIZE] = {0};
  std::string url_text(url);
  Prepare(url_text, error, &transfer);
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
  CURLcode code = curl_easy_perform(curl);
  // The connect-only connection cannot carry requests; drop it with the handle's state.
  curl_easy_cleanup(curl);
  curl_ = curl_easy_init();
  if (curl_ == nullptr) return Internal("libcurl could not create a handle");
  if (code != CURLE_OK) return MapError(code, error, transfer, "connecting to", url);
  return Status::Ok();
}

namespace {
constexpr size_t kDefaultUploadBufferBytes = 64u << 10;  // libcurl's
constexpr long kLargeUploadBufferBytes = 1L << 20;       // libcurl allows up to 2 MiB
}  // namespace

Result<HttpResponse> HttpClient::Send(std::string_view method, std::string_view url,
                                      const HttpHeaders& headers, std::string_view body) {
  if (options_.cancel != nullptr && options_.cancel->load()) {
    return Aborted(std::string(method) + " " + RedactUrl(url) + ": cancelled (shutting down)");
  }
  if (method.empty() || HasLineBreak(method) || method.find(' ') != std::string_view::npos) {
    return InvalidArgument("'" + std::string(method) + "' is not an HTTP method");
  }
  CURL* curl = static_cast<CURL*>(curl_);

  HttpResponse response;
  Transfer transfer{&response, options_.max_response_bytes, false, options_.cancel};
  char error[CURL_ERROR_SIZE] = {0};

  struct SlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
  };
  std::unique_ptr<curl_slist, SlistDeleter> header_list;
  auto add_header = [&](const std::string& line) -> Status {
    curl_slist* appended = curl_slist_append(header_list.get(), line.c_str());
    if (appended == nullptr) return ResourceExhausted("out of memory building request headers");
    header_list.release();
    header_list.reset(appended);
    return Status::Ok();
  };
  for (const auto& [name, value] : headers) {
    if (name.empty() || HasLineBreak(name) || HasLineBreak(value) ||
        name.find(':') != std::string::npos) {
      return InvalidArgument("header '" + name +
                             "' is not usable: names are non-empty without ':' and neither name "
                             "nor value may contain a line break");
    }
    // "Name;" is curl's spelling of a header with an empty value.
    EDDY_RETURN_IF_ERROR(add_header(value.empty() ? name + ";" : name + ": " + value));
  }
  // No "Expect: 100-continue" round trip for large bodies.
  EDDY_RETURN_IF_ERROR(add_header("Expect:"));

  std::string url_text(url);
  std::string method_text(method);
  Prepare(url_text, error, &transfer);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  if (method == "GET" && body.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    // POSTFIELDS sends the body with Content-Length; CUSTOMREQUEST renames the method.
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    // libcurl copies a body through its upload buffer, 64 KiB by default: a body of megabytes
    // (a webhook batch, an S3 part) then costs a send and two polls per 64 KiB. A larger buffer
    // for large bodies sends them in a sixteenth of the calls.
    if (body.size() > kDefaultUploadBufferBytes) {
      curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, kLargeUploadBufferBytes);
    }
    if (method != "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method_text.c_str());
  }

  CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) return MapError(code, error, transfer, method, url);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &response.new_connections);
  return response;
}

}  // namespace eddy::net
