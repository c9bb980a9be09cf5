#include "engine/capture.h"

#include <cctype>

#include "base/logging.h"
#include "source/mysql/capture.h"
#include "source/postgres/capture.h"
#include "source/source_url.h"

namespace eddy::engine {
namespace {

// Slot and publication names allow [a-z0-9_] only.
std::string IdentifierSuffix(const std::string& stream_name) {
  std::string suffix;
  for (char c : stream_name) {
    suffix.push_back(std::isalnum(static_cast<unsigned char>(c))
                         ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                         : '_');
  }
  return suffix;
}

class PostgresCaptureHandle final : public Capture {
 public:
  explicit PostgresCaptureHandle(std::unique_ptr<source::postgres::PostgresCapture> capture)
      : capture_(std::move(capture)) {}
  Status Stop() override { return capture_->Stop(); }
  bool WaitUntilFinished(std::chrono::milliseconds timeout) override {
    return capture_->WaitUntilFinished(timeout);
  }
  std::string ProgressLine() const override {
    auto p = capture_->progress();
    std::string line = "state=" + std::string(source::CaptureStateName(p.state)) +
                       " durable_lsn=" + p.durable_lsn.ToString() +
                       " acknowledged_lsn=" + p.acknowledged_lsn.ToString() +
                       " transactions=" + std::to_string(p.transactions) +
                       " duplicates=" + std::to_string(p.duplicate_transactions) +
                       " events=" + std::to_string(p.events);
    if (p.state == source::CaptureState::kSnapshot || p.snapshot_rows > 0) {
      line += " snapshot_rows=" + std::to_string(p.snapshot_rows) + "/" +
              std::to_string(p.snapshot_rows_estimated);
    }
    if (!p.incremental_snapshot.empty()) {
      line += " incremental_snapshot=" + p.incremental_snapshot +
              " incremental_rows=" + std::to_string(p.incremental_rows) +
              " incremental_chunks=" + std::to_string(p.incremental_chunks);
    }
    if (p.reconnects > 0) line += " reconnects=" + std::to_string(p.reconnects);
    if (!p.last_error.empty()) line += " last_error=\"" + p.last_error + "\"";
    return line;
  }
  source::CaptureState State() const override { return capture_->progress().state; }
  std::string LastError() const override { return capture_->progress().last_error; }
  uint64_t events() const override { return capture_->progress().events; }
  std::string Position() const override {
    auto p = capture_->progress();
    return "durable_lsn=" + p.durable_lsn.ToString() +
           " acknowledged_lsn=" + p.acknowledged_lsn.ToString();
  }
  std::string SnapshotProgress() const override {
    auto p = capture_->progress();
    std::string text;
    if (p.state == source::CaptureState::kSnapshot || p.snapshot_rows > 0) {
      text = "blocking: " + std::to_string(p.snapshot_rows) + " of about " +
             std::to_string(p.snapshot_rows_estimated) + " rows";
    }
    if (!p.incremental_snapshot.empty()) {
      text += std::string(text.empty() ? "" : "; ") + "incremental " + p.incremental_snapshot +
              ": " + std::to_string(p.incremental_rows) + " rows, " +
              std::to_string(p.incremental_chunks) + " chunks";
    }
    return text;
  }

 private:
  std::unique_ptr<source::postgres::PostgresCapture> capture_;
};

class MysqlCaptureHandle final : public Capture {
 public:
  explicit MysqlCaptureHandle(std::unique_ptr<source::mysql::MysqlCapture> capture)
      : capture_(std::move(capture)) {}
  Status Stop() override { return capture_->Stop(); }
  bool WaitUntilFinished(std::chrono::milliseconds timeout) override {
    return capture_->WaitUntilFinished(timeout);
  }
  std::string ProgressLine() const override {
    auto p = capture_->progress();
    std::string line = "state=" + std::string(source::CaptureStateName(p.state)) +
                       " durable=" + p.durable.ToString() +
                       (p.durable_gtid.empty() ? "" : " gtid=" + p.durable_gtid) +
                       " transactions=" + std::to_string(p.transactions) +
                       " duplicates=" + std::to_string(p.duplicate_transactions) +
                       " events=" + std::to_string(p.events);
    if (p.state == source::CaptureState::kSnapshot || p.snapshot_rows > 0) {
      line += " snapshot_rows=" + std::to_string(p.snapshot_rows) +
              " snapshot_tables=" + std::to_string(p.snapshot_tables_done) + "/" +
              std::to_string(p.snapshot_tables);
    }
    if (!p.incremental_snapshot.empty()) {
      line += " incremental_snapshot=" + p.incremental_snapshot +
              " incremental_rows=" + std::to_string(p.incremental_rows) +
              " incremental_chunks=" + std::to_string(p.incremental_chunks);
    }
    if (p.reconnects > 0) line += " reconnects=" + std::to_string(p.reconnects);
    if (!p.last_error.empty()) line += " last_error=\"" + p.last_error + "\"";
    return line;
  }
  source::CaptureState State() const override { return capture_->progress().state; }
  std::string LastError() const override { return capture_->progress().last_error; }
  uint64_t events() const override { return capture_->progress().events; }
  std::string Position() const override {
    auto p = capture_->progress();
    return "binlog=" + p.durable.ToString() +
           (p.durable_gtid.empty() ? "" : " gtid=" + p.durable_gtid);
  }
  std::string SnapshotProgress() const override {
    auto p = capture_->progress();
    std::string text;
    if (p.state == source::CaptureState::kSnapshot || p.snapshot_rows > 0) {
      text = "blocking: " + std::to_string(p.snapshot_rows) + " rows, " +
             std::to_string(p.snapshot_tables_done) + " of " + std::to_string(p.snapshot_tables) +
             " tables";
    }
    if (!p.incremental_snapshot.empty()) {
      text += std::string(text.empty() ? "" : "; ") + "incremental " + p.incremental_snapshot +
              ": " + std::to_string(p.incremental_rows) + " rows, " +
              std::to_string(p.incremental_chunks) + " chunks";
    }
    return text;
  }

