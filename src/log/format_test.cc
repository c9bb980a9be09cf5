#include <gtest/gtest.h>

#include "log/chunking.h"
#include "log/segment_format.h"
#include "log/stream_format.h"

namespace eddy::log {
namespace {

Record SampleRecord(uint64_t sequence) {
  Record record;
  record.sequence = SequenceNumber(sequence);
  record.arrival_nanos = 1'700'000'000'000'000'000 + static_cast<int64_t>(sequence);
  record.kind = RecordKind::kData;
  record.partition_key = "public.orders/" + std::to_string(sequence);
  record.payload = std::string(100, 'x');
  MysqlPosition mysql;
  mysql.end = BinlogPosition{"mysql-bin.000042", 1234 + sequence};
  mysql.gtid.text = "0-1-" + std::to_string(sequence);
  record.position = SourcePosition(mysql);
  return record;
}

TEST(LogFormatTest, FramesRoundTripAndDetectDamage) {
  Record record = SampleRecord(7);
  std::string bytes;
  EncodeFrame(record, bytes);
  EXPECT_EQ(bytes.size(), FrameSize(record));
  Record decoded;
  FrameDecode frame = DecodeFrame(bytes, &decoded);
  ASSERT_EQ(frame.status, FrameStatus::kOk) << frame.error;
  EXPECT_EQ(frame.size, bytes.size());
  EXPECT_EQ(decoded.sequence, record.sequence);
  EXPECT_EQ(decoded.arrival_nanos, record.arrival_nanos);
  EXPECT_EQ(decoded.partition_key, record.partition_key);
  EXPECT_EQ(decoded.payload, record.payload);
  EXPECT_EQ(decoded.position, record.position);
  // Every truncation is incomplete; every flipped byte is caught.
  for (size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_EQ(DecodeFrame(std::string_view(bytes).substr(0, size), &decoded).status,
              FrameStatus::kIncomplete)
        << size;
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] ^= 0x10;
    EXPECT_NE(DecodeFrame(damaged, &decoded).status, FrameStatus::kOk) << i;
  }
}

TEST(LogFormatTest, SegmentHeaderAndNames) {
  std::string header = EncodeSegmentHeader(9);
  EXPECT_EQ(header.size(), kSegmentHeaderBytes);
  EXPECT_EQ(*DecodeSegmentHeader(header), 9u);
  header[0] = 'X';
  EXPECT_EQ(DecodeSegmentHeader(header).status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(SegmentFileName(42), "00000000000000000042.seg");
  EXPECT_EQ(*ParseSegmentFileName("00000000000000000042.seg"), 42u);
  EXPECT_FALSE(ParseSegmentFileName("00000000000000000042.idx").ok());
  EXPECT_EQ(JournalFileName(3), "commit-00000000000000000003.log");
  EXPECT_EQ(*ParseJournalFileName("commit-00000000000000000003.log"), 3u);
}

TEST(LogFormatTest, IndexRoundTripAndCrc) {
  SegmentSummary summary;
  summary.first_sequence = SequenceNumber(5);
  summary.last_sequence = SequenceNumber(90);
  summary.record_count = 40;
  summary.min_arrival = 1;
  summary.max_arrival = 2;
  summary.bytes = 4096;
  summary.entries = {{SequenceNumber(5), 16, 1}, {SequenceNumber(50), 2000, 2}};
  std::string bytes = EncodeIndex(summary);
  auto decoded = DecodeIndex(bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->last_sequence, SequenceNumber(90));
  EXPECT_EQ(decoded->entries.size(), 2u);
  EXPECT_EQ(decoded->entries[1].offset, 2000u);
  bytes[20] ^= 1;
  EXPECT_EQ(DecodeIndex(bytes).status().code(), ErrorCode::kCorruption);
}

CommitRecord SampleCommit(uint64_t number) {
  CommitRecord record;
  record.commit_number = number;
  record.meta_version = 1;
  record.last_sequence = SequenceNumber(number * 10);
  record.commit_nanos = 5;
  PostgresPosition pg;
  pg.commit_end_lsn = Lsn(number * 100);
  record.position = SourcePosition(pg);
  record.shards = {
      ShardCommit{ShardIndex(0), SequenceNumber(1), 160 + number, SequenceNumber(number * 10), 7},
      ShardCommit{ShardIndex(1), SequenceNumber(1), 16, SequenceNumber(0), 0}};
  return record;
}

TEST(LogFormatTest, JournalScanKeepsLastValidRecordAndResynchronises) {
  std::string journal(kJournalMagic, sizeof kJournalMagic);
  std::vector<size_t> starts;
  for (uint64_t i = 1; i <= 3; ++i) {
    starts.push_back(journal.size());
    EncodeCommitFrame(SampleCommit(i), journal);
  }
  auto scan = ScanJournal(journal);
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(scan->records, 3u);
  EXPECT_EQ(scan->last->commit_number, 3u);
  EXPECT_EQ(scan->last->shards[0].end_offset, 163u);
  EXPECT_EQ(scan->invalid_bytes, 0u);
  // A torn tail: the previous record wins.
  auto torn = ScanJournal(std::string_view(journal).substr(0, journal.size() - 3));
  EXPECT_EQ(torn->last->commit_number, 2u);
  EXPECT_EQ(torn->valid_end, starts[2]);
  EXPECT_GT(torn->invalid_bytes, 0u);
  EXPECT_FALSE(torn->corrupt_offset.has_value());
  // A damaged middle record: reported, and the later intact record is used.
  std::string damaged = journal;
  damaged[starts[1] + 20] ^= 0x40;
  auto middle = ScanJournal(damaged);
  EXPECT_EQ(middle->last->commit_number, 3u);
  ASSERT_TRUE(middle->corrupt_offset.has_value());
  EXPECT_EQ(*middle->corrupt_offset, starts[1]);
  EXPECT_EQ(ScanJournal("garbage").status().code(), ErrorCode::kCorruption);
}

TEST(LogFormatTest, StreamMetaRoundTrip) {
  StreamMeta meta;
  meta.name = "orders";
  meta.options.ordering = OrderingMode::kUnordered;
  meta.options.shard_count = 2;
  meta.options.tags = {{"format", "dms"}};
  meta.meta_version = 4;
  meta.next_shard_index = ShardIndex(3);
  ShardMeta parent;
  parent.index = ShardIndex(0);
  parent.open = false;
  parent.ending_sequence = SequenceNumber(99);
  parent.child_indexes = {ShardIndex(2)};
  parent.hash_range = HashKeyRange{HashKey{}, HashKey{5, 6}};
  ShardMeta child;
  child.index = ShardIndex(2);
  child.parent_index = ShardIndex(0);
  child.adjacent_parent_index = ShardIndex(1);
  child.starting_sequence = SequenceNumber(100);
  meta.shards = {parent, child};
  std::string bytes = EncodeStreamMeta(meta);
  auto decoded = DecodeStreamMeta(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->name, "orders");
  EXPECT_EQ(decoded->options.tags.at("format"), "dms");
  EXPECT_EQ(decoded->meta_version, 4u);
  ASSERT_EQ(decoded->shards.size(), 2u);
  EXPECT_FALSE(decoded->shards[0].open);
  EXPECT_EQ(decoded->shards[0].ending_sequence, SequenceNumber(99));
  EXPECT_EQ(decoded->shards[0].hash_range.end, (HashKey{5, 6}));
  EXPECT_EQ(decoded->shards[1].parent_index, ShardIndex(0));
  EXPECT_EQ(decoded->shards[1].adjacent_parent_index, ShardIndex(1));
  EXPECT_EQ(decoded->shards[1].starting_sequence, SequenceNumber(100));
  bytes[12] ^= 1;
  EXPECT_EQ(DecodeStreamMeta(bytes).status().code(), ErrorCode::kCorruption);
}

TEST(LogFormatTest, SplitPayloadPiecesFitTheLimit) {
  std::string payload(10'000, 'z');
  auto pieces = SplitPayload("key", payload, 1024);
  ASSERT_GT(pieces.size(), 9u);
  EXPECT_EQ(pieces[0].kind, RecordKind::kChunkedHead);
  size_t total = 0;
  for (size_t i = 0; i < pieces.size(); ++i) {
    EXPECT_LE(pieces[i].payload.size() + 3, 1024u);
    if (i > 0) {
      EXPECT_EQ(pieces[i].kind, RecordKind::kFragment);
    }
    total += pieces[i].payload.size();
  }
  EXPECT_EQ(total, payload.size() + kChunkHeaderBytes);
  auto whole = SplitPayload("key", "small", 1024);
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0].kind, RecordKind::kData);
  // Fragments without their head (cut by the trim horizon) are skipped, not an error.
  Reassembler reassembler;
  Record fragment;
  fragment.kind = RecordKind::kFragment;
  auto out = reassembler.Add(fragment);
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->has_value());
  EXPECT_EQ(reassembler.skipped_fragments(), 1u);
}

}  // namespace
}  // namespace eddy::log
