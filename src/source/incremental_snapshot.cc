#include "source/incremental_snapshot.h"

#include <charconv>

#include "base/bytes.h"
#include "base/crc32c.h"

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
  if (version != kIncrementalSnapshotVersion) {
    return FailedPrecondition("incremental snapshot file version " + std::to_string(version) +
                              " is not 1 (written by a newer eddy?)");
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

ChunkWindow::ChunkWindow(model::TableId table, std::vector<std::string> key_columns)
    : table_(std::move(table)), key_columns_(std::move(key_columns)) {}

void ChunkWindow::OnChange(const model::ChangeEvent& event) {
  if (!open_ || !(event.table == table_)) return;
  if (event.op == model::Operation::kTruncate) {
    truncated_ = true;
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

}  // namespace eddy::source
