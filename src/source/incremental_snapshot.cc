#include "source/incremental_snapshot.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <random>

#include "base/bytes.h"
#include "base/crc32c.h"
#include "base/logging.h"
#include "model/event_codec.h"
#include "source/snapshot_signal.h"

namespace eddy::source {

Result<SnapshotType> ParseSnapshotType(std::string_view text) {
  if (text == "blocking") return SnapshotType::kBlocking;
  if (text == "incremental") return SnapshotType::kIncremental;
  return InvalidArgument("snapshot type '" + std::string(text) +
                         "' is not one of blocking, incremental");
}

std::string_view SnapshotTypeName(SnapshotType type) {
  switch (type) {
    case SnapshotType::kBlocking:
      return "blocking";
    case SnapshotType::kIncremental:
      return "incremental";
  }
  return "unknown";
}

std::string_view SnapshotControlName(SnapshotControl::Kind kind) {
  switch (kind) {
    case SnapshotControl::Kind::kPause:
      return "pause-snapshot";
    case SnapshotControl::Kind::kResume:
      return "resume-snapshot";
    case SnapshotControl::Kind::kStop:
      return "stop-snapshot";
  }
  return "unknown";
}

TableSnapshotProgress* IncrementalSnapshotState::Current() {
  for (TableSnapshotProgress& table : tables) {
    if (table.state == TableSnapshotState::kPending) return &table;
  }
  return nullptr;
}

bool IncrementalSnapshotState::Complete() const {
  for (const TableSnapshotProgress& table : tables) {
    if (table.state == TableSnapshotState::kPending) return false;
  }
  return true;
}

size_t IncrementalSnapshotState::Reconcile(const SourcePosition& durable) {
  size_t rolled_back = 0;
  for (TableSnapshotProgress& table : tables) {
    if (table.pending_position.empty()) continue;
    bool in_log =
        !durable.empty() &&
        durable.CompareTransaction(table.pending_position) != std::partial_ordering::less &&
        durable.CompareTransaction(table.pending_position) != std::partial_ordering::unordered;
    if (!in_log) {
      table.last_key = table.previous_key;
      // A table finished by that chunk is pending again.
      if (table.state == TableSnapshotState::kDone) table.state = TableSnapshotState::kPending;
      ++rolled_back;
    }
    table.previous_key.clear();
    table.pending_position = SourcePosition();
  }
  return rolled_back;
}

namespace {

void PutStrings(std::string& out, const std::vector<std::string>& values) {
  PutVarint64(out, values.size());
  for (const std::string& value : values) PutLengthPrefixed(out, value);
}

Result<std::vector<std::string>> ReadStrings(ByteReader& reader) {
  EDDY_ASSIGN_OR_RETURN(uint64_t count, reader.ReadVarint64());
  if (count > reader.remaining()) return Corruption("key column count beyond the file's end");
  std::vector<std::string> values;
  for (uint64_t i = 0; i < count; ++i) {
    EDDY_ASSIGN_OR_RETURN(std::string_view value, reader.ReadLengthPrefixed());
    values.emplace_back(value);
  }
  return values;
}

}  // namespace

std::string EncodeIncrementalSnapshotState(const IncrementalSnapshotState& state) {
  std::string out(kIncrementalSnapshotMagic);
  PutFixed32(out, kIncrementalSnapshotVersion);
  PutLengthPrefixed(out, state.id);
  PutLengthPrefixed(out, state.origin);
  PutFixed8(out, state.paused ? 1 : 0);
  PutVarint64(out, state.tables.size());
  for (const TableSnapshotProgress& table : state.tables) {
    PutLengthPrefixed(out, table.table);
    PutLengthPrefixed(out, table.condition);
    PutFixed8(out, static_cast<uint8_t>(table.state));
    PutStrings(out, table.last_key);
    PutVarint64(out, table.rows);
    PutStrings(out, table.previous_key);
    std::string position;
    if (!table.pending_position.empty()) table.pending_position.EncodeTo(position);
    PutLengthPrefixed(out, position);
    PutLengthPrefixed(out, table.reason);
    PutStrings(out, table.upper_key);
    PutLengthPrefixed(out, table.tuple_snapshot);
    PutVarint64(out, table.relation_file);
  }
  PutFixed32(out, crc32c::Mask(crc32c::Value(out)));
  return out;
}

Result<IncrementalSnapshotState> DecodeIncrementalSnapshotState(std::string_view bytes) {
  if (bytes.size() < kIncrementalSnapshotMagic.size() + 8 ||
      bytes.substr(0, kIncrementalSnapshotMagic.size()) != kIncrementalSnapshotMagic) {
    return Corruption("not an incremental snapshot file (bad magic or too short)");
  }
  uint32_t stored_crc = DecodeFixed32(bytes.data() + bytes.size() - 4);
  std::string_view body = bytes.substr(0, bytes.size() - 4);
  if (crc32c::Unmask(stored_crc) != crc32c::Value(body)) {
    return Corruption("incremental snapshot file fails its CRC check");
  }
  ByteReader reader(body.substr(kIncrementalSnapshotMagic.size()));
  EDDY_ASSIGN_OR_RETURN(uint32_t version, reader.ReadFixed32());
  if (version < 1 || version > kIncrementalSnapshotVersion) {
    return FailedPrecondition("incremental snapshot file version " + std::to_string(version) +
                              " is not 1, 2 or 3 (written by a newer eddy?)");
  }
  IncrementalSnapshotState state;
  EDDY_ASSIGN_OR_RETURN(std::string_view id, reader.ReadLengthPrefixed());
  state.id = std::string(id);
  EDDY_ASSIGN_OR_RETURN(std::string_view origin, reader.ReadLengthPrefixed());
  state.origin = std::string(origin);
  EDDY_ASSIGN_OR_RETURN(uint8_t flags, reader.ReadFixed8());
  if (flags > 1) return Corruption("unknown incremental snapshot flags " + std::to_string(flags));
  state.paused = flags == 1;
  EDDY_ASSIGN_OR_RETURN(uint64_t count, reader.ReadVarint64());
  if (count > reader.remaining()) return Corruption("table count beyond the file's end");
  for (uint64_t i = 0; i < count; ++i) {
    TableSnapshotProgress table;
    EDDY_ASSIGN_OR_RETURN(std::string_view name, reader.ReadLengthPrefixed());
    table.table = std::string(name);
    EDDY_ASSIGN_OR_RETURN(std::string_view condition, reader.ReadLengthPrefixed());
    table.condition = std::string(condition);
    EDDY_ASSIGN_OR_RETURN(uint8_t table_state, reader.ReadFixed8());
    if (table_state > static_cast<uint8_t>(TableSnapshotState::kSkipped)) {
      return Corruption("unknown table snapshot state " + std::to_string(table_state));
    }
    table.state = static_cast<TableSnapshotState>(table_state);
    EDDY_ASSIGN_OR_RETURN(table.last_key, ReadStrings(reader));
    EDDY_ASSIGN_OR_RETURN(table.rows, reader.ReadVarint64());
    EDDY_ASSIGN_OR_RETURN(table.previous_key, ReadStrings(reader));
    EDDY_ASSIGN_OR_RETURN(std::string_view position, reader.ReadLengthPrefixed());
    if (!position.empty()) {
      EDDY_ASSIGN_OR_RETURN(table.pending_position, SourcePosition::DecodeFrom(position));
      if (!position.empty()) return Corruption("trailing bytes after a pending position");
    }
    EDDY_ASSIGN_OR_RETURN(std::string_view reason, reader.ReadLengthPrefixed());
    table.reason = std::string(reason);
    if (version >= 2) {
      EDDY_ASSIGN_OR_RETURN(table.upper_key, ReadStrings(reader));
    }
    if (version >= 3) {
      EDDY_ASSIGN_OR_RETURN(std::string_view tuple_snapshot, reader.ReadLengthPrefixed());
      table.tuple_snapshot = std::string(tuple_snapshot);
      EDDY_ASSIGN_OR_RETURN(table.relation_file, reader.ReadVarint64());
    }
    state.tables.push_back(std::move(table));
  }
  if (!reader.empty()) return Corruption("trailing bytes in the incremental snapshot file");
  return state;
}

std::string FormatWatermark(const Watermark& watermark) {
  return watermark.snapshot_id + ":" + std::to_string(watermark.chunk) +
         (watermark.high ? ":high" : ":low");
}

std::optional<Watermark> ParseWatermark(std::string_view text) {
  size_t last = text.rfind(':');
  if (last == std::string_view::npos || last == 0) return std::nullopt;
  size_t middle = text.rfind(':', last - 1);
  if (middle == std::string_view::npos || middle == 0) return std::nullopt;
  Watermark watermark;
  std::string_view kind = text.substr(last + 1);
  if (kind == "high") {
    watermark.high = true;
  } else if (kind != "low") {
    return std::nullopt;
  }
  std::string_view number = text.substr(middle + 1, last - middle - 1);
  if (number.empty()) return std::nullopt;
  auto parsed = std::from_chars(number.data(), number.data() + number.size(), watermark.chunk);
  if (parsed.ec != std::errc() || parsed.ptr != number.data() + number.size()) {
    return std::nullopt;
  }
  watermark.snapshot_id = std::string(text.substr(0, middle));
  return watermark;
}

ChunkWindow::ChunkWindow(model::TableId table, std::vector<std::string> key_columns,
                         bool row_images)
    : table_(std::move(table)), key_columns_(std::move(key_columns)), row_images_(row_images) {}

std::string ChunkWindow::RowImage(const model::Row& row) {
  std::string out;
  model::AppendRowFieldCount(0, out);  // a keyless table's key row
  model::AppendRowFieldCount(row.size(), out);
  for (const model::Field& field : row) {
    model::AppendFieldName(field.name, out);
    model::EncodeValue(field.value, out);
  }
  return out;
}

void ChunkWindow::OnChange(const model::ChangeEvent& event) {
  if (!open_ || !(event.table == table_)) return;
  if (event.op == model::Operation::kTruncate) {
    truncated_ = true;
    return;
  }
  if (row_images_) {
    // The old image of an update or delete: a chunk row equal to it may be the row the change
    // replaced. An insert creates a tuple the chunk's tuple snapshot already leaves out.
    if ((event.op == model::Operation::kUpdate || event.op == model::Operation::kDelete) &&
        event.before.has_value()) {
      ++removed_[RowImage(*event.before)];
      ++removed_images_;
    }
    return;
  }
  changed_.insert(event.PartitionKey());
  // An update that changed the key: the row under the old key is gone too.
  if (event.before.has_value() && !key_columns_.empty()) {
    model::ChangeEvent old_key;
    old_key.table = event.table;
    for (const std::string& column : key_columns_) {
      const model::Value* value = model::FindField(*event.before, column);
      if (value == nullptr) return;
      old_key.key.push_back(model::Field{column, *value});
    }
    changed_.insert(old_key.PartitionKey());
  }
}

std::vector<model::ChangeEvent> ChunkWindow::Filter(std::vector<model::ChangeEvent> rows) {
  open_ = false;
  if (truncated_) return {};
  std::vector<model::ChangeEvent> kept;
  kept.reserve(rows.size());
  for (model::ChangeEvent& row : rows) {
    if (changed_.count(row.PartitionKey()) == 0) kept.push_back(std::move(row));
  }
  return kept;
}

std::vector<EncodedRow> ChunkWindow::Filter(std::vector<EncodedRow> rows) {
  open_ = false;
  if (truncated_) return {};
  if (row_images_) {
    if (removed_.empty()) return rows;
    // One chunk row per noted old image: two equal rows and one delete leave one.
    std::vector<EncodedRow> kept;
    kept.reserve(rows.size());
    for (EncodedRow& row : rows) {
      auto found = removed_.find(row.rows);
      if (found != removed_.end() && found->second > 0) {
        --found->second;
        continue;
      }
      kept.push_back(std::move(row));
    }
    return kept;
  }
  if (changed_.empty()) return rows;
  std::vector<EncodedRow> kept;
  kept.reserve(rows.size());
  for (EncodedRow& row : rows) {
    if (changed_.count(row.partition_key) == 0) kept.push_back(std::move(row));
  }
  return kept;
}

// ---- IncrementalSnapshotter ----

namespace {

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool Below(const SourcePosition& durable, const SourcePosition& pending) {
  return durable.empty() || durable.CompareTransaction(pending) == std::partial_ordering::less ||
         durable.CompareTransaction(pending) == std::partial_ordering::unordered;
}

}  // namespace

IncrementalSnapshotter::IncrementalSnapshotter(Options options) : options_(std::move(options)) {
  if (options_.file_system == nullptr) options_.file_system = io::DefaultFileSystem();
  run_id_ = NewId();
}

std::string IncrementalSnapshotter::NewId() {
  std::random_device random;
  uint64_t value = (static_cast<uint64_t>(random()) << 32) ^ random();
  return fmt::format("{:016x}", value);
}

std::string IncrementalSnapshotter::ProgressPath() const {
  return io::JoinPath(options_.state_dir, std::string(kIncrementalSnapshotFile));
}

std::string IncrementalSnapshotter::RequestDirectory() const {
  return io::JoinPath(options_.state_dir, std::string(kSnapshotRequestDirectory));
}

std::string IncrementalSnapshotter::StatusName() const {
  if (!state_.has_value()) return "";
  if (state_->Complete()) return "complete";
  return state_->paused ? "paused" : "running";
}

Status IncrementalSnapshotter::Load(const SourcePosition& durable) {
  auto log = logging::Get(options_.log_module);
  state_.reset();
  chunks_.clear();
  run_id_ = NewId();
  complete_logged_ = false;
  std::string path = ProgressPath();
  EDDY_ASSIGN_OR_RETURN(bool exists, options_.file_system->Exists(path));
  if (!exists) return Status::Ok();
  EDDY_ASSIGN_OR_RETURN(std::string bytes, options_.file_system->ReadFile(path));
  Result<IncrementalSnapshotState> state = DecodeIncrementalSnapshotState(bytes);
  if (!state.ok()) {
    return Status(state.status().code(),
                  state.status().message() + " (" + path +
                      "; remove the file to forget the incremental snapshot's progress)");
  }
  state_ = std::move(*state);
  ++saves_;
  size_t rolled_back = state_->Reconcile(durable);
  if (rolled_back > 0) {
    log->info(
        "incremental snapshot: the last chunk of {} table(s) never reached the log; reading it "
        "again snapshot={}",
        rolled_back, state_->id);
  }
  if (!state_->Complete()) {
    const TableSnapshotProgress* current = state_->Current();
    size_t pending = 0;
    for (const TableSnapshotProgress& table : state_->tables) {
      pending += table.state == TableSnapshotState::kPending ? 1 : 0;
    }
    log->info(
        "incremental snapshot resumes snapshot={} origin={} table={} rows_done={} "
        "pending_entries={}",
        state_->id, state_->origin, current->table, current->rows, pending);
  } else {
    complete_logged_ = true;
  }
  return Status::Ok();
}

Status IncrementalSnapshotter::Save() {
  ++saves_;
  std::string path = ProgressPath();
  EDDY_RETURN_IF_ERROR(options_.file_system->CreateDirectories(io::ParentPath(path)));
  return options_.file_system->WriteFileAtomically(path, EncodeIncrementalSnapshotState(*state_))
      .WithContext("writing the incremental snapshot progress " + path);
}

Status IncrementalSnapshotter::PlanInitial(std::vector<std::string> tables) {
  IncrementalSnapshotState state;
  state.id = NewId();
  state.origin = "initial";
  for (std::string& name : tables) {
    TableSnapshotProgress table;
    table.table = std::move(name);
    state.tables.push_back(std::move(table));
  }
  state_ = std::move(state);
  complete_logged_ = false;
  EDDY_RETURN_IF_ERROR(Save());
  logging::Get(options_.log_module)
      ->info("incremental snapshot planned snapshot={} tables={}", state_->id,
             state_->tables.size());
  return Status::Ok();
}

Status IncrementalSnapshotter::PlanInitialEntries(std::vector<TableSnapshotProgress> entries) {
  IncrementalSnapshotState state;
  state.id = NewId();
  state.origin = "initial";
  for (TableSnapshotProgress& entry : entries) {
    if (entry.state != TableSnapshotState::kPending || entry.rows != 0 ||
        !entry.pending_position.empty()) {
      return InvalidArgument("incremental snapshot plan: entry " + entry.table +
                             " is not a fresh pending entry");
    }
    state.tables.push_back(std::move(entry));
  }
  state_ = std::move(state);
  complete_logged_ = false;
  EDDY_RETURN_IF_ERROR(Save());
  size_t ctid = 0;
  for (const TableSnapshotProgress& entry : state_->tables) ctid += entry.ctid() ? 1 : 0;
  logging::Get(options_.log_module)
      ->info("incremental snapshot planned snapshot={} tables={} ctid_tables={}", state_->id,
             state_->tables.size(), ctid);
  return Status::Ok();
}

void IncrementalSnapshotter::Queue(SnapshotRequest request) {
  std::lock_guard lock(mu_);
  requests_.push_back(std::move(request));
  queued_ = true;
}

void IncrementalSnapshotter::Queue(SnapshotControl control) {
  std::lock_guard lock(mu_);
  controls_.push_back(std::move(control));
  queued_ = true;
}

Status IncrementalSnapshotter::TakeRequests() {
  EDDY_RETURN_IF_ERROR(PollRequestFiles());
  if (!queued_.exchange(false)) return Status::Ok();
  std::vector<SnapshotRequest> requests;
  std::vector<SnapshotControl> controls;
  {
    std::lock_guard lock(mu_);
    requests.swap(requests_);
    controls.swap(controls_);
  }
  for (const SnapshotRequest& request : requests) {
    Status added = AddRequest(request);
    // Refused (logged); the capture goes on.
    if (added.code() == ErrorCode::kInvalidArgument) continue;
    EDDY_RETURN_IF_ERROR(added);
  }
  for (const SnapshotControl& control : controls) EDDY_RETURN_IF_ERROR(ApplyControl(control));
  return Status::Ok();
}

Status IncrementalSnapshotter::PollRequestFiles() {
  auto now = std::chrono::steady_clock::now();
  if (now - last_request_poll_ < std::chrono::milliseconds(500)) return Status::Ok();
  last_request_poll_ = now;
  io::FileSystem* fs = options_.file_system;
  std::string directory = RequestDirectory();
  EDDY_ASSIGN_OR_RETURN(bool exists, fs->Exists(directory));
  if (!exists) return Status::Ok();
  EDDY_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->List(directory));
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    if (!EndsWith(name, kRequestSuffix)) continue;
    std::string id = name.substr(0, name.size() - kRequestSuffix.size());
    std::string path = io::JoinPath(directory, name);
    EDDY_ASSIGN_OR_RETURN(std::string data, fs->ReadFile(path));
    Result<SnapshotSignal> signal = ParseSnapshotSignal("request:" + id, "execute-snapshot", data);
    Status added = signal.ok() ? AddRequest(signal->request) : signal.status();
    if (added.code() == ErrorCode::kInvalidArgument) {
      logging::Get(options_.log_module)
          ->error("rejecting snapshot request file={} error=\"{}\"", path, added.message());
      EDDY_RETURN_IF_ERROR(fs->WriteFileAtomically(
          io::JoinPath(directory, id + std::string(kRejectedSuffix)), added.message() + "\n"));
      EDDY_RETURN_IF_ERROR(fs->Remove(path));
      continue;
    }
    EDDY_RETURN_IF_ERROR(added);
    EDDY_RETURN_IF_ERROR(
        fs->Rename(path, io::JoinPath(directory, id + std::string(kAcceptedSuffix))));
    EDDY_RETURN_IF_ERROR(fs->SyncDirectory(directory));
  }
  return Status::Ok();
}

