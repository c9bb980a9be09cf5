#include "net/client_settings.h"

#include "base/duration.h"

namespace eddy::net {

bool IsClientSetting(std::string_view key) {
  return key == "request_timeout" || key == "connect_timeout" || key == "ca_file";
}

Status ParseClientSetting(std::string_view sink, std::string_view key, const std::string& value,
                          ClientSettingMembers members) {
  if (key == "request_timeout") {
    EDDY_ASSIGN_OR_RETURN(*members.request_timeout,
                          ParseTimeoutSetting(sink, key, value, kMaxRequestTimeout));
  } else if (key == "connect_timeout") {
    EDDY_ASSIGN_OR_RETURN(*members.connect_timeout,
                          ParseTimeoutSetting(sink, key, value, kMaxConnectTimeout));
  } else if (key == "ca_file") {
    if (value.empty()) {
      return InvalidArgument(std::string(sink) +
                             " setting 'ca_file' is empty; give the path of a PEM file");
    }
    *members.ca_file = value;
  } else {
    return Internal("'" + std::string(key) + "' is not an HTTP client setting");
  }
  return Status::Ok();
}

Result<HttpClientOptions> MakeClientOptions(std::string_view sink,
                                            std::chrono::milliseconds request_timeout,
                                            std::chrono::milliseconds connect_timeout,
                                            const std::string& ca_file, io::FileSystem& fs,
                                            const std::atomic<bool>* cancel) {
  HttpClientOptions options;
  options.request_timeout = request_timeout;
  options.connect_timeout = connect_timeout;
  options.cancel = cancel;
  if (!ca_file.empty()) {
    auto pem = fs.ReadFile(ca_file);
    if (!pem.ok()) {
      return FailedPrecondition(std::string(sink) +
                                " setting 'ca_file': " + pem.status().message() +
                                "; point it at a readable PEM file of CA certificates");
    }
    options.ca_pem = std::move(pem).value();
  }
  return options;
}

Status EndpointError(const Status& transport, std::string_view sink, std::string_view endpoint,
                     std::string_view operation, std::string_view fix) {
  const ErrorCode code = transport.code() == ErrorCode::kResourceExhausted ? ErrorCode::kUnavailable
                                                                           : transport.code();
  std::string message = std::string(sink) + " endpoint " + std::string(endpoint) + " (" +
                        std::string(operation) + "): " + transport.message();
  if (code == ErrorCode::kUnavailable || code == ErrorCode::kTimeout) {
    message += "; " + std::string(fix);
  }
  return Status(code, std::move(message));
}

}  // namespace eddy::net
