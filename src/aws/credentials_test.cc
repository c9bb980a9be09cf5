#include "aws/credentials.h"

#include <gtest/gtest.h>

#include <map>

#include "io/fault_file_system.h"

namespace eddy::aws {
namespace {

EnvLookup Env(std::map<std::string, std::string> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(fs_.CreateDirectories("/home/u/.aws").ok()); }
  void Write(const std::string& path, std::string_view text) {
    ASSERT_TRUE(fs_.WriteFileAtomically(path, text).ok());
  }
  io::FaultInjectionFileSystem fs_;
};

TEST(ParseIni, SectionsKeysCommentsAndNestedBlocks) {
  auto sections = ParseIni(
      "# comment\n[default]\nAWS_Access_Key_Id = A \naws_secret_access_key=B\n; c\n\n"
      "[profile dev]\nregion = eu-west-1\ns3 =\n  max_concurrent_requests = 4\nx = 1\n");
  ASSERT_TRUE(sections.ok()) << sections.status().ToString();
  EXPECT_EQ((*sections)["default"]["aws_access_key_id"], "A");
  EXPECT_EQ((*sections)["default"]["aws_secret_access_key"], "B");
  EXPECT_EQ((*sections)["profile dev"]["region"], "eu-west-1");
  EXPECT_EQ((*sections)["profile dev"]["x"], "1");
  EXPECT_EQ((*sections)["profile dev"].count("max_concurrent_requests"), 0u);
}

TEST(ParseIni, MalformedLinesNameTheLine) {
  for (auto [text, needle] : std::vector<std::pair<std::string, std::string>>{
           {"a = b\n", "line 1: 'key = value' before any [section]"},
           {"[default]\njunk\n", "line 2: expected 'key = value'"},
           {"[default\n", "line 1: section header without closing ']'"},
           {"[]\n", "empty section name"},
           {"[x]\n= v\n", "empty key"}}) {
    auto sections = ParseIni(text);
    ASSERT_FALSE(sections.ok()) << text;
    EXPECT_EQ(sections.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(sections.status().message().find(needle), std::string::npos)
        << sections.status().message();
  }
}

TEST_F(CredentialsTest, EnvironmentComesFirst) {
  Write("/home/u/.aws/credentials", "[default]\naws_access_key_id=FILE\naws_secret_access_key=S\n");
  auto credentials = ResolveCredentials(Env({{"AWS_ACCESS_KEY_ID", "ENV"},
                                             {"AWS_SECRET_ACCESS_KEY", "SECRET"},
                                             {"AWS_SESSION_TOKEN", "TOKEN"},
                                             {"HOME", "/home/u"}}),
                                        fs_);
  ASSERT_TRUE(credentials.ok()) << credentials.status().ToString();
  EXPECT_EQ(credentials->access_key_id, "ENV");
  EXPECT_EQ(credentials->secret_access_key, "SECRET");
  EXPECT_EQ(credentials->session_token, "TOKEN");
  EXPECT_EQ(credentials->source, "environment");
}

TEST_F(CredentialsTest, HalfSetEnvironmentIsAnError) {
  auto credentials = ResolveCredentials(Env({{"AWS_ACCESS_KEY_ID", "ENV"}}), fs_);
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(credentials.status().message().find("AWS_SECRET_ACCESS_KEY is not"), std::string::npos);
}

TEST_F(CredentialsTest, SharedFileProfileFromAwsProfile) {
  Write("/home/u/.aws/credentials",
        "[default]\naws_access_key_id=D\naws_secret_access_key=DS\n"
        "[dev]\naws_access_key_id=V\naws_secret_access_key=VS\naws_session_token=VT\n");
  auto fallback = ResolveCredentials(Env({{"HOME", "/home/u"}}), fs_);
  ASSERT_TRUE(fallback.ok()) << fallback.status().ToString();
  EXPECT_EQ(fallback->access_key_id, "D");
  EXPECT_EQ(fallback->source, "/home/u/.aws/credentials [default]");
  auto dev = ResolveCredentials(Env({{"HOME", "/home/u"}, {"AWS_PROFILE", "dev"}}), fs_);
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  EXPECT_EQ(dev->access_key_id, "V");
  EXPECT_EQ(dev->session_token, "VT");
}

TEST_F(CredentialsTest, ExplicitFilesAndConfigProfileSection) {
  Write("/home/u/creds", "[other]\naws_access_key_id=X\naws_secret_access_key=Y\n");
  Write("/home/u/config", "[profile dev]\naws_access_key_id=C\naws_secret_access_key=CS\n");
  auto credentials = ResolveCredentials(Env({{"AWS_SHARED_CREDENTIALS_FILE", "/home/u/creds"},
                                             {"AWS_CONFIG_FILE", "/home/u/config"},
                                             {"AWS_PROFILE", "dev"}}),
                                        fs_);
  ASSERT_TRUE(credentials.ok()) << credentials.status().ToString();
  EXPECT_EQ(credentials->access_key_id, "C");
  EXPECT_EQ(credentials->source, "/home/u/config [profile dev]");
}

TEST_F(CredentialsTest, NothingFoundSaysWhatToSet) {
  auto credentials = ResolveCredentials(Env({{"HOME", "/home/u"}}), fs_);
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.status().code(), ErrorCode::kPermissionDenied);
  std::string message = credentials.status().message();
  EXPECT_NE(message.find("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("/home/u/.aws/credentials (the file does not exist)"), std::string::npos)
      << message;
}

TEST_F(CredentialsTest, ProfileWithOneKeyOrMalformedFileIsAnError) {
  Write("/home/u/.aws/credentials", "[default]\naws_access_key_id=D\n");
  auto half = ResolveCredentials(Env({{"HOME", "/home/u"}}), fs_);
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.status().message().find("has aws_access_key_id but no aws_secret_access_key"),
            std::string::npos)
      << half.status().message();
  Write("/home/u/.aws/credentials", "[default\n");
  auto bad = ResolveCredentials(Env({{"HOME", "/home/u"}}), fs_);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("/home/u/.aws/credentials is malformed: line 1"),
            std::string::npos)
      << bad.status().message();
}

TEST_F(CredentialsTest, UnreadableFileIsAnError) {
  Write("/home/u/.aws/credentials", "[default]\n");
  fs_.InjectFault(io::FaultOperation::kRead, IoError("EIO"), "credentials", 0, UINT32_MAX);
  auto credentials = ResolveCredentials(Env({{"HOME", "/home/u"}}), fs_);
  ASSERT_FALSE(credentials.ok());
  EXPECT_NE(credentials.status().message().find("reading AWS file /home/u/.aws/credentials"),
            std::string::npos)
      << credentials.status().message();
}

TEST_F(CredentialsTest, RegionChain) {
  Write("/home/u/.aws/config", "[default]\nregion = us-west-2\n[profile dev]\nregion=eu-west-1\n");
  auto env_region = ResolveRegion(
      Env({{"AWS_REGION", "ap-south-1"}, {"AWS_DEFAULT_REGION", "x"}, {"HOME", "/home/u"}}), fs_);
  ASSERT_TRUE(env_region.ok());
  EXPECT_EQ(*env_region, "ap-south-1");
  auto default_region =
      ResolveRegion(Env({{"AWS_DEFAULT_REGION", "ca-central-1"}, {"HOME", "/home/u"}}), fs_);
  ASSERT_TRUE(default_region.ok());
  EXPECT_EQ(*default_region, "ca-central-1");
  auto file_region = ResolveRegion(Env({{"HOME", "/home/u"}}), fs_);
  ASSERT_TRUE(file_region.ok());
  EXPECT_EQ(*file_region, "us-west-2");
  auto dev = ResolveRegion(Env({{"HOME", "/home/u"}, {"AWS_PROFILE", "dev"}}), fs_);
  ASSERT_TRUE(dev.ok());
  EXPECT_EQ(*dev, "eu-west-1");
  auto none = ResolveRegion(Env({{"HOME", "/home/u"}, {"AWS_PROFILE", "nope"}}), fs_);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no AWS region: give it in the URL, or set AWS_REGION"),
            std::string::npos)
      << none.status().message();
}

}  // namespace
}  // namespace eddy::aws
