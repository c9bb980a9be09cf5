// The PostgreSQL logical replication stream as eddy receives it: CopyBoth frames (XLogData 'w',
// primary keepalive 'k') and, inside XLogData, pgoutput messages (protocol versions 1-4).
// Spec: docs/formats/pgoutput.md; facts: PostgreSQL's proto.c and "Logical Replication
// Message Formats". Every integer is big-endian.
//
//   XLogData      'w' | i64 data_start | i64 wal_end | i64 send_time_us | pgoutput message
//   Keepalive     'k' | i64 wal_end    | i64 send_time_us | u8 reply_requested
//   Status update 'r' | i64 write | i64 flush | i64 apply | i64 client_time_us | u8 reply
//
//   pgoutput      B Begin       i64 final_lsn, i64 commit_ts, i32 xid
//                 C Commit      u8 flags, i64 commit_lsn, i64 end_lsn, i64 commit_ts
//                 O Origin      i64 origin_lsn, cstring name
//                 R Relation    [i32 xid] i32 relid, cstring nsp, cstring name, u8 replident,
//                               i16 n, n x (u8 flags, cstring name, i32 type_oid, i32 typmod)
//                 Y Type        [i32 xid] i32 oid, cstring nsp, cstring name
//                 I Insert      [i32 xid] i32 relid, 'N' tuple
//                 U Update      [i32 xid] i32 relid, ['K'|'O' tuple], 'N' tuple
//                 D Delete      [i32 xid] i32 relid, 'K'|'O' tuple
//                 T Truncate    [i32 xid] i32 n, u8 flags, n x i32 relid
//                 M Message     [i32 xid] u8 flags, i64 lsn, cstring prefix, i32 len, bytes
//                 S StreamStart i32 xid, u8 first_segment
//                 E StreamStop  (empty)
//                 c StreamCommit i32 xid, u8 flags, i64 commit_lsn, i64 end_lsn, i64 commit_ts
//                 A StreamAbort i32 xid, i32 subxid [, i64 abort_lsn, i64 abort_ts  (v4
//                               parallel streaming)]
//   tuple         i16 n, n x ('n' | 'u' | 't' i32 len bytes | 'b' i32 len bytes)
//
// "[i32 xid]" is present only between Stream Start and Stream Stop: the decoder must be told
// (DecodeContext::in_stream). Two-phase messages (b P K r p, protocol 3 with two_phase) are not
// requested by eddy; they decode to Corruption naming the tag.
//
// Decoded messages hold string_views into the input bytes: they live as long as those bytes.
// Every malformed input returns Corruption naming the message and the byte offset; decoding
// never reads outside the input. Thread-safe (no state).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/position.h"
#include "base/status.h"

