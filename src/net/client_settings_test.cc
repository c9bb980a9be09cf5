#include "net/client_settings.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

namespace eddy::net {
namespace {

struct SinkSettings {
  std::chrono::milliseconds request_timeout{30'000};
  std::chrono::milliseconds connect_timeout{10'000};
  std::string ca_file;
};

TEST(ClientSettingsTest, ParsesTheThreeKeysWithOneSetOfLimits) {
  EXPECT_TRUE(IsClientSetting("request_timeout"));
  EXPECT_TRUE(IsClientSetting("connect_timeout"));
  EXPECT_TRUE(IsClientSetting("ca_file"));
  EXPECT_FALSE(IsClientSetting("endpoint"));
  SinkSettings settings;
  ASSERT_TRUE(ParseClientSetting("webhook", "request_timeout", "15m", settings).ok());
  EXPECT_EQ(settings.request_timeout, std::chrono::minutes(15));
  ASSERT_TRUE(ParseClientSetting("webhook", "connect_timeout", "250ms", settings).ok());
  EXPECT_EQ(settings.connect_timeout, std::chrono::milliseconds(250));
  ASSERT_TRUE(ParseClientSetting("webhook", "ca_file", "/etc/ca.pem", settings).ok());
  EXPECT_EQ(settings.ca_file, "/etc/ca.pem");

  Status too_long = ParseClientSetting("kinesis", "connect_timeout", "301", settings);
  EXPECT_EQ(too_long.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(too_long.message(),
            "kinesis setting 'connect_timeout' is \"301\"; use a duration from 1ms to 300 "
            "seconds, as seconds (\"30\") or with a unit (\"500ms\", \"30s\")");
  EXPECT_EQ(ParseClientSetting("kinesis", "request_timeout", "16m", settings).code(),
            ErrorCode::kInvalidArgument);
  Status empty = ParseClientSetting("opensearch", "ca_file", "", settings);
  EXPECT_EQ(empty.message(), "opensearch setting 'ca_file' is empty; give the path of a PEM file");
  EXPECT_EQ(settings.connect_timeout, std::chrono::milliseconds(250));  // refusals change nothing
}

TEST(ClientSettingsTest, OptionsCarryTheTimeoutsCancelAndTheCaBundle) {
  std::atomic<bool> cancel{false};
  SinkSettings settings;
  settings.request_timeout = std::chrono::milliseconds(1234);
  settings.connect_timeout = std::chrono::milliseconds(567);
  auto plain = MakeClientOptions("webhook", settings, *io::DefaultFileSystem(), &cancel);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->request_timeout, std::chrono::milliseconds(1234));
  EXPECT_EQ(plain->connect_timeout, std::chrono::milliseconds(567));
  EXPECT_EQ(plain->cancel, &cancel);
  EXPECT_TRUE(plain->ca_pem.empty());

  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("eddy-client-settings-" + std::to_string(std::random_device()()));
  std::filesystem::create_directories(dir);
  settings.ca_file = (dir / "ca.pem").string();
  ASSERT_TRUE(io::DefaultFileSystem()->WriteFileAtomically(settings.ca_file, "PEM BYTES").ok());
  auto with_ca = MakeClientOptions("webhook", settings, *io::DefaultFileSystem(), &cancel);
  ASSERT_TRUE(with_ca.ok()) << with_ca.status().ToString();
  EXPECT_EQ(with_ca->ca_pem, "PEM BYTES");

  settings.ca_file = (dir / "missing.pem").string();
  auto missing = MakeClientOptions("kinesis", settings, *io::DefaultFileSystem(), &cancel);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(missing.status().message().rfind("kinesis setting 'ca_file': ", 0), 0u)
      << missing.status().message();
  EXPECT_NE(missing.status().message().find("; point it at a readable PEM file of CA certificates"),
            std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace eddy::net