Status IncrementalSnapshotter::MarkRequestsDone() {
  io::FileSystem* fs = options_.file_system;
  std::string directory = RequestDirectory();
  EDDY_ASSIGN_OR_RETURN(bool exists, fs->Exists(directory));
  if (!exists) return Status::Ok();
  EDDY_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->List(directory));
  for (const std::string& name : names) {
    if (!EndsWith(name, kAcceptedSuffix)) continue;
    std::string id = name.substr(0, name.size() - kAcceptedSuffix.size());
    EDDY_RETURN_IF_ERROR(fs->Rename(io::JoinPath(directory, name),
                                    io::JoinPath(directory, id + std::string(kDoneSuffix))));
  }
  return fs->SyncDirectory(directory);
}

std::string IncrementalSnapshotter::Resolve(std::string_view name) const {
  if (options_.resolve_table) {
    Result<std::string> resolved = options_.resolve_table(name);
    if (resolved.ok()) return *resolved;
  }
  return std::string(name);
}

Status IncrementalSnapshotter::AddRequest(const SnapshotRequest& request) {
  auto log = logging::Get(options_.log_module);
  if (options_.available) {
    Status available = options_.available();
    if (!available.ok()) {
      log->error("snapshot request refused origin={}: {}", request.origin, available.message());
      return InvalidArgument(available.message());
    }
  }
  // Resolved before anything changes: a request naming no table this stream captures is
  // refused whole, saying why for each table.
  std::vector<std::string> resolved;
  std::string refused;
  for (const std::string& requested : request.tables) {
    Result<std::string> name =
        options_.resolve_table ? options_.resolve_table(requested) : Result<std::string>(requested);
    if (!name.ok()) {
      log->error("snapshot request origin={} names table {}: {}; it is ignored", request.origin,
                 requested, name.status().message());
      refused += (refused.empty() ? "" : "; ") + requested + ": " + name.status().message();
      continue;
    }
    resolved.push_back(std::move(*name));
  }
  if (resolved.empty()) {
    return InvalidArgument("the request names no table to snapshot (" +
                           (refused.empty() ? std::string("no tables given") : refused) + ")");
  }
  if (!state_.has_value() || state_->Complete()) {
    IncrementalSnapshotState state;
    state.id = NewId();
    state.origin = request.origin;
    state_ = std::move(state);
    // Chunks still in flight belong to stopped tables of the finished snapshot (their rows are
    // not wanted); their entry indexes would name the new snapshot's entries.
    chunks_.clear();
  }
  size_t added = 0;
  for (const std::string& name : resolved) {
    TableSnapshotProgress table;
    table.table = name;
    for (const auto& [condition_table, condition] : request.conditions) {
      if (Resolve(condition_table) == name) table.condition = condition;
    }
    state_->tables.push_back(std::move(table));
    ++added;
  }
  complete_logged_ = false;
  log->info("incremental snapshot requested snapshot={} origin={} tables_added={}", state_->id,
            request.origin, added);
  return Save();
}

