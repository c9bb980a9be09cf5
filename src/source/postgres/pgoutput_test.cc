#include "source/postgres/pgoutput.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>

namespace eddy::source::postgres {
namespace {

// Builds big-endian protocol bytes by hand, as the server would send them.
class Bytes {
 public:
  Bytes& U8(uint8_t v) {
    out_.push_back(static_cast<char>(v));
    return *this;
  }
  Bytes& U16(uint16_t v) { return U8(static_cast<uint8_t>(v >> 8)).U8(static_cast<uint8_t>(v)); }
  Bytes& U32(uint32_t v) { return U16(static_cast<uint16_t>(v >> 16)).U16(static_cast<uint16_t>(v)); }
  Bytes& U64(uint64_t v) { return U32(static_cast<uint32_t>(v >> 32)).U32(static_cast<uint32_t>(v)); }
  Bytes& Str(std::string_view s) {
    out_.append(s);
    out_.push_back('\0');
    return *this;
  }
  Bytes& Raw(std::string_view s) {
    out_.append(s);
    return *this;
  }
  Bytes& TextCol(std::string_view s) { return U8('t').U32(static_cast<uint32_t>(s.size())).Raw(s); }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

// Decoded messages view their input: keep every input alive for the whole test binary.
std::string_view Keep(std::string bytes) {
  static std::deque<std::string> kept;
  kept.push_back(std::move(bytes));
  return kept.back();
}

template <typename T>
T Decode(std::string input, DecodeContext context = {}) {
  std::string_view bytes = Keep(std::move(input));
  Result<PgOutputMessage> decoded = DecodePgOutput(bytes, context);
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  if (!decoded.ok()) return T{};
  EXPECT_TRUE(std::holds_alternative<T>(*decoded)) << PgOutputMessageName(*decoded);
  if (!std::holds_alternative<T>(*decoded)) return T{};
  return std::get<T>(*decoded);
}

TEST(PgOutputTest, DecodesXLogDataAndKeepalive) {
  std::string w = Bytes().U8('w').U64(0x16B374D848).U64(0x16B374D900).U64(12345).Raw("B...").str();
  Result<CopyDataMessage> data = DecodeCopyData(w);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  const XLogData& x = std::get<XLogData>(*data);
  EXPECT_EQ(x.data_start.value(), 0x16B374D848u);
  EXPECT_EQ(x.wal_end.value(), 0x16B374D900u);
  EXPECT_EQ(x.send_time_us, 12345);
  EXPECT_EQ(x.payload, "B...");

  std::string k = Bytes().U8('k').U64(77).U64(88).U8(1).str();
  Result<CopyDataMessage> keepalive = DecodeCopyData(k);
  ASSERT_TRUE(keepalive.ok());
  EXPECT_EQ(std::get<PrimaryKeepalive>(*keepalive).wal_end.value(), 77u);
  EXPECT_TRUE(std::get<PrimaryKeepalive>(*keepalive).reply_requested);

  EXPECT_EQ(DecodeCopyData(k.substr(0, 10)).status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeCopyData("").status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeCopyData("x").status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeCopyData(k + "z").status().code(), ErrorCode::kCorruption);
}

TEST(PgOutputTest, EncodesStandbyStatusUpdate) {
  std::string r = EncodeStandbyStatusUpdate(Lsn(1), Lsn(2), Lsn(3), 4, true);
  EXPECT_EQ(r, Bytes().U8('r').U64(1).U64(2).U64(3).U64(4).U8(1).str());
}

TEST(PgOutputTest, DecodesBeginCommitOrigin) {
  auto begin = Decode<BeginMessage>(Bytes().U8('B').U64(0x100).U64(5000).U32(742).str());
  EXPECT_EQ(begin.final_lsn.value(), 0x100u);
  EXPECT_EQ(begin.commit_time_us, 5000);
  EXPECT_EQ(begin.xid, 742u);

  auto commit = Decode<CommitMessage>(Bytes().U8('C').U8(0).U64(0x100).U64(0x130).U64(5000).str());
  EXPECT_EQ(commit.commit_lsn.value(), 0x100u);
  EXPECT_EQ(commit.end_lsn.value(), 0x130u);

  auto origin = Decode<OriginMessage>(Bytes().U8('O').U64(9).Str("node_a").str());
  EXPECT_EQ(origin.origin_lsn.value(), 9u);
  EXPECT_EQ(origin.name, "node_a");
}

std::string RelationBytes(bool in_stream) {
  Bytes b;
  b.U8('R');
  if (in_stream) b.U32(900);
  b.U32(16385).Str("public").Str("orders").U8('f').U16(3);
  b.U8(1).Str("id").U32(23).U32(0xffffffff);
  b.U8(0).Str("note").U32(25).U32(0xffffffff);
  b.U8(0).Str("price").U32(1700).U32(((10 << 16) | 2) + 4);
  return b.str();
}

TEST(PgOutputTest, DecodesRelation) {
  auto relation = Decode<RelationMessage>(RelationBytes(false));
  EXPECT_EQ(relation.relation_id, 16385u);
  EXPECT_EQ(relation.schema, "public");
  EXPECT_EQ(relation.name, "orders");
  EXPECT_EQ(relation.replica_identity, ReplicaIdentity::kFull);
  ASSERT_EQ(relation.columns.size(), 3u);
  EXPECT_TRUE(relation.columns[0].is_key);
  EXPECT_EQ(relation.columns[0].name, "id");
  EXPECT_EQ(relation.columns[0].type_modifier, -1);
  EXPECT_FALSE(relation.columns[1].is_key);
  EXPECT_EQ(relation.columns[2].type_oid, 1700u);

  auto streamed = Decode<RelationMessage>(RelationBytes(true), DecodeContext{true, false});
  EXPECT_EQ(streamed.xid, 900u);
  EXPECT_EQ(streamed.name, "orders");
}

TEST(PgOutputTest, DecodesType) {
  auto type = Decode<TypeMessage>(Bytes().U8('Y').U32(16400).Str("public").Str("mood").str());
  EXPECT_EQ(type.type_oid, 16400u);
  EXPECT_EQ(type.name, "mood");
}

TEST(PgOutputTest, DecodesInsertWithEveryColumnKind) {
  std::string bytes = Bytes()
                          .U8('I')
                          .U32(16385)
                          .U8('N')
                          .U16(4)
                          .TextCol("42")
                          .U8('n')
                          .U8('u')
                          .U8('b')
                          .U32(2)
                          .Raw(std::string("\x00\x01", 2))
                          .str();
  auto insert = Decode<InsertMessage>(bytes);
  EXPECT_EQ(insert.relation_id, 16385u);
  ASSERT_EQ(insert.new_tuple.size(), 4u);
  EXPECT_EQ(insert.new_tuple[0].kind, TupleValueKind::kText);
  EXPECT_EQ(insert.new_tuple[0].data, "42");
  EXPECT_EQ(insert.new_tuple[1].kind, TupleValueKind::kNull);
  EXPECT_EQ(insert.new_tuple[2].kind, TupleValueKind::kUnchangedToast);
  EXPECT_EQ(insert.new_tuple[3].kind, TupleValueKind::kBinary);
  EXPECT_EQ(insert.new_tuple[3].data, std::string("\x00\x01", 2));
}

TEST(PgOutputTest, DecodesUpdateAndDeleteWithOldTuples) {
  auto plain = Decode<UpdateMessage>(Bytes().U8('U').U32(1).U8('N').U16(1).TextCol("a").str());
  EXPECT_EQ(plain.old_kind, OldTupleKind::kNone);
  EXPECT_EQ(plain.new_tuple[0].data, "a");

  auto keyed = Decode<UpdateMessage>(
      Bytes().U8('U').U32(1).U8('K').U16(1).TextCol("old").U8('N').U16(1).TextCol("new").str());
  EXPECT_EQ(keyed.old_kind, OldTupleKind::kKey);
  EXPECT_EQ(keyed.old_tuple[0].data, "old");
  EXPECT_EQ(keyed.new_tuple[0].data, "new");

  auto full = Decode<UpdateMessage>(
      Bytes().U8('U').U32(1).U8('O').U16(1).TextCol("o").U8('N').U16(1).U8('u').str());
  EXPECT_EQ(full.old_kind, OldTupleKind::kFull);
  EXPECT_EQ(full.new_tuple[0].kind, TupleValueKind::kUnchangedToast);

  auto deleted = Decode<DeleteMessage>(Bytes().U8('D').U32(1).U8('K').U16(1).TextCol("7").str());
  EXPECT_EQ(deleted.old_kind, OldTupleKind::kKey);
  EXPECT_EQ(deleted.old_tuple[0].data, "7");

  auto streamed = Decode<DeleteMessage>(Bytes().U8('D').U32(55).U32(1).U8('O').U16(0).str(),
                                        DecodeContext{true, false});
  EXPECT_EQ(streamed.xid, 55u);
  EXPECT_EQ(streamed.old_kind, OldTupleKind::kFull);
}

TEST(PgOutputTest, DecodesTruncateAndMessage) {
  auto truncate = Decode<TruncateMessage>(
      Bytes().U8('T').U32(2).U8(kTruncateCascade | kTruncateRestartIdentity).U32(10).U32(11).str());
  EXPECT_EQ(truncate.flags, 3);
  ASSERT_EQ(truncate.relation_ids.size(), 2u);
  EXPECT_EQ(truncate.relation_ids[1], 11u);

  auto message = Decode<LogicalDecodingMessage>(
      Bytes().U8('M').U8(1).U64(0x500).Str("ddl").U32(5).Raw("hello").str());
  EXPECT_TRUE(message.transactional);
  EXPECT_EQ(message.lsn.value(), 0x500u);
  EXPECT_EQ(message.prefix, "ddl");
  EXPECT_EQ(message.content, "hello");

  auto streamed = Decode<LogicalDecodingMessage>(
      Bytes().U8('M').U32(77).U8(1).U64(1).Str("p").U32(0).str(), DecodeContext{true, false});
  EXPECT_EQ(streamed.xid, 77u);
  EXPECT_EQ(streamed.content, "");
}

TEST(PgOutputTest, DecodesStreamMessages) {
  auto start = Decode<StreamStartMessage>(Bytes().U8('S').U32(900).U8(1).str());
  EXPECT_EQ(start.xid, 900u);
  EXPECT_TRUE(start.first_segment);
  Decode<StreamStopMessage>(Bytes().U8('E').str());
  auto commit =
      Decode<StreamCommitMessage>(Bytes().U8('c').U32(900).U8(0).U64(10).U64(20).U64(30).str());
  EXPECT_EQ(commit.xid, 900u);
  EXPECT_EQ(commit.end_lsn.value(), 20u);
  EXPECT_EQ(commit.commit_time_us, 30);

  auto abort = Decode<StreamAbortMessage>(Bytes().U8('A').U32(900).U32(901).str());
  EXPECT_EQ(abort.subxid, 901u);
  EXPECT_FALSE(abort.has_abort_position);
  auto parallel = Decode<StreamAbortMessage>(Bytes().U8('A').U32(900).U32(900).U64(40).U64(50).str(),
                                             DecodeContext{false, true});
  EXPECT_TRUE(parallel.has_abort_position);
  EXPECT_EQ(parallel.abort_lsn.value(), 40u);
  EXPECT_EQ(parallel.abort_time_us, 50);
}

TEST(PgOutputTest, EveryTruncationIsCorruptionNamingMessageAndOffset) {
  std::vector<std::string> messages = {
      Bytes().U8('B').U64(1).U64(2).U32(3).str(),
      Bytes().U8('C').U8(0).U64(1).U64(2).U64(3).str(),
      RelationBytes(false),
      Bytes().U8('I').U32(1).U8('N').U16(2).TextCol("abc").U8('n').str(),
      Bytes().U8('U').U32(1).U8('K').U16(1).TextCol("o").U8('N').U16(1).TextCol("n").str(),
      Bytes().U8('D').U32(1).U8('O').U16(1).TextCol("x").str(),
      Bytes().U8('T').U32(1).U8(0).U32(5).str(),
      Bytes().U8('M').U8(0).U64(1).Str("p").U32(3).Raw("abc").str(),
      Bytes().U8('c').U32(1).U8(0).U64(1).U64(2).U64(3).str(),
  };
  for (const std::string& message : messages) {
    for (size_t cut = 0; cut < message.size(); ++cut) {
      Result<PgOutputMessage> decoded = DecodePgOutput(message.substr(0, cut), {});
      ASSERT_FALSE(decoded.ok()) << "tag " << message[0] << " cut " << cut;
      EXPECT_EQ(decoded.status().code(), ErrorCode::kCorruption);
      if (cut > 0) {
        EXPECT_NE(decoded.status().message().find("at byte"), std::string::npos)
            << decoded.status().message();
      }
    }
    EXPECT_EQ(DecodePgOutput(message + "!", {}).status().code(), ErrorCode::kCorruption)
        << "trailing byte after tag " << message[0];
  }
}

TEST(PgOutputTest, RejectsBadKindsAndHugeCounts) {
  Result<PgOutputMessage> bad_kind =
      DecodePgOutput(Bytes().U8('I').U32(1).U8('N').U16(1).U8('z').str(), {});
  EXPECT_EQ(bad_kind.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(bad_kind.status().message().find("Insert"), std::string::npos);

  Result<PgOutputMessage> huge_length =
      DecodePgOutput(Bytes().U8('I').U32(1).U8('N').U16(1).U8('t').U32(0xffffffff).str(), {});
  EXPECT_EQ(huge_length.status().code(), ErrorCode::kCorruption);

  Result<PgOutputMessage> huge_count =
      DecodePgOutput(Bytes().U8('I').U32(1).U8('N').U16(60000).str(), {});
  EXPECT_EQ(huge_count.status().code(), ErrorCode::kCorruption);

  Result<PgOutputMessage> huge_truncate =
      DecodePgOutput(Bytes().U8('T').U32(0xffffffff).U8(0).str(), {});
  EXPECT_EQ(huge_truncate.status().code(), ErrorCode::kCorruption);

  Result<PgOutputMessage> bad_identity =
      DecodePgOutput(Bytes().U8('R').U32(1).Str("s").Str("t").U8('q').U16(0).str(), {});
  EXPECT_EQ(bad_identity.status().code(), ErrorCode::kCorruption);

  Result<PgOutputMessage> two_phase = DecodePgOutput("P", {});
  EXPECT_EQ(two_phase.status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodePgOutput("", {}).status().code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace eddy::source::postgres
