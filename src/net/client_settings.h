// The HTTP client settings every HTTP sink (webhook, kinesis, opensearch) takes in its URL
// query, parsed and turned into HttpClientOptions in one place so that their limits and
// messages are the same in every sink:
//   request_timeout  the whole request: 1ms to 15 minutes, seconds ("30") or a duration
//   connect_timeout  TCP connect plus TLS handshake: 1ms to 5 minutes
//   ca_file          path of a PEM bundle that replaces the system's CA store (read through
//                    io::FileSystem when the sink opens)
// `Settings` below is a sink's settings struct with members request_timeout and
// connect_timeout (std::chrono::milliseconds) and ca_file (std::string).
//
// EndpointError words a transport error of such a sink's request the same way in every sink.
//
// Threads: pure functions apart from the file read; any thread may call them.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"
#include "io/file_system.h"
#include "net/http_client.h"

namespace eddy::net {

inline constexpr std::chrono::milliseconds kMaxRequestTimeout{900'000};
inline constexpr std::chrono::milliseconds kMaxConnectTimeout{300'000};

// True for request_timeout, connect_timeout and ca_file.
bool IsClientSetting(std::string_view key);

// The members a client setting is stored in.
struct ClientSettingMembers {
  std::chrono::milliseconds* request_timeout;
  std::chrono::milliseconds* connect_timeout;
  std::string* ca_file;
};

// Stores client setting `key` (IsClientSetting) into `members`; InvalidArgument naming `sink`
// and saying what to write for a bad value (a duration out of range, an empty ca_file).
[[nodiscard]] Status ParseClientSetting(std::string_view sink, std::string_view key,
                                        const std::string& value, ClientSettingMembers members);
template <typename Settings>
[[nodiscard]] Status ParseClientSetting(std::string_view sink, std::string_view key,
                                        const std::string& value, Settings& settings) {
  return ParseClientSetting(sink, key, value,
                            ClientSettingMembers{&settings.request_timeout,
                                                 &settings.connect_timeout, &settings.ca_file});
}

// The options of the sink's clients: its timeouts, `cancel` (not owned), and the CA bundle
// read from ca_file through `fs` when it is set (FailedPrecondition naming `sink` when the
// file cannot be read).
[[nodiscard]] Result<HttpClientOptions> MakeClientOptions(std::string_view sink,
                                                          std::chrono::milliseconds request_timeout,
                                                          std::chrono::milliseconds connect_timeout,
                                                          const std::string& ca_file,
                                                          io::FileSystem& fs,
                                                          const std::atomic<bool>* cancel);
template <typename Settings>
[[nodiscard]] Result<HttpClientOptions> MakeClientOptions(std::string_view sink,
                                                          const Settings& settings,
                                                          io::FileSystem& fs,
                                                          const std::atomic<bool>* cancel) {
  return MakeClientOptions(sink, settings.request_timeout, settings.connect_timeout,
                           settings.ca_file, fs, cancel);
}

// A transport error of a sink's request (`transport`, what HttpClient returned: the endpoint not
// reached, no reply in time, ...) as the sink reports it, with the same code:
// "<sink> endpoint <endpoint> (<operation>): <message>", then "; <fix>" when the endpoint could
// not be reached or did not answer in time (kUnavailable, kTimeout). kResourceExhausted (a
// reply too large, out of memory) becomes kUnavailable, which the runner retries.
[[nodiscard]] Status EndpointError(const Status& transport, std::string_view sink,
                                   std::string_view endpoint, std::string_view operation,
                                   std::string_view fix);

}  // namespace eddy::net
