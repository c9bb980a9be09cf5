#include "log/tools.h"

#include <algorithm>
#include <ctime>
#include <map>

#include "log/log_store.h"
#include "log/segment_format.h"
#include "log/segment_scan.h"
#include "log/stream_format.h"

namespace eddy::log {
namespace {

std::string FormatTime(int64_t nanos) {
  if (nanos == 0) return "-";
  time_t seconds = static_cast<time_t>(nanos / 1'000'000'000);
  struct tm parts;
  gmtime_r(&seconds, &parts);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                static_cast<int>((nanos / 1'000'000) % 1000));
  return text;
}

std::string Escape(std::string_view bytes, size_t limit) {
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < limit; ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  if (bytes.size() > limit) out += "...";
  return out;
}

const char* KindName(RecordKind kind) {
  switch (kind) {
    case RecordKind::kData:
      return "data";
    case RecordKind::kChunkedHead:
      return "chunked";
    case RecordKind::kFragment:
      return "fragment";
  }
  return "?";
}

struct Verifier {
  io::FileSystem* fs;
  std::ostream& out;
  size_t problems = 0;

  void Problem(const std::string& what) {
    ++problems;
    out << "CORRUPT " << what << "\n";
  }

  void VerifyStream(const std::string& dir, const std::string& name) {
    auto meta_bytes = fs->ReadFile(io::JoinPath(dir, "stream.meta"));
    if (!meta_bytes.ok()) return Problem(dir + "/stream.meta: " + meta_bytes.status().message());
    auto meta = DecodeStreamMeta(*meta_bytes);
    if (!meta.ok()) return Problem(dir + "/stream.meta: " + meta.status().message());
    auto names = fs->List(dir);
    if (!names.ok()) return Problem(dir + ": " + names.status().message());
    std::optional<CommitRecord> commit;
    for (auto it = names->rbegin(); it != names->rend() && !commit; ++it) {
      if (!ParseJournalFileName(*it).ok()) continue;
      std::string path = io::JoinPath(dir, *it);
      auto bytes = fs->ReadFile(path);
      if (!bytes.ok()) {
        Problem(path + ": " + bytes.status().message());
        continue;
      }
      auto scan = ScanJournal(*bytes);
      if (!scan.ok()) {
        Problem(path + ": " + scan.status().message());
        continue;
      }
      out << "journal " << path << ": " << scan->records << " commit records";
      if (scan->invalid_bytes > 0) {
        out << ", " << scan->invalid_bytes << " bytes of torn tail at offset " << scan->valid_end
            << " (recovery truncates them)";
      }
      out << "\n";
      if (scan->corrupt_offset) {
        Problem(path + " offset " + std::to_string(*scan->corrupt_offset) + ": " +
                scan->corrupt_reason);
      }
      commit = scan->last;
    }
    if (!commit) return Problem(dir + ": no valid commit record");
    out << "stream " << name << ": " << meta->shards.size() << " shards, last sequence "
        << commit->last_sequence.value() << ", commit " << commit->commit_number << ", position "
        << commit->position.ToString() << "\n";
    std::map<ShardIndex, ShardCommit> commits;
    for (const auto& shard : commit->shards) commits[shard.shard_index] = shard;
    for (const auto& shard : meta->shards) {
      if (shard.expired) {
        out << "  shard " << FormatShardId(shard.index) << ": expired\n";
        continue;
      }
      VerifyShard(io::JoinPath(dir, FormatShardId(shard.index)), shard,
                  commits.count(shard.index) ? &commits[shard.index] : nullptr);
    }
  }

