#include "objstore/s3_object_store.h"

#include <algorithm>
#include <thread>

#include "aws/request_signer.h"
#include "aws/sigv4.h"
#include "base/logging.h"
#include "objstore/s3_xml.h"

namespace eddy::objstore {

namespace {

constexpr uint64_t kMinPartSize = 5u << 20;
constexpr uint64_t kMaxParts = 10'000;

bool RetriableHttp(int status) { return status == 429 || status >= 500; }

}  // namespace

RequestSigner MakeSigV4Signer(aws::Credentials credentials, std::string region) {
  auto shared = std::make_shared<const aws::Credentials>(std::move(credentials));
  return [shared, region = std::move(region)](std::string_view method, std::string_view url,
                                              std::string_view payload_hash,
                                              net::HttpHeaders* headers) -> Status {
    aws::SigningInput input;
    input.method = method;
    input.url = url;
    input.payload_hash = payload_hash;
    input.credentials = shared.get();
    input.region = region;
    input.service = "s3";
    input.time = std::chrono::system_clock::now();
    return aws::SignRequest(input, headers);
  };
}

Status ValidateBucketName(std::string_view bucket) {
  bool valid =
      bucket.size() >= 3 && bucket.size() <= 63 &&
      std::all_of(bucket.begin(), bucket.end(),
                  [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
                  }) &&
      bucket.front() != '.' && bucket.front() != '-' && bucket.back() != '.' &&
      bucket.back() != '-' && bucket.find("..") == std::string_view::npos;
  if (!valid) {
    return InvalidArgument("'" + std::string(bucket.substr(0, 100)) +
                           "' is not an S3 bucket name: use 3-63 lowercase letters, digits, "
                           "'.' and '-', starting and ending with a letter or digit");
  }
  return Status::Ok();
}

S3ObjectStore::S3ObjectStore(S3Options options) : options_(std::move(options)) {
  options_.http.cancel = &closing_;
  clients_.set_options(options_.http);
  while (!options_.endpoint.empty() && options_.endpoint.back() == '/')
    options_.endpoint.pop_back();
  options_.part_size = std::max(options_.part_size, uint64_t{1});
  options_.max_attempts = std::max(options_.max_attempts, 1);
  options_.part_concurrency = std::max(options_.part_concurrency, 1);
}

S3ObjectStore::~S3ObjectStore() { Close(); }

Result<std::unique_ptr<S3ObjectStore>> S3ObjectStore::Create(S3Options options) {
  EDDY_RETURN_IF_ERROR(ValidateBucketName(options.bucket));
  if (options.region.empty()) return InvalidArgument("the S3 region is empty; set region=");
  if (!options.endpoint.empty() && !options.endpoint.starts_with("http://") &&
      !options.endpoint.starts_with("https://")) {
    return InvalidArgument("S3 endpoint '" + options.endpoint +
                           "' is not an http:// or https:// URL");
  }
  return std::unique_ptr<S3ObjectStore>(new S3ObjectStore(std::move(options)));
}

std::string S3ObjectStore::Describe(std::string_view key) const {
  return "s3://" + options_.bucket + "/" + std::string(key);
}

std::string S3ObjectStore::ObjectUrl(std::string_view key, std::string_view query) const {
  std::string url;
  if (options_.endpoint.empty()) {
    url = "https://" + options_.bucket + ".s3." + options_.region + ".amazonaws.com/";
  } else {
    url = options_.endpoint + "/" + options_.bucket + "/";
  }
  url += aws::UriEncode(key, /*keep_slash=*/true);
  if (!query.empty()) url += "?" + std::string(query);
  return url;
}

void S3ObjectStore::Close() {
  closing_ = true;
  clients_.Close();
}

Result<net::HttpResponse> S3ObjectStore::Send(std::string_view method, const std::string& url,
                                              net::HttpHeaders headers, std::string_view body) {
  std::string payload_hash = aws::Sha256Hex(body);
  headers.emplace_back("x-amz-content-sha256", payload_hash);
  Backoff backoff(options_.backoff);
  Result<net::HttpResponse> last = Unavailable("no attempt made");
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    if (closing_) return Aborted(std::string(method) + " " + url + ": cancelled (closing)");
    net::HttpHeaders signed_headers = headers;
    if (options_.signer) {
      EDDY_RETURN_IF_ERROR(options_.signer(method, url, payload_hash, &signed_headers));
    }
    EDDY_ASSIGN_OR_RETURN(auto client, clients_.Borrow());
    last = client->Send(method, url, signed_headers, body);
    clients_.Return(std::move(client));
    bool retry = last.ok() ? RetriableHttp(last->status) : last.status().IsRetriable();
    if (!retry) return last;
    if (attempt < options_.max_attempts) {
      // A short pause within one call; the sink runner's backoff takes over after the last
      // attempt. Close ends it at the next attempt.
      std::this_thread::sleep_for(backoff.NextDelay());
    }
  }
  return last;
}

