#include "source/postgres/pgoutput.h"

#include <cstring>
#include <string>

namespace eddy::source::postgres {
namespace {

// Bounds-checked big-endian cursor; errors name the message being decoded and the offset.
class WireReader {
 public:
  WireReader(std::string_view bytes, const char* message) : bytes_(bytes), message_(message) {}

  size_t offset() const { return offset_; }
  size_t remaining() const { return bytes_.size() - offset_; }

  Status Error(const std::string& what) const {
    return Corruption(std::string("pgoutput ") + message_ + " message: " + what + " at byte " +
                      std::to_string(offset_) + " of " + std::to_string(bytes_.size()));
  }

  Result<uint8_t> U8(const char* field) {
    EDDY_RETURN_IF_ERROR(Need(1, field));
    return static_cast<uint8_t>(bytes_[offset_++]);
  }
  Result<uint16_t> U16(const char* field) {
    EDDY_RETURN_IF_ERROR(Need(2, field));
    uint16_t v = static_cast<uint16_t>((Byte(0) << 8) | Byte(1));
    offset_ += 2;
    return v;
  }
  Result<uint32_t> U32(const char* field) {
    EDDY_RETURN_IF_ERROR(Need(4, field));
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | Byte(i);
    offset_ += 4;
    return v;
  }
  Result<uint64_t> U64(const char* field) {
    EDDY_RETURN_IF_ERROR(Need(8, field));
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | Byte(i);
    offset_ += 8;
    return v;
  }
  Result<int64_t> I64(const char* field) {
    EDDY_ASSIGN_OR_RETURN(uint64_t v, U64(field));
    return static_cast<int64_t>(v);
  }
  Result<Lsn> ReadLsn(const char* field) {
    EDDY_ASSIGN_OR_RETURN(uint64_t v, U64(field));
    return Lsn(v);
  }
  // A NUL-terminated string.
  Result<std::string_view> CString(const char* field) {
    const void* nul = std::memchr(bytes_.data() + offset_, '\0', remaining());
    if (nul == nullptr) {
      return Error(std::string("string ") + field + " has no terminating NUL");
    }
    size_t length = static_cast<size_t>(static_cast<const char*>(nul) - (bytes_.data() + offset_));
    std::string_view text = bytes_.substr(offset_, length);
    offset_ += length + 1;
    return text;
  }
  Result<std::string_view> Bytes(size_t count, const char* field) {
    EDDY_RETURN_IF_ERROR(Need(count, field));
    std::string_view taken = bytes_.substr(offset_, count);
    offset_ += count;
    return taken;
  }
  Status ExpectEnd() const {
    if (remaining() != 0) {
      return Error(std::to_string(remaining()) + " unexpected trailing bytes");
    }
    return Status::Ok();
  }

 private:
  uint32_t Byte(size_t i) const { return static_cast<uint8_t>(bytes_[offset_ + i]); }
  Status Need(size_t count, const char* field) const {
    if (remaining() < count) {
      return Error(std::string("truncated: field ") + field + " needs " + std::to_string(count) +
                   " bytes, " + std::to_string(remaining()) + " remain");
    }
    return Status::Ok();
  }

