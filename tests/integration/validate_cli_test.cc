// `eddy validate` through the binary, as operators and scripts run it, against throwaway
// PostgreSQL and MariaDB servers: exit 0 when equal, 1 naming a changed, a missing and an extra
// row, 2 with a clear message for a missing table, a table without a primary key and a bad URL.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "localdb/local_mariadb.h"
#include "localdb/local_postgres.h"

namespace eddy {
namespace {

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Runs `eddy validate ARGS` (arguments are ours, single-quoted for the shell).
Outcome RunValidate(const std::vector<std::string>& args) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("eddy-validate-cli-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string command = std::string(EDDY_BINARY) + " validate";
  for (const std::string& arg : args) command += " '" + arg + "'";
  command += " >" + (dir / "out").string() + " 2>" + (dir / "err").string();
  int status = std::system(command.c_str());
  Outcome outcome;
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  outcome.out = ReadFile(dir / "out");
  outcome.err = ReadFile(dir / "err");
  std::filesystem::remove_all(dir);
  return outcome;
}

TEST(ValidateCliTest, ExitCodesAndMessages) {
  auto postgres = localdb::LocalPostgres::Start();
  ASSERT_TRUE(postgres.ok()) << postgres.status().message();
  auto mariadb = localdb::LocalMariadb::Start();
  ASSERT_TRUE(mariadb.ok()) << mariadb.status().message();
  const std::string pg_url = (*postgres)->Url();
  const std::string maria_url = (*mariadb)->Url();

  Status setup = (*postgres)->Execute(
      "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(8,2), seen timestamptz);"
      "INSERT INTO items SELECT g, 'item ' || g, g * 0.5, '2024-01-01 00:00:00+00'::timestamptz "
      "+ g * interval '1 second' FROM generate_series(1, 100) g;"
      "CREATE TABLE keyless (a int)");
  ASSERT_TRUE(setup.ok()) << setup.message();
  setup = (*mariadb)->Execute(
      "SET time_zone = '+00:00'; CREATE TABLE items (id int PRIMARY KEY, name text, "
      "price decimal(8,2), seen timestamp NULL); INSERT INTO items SELECT seq, CONCAT('item ', "
      "seq), seq * 0.5, TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_100;"
      "CREATE TABLE keyless (a int)");
  ASSERT_TRUE(setup.ok()) << setup.message();

  Outcome equal = RunValidate(
      {"--source", pg_url, "--target", maria_url, "--tables", "items", "--chunk-size", "30"});
  EXPECT_EQ(equal.exit_code, 0) << equal.out << equal.err;
  EXPECT_NE(equal.out.find("public.items: equal (100 rows in the source, 100 in the target"),
            std::string::npos)
      << equal.out;

  setup = (*mariadb)->Execute(
      "UPDATE items SET name = 'changed' WHERE id = 42; DELETE FROM items WHERE id = 7; "
      "INSERT INTO items VALUES (1001, 'extra', 1, NULL)");
  ASSERT_TRUE(setup.ok()) << setup.message();
  Outcome different = RunValidate(
      {"--source", pg_url, "--target", maria_url, "--tables", "items", "--chunk-size", "30"});
  EXPECT_EQ(different.exit_code, 1) << different.out << different.err;
  EXPECT_NE(different.out.find("missing in the target: 1\n    id=7\n"), std::string::npos)
      << different.out;
  EXPECT_NE(different.out.find("extra in the target: 1\n    id=1001\n"), std::string::npos)
      << different.out;
  EXPECT_NE(different.out.find("different values: 1\n    id=42 (columns name)\n"),
            std::string::npos)
      << different.out;

  Outcome missing =
      RunValidate({"--source", pg_url, "--target", maria_url, "--tables", "items,nosuch"});
  EXPECT_EQ(missing.exit_code, 2) << missing.out << missing.err;
  EXPECT_NE(missing.err.find("table public.nosuch does not exist in the source"), std::string::npos)
      << missing.err;

  Outcome keyless = RunValidate({"--source", pg_url, "--target", maria_url, "--tables", "keyless"});
  EXPECT_EQ(keyless.exit_code, 2) << keyless.out << keyless.err;
  EXPECT_NE(keyless.err.find("has no primary key"), std::string::npos) << keyless.err;

  Outcome bad_url = RunValidate(
      {"--source", "postgresql://eddy:secret@127.0.0.1:notaport/x", "--target", maria_url});
  EXPECT_EQ(bad_url.exit_code, 2) << bad_url.out << bad_url.err;
  EXPECT_NE(bad_url.err.find("--source"), std::string::npos) << bad_url.err;
  EXPECT_EQ(bad_url.err.find("secret"), std::string::npos) << bad_url.err;

  Outcome bad_login =
      RunValidate({"--source", pg_url, "--target", (*mariadb)->UrlFor("eddy", "wrong", "eddy")});
  EXPECT_EQ(bad_login.exit_code, 2) << bad_login.out << bad_login.err;
  EXPECT_NE(bad_login.err.find("target: "), std::string::npos) << bad_login.err;
}

}  // namespace
}  // namespace eddy