 private:
  std::unique_ptr<source::mysql::MysqlCapture> capture_;
};

}  // namespace

Result<std::unique_ptr<Capture>> StartCapture(const EngineConfig& config,
                                              const StreamConfig& stream_config,
                                              size_t stream_index, size_t stream_count,
                                              std::shared_ptr<log::Stream> stream,
                                              std::shared_ptr<model::SchemaRegistry> schemas) {
  EDDY_ASSIGN_OR_RETURN(source::SourceUrl url, source::ParseSourceUrl(config.source.url));
  std::string state_dir = config.data_dir + "/capture/" + stream_config.name;
  if (url.kind == source::SourceKind::kPostgres) {
    source::postgres::PostgresCaptureOptions options;
    options.conninfo = config.source.url;
    options.slot_name = config.source.slot_name;
    options.publication_name = config.source.publication_name;
    if (stream_count > 1) {
      options.slot_name += "_" + IdentifierSuffix(stream_config.name);
      options.publication_name += "_" + IdentifierSuffix(stream_config.name);
    }
    options.tables = stream_config.tables;
    EDDY_ASSIGN_OR_RETURN(options.snapshot_mode,
                          source::postgres::ParseSnapshotMode(config.source.snapshot_mode));
    options.spill_dir = state_dir + "/spill";
    options.state_dir = state_dir;
    EDDY_ASSIGN_OR_RETURN(options.snapshot_type,
                          source::ParseSnapshotType(config.source.snapshot_type));
    options.snapshot_chunk_rows = config.source.snapshot_chunk_size;
    options.snapshot_parallelism = config.source.snapshot_parallelism;
    options.signal_table = config.source.signal_table;
    options.server_name = url.database;
    options.schemas = schemas;
    EDDY_ASSIGN_OR_RETURN(auto capture,
                          source::postgres::PostgresCapture::Start(options, std::move(stream)));
    return std::unique_ptr<Capture>(new PostgresCaptureHandle(std::move(capture)));
  }
  source::mysql::MysqlCaptureOptions options;
  options.url = config.source.url;
  options.server_id = config.source.server_id;
  if (options.server_id == 0) {
    // A fixed default keeps restarts on the same id; several streams need distinct ids.
    options.server_id = 5400 + static_cast<uint32_t>(stream_index);
    logging::Get("engine")->info(
        "stream={} registers as MySQL replica server_id={} (set [source] server_id to choose)",
        stream_config.name, options.server_id);
  } else {
    options.server_id += static_cast<uint32_t>(stream_index);
  }
  options.tables = stream_config.tables;
  EDDY_ASSIGN_OR_RETURN(options.snapshot_mode,
                        source::mysql::ParseSnapshotMode(config.source.snapshot_mode));
  options.data_dir = state_dir;
  EDDY_ASSIGN_OR_RETURN(options.snapshot_type,
                        source::ParseSnapshotType(config.source.snapshot_type));
  options.snapshot_chunk_rows = config.source.snapshot_chunk_size;
  options.snapshot_parallelism = config.source.snapshot_parallelism;
  options.signal_table = config.source.signal_table;
  options.watermark_table = config.source.watermark_table;
  options.server_name = url.database;
  options.schemas = std::move(schemas);
  EDDY_ASSIGN_OR_RETURN(auto capture,
                        source::mysql::MysqlCapture::Start(options, std::move(stream)));
  return std::unique_ptr<Capture>(new MysqlCaptureHandle(std::move(capture)));
}

}  // namespace eddy::engine