Status IncrementalSnapshotter::ApplyControl(const SnapshotControl& control) {
  auto log = logging::Get(options_.log_module);
  if (!state_.has_value() || state_->Complete()) {
    log->warn("{}: no incremental snapshot is running; ignored", SnapshotControlName(control.kind));
    return Status::Ok();
  }
  switch (control.kind) {
    case SnapshotControl::Kind::kPause:
      state_->paused = true;
      break;
    case SnapshotControl::Kind::kResume:
      state_->paused = false;
      break;
    case SnapshotControl::Kind::kStop:
      for (TableSnapshotProgress& table : state_->tables) {
        bool named = control.tables.empty();
        for (const std::string& wanted : control.tables) {
          if (wanted == table.table || Resolve(wanted) == table.table) named = true;
        }
        if (named && table.state == TableSnapshotState::kPending) {
          table.state = TableSnapshotState::kSkipped;
          table.reason = "stopped by " + control.origin;
          // A chunk of it in flight is dropped at its high watermark.
          for (auto& [sequence, chunk] : chunks_) {
            if (chunk.window.table().QualifiedName() == table.table) {
              chunk.rows.clear();
              chunk.encoded.clear();
              chunk.last = true;
            }
          }
        }
      }
      break;
  }
  log->info("incremental snapshot {} snapshot={} origin={}", SnapshotControlName(control.kind),
            state_->id, control.origin);
  return Save();
}

