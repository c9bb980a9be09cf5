// SHOW GRANTS parsing for `eddy check` (no server needed).
#include <gtest/gtest.h>

#include "source/mysql/prerequisites.h"

namespace eddy::source::mysql {
namespace {

TEST(ParseShowGrantsTest, GlobalDatabaseColumnAndRoleGrants) {
  MysqlGrants grants = ParseShowGrants({
      "GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO "
      "`eddy_capture`@`%` IDENTIFIED BY PASSWORD '*ABC'",
      "GRANT INSERT, UPDATE ON `shop`.* TO `eddy_capture`@`%`",
      "GRANT SELECT (`a`, `b`), INSERT ON `other`.`t` TO `eddy_capture`@`%`",
      "GRANT `reader` TO `eddy_capture`@`%`",
      "GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION",
  });
  EXPECT_TRUE(grants.HasGlobal("SELECT"));
  EXPECT_TRUE(grants.HasGlobal("REPLICATION SLAVE"));
  EXPECT_TRUE(grants.HasGlobal("BINLOG MONITOR"));
  EXPECT_FALSE(grants.HasGlobal("REPLICATION SLAVE ADMIN"));
  EXPECT_FALSE(grants.HasGlobal("INSERT"));
  EXPECT_TRUE(grants.HasOnDatabase("INSERT", "shop"));
  EXPECT_FALSE(grants.HasOnDatabase("INSERT", "other"));
  EXPECT_EQ(grants.roles.count("reader"), 1u);
}

TEST(ParseShowGrantsTest, AllPrivilegesCoverEverything) {
  MysqlGrants all = ParseShowGrants(
      {"GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION"});
  EXPECT_TRUE(all.HasGlobal("REPLICATION SLAVE"));
  EXPECT_TRUE(all.HasOnDatabase("SELECT", "x"));
  MysqlGrants database_only = ParseShowGrants({"GRANT ALL PRIVILEGES ON `app`.* TO `u`@`%`",
                                               "GRANT USAGE ON *.* TO `u`@`%`"});
  EXPECT_FALSE(database_only.HasGlobal("SELECT"));
  EXPECT_TRUE(database_only.HasOnDatabase("SELECT", "app"));
  EXPECT_FALSE(database_only.HasOnDatabase("SELECT", "other"));
}

TEST(ParseShowGrantsTest, MysqlSpellingAndQuotedNames) {
  MysqlGrants grants = ParseShowGrants(
      {"GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `u`@`%`",
       "GRANT SELECT ON `we``ird`.* TO `u`@`%`", "not a grant line", ""});
  EXPECT_TRUE(grants.HasGlobal("REPLICATION CLIENT"));
  EXPECT_TRUE(grants.HasOnDatabase("SELECT", "we`ird"));
}

}  // namespace
}  // namespace eddy::source::mysql