Status S3ObjectStore::Check() {
  auto page = List("", "", "", 1);
  if (!page.ok()) {
    const Status& error = page.status();
    if (error.code() == ErrorCode::kUnavailable || error.code() == ErrorCode::kTimeout) {
      return Status(
          error.code(),
          "the S3 endpoint for bucket '" + options_.bucket + "' (" +
              (options_.endpoint.empty() ? "AWS, region " + options_.region : options_.endpoint) +
              ") cannot be reached: " + error.message() +
              "; check the endpoint= and region= of the sink URL and the network");
    }
    return error;
  }
  return Status::Ok();
}

Status S3ObjectStore::Put(std::string_view key, std::string_view bytes, const PutOptions& options) {
  EDDY_RETURN_IF_ERROR(ValidateKey(key));
  if (bytes.size() >= options_.multipart_threshold && bytes.size() > options_.part_size) {
    return PutMultipart(key, bytes, options);
  }
  return PutSingle(key, bytes, options);
}

namespace {

net::HttpHeaders ObjectHeaders(const PutOptions& options, bool conditional) {
  net::HttpHeaders headers;
  headers.emplace_back("Content-Type", options.content_type);
  if (!options.content_encoding.empty()) {
    headers.emplace_back("Content-Encoding", options.content_encoding);
  }
  if (conditional) headers.emplace_back("If-None-Match", "*");
  return headers;
}

}  // namespace

Status S3ObjectStore::PutSingle(std::string_view key, std::string_view bytes,
                                const PutOptions& options) {
  bool conditional = options.if_none_match && options_.honours_if_none_match;
  EDDY_ASSIGN_OR_RETURN(
      auto reply, Send("PUT", ObjectUrl(key, ""), ObjectHeaders(options, conditional), bytes));
  if (reply.status / 100 == 2) return Status::Ok();
  return S3ErrorStatus(reply.status, reply.body, "PutObject " + std::string(key), options_.bucket);
}

Status S3ObjectStore::PutMultipart(std::string_view key, std::string_view bytes,
                                   const PutOptions& options) {
  auto logger = logging::Get("objstore");
  uint64_t part_size = std::max(options_.part_size, (bytes.size() + kMaxParts - 1) / kMaxParts);
  if (options_.endpoint.empty()) part_size = std::max(part_size, kMinPartSize);
  std::string operation = "CreateMultipartUpload " + std::string(key);
  EDDY_ASSIGN_OR_RETURN(
      auto created, Send("POST", ObjectUrl(key, "uploads="), ObjectHeaders(options, false), ""));
  if (created.status / 100 != 2) {
    return S3ErrorStatus(created.status, created.body, operation, options_.bucket);
  }
  EDDY_ASSIGN_OR_RETURN(std::string upload_id, ParseUploadId(created.body));
  std::string id_query = "uploadId=" + aws::UriEncode(upload_id, false);

  auto abort = [&](const Status& why) -> Status {
    auto aborted = Send("DELETE", ObjectUrl(key, id_query), {}, "");
    if (!aborted.ok() || aborted->status / 100 != 2) {
      logger->warn(
          "multipart upload not aborted bucket={} key={} upload_id={} error={}; the "
          "parts stay until the bucket's lifecycle rule removes them",
          options_.bucket, key, upload_id,
          aborted.ok() ? "HTTP " + std::to_string(aborted->status) : aborted.status().ToString());
    }
    return why;
  };

  // Parts go up concurrently (part_concurrency clients from the pool); the first failure
  // stops the others from starting new parts, and the upload is aborted.
  uint64_t part_count = (bytes.size() + part_size - 1) / part_size;
  std::vector<std::string> etags(part_count);
  std::atomic<uint64_t> next_part{0};
  std::mutex failure_mutex;
  Status failure = Status::Ok();
  auto upload_parts = [&] {
    while (true) {
      {
        std::lock_guard lock(failure_mutex);
        if (!failure.ok()) return;
      }
      uint64_t index = next_part++;
      if (index >= part_count) return;
      uint64_t part_number = index + 1;
      std::string_view part = bytes.substr(index * part_size, part_size);
      std::string query = "partNumber=" + std::to_string(part_number) + "&" + id_query;
      std::string what = "UploadPart " + std::to_string(part_number) + " of " + std::string(key);
      auto uploaded = Send("PUT", ObjectUrl(key, query), {}, part);
      Status error = Status::Ok();
      if (!uploaded.ok()) {
        error = uploaded.status().WithContext(what);
      } else if (uploaded->status / 100 != 2) {
        error = S3ErrorStatus(uploaded->status, uploaded->body, what, options_.bucket);
      } else if (const std::string* etag = uploaded->Header("etag");
                 etag == nullptr || etag->empty()) {
        error = Unavailable(what + " answered without an ETag; retrying");
      } else {
        etags[index] = *etag;
      }
      if (!error.ok()) {
        std::lock_guard lock(failure_mutex);
        if (failure.ok()) failure = error;
        return;
      }
    }
  };
  {
    size_t workers = static_cast<size_t>(
        std::min<uint64_t>(part_count, static_cast<uint64_t>(options_.part_concurrency)));
    std::vector<std::thread> threads;
    for (size_t i = 1; i < workers; ++i) threads.emplace_back(upload_parts);
    upload_parts();
    for (auto& thread : threads) thread.join();
  }
  if (!failure.ok()) return abort(failure);
  std::string complete = "<CompleteMultipartUpload>";
  for (uint64_t index = 0; index < part_count; ++index) {
    complete += "<Part><PartNumber>" + std::to_string(index + 1) + "</PartNumber><ETag>" +
                EscapeXmlText(etags[index]) + "</ETag></Part>";
  }
  complete += "</CompleteMultipartUpload>";
  net::HttpHeaders headers;
  headers.emplace_back("Content-Type", "application/xml");
  if (options.if_none_match && options_.honours_if_none_match) {
    headers.emplace_back("If-None-Match", "*");
  }
  auto completed = Send("POST", ObjectUrl(key, id_query), std::move(headers), complete);
  if (!completed.ok()) return abort(completed.status().WithContext("CompleteMultipartUpload"));
  // CompleteMultipartUpload may answer 200 with an <Error> document in the body.
  if (completed->status / 100 != 2 || completed->body.find("<Error>") != std::string::npos) {
    int status = completed->status / 100 == 2 ? 500 : completed->status;
    return abort(S3ErrorStatus(status, completed->body,
                               "CompleteMultipartUpload " + std::string(key), options_.bucket));
  }
  return Status::Ok();
}