Result<std::vector<TableSnapshotProgress*>> IncrementalSnapshotter::NextTables(
    SourcePosition durable, const std::function<Result<SourcePosition>()>& drain, size_t max) {
  std::vector<TableSnapshotProgress*> next;
  if (!state_.has_value() || !chunks_.empty() || max == 0) return next;
  // Paused holds the chunk reads; a snapshot whose tables were all stopped still completes.
  if (state_->paused && !state_->Complete()) return next;
  // A pending chunk durable in the log is forgotten. One that is not yet durable does not hold
  // the next chunk back: its append (an fsync) runs while the next chunk is read, and the next
  // chunk's high watermark waits for it before the file moves on (OnWatermark), because the
  // file keeps one pending chunk per entry and its rollback key must be in the log.
  bool changed = false;
  auto forget_durable = [&]() {
    bool all = true;
    for (TableSnapshotProgress& table : state_->tables) {
      if (table.pending_position.empty()) continue;
      if (Below(durable, table.pending_position)) {
        all = false;
        continue;
      }
      table.pending_position = SourcePosition();
      table.previous_key.clear();
      changed = true;
    }
    return all;
  };
  bool all_durable = forget_durable();
  for (TableSnapshotProgress& table : state_->tables) {
    if (next.size() >= max) break;
    if (table.state == TableSnapshotState::kPending) next.push_back(&table);
  }
  // Complete only once every chunk is durable in the log.
  if (next.empty() && !all_durable) {
    if (!drain) return next;
    EDDY_ASSIGN_OR_RETURN(durable, drain());
    if (!forget_durable()) return next;
  }
  if (next.empty()) {
    if (!complete_logged_) {
      complete_logged_ = true;
      uint64_t rows = 0;
      for (const TableSnapshotProgress& done : state_->tables) rows += done.rows;
      logging::Get(options_.log_module)
          ->info("incremental snapshot complete snapshot={} origin={} entries={} rows={}",
                 state_->id, state_->origin, state_->tables.size(), rows);
      EDDY_RETURN_IF_ERROR(Save());
      EDDY_RETURN_IF_ERROR(MarkRequestsDone());
    } else if (changed) {
      EDDY_RETURN_IF_ERROR(Save());
    }
  }
  return next;
}

