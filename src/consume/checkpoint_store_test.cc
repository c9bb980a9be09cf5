#include "consume/checkpoint_store.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "base/bytes.h"
#include "base/crc32c.h"
#include "consume/checkpoint_format.h"
#include "consume/stream_reader.h"
#include "io/fault_file_system.h"
#include "log/log_test_util.h"

namespace eddy::consume {
namespace {

using log::testing::FaultStore;
using log::testing::MakeRecord;

ConsumerState SampleState(const std::string& name = "orders-webhook") {
  ConsumerState state;
  state.name = name;
  state.stream = "orders";
  state.url = "webhook+https://example.com/hook?batch_size=10";
  state.state = SinkState::kImpaired;
  state.reason = "POST https://example.com/hook answered 503 since 2026-12-04T23:00:00Z";
  state.state_since_nanos = 1'764'889'200'000'000'000;
  state.checkpoint.shards[0] = {SequenceNumber(120), false};
  state.checkpoint.shards[1] = {SequenceNumber(97), true};
  state.checkpoint.shards[2] = {SequenceNumber(131), false};
  MysqlPosition position;
  position.server_id = 7;
  position.end = {"mysql-bin.000042", 1234};
  position.gtid.text = "0-1-42";
  state.last_delivered_position = SourcePosition(position);
  state.last_delivered_arrival_nanos = -5;  // signed fields survive negative values
  state.delivered_records = 1'000'000'000'000ull;
  state.delivered_bytes = 42;
  state.failed_records = 3;
  state.request = ControlRequest::kReset;
  state.reset_to = log::StartPosition::AfterSequence(SequenceNumber(99));
  state.holds_retention = false;
  return state;
}

void ExpectSameState(const ConsumerState& a, const ConsumerState& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.stream, b.stream);
  EXPECT_EQ(a.url, b.url);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.state_since_nanos, b.state_since_nanos);
  EXPECT_EQ(a.checkpoint, b.checkpoint);
  EXPECT_EQ(a.last_delivered_position, b.last_delivered_position);
  EXPECT_EQ(a.last_delivered_arrival_nanos, b.last_delivered_arrival_nanos);
  EXPECT_EQ(a.delivered_records, b.delivered_records);
  EXPECT_EQ(a.delivered_bytes, b.delivered_bytes);
  EXPECT_EQ(a.failed_records, b.failed_records);
  EXPECT_EQ(a.request, b.request);
  EXPECT_EQ(a.reset_to.type, b.reset_to.type);
  EXPECT_EQ(a.reset_to.sequence, b.reset_to.sequence);
  EXPECT_EQ(a.reset_to.timestamp_nanos, b.reset_to.timestamp_nanos);
  EXPECT_EQ(a.holds_retention, b.holds_retention);
}

std::unique_ptr<CheckpointStore> OpenStore(io::FileSystem* fs, const std::string& dir = "/data") {
  auto store = CheckpointStore::Open(dir, fs);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

TEST(CheckpointStoreTest, SaveLoadListRemoveRoundTrip) {
  io::FaultInjectionFileSystem fs;
  auto store = OpenStore(&fs);
  EXPECT_EQ(store->Load("orders-webhook").status().code(), ErrorCode::kNotFound);
  ConsumerState state = SampleState();
  ASSERT_TRUE(store->Save(state).ok());
  auto loaded = store->Load("orders-webhook");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ExpectSameState(*loaded, state);
  EXPECT_TRUE(fs.DurableContent("/data/consumers/orders-webhook.checkpoint").ok());

  // Every state and request survives, and a second consumer lists beside the first.
  for (SinkState s : {SinkState::kCreating, SinkState::kActive, SinkState::kImpaired,
                      SinkState::kPaused, SinkState::kFailed, SinkState::kDeleting}) {
    for (ControlRequest r : {ControlRequest::kNone, ControlRequest::kPause, ControlRequest::kResume,
                             ControlRequest::kReset}) {
      ConsumerState other = SampleState("other");
      other.state = s;
      other.request = r;
      other.last_delivered_position = SourcePosition();
      ASSERT_TRUE(store->Save(other).ok());
      auto back = store->Load("other");
      ASSERT_TRUE(back.ok()) << back.status().ToString();
      ExpectSameState(*back, other);
    }
  }
  auto listed = store->List();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].name, "orders-webhook");
  EXPECT_EQ((*listed)[1].name, "other");

  // A reopened store (a restart) finds the same states.
  store = OpenStore(&fs);
  ExpectSameState(*store->Load("orders-webhook"), state);
  ASSERT_TRUE(store->Remove("other").ok());
  EXPECT_EQ(store->Load("other").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store->Remove("other").code(), ErrorCode::kNotFound);
  EXPECT_EQ(store->List()->size(), 1u);

  // Names that could escape the directory are refused.
  EXPECT_EQ(store->Load("../x").status().code(), ErrorCode::kInvalidArgument);
  ConsumerState bad = SampleState("a/b");
  EXPECT_EQ(store->Save(bad).code(), ErrorCode::kInvalidArgument);
}

