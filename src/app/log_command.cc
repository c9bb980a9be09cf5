// `eddy log verify`, `eddy log dump` and `eddy log schemas`: operator tools over a data
// directory, safe to run next to a running `eddy run` (they open it read-only).
#include <iostream>

#include "app/commands.h"
#include "io/file_system.h"
#include "log/log_store.h"
#include "log/tools.h"
#include "schema/schema_history.h"

namespace eddy::app {
namespace {

// "numeric(7,3)", "varchar(20)", "timestamp(3)": the source type with its modifiers (or the
// type as the source declared it, with its collation, when the schema carries it).
std::string ShownType(const model::Column& column) {
  if (!column.declared_type.empty()) {
    return column.collation.empty() ? column.declared_type
                                    : column.declared_type + " collate " + column.collation;
  }
  std::string type = column.source_type;
  if (type.find('(') != std::string::npos) return type;
  if (column.precision && column.scale) {
    return type + "(" + std::to_string(*column.precision) + "," + std::to_string(*column.scale) +
           ")";
  }
  if (column.length) return type + "(" + std::to_string(*column.length) + ")";
  if (column.precision) return type + "(" + std::to_string(*column.precision) + ")";
  return type;
}

// Prints every schema version recorded for `stream` (schema/schema_history.h), oldest first
// per table.
Status PrintSchemas(const std::string& data_dir, const std::string& stream, std::ostream& out) {
  io::FileSystem* fs = io::DefaultFileSystem();
  EDDY_RETURN_IF_ERROR(log::ValidateStreamName(stream));
  EDDY_ASSIGN_OR_RETURN(bool exists,
                        fs->IsDirectory(io::JoinPath(io::JoinPath(data_dir, "streams"), stream)));
  if (!exists) {
    return NotFound("stream '" + stream + "' does not exist in " + data_dir +
                    " (`eddy log dump --data-dir " + data_dir + "` lists the streams)");
  }
  schema::SchemaHistoryOptions options;
  options.read_only = true;
  EDDY_ASSIGN_OR_RETURN(auto history, schema::SchemaHistory::Open(
                                          schema::SchemaHistoryPath(data_dir, stream), options));
  auto schemas = history->All();
  if (schemas.empty()) {
    out << "no table schemas recorded for stream " << stream
        << " (a capture records them as it meets each table)\n";
    return Status::Ok();
  }
  for (const auto& schema : schemas) {
    out << schema->table.QualifiedName() << " version " << schema->version << " ("
        << schema->table.ToString() << "): " << schema->columns.size() << " columns, ";
    if (schema->primary_key.empty()) {
      out << "no primary key\n";
    } else {
      out << "primary key (";
      for (size_t i = 0; i < schema->primary_key.size(); ++i) {
        out << (i > 0 ? ", " : "") << schema->primary_key[i];
      }
      out << ")\n";
    }
    for (const model::Column& column : schema->columns) {
      out << "  " << column.name << " " << ShownType(column) << (column.nullable ? "" : " NOT NULL")
          << " -> " << model::ValueTypeName(column.type);
      if (column.type == model::ValueType::kArray) {
        out << " of " << model::ValueTypeName(column.element_type);
      }
      if (column.primary_key_ordinal > 0) out << ", key " << column.primary_key_ordinal;
      out << "\n";
    }
  }
  return Status::Ok();
}

}  // namespace

void RegisterLogCommand(CLI::App& app, CommandRunner& runner) {
  auto* command = app.add_subcommand("log", "Inspect a change-log data directory");
  command->require_subcommand(1);

  auto data_dir = std::make_shared<std::string>();
  auto* verify = command->add_subcommand(
      "verify", "Check every stream, shard and segment (framing, CRCs, order, indexes); exit 1 "
                "when anything is corrupt");
  verify->add_option("--data-dir", *data_dir, "The data directory")->required();
  verify->callback([&runner, data_dir] {
    runner = [data_dir] {
      Status status = log::VerifyDataDirectory(*data_dir, std::cout);
      if (!status.ok()) {
        std::cerr << "eddy log verify: " << status.message() << "\n";
        return kExitFailure;
      }
      return kExitOk;
    };
  });

  auto dump_options = std::make_shared<log::DumpOptions>();
  auto dump_dir = std::make_shared<std::string>();
  auto* dump = command->add_subcommand(
      "dump", "Print streams, shards (lineage, hash ranges, sequence ranges) and records");
  dump->add_option("--data-dir", *dump_dir, "The data directory")->required();
  dump->add_option("--stream", dump_options->stream, "Only this stream");
  dump->add_option("--shard", dump_options->shard_index, "Only this shard index");
  dump->add_flag("--payloads", dump_options->payloads, "Print payloads (escaped, first 200 bytes)");
  dump->add_option("--max-records", dump_options->max_records, "At most this many records per shard");
  dump->callback([&runner, dump_dir, dump_options] {
    runner = [dump_dir, dump_options] {
      Status status = log::DumpDataDirectory(*dump_dir, *dump_options, std::cout);
      if (!status.ok()) {
        std::cerr << "eddy log dump: " << status.message() << "\n";
        return kExitFailure;
      }
      return kExitOk;
    };
  });

  auto schemas_dir = std::make_shared<std::string>();
  auto schemas_stream = std::make_shared<std::string>();
  auto* schemas = command->add_subcommand(
      "schemas",
      "Print the table schema versions a stream's capture recorded (from the source "
      "catalog), as sinks receive them");
  schemas->add_option("--data-dir", *schemas_dir, "The data directory")->required();
  schemas->add_option("--stream", *schemas_stream, "The stream")->required();
  schemas->callback([&runner, schemas_dir, schemas_stream] {
    runner = [schemas_dir, schemas_stream] {
      Status status = PrintSchemas(*schemas_dir, *schemas_stream, std::cout);
      if (!status.ok()) {
        std::cerr << "eddy log schemas: " << status.message() << "\n";
        return kExitFailure;
      }
      return kExitOk;
    };
  });
}

}  // namespace eddy::app