Result<TableSnapshotProgress*> IncrementalSnapshotter::NextTable(
    SourcePosition durable, const std::function<Result<SourcePosition>()>& drain) {
  EDDY_ASSIGN_OR_RETURN(std::vector<TableSnapshotProgress*> next,
                        NextTables(std::move(durable), drain, 1));
  return next.empty() ? nullptr : next.front();
}

Status IncrementalSnapshotter::SplitTable(const TableSnapshotProgress& table,
                                          std::vector<std::vector<std::string>> boundaries) {
  if (!state_.has_value() || !chunks_.empty() || !Splittable(table) ||
      (table.ctid() && Entries(table.table) != 1)) {
    return FailedPrecondition("incremental snapshot: " + table.table +
                              " cannot be split into key ranges now (already read or in flight)");
  }
  if (boundaries.empty()) return Status::Ok();
  auto at = state_->tables.begin() + (&table - state_->tables.data());
  TableSnapshotProgress first = *at;
  std::vector<TableSnapshotProgress> ranges;
  std::vector<std::string> lower;
  for (size_t i = 0; i <= boundaries.size(); ++i) {
    TableSnapshotProgress range = first;
    range.last_key = lower;
    if (i < boundaries.size()) {
      range.upper_key = boundaries[i];
      lower = std::move(boundaries[i]);
    }
    ranges.push_back(std::move(range));
  }
  at = state_->tables.erase(at);
  state_->tables.insert(at, std::make_move_iterator(ranges.begin()),
                        std::make_move_iterator(ranges.end()));
  logging::Get(options_.log_module)
      ->info("incremental snapshot splits table={} ranges={} snapshot={}", first.table,
             ranges.size(), state_->id);
  return Save();
}

