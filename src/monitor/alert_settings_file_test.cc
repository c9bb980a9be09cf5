#include "monitor/alert_settings_file.h"

#include <gtest/gtest.h>

#include "io/fault_file_system.h"

namespace eddy::monitor {
namespace {

TEST(AlertSettingsFile, RoundTripsAndAppliesOverTheConfig) {
  AlertSettingOverrides overrides = {{"sink_lag_seconds", "1.5"},
                                     {"webhook_url", "http://user:pw@hook.example/a%20b"},
                                     {"wal_status", "false"}};
  std::string text = EncodeAlertSettingOverrides(overrides);
  EXPECT_EQ(text.rfind("eddy-alert-settings 1\n", 0), 0u) << text;
  EXPECT_NE(text.find("set webhook_url http://user:pw@hook.example/a%2520b\n"), std::string::npos)
      << text;
  auto decoded = DecodeAlertSettingOverrides(text, "alert-settings");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, overrides);

  AlertSettings settings;  // as the config file gave them
  settings.slot_lag_bytes = 4096;
  ASSERT_TRUE(ApplyAlertSettingOverrides(settings, *decoded).ok());
  EXPECT_EQ(settings.slot_lag_bytes, 4096);  // not patched: the config's value
  EXPECT_DOUBLE_EQ(settings.sink_lag_seconds, 1.5);
  EXPECT_FALSE(settings.wal_status);
  EXPECT_EQ(settings.webhook_url, "http://user:pw@hook.example/a%20b");
}

TEST(AlertSettingsFile, DamageIsCorruptionNamingTheFile) {
  std::string good = EncodeAlertSettingOverrides({{"sink_lag_seconds", "60"}});
  std::string flipped = good;
  flipped[flipped.find("60")] = '7';
  for (const std::string& text :
       {flipped, good.substr(0, good.size() - 5), std::string("garbage"),
        std::string("eddy-alert-settings 2\n") + good.substr(good.find('\n') + 1)}) {
    auto decoded = DecodeAlertSettingOverrides(text, "DATA/alert-settings");
    ASSERT_FALSE(decoded.ok()) << text;
    EXPECT_EQ(decoded.status().code(), ErrorCode::kCorruption);
    EXPECT_NE(decoded.status().message().find("DATA/alert-settings"), std::string::npos);
  }
  // A value eddy would refuse, under a valid CRC: refused too, naming the key.
  AlertSettingOverrides refused = {{"sink_lag_seconds", "-3"}};
  auto decoded = DecodeAlertSettingOverrides(EncodeAlertSettingOverrides(refused), "f");
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("sink_lag_seconds"), std::string::npos)
      << decoded.status().ToString();
}

TEST(AlertSettingsFile, SavedDurablyThroughTheFileSystem) {
  io::FaultInjectionFileSystem fs;
  auto empty = LoadAlertSettingOverrides(&fs, "/data");
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->empty());
  ASSERT_TRUE(SaveAlertSettingOverrides(&fs, "/data", {{"sink_lag_seconds", "2"}}).ok());
  fs.SimulateCrash();  // what was acknowledged is durable
  auto loaded = LoadAlertSettingOverrides(&fs, "/data");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->at("sink_lag_seconds"), "2");

  // A failed write reports the error and leaves the previous file whole.
  fs.InjectFault(io::FaultOperation::kRename, IoError("disk gone"));
  EXPECT_FALSE(SaveAlertSettingOverrides(&fs, "/data", {{"sink_lag_seconds", "9"}}).ok());
  fs.SimulateCrash();
  auto kept = LoadAlertSettingOverrides(&fs, "/data");
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->at("sink_lag_seconds"), "2");
}

}  // namespace
}  // namespace eddy::monitor