TEST(CheckpointStoreTest, CrashBeforeTheRenameKeepsTheOldState) {
  io::FaultInjectionFileSystem fs;
  auto store = OpenStore(&fs);
  ConsumerState old_state = SampleState();
  ASSERT_TRUE(store->Save(old_state).ok());

  ConsumerState new_state = old_state;
  new_state.checkpoint.shards[0].next = SequenceNumber(500);
  new_state.state = SinkState::kActive;
  fs.InjectFault(io::FaultOperation::kRename, IoError("injected: crash before rename"),
                 "consumers/");
  EXPECT_FALSE(store->Save(new_state).ok());
  store.reset();
  fs.ClearFaults();
  fs.SimulateCrash();

  store = OpenStore(&fs);
  auto loaded = store->Load(old_state.name);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ExpectSameState(*loaded, old_state);
  // The temp file of the interrupted save, if it survived, is not a consumer.
  auto listed = store->List();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->size(), 1u);

  // A crash right after a successful save keeps the new state.
  ASSERT_TRUE(store->Save(new_state).ok());
  store.reset();
  fs.SimulateCrash();
  store = OpenStore(&fs);
  ExpectSameState(*store->Load(old_state.name), new_state);
}

TEST(CheckpointStoreTest, CorruptFileIsReportedNamingTheFile) {
  io::FaultInjectionFileSystem fs;
  auto store = OpenStore(&fs);
  ASSERT_TRUE(store->Save(SampleState()).ok());
  const std::string path = "/data/consumers/orders-webhook.checkpoint";
  ASSERT_TRUE(fs.CorruptByte(path, 20).ok());
  auto loaded = store->Load("orders-webhook");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(loaded.status().message().find(path), std::string::npos) << loaded.status().message();
  // Listing and holds do not silently skip it either.
  EXPECT_EQ(store->List().status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(store->Holds("orders").status().code(), ErrorCode::kCorruption);

  // Truncated, another version, bad magic.
  std::string bytes = EncodeConsumerState(SampleState());
  for (size_t size : {size_t{0}, size_t{5}, size_t{20}, bytes.size() - 1}) {
    EXPECT_EQ(DecodeConsumerState(bytes.substr(0, size)).status().code(), ErrorCode::kCorruption)
        << size;
  }
  std::string other_version = bytes;
  other_version[8] = 3;  // the version follows the 8-byte magic; 3 is not known
  std::string body = other_version.substr(0, other_version.size() - 4);
  std::string reframed = body;
  PutFixed32(reframed, crc32c::Mask(crc32c::Value(body)));
  EXPECT_EQ(DecodeConsumerState(reframed).status().code(), ErrorCode::kFailedPrecondition);
  std::string bad_magic = bytes;
  bad_magic[0] = 'X';
  EXPECT_EQ(DecodeConsumerState(bad_magic).status().code(), ErrorCode::kCorruption);
}

// The fuzz seed corpus doubles as a compatibility check: version-1 files written by hand from
// docs/formats/consumer-checkpoint.md keep decoding and re-encode byte for byte.
TEST(CheckpointStoreTest, SeedCorpusFilesDecodeAndReencodeIdentically) {
  const char* source_dir = std::getenv("EDDY_SOURCE_DIR");
  ASSERT_NE(source_dir, nullptr) << "EDDY_SOURCE_DIR is set by ctest; run through ctest";
  io::FileSystem* fs = io::DefaultFileSystem();
  const std::string corpus = std::string(source_dir) + "/fuzz/corpus/consumer-checkpoint";
  auto files = fs->List(corpus);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  int decoded_files = 0;
  for (const std::string& file : *files) {
    auto bytes = fs->ReadFile(io::JoinPath(corpus, file));
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    if (file.size() > 4 && file.substr(file.size() - 4) == ".txt") {
      auto checkpoint = DecodeCheckpoint(*bytes);
      ASSERT_TRUE(checkpoint.ok()) << file << ": " << checkpoint.status().ToString();
      EXPECT_EQ(EncodeCheckpoint(*checkpoint), *bytes) << file;
    } else {
      auto state = DecodeConsumerState(*bytes);
      ASSERT_TRUE(state.ok()) << file << ": " << state.status().ToString();
      ASSERT_GE(bytes->size(), 12u);
      uint32_t version = DecodeFixed32(bytes->data() + kCheckpointMagic.size());
      if (version == kCheckpointVersion) {
        EXPECT_EQ(EncodeConsumerState(*state), *bytes) << file;
      } else {
        // An older version reads, and is written back in the current one unchanged.
        EXPECT_EQ(version, 1u) << file;
        EXPECT_EQ(state->checkpoint.generation, 0u) << file;
        auto again = DecodeConsumerState(EncodeConsumerState(*state));
        ASSERT_TRUE(again.ok()) << file;
        EXPECT_EQ(again->checkpoint, state->checkpoint) << file;
        EXPECT_EQ(again->request, state->request) << file;
      }
      if (file == "reset-generation-v2.bin") {
        EXPECT_EQ(state->checkpoint.generation, 3u);
      }
      EXPECT_EQ(state->name, "orders-webhook") << file;
    }
    ++decoded_files;
  }
  EXPECT_EQ(decoded_files, 6);
}

TEST(CheckpointStoreTest, CheckpointTextFormRoundTripsAndRejectsGarbage) {
  Checkpoint checkpoint;
  EXPECT_EQ(EncodeCheckpoint(checkpoint), "v1");
  checkpoint.shards[0] = {SequenceNumber(120), false};
  checkpoint.shards[1] = {SequenceNumber(97), true};
  checkpoint.shards[12] = {SequenceNumber(18446744073709551615ull), false};
  std::string text = EncodeCheckpoint(checkpoint);
  EXPECT_EQ(text, "v1 0:120 1:97:finished 12:18446744073709551615");
  auto decoded = DecodeCheckpoint(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, checkpoint);
  EXPECT_EQ(*DecodeCheckpoint("v1"), Checkpoint{});
  // After a reset the generation leads: "v2 g<N>".
  checkpoint.generation = 3;
  text = EncodeCheckpoint(checkpoint);
  EXPECT_EQ(text, "v2 g3 0:120 1:97:finished 12:18446744073709551615");
  decoded = DecodeCheckpoint(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, checkpoint);
  for (const char* garbage :
       {"", "v2 0:1", "v2 g", "v2 gx 0:1", "v2g3", "v3 0:1", "v1 0:", "v1 :5", "v1 0:5:done",
        "v1  0:5", "v1 0:5 ", "v1 1:5 0:6", "v1 0:5 0:6", "v1 0:-5", "v1 4294967296:1",
        "v1 0:18446744073709551616", "x1 0:1"}) {
    EXPECT_EQ(DecodeCheckpoint(garbage).status().code(), ErrorCode::kCorruption) << garbage;
  }
}

TEST(CheckpointStoreTest, HoldsAreTheLowestPositionOverConsumersThatHold) {
  io::FaultInjectionFileSystem fs;
  auto store = OpenStore(&fs);
  auto save = [&](const std::string& name, const std::string& stream, Checkpoint checkpoint,
                  bool holds = true, SinkState state = SinkState::kActive) {
    ConsumerState consumer;
    consumer.name = name;
    consumer.stream = stream;
    consumer.state = state;
    consumer.checkpoint = std::move(checkpoint);
    consumer.holds_retention = holds;
    ASSERT_TRUE(store->Save(consumer).ok());
  };
  auto at = [](std::map<uint32_t, ShardCheckpoint> shards) {
    return Checkpoint{std::move(shards)};
  };
  save("a", "orders", at({{0, {SequenceNumber(50), false}}, {1, {SequenceNumber(70), false}}}));
  save("b", "orders",
       at({{0, {SequenceNumber(30), false}},
           {1, {SequenceNumber(90), true}},
           {2, {SequenceNumber(95), false}}}));
  // Not holding: failed for exceeding max_backlog, being deleted, or another stream.
  save("c", "orders", at({{0, {SequenceNumber(1), false}}}), /*holds=*/false, SinkState::kFailed);
  save("d", "orders", at({{0, {SequenceNumber(2), false}}}), true, SinkState::kDeleting);
  save("e", "payments", at({{0, {SequenceNumber(3), false}}}));

  auto holds = store->Holds("orders");
  ASSERT_TRUE(holds.ok()) << holds.status().ToString();
  std::map<uint32_t, SequenceNumber> expected = {
      {0, SequenceNumber(30)}, {1, SequenceNumber(70)}, {2, SequenceNumber(95)}};
  EXPECT_EQ(holds->keep_from, expected);
  EXPECT_EQ(store->Holds("payments")->keep_from,
            (std::map<uint32_t, SequenceNumber>{{0, SequenceNumber(3)}}));
  EXPECT_TRUE(store->Holds("nobody-reads-this")->keep_from.empty());
}

// Retention keeps what a registered consumer has not delivered, and drops it once the
// consumer moved on.
TEST(CheckpointStoreTest, RetentionHoldsWhatConsumersStillNeed) {
  FaultStore env;
  env.options.segment_bytes = 1024;
  env.Open();
  log::StreamOptions options;
  options.retention_nanos = 3600LL * 1'000'000'000;
  auto stream = *env.store->CreateStream("orders", options);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(
        stream->Append(MakeRecord("k", "old" + std::to_string(i) + std::string(90, 'o'))).ok());
  }
  auto store = OpenStore(&env.fs);

  // The consumer delivered 10 records, then stopped.
  StreamReaderOptions reader_options;
  reader_options.max_records = 10;
  auto reader = *StreamReader::Open(stream, reader_options);
  std::vector<ReadRecord> batch;
  ASSERT_TRUE(reader->Next(&batch).ok());
  ASSERT_EQ(batch.size(), 10u);
  ConsumerState consumer;
  consumer.name = "slow";
  consumer.stream = "orders";
  consumer.state = SinkState::kActive;
  consumer.checkpoint = reader->checkpoint();
  ASSERT_TRUE(store->Save(consumer).ok());
  reader.reset();

  env.clock.Advance(2 * options.retention_nanos);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(stream->Append(MakeRecord("k", "fresh")).ok());
  auto holds = store->Holds("orders");
  ASSERT_TRUE(holds.ok());
  auto dropped = stream->EnforceRetention(*holds);
  ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
  // Only segments wholly before the consumer's position may go.
  EXPECT_GT(*dropped, 0u);
  EXPECT_LE(stream->DescribeShard(0)->trim_horizon.value(), 11u);

  // The consumer resumes where it stopped and gets every record it has not delivered.
  auto resumed = StreamReader::Open(stream, StreamReaderOptions{}, store->Load("slow")->checkpoint);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  std::vector<ReadRecord> rest;
  ASSERT_TRUE((*resumed)->Next(&rest).ok());
  ASSERT_EQ(rest.size(), 35u);
  EXPECT_EQ(rest.front().record.payload.substr(0, 5), "old10");
  EXPECT_EQ(rest.back().record.payload, "fresh");

  // Once it checkpointed past them, the expired segments go.
  consumer.checkpoint = (*resumed)->checkpoint();
  ASSERT_TRUE(store->Save(consumer).ok());
  dropped = stream->EnforceRetention(*store->Holds("orders"));
  ASSERT_TRUE(dropped.ok());
  EXPECT_GT(*dropped, 0u);
  EXPECT_GT(stream->DescribeShard(0)->trim_horizon.value(), 11u);
  // As much as retention drops for nobody: the consumer holds nothing any more.
  EXPECT_EQ(*stream->EnforceRetention(), 0u);
  // A consumer still at the old position would now be told it fell behind.
  ConsumerState stale = consumer;
  stale.checkpoint.shards[0].next = SequenceNumber(11);
  EXPECT_EQ(StreamReader::Open(stream, StreamReaderOptions{}, stale.checkpoint).status().code(),
            ErrorCode::kTrimmed);
}

}  // namespace
}  // namespace eddy::consume