Status IncrementalSnapshotter::PlanCtid(const TableSnapshotProgress& table,
                                        std::string tuple_snapshot, uint64_t relation_file,
                                        uint64_t end_page) {
  if (!state_.has_value() || !chunks_.empty() || !Splittable(table) || table.ctid() ||
      tuple_snapshot.empty()) {
    return FailedPrecondition("incremental snapshot: " + table.table +
                              " cannot be planned in ctid ranges now (already read or in flight)");
  }
  TableSnapshotProgress& entry =
      state_->tables[static_cast<size_t>(&table - state_->tables.data())];
  entry.tuple_snapshot = std::move(tuple_snapshot);
  entry.relation_file = relation_file;
  entry.upper_key = {std::to_string(end_page)};
  logging::Get(options_.log_module)
      ->info("incremental snapshot reads table={} in ctid ranges pages={} snapshot={}", entry.table,
             end_page, state_->id);
  return Save();
}

size_t IncrementalSnapshotter::Entries(std::string_view table) const {
  if (!state_.has_value()) return 0;
  return static_cast<size_t>(
      std::count_if(state_->tables.begin(), state_->tables.end(),
                    [&](const TableSnapshotProgress& entry) { return entry.table == table; }));
}

Status IncrementalSnapshotter::Skip(TableSnapshotProgress& table, std::string reason) {
  logging::Get(options_.log_module)
      ->error("incremental snapshot skips table={} reason=\"{}\"", table.table, reason);
  std::string name = table.table;
  for (TableSnapshotProgress& entry : state_->tables) {
    if (entry.table != name || entry.state != TableSnapshotState::kPending) continue;
    entry.state = TableSnapshotState::kSkipped;
    entry.reason = reason;
  }
  return Save();
}

