// The PostgreSQL target of the replica sink: `postgresql://USER:PASS@HOST:PORT/DB?schema=S`
// (also `postgres://`), through libpq. The dialect (type mapping, statements) and the
// connection (COPY for bulk loads, SQLSTATE classes mapped onto eddy's codes as target.h
// requires) are what this file adds to the engine-neutral core (replica_destination.h).
//
// URL parameters besides `schema` are the replica core's settings (table_name, tables,
// create_tables) and libpq's connection parameters that are safe to pass through
// (sslmode, sslrootcert, sslcert, sslkey, connect_timeout, application_name, options); anything
// else
// is InvalidArgument naming it.
//
// Threads: see target.h.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "consume/sink.h"
#include "sink/replica/target.h"

namespace eddy::sink::replica {

class PostgresDialect final : public TargetDialect {
 public:
  std::string_view engine_name() const override { return "postgresql"; }
  bool transactional_ddl() const override { return true; }
  std::string QuoteIdentifier(std::string_view name) const override;
  std::string QuoteLiteral(std::string_view text) const override;
  Result<std::string> MapType(const model::Column& column,
                              model::ConnectorKind source) const override;
  Result<TextValue> RenderValue(const model::Value& value, const model::Column& column,
                                model::ConnectorKind source) const override;
  std::string CreateTable(const TargetTable& table, const std::vector<TargetColumn>& columns,
                          const std::vector<std::string>& primary_key) const override;
  std::string AddColumn(const TargetTable& table, const TargetColumn& column) const override;
  std::string AlterColumnType(const TargetTable& table, const TargetColumn& column) const override;
  std::string SetNullable(const TargetTable& table, const TargetColumn& column) const override;
  std::string ReplacePrimaryKey(const TargetTable& table,
                                const std::vector<std::string>& primary_key) const override;
  std::string RenameTable(const TargetTable& from, const TargetTable& to) const override;
  std::string SelectColumns(const TargetTable& table) const override;
  std::string Upsert(const TargetTable& table, const std::vector<std::string>& columns,
                     const std::vector<std::string>& key_columns,
                     const std::vector<TextRow>& rows) const override;
  std::string Delete(const TargetTable& table, const std::vector<std::string>& key_columns,
                     const std::vector<TextRow>& keys) const override;
  std::string DeleteOneRow(const TargetTable& table, const std::vector<std::string>& columns,
                           const TextRow& row) const override;
  std::string Truncate(const TargetTable& table) const override;
  std::string CreateCheckpointTable(std::string_view space) const override;
  std::string UpsertCheckpoint(std::string_view space, std::string_view sink,
                               std::string_view checkpoint) const override;
};

// Parses a postgresql:// URL and the destination's settings (consume::DestinationSettings:
// `schema`, libpq's parameters listed above; the replica core's keys are left to it; others
// are InvalidArgument) into a Target. No I/O; the password stays out of display_url.
Result<Target> MakePostgresTarget(const std::string& url,
                                  const std::map<std::string, std::string>& settings);

// The `postgresql` / `postgres` scheme's DestinationFactory.
Result<std::unique_ptr<consume::Destination>> MakePostgresDestination(
    const consume::SinkSpec& spec);

}  // namespace eddy::sink::replica