  void VerifyShard(const std::string& dir, const ShardMeta& meta, const ShardCommit* commit) {
    auto names = fs->List(dir);
    if (!names.ok()) return Problem(dir + ": " + names.status().message());
    std::vector<uint64_t> bases;
    for (const auto& name : *names) {
      auto base = ParseSegmentFileName(name);
      if (base.ok()) bases.push_back(*base);
    }
    std::sort(bases.begin(), bases.end());
    if (bases.empty()) return Problem(dir + ": no segment files");
    uint64_t active = commit ? commit->segment_base.value() : bases.front();
    uint64_t records = 0;
    uint64_t previous = 0;
    for (uint64_t base : bases) {
      std::string path = io::JoinPath(dir, SegmentFileName(base));
      if (base > active) {
        out << "    segment " << path << ": not committed (recovery removes it)\n";
        continue;
      }
      auto file = fs->Open(path, io::OpenMode::kReadOnly);
      if (!file.ok()) {
        Problem(path + ": " + file.status().message());
        continue;
      }
      uint64_t size = (*file)->Size().value_or(0);
      std::string header(kSegmentHeaderBytes, '\0');
      auto got = (*file)->ReadAt(0, header.size(), header.data());
      auto shard_index = DecodeSegmentHeader(header.substr(0, got.value_or(0)));
      if (!shard_index.ok()) {
        Problem(path + " offset 0: " + shard_index.status().message());
        continue;
      }
      if (ShardIndex(*shard_index) != meta.index) {
        Problem(path + " offset 12: header names shard " + std::to_string(*shard_index));
      }
      uint64_t end = base == active && commit ? std::min(commit->end_offset, size) : size;
      if (base == active && commit && commit->end_offset > size) {
        Problem(path + ": shorter (" + std::to_string(size) + " bytes) than its committed end " +
                std::to_string(commit->end_offset));
      }
      uint64_t segment_records = 0;
      bool order_ok = true;
      auto scan = ScanFrames(
          **file, kSegmentHeaderBytes, end, true, [&](Record& record, uint64_t offset, size_t) {
            uint64_t sequence = record.sequence.value();
            if (sequence <= previous || sequence < base) {
              Problem(path + " offset " + std::to_string(offset) + ": sequence " +
                      std::to_string(sequence) + " out of order");
              order_ok = false;
            }
            previous = sequence;
            ++segment_records;
            return true;
          });
      if (!scan.ok()) {
        Problem(path + ": " + scan.status().message());
        continue;
      }
      if (scan->status != FrameStatus::kOk) {
        Problem(path + " offset " + std::to_string(scan->stop_offset) + ": " + scan->error);
      }
      records += segment_records;
      out << "    segment " << path << ": " << segment_records << " records, " << end << " bytes"
          << (base == active ? " (active)" : "") << (order_ok ? "" : " (ORDER)");
      if (size > end) out << ", " << (size - end) << " uncommitted bytes (recovery truncates)";
      out << "\n";
      if (base != active) {
        std::string index_path = SegmentIndexPath(path);
        auto bytes = fs->ReadFile(index_path);
        if (!bytes.ok()) {
          out << "    index " << index_path << ": missing (rebuilt on open)\n";
        } else {
          auto index = DecodeIndex(*bytes);
          if (!index.ok() || index->record_count != segment_records || index->bytes != size) {
            out << "    index " << index_path << ": stale or invalid (rebuilt on open)\n";
          }
        }
      }
    }
    out << "  shard " << FormatShardId(meta.index) << ": " << records << " records"
        << (meta.open ? "" : " (closed)") << "\n";
  }
};

}  // namespace

Status VerifyDataDirectory(const std::string& path, std::ostream& out,
                           io::FileSystem* file_system) {
  io::FileSystem* fs = file_system ? file_system : io::DefaultFileSystem();
  std::string streams = io::JoinPath(path, "streams");
  auto names = fs->List(streams);
  if (!names.ok()) {
    return NotFound("no eddy log in " + path + ": " + names.status().message());
  }
  Verifier verifier{fs, out};
  size_t count = 0;
  for (const auto& name : *names) {
    if (name.empty() || name[0] == '.') continue;
    verifier.VerifyStream(io::JoinPath(streams, name), name);
    ++count;
  }
  out << (verifier.problems == 0 ? "OK" : "FAILED") << ": " << count << " streams, "
      << verifier.problems << " problems\n";
  if (verifier.problems > 0) {
    return Corruption(std::to_string(verifier.problems) + " problems found in " + path +
                      " (see the CORRUPT lines)");
  }
  return Status::Ok();
}

Status DumpDataDirectory(const std::string& path, const DumpOptions& options, std::ostream& out,
                         io::FileSystem* file_system) {
  LogStoreOptions store_options;
  store_options.file_system = file_system;
  store_options.read_only = true;
  EDDY_ASSIGN_OR_RETURN(auto store, LogStore::Open(path, store_options));
  for (const auto& name : store->ListStreams()) {
    if (!options.stream.empty() && name != options.stream) continue;
    EDDY_ASSIGN_OR_RETURN(auto stream, store->GetStream(name));
    StreamInfo info = stream->Describe();
    out << "stream " << name << " ordering="
        << (info.options.ordering == OrderingMode::kOrdered ? "ORDERED" : "UNORDERED")
        << " retention_hours=" << info.options.retention_nanos / 3'600'000'000'000LL
        << " max_record_bytes=" << info.options.max_record_bytes
        << " created=" << FormatTime(info.creation_nanos)
        << " position=" << info.highest_position.ToString() << "\n";
    for (const auto& [key, value] : info.options.tags) {
      out << "  tag " << key << "=" << value << "\n";
    }
    for (const auto& shard : info.shards) {
      if (options.shard_index >= 0 && shard.index != static_cast<uint32_t>(options.shard_index)) {
        continue;
      }
      out << "  " << shard.id << (shard.open ? " open" : " closed") << " hash=["
          << shard.hash_range.start.ToString() << ", " << shard.hash_range.end.ToString() << "]";
      if (shard.parent_index) out << " parent=" << FormatShardId(*shard.parent_index);
      if (shard.adjacent_parent_index) {
        out << " adjacent_parent=" << FormatShardId(*shard.adjacent_parent_index);
      }
      out << " sequences=" << shard.starting_sequence.value() << ".."
          << (shard.ending_sequence ? std::to_string(shard.ending_sequence->value()) : "")
          << " trim_horizon=" << shard.trim_horizon.value()
          << " last=" << shard.last_sequence.value() << " bytes=" << shard.bytes << "\n";
      auto reader = stream->OpenReader(shard.index, StartPosition::TrimHorizon());
      if (!reader.ok()) {
        out << "    (unreadable: " << reader.status().ToString() << ")\n";
        continue;
      }
      uint64_t printed = 0;
      while (printed < options.max_records) {
        auto batch = (*reader)->Read(ReadLimits{1000, 8u << 20});
        if (!batch.ok()) {
          out << "    ERROR " << batch.status().ToString() << "\n";
          break;
        }
        if (batch->records.empty()) break;
        for (const auto& record : batch->records) {
          if (printed >= options.max_records) break;
          out << "    " << record.sequence.value() << " " << FormatTime(record.arrival_nanos) << " "
              << KindName(record.kind) << " key=" << Escape(record.partition_key, 64)
              << " position=" << record.position.ToString() << " bytes=" << record.payload.size();
          if (options.payloads) out << " payload=" << Escape(record.payload, 200);
          out << "\n";
          ++printed;
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace eddy::log