IncrementalSnapshotter::ChunkStart IncrementalSnapshotter::BeginChunk(
    const TableSnapshotProgress& table, model::TableId id, std::vector<std::string> key_columns) {
  uint64_t sequence = ++sequence_;
  size_t entry = static_cast<size_t>(&table - state_->tables.data());
  chunks_.emplace(sequence, Chunk{entry,
                                  ChunkWindow(std::move(id), std::move(key_columns), table.ctid()),
                                  {},
                                  {},
                                  0,
                                  {},
                                  false,
                                  false});
  return ChunkStart{sequence, FormatWatermark({run_id_, sequence, false})};
}

std::string IncrementalSnapshotter::ReadChunk(uint64_t sequence,
                                              std::vector<model::ChangeEvent> rows,
                                              std::vector<std::string> last_key, bool last) {
  return ReadChunk(sequence, std::move(rows), {}, 0, std::move(last_key), last);
}

std::string IncrementalSnapshotter::ReadChunk(uint64_t sequence, std::vector<EncodedRow> rows,
                                              uint32_t schema_version,
                                              std::vector<std::string> last_key, bool last) {
  return ReadChunk(sequence, {}, std::move(rows), schema_version, std::move(last_key), last);
}

std::string IncrementalSnapshotter::ReadChunk(uint64_t sequence,
                                              std::vector<model::ChangeEvent> rows,
                                              std::vector<EncodedRow> encoded,
                                              uint32_t schema_version,
                                              std::vector<std::string> last_key, bool last) {
  auto found = chunks_.find(sequence);
  if (found == chunks_.end()) return FormatWatermark({run_id_, sequence, true});
  Chunk& chunk = found->second;
  // Stopped while being read: the rows are not wanted.
  bool stopped = !state_.has_value() || chunk.entry >= state_->tables.size() ||
                 state_->tables[chunk.entry].state != TableSnapshotState::kPending;
  chunk.rows = stopped ? std::vector<model::ChangeEvent>() : std::move(rows);
  chunk.encoded = stopped ? std::vector<EncodedRow>() : std::move(encoded);
  chunk.schema_version = schema_version;
  chunk.last_key = std::move(last_key);
  chunk.last = last || stopped;
  chunk.read = true;
  return FormatWatermark({run_id_, sequence, true});
}