Result<std::string> S3ObjectStore::Get(std::string_view key) {
  EDDY_RETURN_IF_ERROR(ValidateKey(key));
  EDDY_ASSIGN_OR_RETURN(auto reply, Send("GET", ObjectUrl(key, ""), {}, ""));
  if (reply.status / 100 == 2) return std::move(reply.body);
  if (reply.status == 404 && ParseS3ErrorDocument(reply.body).code == "NoSuchKey") {
    return NotFound("no object " + Describe(key));
  }
  return S3ErrorStatus(reply.status, reply.body, "GetObject " + std::string(key), options_.bucket);
}

Result<std::optional<ObjectInfo>> S3ObjectStore::Head(std::string_view key) {
  EDDY_RETURN_IF_ERROR(ValidateKey(key));
  EDDY_ASSIGN_OR_RETURN(auto reply, Send("HEAD", ObjectUrl(key, ""), {}, ""));
  if (reply.status == 404) return std::optional<ObjectInfo>();
  if (reply.status / 100 != 2) {
    return S3ErrorStatus(reply.status, reply.body, "HeadObject " + std::string(key),
                         options_.bucket);
  }
  ObjectInfo info;
  info.key = std::string(key);
  if (const std::string* length = reply.Header("content-length")) {
    info.size = std::strtoull(length->c_str(), nullptr, 10);
  }
  return std::optional<ObjectInfo>(std::move(info));
}

Status S3ObjectStore::Delete(std::string_view key) {
  EDDY_RETURN_IF_ERROR(ValidateKey(key));
  EDDY_ASSIGN_OR_RETURN(auto reply, Send("DELETE", ObjectUrl(key, ""), {}, ""));
  if (reply.status / 100 == 2 || reply.status == 404) return Status::Ok();
  return S3ErrorStatus(reply.status, reply.body, "DeleteObject " + std::string(key),
                       options_.bucket);
}

Result<ListPage> S3ObjectStore::List(std::string_view prefix, std::string_view start_after,
                                     std::string_view continuation, size_t max_keys) {
  // Parameters in the canonical (sorted) order SigV4 also uses.
  std::string query;
  if (!continuation.empty())
    query += "continuation-token=" + aws::UriEncode(continuation, false) + "&";
  query += "list-type=2&max-keys=" + std::to_string(std::clamp<size_t>(max_keys, 1, 1000));
  query += "&prefix=" + aws::UriEncode(prefix, false);
  if (!start_after.empty()) query += "&start-after=" + aws::UriEncode(start_after, false);
  std::string url =
      options_.endpoint.empty()
          ? "https://" + options_.bucket + ".s3." + options_.region + ".amazonaws.com/?" + query
          : options_.endpoint + "/" + options_.bucket + "?" + query;
  EDDY_ASSIGN_OR_RETURN(auto reply, Send("GET", url, {}, ""));
  if (reply.status / 100 != 2) {
    return S3ErrorStatus(reply.status, reply.body, "ListObjectsV2", options_.bucket);
  }
  return ParseListObjectsV2(reply.body);
}

}  // namespace eddy::objstore
