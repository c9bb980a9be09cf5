// Fuzz target over segment bytes: the frame decoder, the index/journal/meta decoders, and a
// full store recovery + read + verify of a stream whose segment file holds the input.
// Nothing may crash, hang or trip a sanitizer; errors are expected.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "base/logging.h"
#include "io/fault_file_system.h"
#include "log/log_store.h"
#include "log/segment_format.h"
#include "log/segment_scan.h"
#include "log/stream_format.h"
#include "log/tools.h"

namespace {

using namespace eddy;
using namespace eddy::log;

void DecodeEverything(std::string_view bytes) {
  Record record;
  std::string_view rest = bytes;
  while (!rest.empty()) {
    FrameDecode frame = DecodeFrame(rest, &record);
    if (frame.status != FrameStatus::kOk) break;
    rest.remove_prefix(frame.size);
  }
  DecodeSegmentHeader(bytes).status().IgnoreError();
  DecodeIndex(bytes).status().IgnoreError();
  DecodeStreamMeta(bytes).status().IgnoreError();
  ScanJournal(bytes).status().IgnoreError();
}

void RecoverFrom(std::string_view bytes) {
  io::FaultInjectionFileSystem fs;
  ManualClock clock;
  LogStoreOptions options;
  options.file_system = &fs;
  options.clock = &clock;
  {
    auto store = LogStore::Open("/d", options);
    if (!store.ok()) return;
    auto stream = (*store)->CreateStream("s", StreamOptions{});
    if (!stream.ok()) return;
    for (int i = 0; i < 3; ++i) {
      AppendRecord record;
      record.partition_key = "k";
      record.payload = std::string(40, static_cast<char>('a' + i));
      (*stream)->Append(record).status().IgnoreError();
    }
  }
  std::string path = "/d/streams/s/shardId-000000000000/" + SegmentFileName(1);
  {
    auto file = fs.Open(path, io::OpenMode::kCreateOrTruncate);
    if (!file.ok()) return;
    (*file)->Append(bytes).IgnoreError();
    (*file)->Sync().IgnoreError();
  }
  std::ostringstream sink;
  VerifyDataDirectory("/d", sink, &fs).IgnoreError();
  auto store = LogStore::Open("/d", options);
  if (!store.ok()) return;
  auto stream = (*store)->GetStream("s");
  if (!stream.ok()) return;
  for (auto start : {StartPosition::TrimHorizon(), StartPosition::AtSequence(SequenceNumber(2)),
                     StartPosition::AtTimestamp(clock.NowNanos())}) {
    auto reader = (*stream)->OpenReader(0, start);
    if (!reader.ok()) continue;
    for (int i = 0; i < 10; ++i) {
      auto batch = (*reader)->Read(ReadLimits{});
      if (!batch.ok() || batch->records.empty()) break;
    }
  }
  AppendRecord record;
  record.partition_key = "k";
  record.payload = "after";
  (*stream)->Append(record).status().IgnoreError();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool configured = eddy::logging::Configure("off", eddy::logging::Format::kText);
  (void)configured;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  DecodeEverything(bytes);
  RecoverFrom(bytes);
  return 0;
}