void IncrementalSnapshotter::OnChange(const model::ChangeEvent& event) {
  for (auto& [sequence, chunk] : chunks_) chunk.window.OnChange(event);
}

void IncrementalSnapshotter::WindowsOf(const model::TableId& table,
                                       std::vector<ChunkWindow*>& out) {
  out.clear();
  for (auto& [sequence, chunk] : chunks_) {
    if (chunk.window.open() && chunk.window.table() == table) out.push_back(&chunk.window);
  }
}

bool IncrementalSnapshotter::AnyWindowOpen() const {
  for (const auto& [sequence, chunk] : chunks_) {
    if (chunk.window.open()) return true;
  }
  return false;
}

bool IncrementalSnapshotter::IsOurs(std::string_view text) const {
  std::optional<Watermark> watermark = ParseWatermark(text);
  return watermark.has_value() && watermark->snapshot_id == run_id_;
}

Result<std::optional<IncrementalSnapshotter::ChunkRows>> IncrementalSnapshotter::OnWatermark(
    std::string_view text, const SourcePosition& position,
    const std::function<Result<SourcePosition>()>& drain) {
  std::optional<Watermark> watermark = ParseWatermark(text);
  // Another attempt's (or another eddy's) watermark: not ours to act on.
  if (!watermark || watermark->snapshot_id != run_id_) return std::optional<ChunkRows>();
  auto found = chunks_.find(watermark->chunk);
  if (found == chunks_.end()) return std::optional<ChunkRows>();
  if (!watermark->high) {
    found->second.window.Open();
    return std::optional<ChunkRows>();
  }
  if (!found->second.window.open() || !found->second.read) {
    return Corruption("incremental snapshot: high watermark " + std::string(text) +
                      " arrived before its low watermark");
  }
  {
    // The entry's previous chunk (read ahead of this one) must be durable before the file
    // forgets it: after a crash the file rolls back to this chunk's start only. Checked before
    // anything changes, so a refusal leaves the chunk as it was.
    const size_t entry = found->second.entry;
    TableSnapshotProgress* table = entry < state_->tables.size() ? &state_->tables[entry] : nullptr;
    if (table != nullptr && table->state == TableSnapshotState::kPending &&
        !table->pending_position.empty()) {
      if (!drain) {
        return FailedPrecondition("incremental snapshot: chunk " +
                                  std::to_string(watermark->chunk) + " of " + table->table +
                                  " closes while the previous one may not be durable");
      }
      EDDY_ASSIGN_OR_RETURN(SourcePosition durable, drain());
      if (Below(durable, table->pending_position)) {
        return FailedPrecondition("incremental snapshot: the previous chunk of " + table->table +
                                  " is not durable in the log after waiting for the appends");
      }
      table->pending_position = SourcePosition();
      table->previous_key.clear();
    }
  }
  Chunk chunk = std::move(found->second);
  chunks_.erase(found);
  ChunkRows out;
  out.read = chunk.rows.size() + chunk.encoded.size();
  out.table = chunk.window.table().QualifiedName();
  out.id = chunk.window.table();
  out.schema_version = chunk.schema_version;
  out.transaction_id = "snapshot:" + state_->id + ":" + std::to_string(watermark->chunk);
  out.rows = chunk.window.Filter(std::move(chunk.rows));
  out.encoded = chunk.window.Filter(std::move(chunk.encoded));
  TableSnapshotProgress* table =
      chunk.entry < state_->tables.size() ? &state_->tables[chunk.entry] : nullptr;
  if (table == nullptr || table->table != out.table ||
      table->state != TableSnapshotState::kPending) {
    out.rows.clear();  // the table was stopped while the chunk was in flight
    out.encoded.clear();
    return std::optional<ChunkRows>(std::move(out));
  }
  table->previous_key = table->last_key;
  table->last_key = chunk.last_key;
  table->rows += out.kept();
  if (chunk.last) table->state = TableSnapshotState::kDone;
  if (out.kept() > 0) table->pending_position = position;
  // Durable before the rows are handed to the log (the pending chunk rule).
  EDDY_RETURN_IF_ERROR(Save());
  ++chunks_done_;
  rows_done_ += out.kept();
  logging::Get(options_.log_module)
      ->debug("incremental snapshot chunk table={} chunk={} read={} kept={} rows_done={}",
              table->table, watermark->chunk, out.read, out.kept(), table->rows);
  return std::optional<ChunkRows>(std::move(out));
}

}  // namespace eddy::source