namespace eddy::source::postgres {

// Microseconds between 1970-01-01 and 2000-01-01, PostgreSQL's epoch for wire timestamps.
inline constexpr int64_t kPostgresEpochOffsetMicros = 946'684'800LL * 1'000'000;

// Upper bounds that no real server exceeds; larger counts are Corruption (and keep a fuzzed
// count from allocating gigabytes before the bytes run out).
inline constexpr uint32_t kMaxColumns = 1664;  // MaxTupleAttributeNumber

// ---- CopyBoth frames ----

struct XLogData {
  Lsn data_start;  // WAL position of the message (0 for messages not tied to a record)
  Lsn wal_end;     // the server's current end of WAL
  int64_t send_time_us = 0;  // since 2000-01-01
  std::string_view payload;  // one pgoutput message
};

struct PrimaryKeepalive {
  Lsn wal_end;
  int64_t send_time_us = 0;
  bool reply_requested = false;
};

using CopyDataMessage = std::variant<XLogData, PrimaryKeepalive>;

// Decodes one CopyData payload from the server.
Result<CopyDataMessage> DecodeCopyData(std::string_view bytes);

// Builds the standby status update ('r'). `client_time_us` is since 2000-01-01.
std::string EncodeStandbyStatusUpdate(Lsn write, Lsn flush, Lsn apply, int64_t client_time_us,
                                      bool reply_requested);

// ---- pgoutput messages ----

struct BeginMessage {
  Lsn final_lsn;  // the commit record's LSN
  int64_t commit_time_us = 0;
  uint32_t xid = 0;
};

struct CommitMessage {
  uint8_t flags = 0;
  Lsn commit_lsn;
  Lsn end_lsn;  // what to acknowledge as flush once durable
  int64_t commit_time_us = 0;
};

struct OriginMessage {
  Lsn origin_lsn;
  std::string_view name;
};

struct RelationColumn {
  bool is_key = false;  // flags bit 1: part of the replica identity
  std::string_view name;
  uint32_t type_oid = 0;
  int32_t type_modifier = -1;
};

// Replica identity setting of a relation ('d' default, 'n' nothing, 'f' full, 'i' index).
enum class ReplicaIdentity : char {
  kDefault = 'd',
  kNothing = 'n',
  kFull = 'f',
  kIndex = 'i',
};

struct RelationMessage {
  uint32_t xid = 0;  // only inside a stream
  uint32_t relation_id = 0;
  std::string_view schema;  // "" means pg_catalog
  std::string_view name;
  ReplicaIdentity replica_identity = ReplicaIdentity::kDefault;
  std::vector<RelationColumn> columns;
};

struct TypeMessage {
  uint32_t xid = 0;
  uint32_t type_oid = 0;
  std::string_view schema;
  std::string_view name;
};

// One column of a tuple as sent.
enum class TupleValueKind : char {
  kNull = 'n',
  kUnchangedToast = 'u',  // an unchanged out-of-line value the server did not send
  kText = 't',
  kBinary = 'b',
};

struct TupleValue {
  TupleValueKind kind = TupleValueKind::kNull;
  std::string_view data;  // for kText / kBinary
};

using TupleData = std::vector<TupleValue>;

struct InsertMessage {
  uint32_t xid = 0;
  uint32_t relation_id = 0;
  TupleData new_tuple;
};

// Which old tuple an update or delete carries.
enum class OldTupleKind : char {
  kNone = 0,
  kKey = 'K',   // replica identity columns only (others are null)
  kFull = 'O',  // every column (REPLICA IDENTITY FULL)
};

struct UpdateMessage {
  uint32_t xid = 0;
  uint32_t relation_id = 0;
  OldTupleKind old_kind = OldTupleKind::kNone;
  TupleData old_tuple;
  TupleData new_tuple;
};

struct DeleteMessage {
  uint32_t xid = 0;
  uint32_t relation_id = 0;
  OldTupleKind old_kind = OldTupleKind::kKey;
  TupleData old_tuple;
};

inline constexpr uint8_t kTruncateCascade = 1;
inline constexpr uint8_t kTruncateRestartIdentity = 2;

struct TruncateMessage {
  uint32_t xid = 0;
  uint8_t flags = 0;
  std::vector<uint32_t> relation_ids;
};

struct LogicalDecodingMessage {
  uint32_t xid = 0;
  bool transactional = false;
  Lsn lsn;
  std::string_view prefix;
  std::string_view content;
};

struct StreamStartMessage {
  uint32_t xid = 0;
  bool first_segment = false;
};

struct StreamStopMessage {};

struct StreamCommitMessage {
  uint32_t xid = 0;
  uint8_t flags = 0;
  Lsn commit_lsn;
  Lsn end_lsn;
  int64_t commit_time_us = 0;
};

struct StreamAbortMessage {
  uint32_t xid = 0;
  uint32_t subxid = 0;
  // Sent only with protocol 4 and streaming = parallel.
  bool has_abort_position = false;
  Lsn abort_lsn;
  int64_t abort_time_us = 0;
};

using PgOutputMessage =
    std::variant<BeginMessage, CommitMessage, OriginMessage, RelationMessage, TypeMessage,
                 InsertMessage, UpdateMessage, DeleteMessage, TruncateMessage,
                 LogicalDecodingMessage, StreamStartMessage, StreamStopMessage,
                 StreamCommitMessage, StreamAbortMessage>;

struct DecodeContext {
  // Between Stream Start and Stream Stop, data messages carry the (sub)transaction xid.
  bool in_stream = false;
  // 4 with streaming = parallel: Stream Abort carries abort_lsn and abort_ts.
  bool parallel_stream_abort = false;
};

// Decodes one pgoutput message (the XLogData payload).
Result<PgOutputMessage> DecodePgOutput(std::string_view bytes, const DecodeContext& context);

// "Begin", "Insert", ... for logs and errors.
std::string_view PgOutputMessageName(const PgOutputMessage& message);

}  // namespace eddy::source::postgres