  std::string_view bytes_;
  const char* message_;
  size_t offset_ = 0;
};

void PutU8(std::string& out, uint8_t v) { out.push_back(static_cast<char>(v)); }
void PutU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

Result<uint32_t> ReadStreamXid(WireReader& reader, const DecodeContext& context) {
  if (!context.in_stream) return uint32_t{0};
  return reader.U32("xid");
}

Result<TupleData> ReadTuple(WireReader& reader) {
  EDDY_ASSIGN_OR_RETURN(uint16_t count, reader.U16("tuple column count"));
  if (count > kMaxColumns) {
    return reader.Error("tuple column count " + std::to_string(count) + " exceeds " +
                        std::to_string(kMaxColumns));
  }
  // Each column takes at least one byte: a count beyond the remaining bytes is malformed.
  if (count > reader.remaining()) {
    return reader.Error("tuple column count " + std::to_string(count) + " exceeds the " +
                        std::to_string(reader.remaining()) + " bytes that remain");
  }
  TupleData tuple;
  tuple.reserve(count);
  for (uint16_t i = 0; i < count; ++i) {
    EDDY_ASSIGN_OR_RETURN(uint8_t kind, reader.U8("tuple column kind"));
    TupleValue value;
    switch (kind) {
      case 'n':
        value.kind = TupleValueKind::kNull;
        break;
      case 'u':
        value.kind = TupleValueKind::kUnchangedToast;
        break;
      case 't':
      case 'b': {
        value.kind = kind == 't' ? TupleValueKind::kText : TupleValueKind::kBinary;
        EDDY_ASSIGN_OR_RETURN(uint32_t length, reader.U32("tuple value length"));
        if (length > reader.remaining()) {
          return reader.Error("value length " + std::to_string(length) + " of column " +
                              std::to_string(i) + " exceeds the " +
                              std::to_string(reader.remaining()) + " bytes that remain");
        }
        EDDY_ASSIGN_OR_RETURN(value.data, reader.Bytes(length, "tuple value"));
        break;
      }
      default:
        return reader.Error("unknown tuple column kind 0x" +
                            std::to_string(static_cast<unsigned>(kind)) + " for column " +
                            std::to_string(i));
    }
    tuple.push_back(value);
  }
  return tuple;
}

Result<PgOutputMessage> DecodeBegin(WireReader& r) {
  BeginMessage m;
  EDDY_ASSIGN_OR_RETURN(m.final_lsn, r.ReadLsn("final_lsn"));
  EDDY_ASSIGN_OR_RETURN(m.commit_time_us, r.I64("commit_ts"));
  EDDY_ASSIGN_OR_RETURN(m.xid, r.U32("xid"));
  EDDY_RETURN_IF_ERROR(r.ExpectEnd());
  return PgOutputMessage(m);
}

Result<PgOutputMessage> DecodeCommit(WireReader& r) {
  CommitMessage m;
  EDDY_ASSIGN_OR_RETURN(m.flags, r.U8("flags"));
  EDDY_ASSIGN_OR_RETURN(m.commit_lsn, r.ReadLsn("commit_lsn"));
  EDDY_ASSIGN_OR_RETURN(m.end_lsn, r.ReadLsn("end_lsn"));
  EDDY_ASSIGN_OR_RETURN(m.commit_time_us, r.I64("commit_ts"));
  EDDY_RETURN_IF_ERROR(r.ExpectEnd());
  return PgOutputMessage(m);
}

Result<PgOutputMessage> DecodeOrigin(WireReader& r) {
  OriginMessage m;
  EDDY_ASSIGN_OR_RETURN(m.origin_lsn, r.ReadLsn("origin_lsn"));
  EDDY_ASSIGN_OR_RETURN(m.name, r.CString("origin name"));
  EDDY_RETURN_IF_ERROR(r.ExpectEnd());
  return PgOutputMessage(m);
}

Result<PgOutputMessage> DecodeRelation(WireReader& r, const DecodeContext& context) {
  RelationMessage m;
  EDDY_ASSIGN_OR_RETURN(m.xid, ReadStreamXid(r, context));
  EDDY_ASSIGN_OR_RETURN(m.relation_id, r.U32("relation id"));
  EDDY_ASSIGN_OR_RETURN(m.schema, r.CString("namespace"));
  EDDY_ASSIGN_OR_RETURN(m.name, r.CString("relation name"));
  EDDY_ASSIGN_OR_RETURN(uint8_t identity, r.U8("replica identity"));
  switch (identity) {
    case 'd':
    case 'n':
    case 'f':
    case 'i':
      m.replica_identity = static_cast<ReplicaIdentity>(identity);
      break;
    default:
      return r.Error("unknown replica identity 0x" + std::to_string(identity));
  }
  EDDY_ASSIGN_OR_RETURN(uint16_t count, r.U16("column count"));
  if (count > kMaxColumns) {
    return r.Error("column count " + std::to_string(count) + " exceeds " +
                   std::to_string(kMaxColumns));
  }
  // Each column takes at least 10 bytes (flags, NUL, oid, typmod).
  if (static_cast<size_t>(count) * 10 > r.remaining()) {
    return r.Error("column count " + std::to_string(count) + " does not fit in the " +
                   std::to_string(r.remaining()) + " bytes that remain");
  }
  m.columns.reserve(count);
  for (uint16_t i = 0; i < count; ++i) {
    RelationColumn column;
    EDDY_ASSIGN_OR_RETURN(uint8_t flags, r.U8("column flags"));
    column.is_key = (flags & 1) != 0;
    EDDY_ASSIGN_OR_RETURN(column.name, r.CString("column name"));
    EDDY_ASSIGN_OR_RETURN(column.type_oid, r.U32("column type oid"));
    EDDY_ASSIGN_OR_RETURN(uint32_t modifier, r.U32("column type modifier"));
    column.type_modifier = static_cast<int32_t>(modifier);
    m.columns.push_back(column);
  }
  EDDY_RETURN_IF_ERROR(r.ExpectEnd());
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeType(WireReader& r, const DecodeContext& context) {
  TypeMessage m;
  EDDY_ASSIGN_OR_RETURN(m.xid, ReadStreamXid(r, context));
  EDDY_ASSIGN_OR_RETURN(m.type_oid, r.U32("type oid"));
  EDDY_ASSIGN_OR_RETURN(m.schema, r.CString("namespace"));
  EDDY_ASSIGN_OR_RETURN(m.name, r.CString("type name"));
  EDDY_RETURN_IF_ERROR(r.ExpectEnd());
  return PgOutputMessage(m);
}

Status ExpectTupleTag(WireReader& r, uint8_t tag, const char* expected) {
  return r.Error(std::string("expected ") + expected + ", found byte 0x" + std::to_string(tag));
}

Result<PgOutputMessage> DecodeInsert(WireReader& r, const DecodeContext& context) {
  InsertMessage m;
  EDDY_ASSIGN_OR_RETURN(m.xid, ReadStreamXid(r, context));
  EDDY_ASSIGN_OR_RETURN(m.relation_id, r.U32("relation id"));
  EDDY_ASSIGN_OR_RETURN(uint8_t tag, r.U8("tuple tag"));
  if (tag != 'N') return ExpectTupleTag(r, tag, "'N'");
  EDDY_ASSIGN_OR_RETURN(m.new_tuple, ReadTuple(r));
  EDDY_RETURN_IF_ERROR(r.ExpectEnd());
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeUpdate(WireReader& r, const DecodeContext& context) {
  UpdateMessage m;
  EDDY_ASSIGN_OR_RETURN(m.xid, ReadStreamXid(r, context));
  EDDY_ASSIGN_OR_RETURN(m.relation_id, r.U32("relation id"));
  EDDY_ASSIGN_OR_RETURN(uint8_t tag, r.U8("tuple tag"));
  if (tag == 'K' || tag == 'O') {
    m.old_kind = static_cast<OldTupleKind>(tag);
    EDDY_ASSIGN_OR_RETURN(m.old_tuple, ReadTuple(r));
    EDDY_ASSIGN_OR_RETURN(tag, r.U8("tuple tag"));
  }
  if (tag != 'N') return ExpectTupleTag(r, tag, "'N'");
  EDDY_ASSIGN_OR_RETURN(m.new_tuple, ReadTuple(r));
  EDDY_RETURN_IF_ERROR(r.ExpectEnd());
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeDelete(WireReader& r, const DecodeContext& context) {
  DeleteMessage m;
  EDDY_ASSIGN_OR_RETURN(m.xid, ReadStreamXid(r, context));
  EDDY_ASSIGN_OR_RETURN(m.relation_id, r.U32("relation id"));
  EDDY_ASSIGN_OR_RETURN(uint8_t tag, r.U8("tuple tag"));
  if (tag != 'K' && tag != 'O') return ExpectTupleTag(r, tag, "'K' or 'O'");
  m.old_kind = static_cast<OldTupleKind>(tag);
  EDDY_ASSIGN_OR_RETURN(m.old_tuple, ReadTuple(r));
  EDDY_RETURN_IF_ERROR(r.ExpectEnd());
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeTruncate(WireReader& r, const DecodeContext& context) {
  TruncateMessage m;
  EDDY_ASSIGN_OR_RETURN(m.xid, ReadStreamXid(r, context));
  EDDY_ASSIGN_OR_RETURN(uint32_t count, r.U32("relation count"));
  EDDY_ASSIGN_OR_RETURN(m.flags, r.U8("flags"));
  if (static_cast<uint64_t>(count) * 4 != r.remaining()) {
    return r.Error("relation count " + std::to_string(count) + " does not match the " +
                   std::to_string(r.remaining()) + " bytes that remain");
  }
  m.relation_ids.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    EDDY_ASSIGN_OR_RETURN(uint32_t id, r.U32("relation id"));
    m.relation_ids.push_back(id);
  }
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeMessage(WireReader& r, const DecodeContext& context) {
  LogicalDecodingMessage m;
  // The server writes the xid only while it is inside a Stream Start/Stop block (pgoutput
  // sends non-transactional messages immediately, outside any block).
  if (context.in_stream) {
    EDDY_ASSIGN_OR_RETURN(m.xid, r.U32("xid"));
  }
  EDDY_ASSIGN_OR_RETURN(uint8_t flags, r.U8("flags"));
  m.transactional = (flags & 1) != 0;
  EDDY_ASSIGN_OR_RETURN(m.lsn, r.ReadLsn("lsn"));
  EDDY_ASSIGN_OR_RETURN(m.prefix, r.CString("prefix"));
  EDDY_ASSIGN_OR_RETURN(uint32_t length, r.U32("content length"));
  if (length != r.remaining()) {
    return r.Error("content length " + std::to_string(length) + " does not match the " +
                   std::to_string(r.remaining()) + " bytes that remain");
  }
  EDDY_ASSIGN_OR_RETURN(m.content, r.Bytes(length, "content"));
  return PgOutputMessage(m);
}

Result<PgOutputMessage> DecodeStreamStart(WireReader& r) {
  StreamStartMessage m;
  EDDY_ASSIGN_OR_RETURN(m.xid, r.U32("xid"));
  EDDY_ASSIGN_OR_RETURN(uint8_t first, r.U8("first_segment"));
  m.first_segment = first != 0;
  EDDY_RETURN_IF_ERROR(r.ExpectEnd());
  return PgOutputMessage(m);
}

Result<PgOutputMessage> DecodeStreamCommit(WireReader& r) {
  StreamCommitMessage m;
  EDDY_ASSIGN_OR_RETURN(m.xid, r.U32("xid"));
  EDDY_ASSIGN_OR_RETURN(m.flags, r.U8("flags"));
  EDDY_ASSIGN_OR_RETURN(m.commit_lsn, r.ReadLsn("commit_lsn"));
  EDDY_ASSIGN_OR_RETURN(m.end_lsn, r.ReadLsn("end_lsn"));
  EDDY_ASSIGN_OR_RETURN(m.commit_time_us, r.I64("commit_ts"));
  EDDY_RETURN_IF_ERROR(r.ExpectEnd());
  return PgOutputMessage(m);
}

Result<PgOutputMessage> DecodeStreamAbort(WireReader& r, const DecodeContext& context) {
  StreamAbortMessage m;
  EDDY_ASSIGN_OR_RETURN(m.xid, r.U32("xid"));
  EDDY_ASSIGN_OR_RETURN(m.subxid, r.U32("subxid"));
  if (context.parallel_stream_abort) {
    m.has_abort_position = true;
    EDDY_ASSIGN_OR_RETURN(m.abort_lsn, r.ReadLsn("abort_lsn"));
    EDDY_ASSIGN_OR_RETURN(m.abort_time_us, r.I64("abort_ts"));
  }
  EDDY_RETURN_IF_ERROR(r.ExpectEnd());
  return PgOutputMessage(m);
}

const char* TagName(char tag) {
  switch (tag) {
    case 'B': return "Begin";
    case 'C': return "Commit";
    case 'O': return "Origin";
    case 'R': return "Relation";
    case 'Y': return "Type";
    case 'I': return "Insert";
    case 'U': return "Update";
    case 'D': return "Delete";
    case 'T': return "Truncate";
    case 'M': return "Message";
    case 'S': return "Stream Start";
    case 'E': return "Stream Stop";
    case 'c': return "Stream Commit";
    case 'A': return "Stream Abort";
    default: return "unknown";
  }
}

}  // namespace

Result<CopyDataMessage> DecodeCopyData(std::string_view bytes) {
  if (bytes.empty()) return Corruption("replication CopyData: empty message at byte 0");
  char tag = bytes[0];
  if (tag == 'w') {
    WireReader r(bytes.substr(1), "XLogData");
    XLogData m;
    EDDY_ASSIGN_OR_RETURN(m.data_start, r.ReadLsn("data_start"));
    EDDY_ASSIGN_OR_RETURN(m.wal_end, r.ReadLsn("wal_end"));
    EDDY_ASSIGN_OR_RETURN(m.send_time_us, r.I64("send_time"));
    m.payload = bytes.substr(1 + r.offset());
    return CopyDataMessage(m);
  }
  if (tag == 'k') {
    WireReader r(bytes.substr(1), "primary keepalive");
    PrimaryKeepalive m;
    EDDY_ASSIGN_OR_RETURN(m.wal_end, r.ReadLsn("wal_end"));
    EDDY_ASSIGN_OR_RETURN(m.send_time_us, r.I64("send_time"));
    EDDY_ASSIGN_OR_RETURN(uint8_t reply, r.U8("reply_requested"));
    m.reply_requested = reply != 0;
    EDDY_RETURN_IF_ERROR(r.ExpectEnd());
    return CopyDataMessage(m);
  }
  return Corruption("replication CopyData: unknown message type 0x" +
                    std::to_string(static_cast<unsigned>(static_cast<uint8_t>(tag))) +
                    " at byte 0 (expected 'w' XLogData or 'k' keepalive)");
}

std::string EncodeStandbyStatusUpdate(Lsn write, Lsn flush, Lsn apply, int64_t client_time_us,
                                      bool reply_requested) {
  std::string out;
  out.reserve(34);
  PutU8(out, 'r');
  PutU64(out, write.value());
  PutU64(out, flush.value());
  PutU64(out, apply.value());
  PutU64(out, static_cast<uint64_t>(client_time_us));
  PutU8(out, reply_requested ? 1 : 0);
  return out;
}

Result<PgOutputMessage> DecodePgOutput(std::string_view bytes, const DecodeContext& context) {
  if (bytes.empty()) return Corruption("pgoutput message: empty at byte 0");
  char tag = bytes[0];
  WireReader r(bytes.substr(1), TagName(tag));
  Result<PgOutputMessage> result = [&]() -> Result<PgOutputMessage> {
    switch (tag) {
      case 'B': return DecodeBegin(r);
      case 'C': return DecodeCommit(r);
      case 'O': return DecodeOrigin(r);
      case 'R': return DecodeRelation(r, context);
      case 'Y': return DecodeType(r, context);
      case 'I': return DecodeInsert(r, context);
      case 'U': return DecodeUpdate(r, context);
      case 'D': return DecodeDelete(r, context);
      case 'T': return DecodeTruncate(r, context);
      case 'M': return DecodeMessage(r, context);
      case 'S': return DecodeStreamStart(r);
      case 'E': {
        EDDY_RETURN_IF_ERROR(r.ExpectEnd());
        return PgOutputMessage(StreamStopMessage{});
      }
      case 'c': return DecodeStreamCommit(r);
      case 'A': return DecodeStreamAbort(r, context);
      default:
        return Corruption("pgoutput message: unknown or unsupported message tag 0x" +
                          std::to_string(static_cast<unsigned>(static_cast<uint8_t>(tag))) +
                          " at byte 0 (two-phase messages are not requested by eddy)");
    }
  }();
  return result;
}

std::string_view PgOutputMessageName(const PgOutputMessage& message) {
  static constexpr const char* kNames[] = {
      "Begin",   "Commit",  "Origin",   "Relation", "Type",         "Insert",     "Update",
      "Delete",  "Truncate", "Message", "Stream Start", "Stream Stop", "Stream Commit",
      "Stream Abort"};
  return kNames[message.index()];
}

}  // namespace eddy::source::postgres
