#include "base/position.h"

#include <cctype>
#include <charconv>
#include <cstdio>

#include "base/byte_cursor.h"
#include "base/bytes.h"

namespace eddy {

std::string Lsn::ToString() const {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%X/%X", static_cast<unsigned>(value() >> 32),
                static_cast<unsigned>(value() & 0xffffffffu));
  return buffer;
}

Result<Lsn> Lsn::Parse(std::string_view text) {
  auto slash = text.find('/');
  auto bad = [&] {
    return InvalidArgument("'" + std::string(text) +
                           "' is not a PostgreSQL LSN: expected two hex numbers like 16/B374D848");
  };
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= text.size()) return bad();
  uint32_t high = 0, low = 0;
  auto parse = [](std::string_view part, uint32_t& out) {
    if (part.size() > 8) return false;
    auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), out, 16);
    return error == std::errc() && end == part.data() + part.size();
  };
  if (!parse(text.substr(0, slash), high) || !parse(text.substr(slash + 1), low)) return bad();
  return Lsn((static_cast<uint64_t>(high) << 32) | low);
}

std::string BinlogPosition::ToString() const { return file + ":" + std::to_string(offset); }

namespace {
// Splits "mysql-bin.000042" into ("mysql-bin.", 42); no numeric suffix gives nullopt.
std::optional<std::pair<std::string_view, uint64_t>> SplitSuffix(std::string_view file) {
  size_t digits = 0;
  while (digits < file.size() &&
         std::isdigit(static_cast<unsigned char>(file[file.size() - 1 - digits]))) {
    ++digits;
  }
  if (digits == 0 || digits > 19) return std::nullopt;
  uint64_t number = 0;
  std::from_chars(file.data() + file.size() - digits, file.data() + file.size(), number);
  return std::make_pair(file.substr(0, file.size() - digits), number);
}
}  // namespace

std::strong_ordering BinlogPosition::operator<=>(const BinlogPosition& other) const {
  auto mine = SplitSuffix(file);
  auto theirs = SplitSuffix(other.file);
  if (mine && theirs && mine->first == theirs->first) {
    if (auto c = mine->second <=> theirs->second; c != 0) return c;
  } else if (auto c = file <=> other.file; c != 0) {
    return c;
  }
  return offset <=> other.offset;
}

std::partial_ordering SourcePosition::CompareTransaction(const SourcePosition& other) const {
  if (kind() != other.kind()) return std::partial_ordering::unordered;
  if (const auto* pg = postgres()) {
    return pg->commit_end_lsn <=> other.postgres()->commit_end_lsn;
  }
  if (const auto* my = mysql()) {
    return my->end <=> other.mysql()->end;
  }
  return std::partial_ordering::equivalent;
}

std::string SourcePosition::ToString() const {
  if (const auto* pg = postgres()) {
    return "lsn " + pg->change_lsn.ToString() + " (commit end " + pg->commit_end_lsn.ToString() +
           ")";
  }
  if (const auto* my = mysql()) {
    std::string text = "binlog " + my->end.ToString();
    if (!my->gtid.empty()) text += " gtid " + my->gtid.text;
    text += " server_id " + std::to_string(my->server_id);
    return text;
  }
  return "none";
}

void SourcePosition::EncodeTo(std::string& out) const {
  PutFixed8(out, static_cast<uint8_t>(kind()));
  if (const auto* pg = postgres()) {
    PutFixed64(out, pg->commit_end_lsn.value());
    PutFixed64(out, pg->change_lsn.value());
  } else if (const auto* my = mysql()) {
    PutFixed32(out, my->server_id);
    PutLengthPrefixed(out, my->end.file);
    PutVarint64(out, my->end.offset);
    PutLengthPrefixed(out, my->gtid.text);
  }
}

size_t SourcePosition::EncodedSize(std::string_view bytes) {
  ByteCursor cursor(bytes);
  uint8_t tag;
  if (!cursor.Byte(&tag)) return 0;
  switch (static_cast<SourceKind>(tag)) {
    case SourceKind::kNone:
      break;
    case SourceKind::kPostgres: {
      uint64_t lsn;
      if (!cursor.Fixed64(&lsn) || !cursor.Fixed64(&lsn)) return 0;
      break;
    }
    case SourceKind::kMysql: {
      uint32_t server_id;
      std::string_view text;
      uint64_t offset;
      if (!cursor.Fixed32(&server_id) || !cursor.LengthPrefixed(&text) || !cursor.Varint(&offset) ||
          !cursor.LengthPrefixed(&text)) {
        return 0;
      }
      break;
    }
    default:
      return 0;
  }
  return bytes.size() - cursor.remaining();
}

Result<SourcePosition> SourcePosition::DecodeFrom(std::string_view& bytes) {
  ByteReader reader(bytes);
  EDDY_ASSIGN_OR_RETURN(uint8_t tag, reader.ReadFixed8());
  SourcePosition position;
  switch (static_cast<SourceKind>(tag)) {
    case SourceKind::kNone:
      break;
    case SourceKind::kPostgres: {
      PostgresPosition pg;
      EDDY_ASSIGN_OR_RETURN(uint64_t commit_end, reader.ReadFixed64());
      EDDY_ASSIGN_OR_RETURN(uint64_t change, reader.ReadFixed64());
      pg.commit_end_lsn = Lsn(commit_end);
      pg.change_lsn = Lsn(change);
      position = SourcePosition(pg);
      break;
    }
    case SourceKind::kMysql: {
      MysqlPosition my;
      EDDY_ASSIGN_OR_RETURN(my.server_id, reader.ReadFixed32());
      EDDY_ASSIGN_OR_RETURN(std::string_view file, reader.ReadLengthPrefixed());
      EDDY_ASSIGN_OR_RETURN(my.end.offset, reader.ReadVarint64());
      EDDY_ASSIGN_OR_RETURN(std::string_view gtid, reader.ReadLengthPrefixed());
      my.end.file = std::string(file);
      my.gtid.text = std::string(gtid);
      position = SourcePosition(std::move(my));
      break;
    }
    default:
      return Corruption("unknown source position kind " + std::to_string(tag));
  }
  bytes.remove_prefix(reader.consumed());
  return position;
}

}  // namespace eddy
