// StreamImpl: loading and recovering a stream from disk (the last valid commit record defines
// what exists), and the read-only refresh that follows a writer in another process.
#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include "log/segment_scan.h"
#include "log/stream_state.h"

namespace eddy::log::internal {

Status StreamImpl::LoadSealed(Segment& segment, bool repair) {
  io::FileSystem* fs = context_->fs;
  const std::string index_path = SegmentIndexPath(segment.path);
  auto bytes = fs->ReadFile(index_path);
  if (bytes.ok()) {
    auto summary = DecodeIndex(*bytes);
    auto size = fs->FileSize(segment.path);
    if (summary.ok() && size.ok() && summary->bytes == *size) {
      segment.summary = std::move(*summary);
      segment.sealed = true;
      return Status::Ok();
    }
  }
  // Missing or stale index: rebuild it by scanning (bounded by one segment).
  EDDY_ASSIGN_OR_RETURN(auto file, fs->Open(segment.path, io::OpenMode::kReadOnly));
  EDDY_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  SegmentSummary summary;
  summary.bytes = kSegmentHeaderBytes;
  uint32_t interval = context_->options.index_interval_bytes;
  EDDY_ASSIGN_OR_RETURN(ScanOutcome outcome,
                        ScanFrames(*file, kSegmentHeaderBytes, size, true,
                                   [&](Record& record, uint64_t offset, size_t frame_size) {
                                     AddToSummary(summary, record, offset, frame_size, interval);
                                     return true;
                                   }));
  if (outcome.status != FrameStatus::kOk) {
    segment.corrupt_offset = outcome.stop_offset;
    segment.corrupt_reason = outcome.error;
    Logger()->error(
        "segment corrupt file={} offset={} reason=\"{}\" (records before it stay "
        "readable)",
        segment.path, outcome.stop_offset, outcome.error);
    summary.bytes = size;
  }
  segment.summary = std::move(summary);
  segment.sealed = true;
  if (repair && outcome.status == FrameStatus::kOk) {
    Logger()->info("rebuilt segment index file={} records={}", segment.path,
                   segment.summary.record_count);
    WriteIndexFile(*fs, segment.path, segment.summary);
  }
  return Status::Ok();
}

StreamImpl::~StreamImpl() { WriteActiveIndexes(); }

void StreamImpl::WriteActiveIndexes() {
  // Only a writer that knows its committed state: a poisoned stream may hold frames whose
  // commit failed, a deleted one has no files left, a read-only one is not the writer.
  if (read_only()) return;
  std::lock_guard lock(mu_);  // the last owner is closing: nobody else holds it
  if (deleted_ || !poisoned_.ok()) return;
  for (const auto& [index, shard] : shards_) {
    if (shard->segments.empty()) continue;
    const Segment& active = *shard->segments.back();
    if (active.sealed || active.corrupt_offset || active.summary.record_count == 0 ||
        active.indexed_bytes == active.summary.bytes) {  // none, or written already
      continue;
    }
    // Like a sealed segment's index, a cache: no fsync, a failure ignored (the next open scans).
    WriteIndexFile(*context_->fs, active.path, active.summary);
  }
}

std::optional<SegmentSummary> StreamImpl::ReadActiveIndex(const Segment& segment,
                                                          const io::File& file,
                                                          uint64_t committed_end) const {
  auto bytes = context_->fs->ReadFile(SegmentIndexPath(segment.path));
  if (!bytes.ok()) return std::nullopt;
  auto summary = DecodeIndex(*bytes);
  if (!summary.ok()) return std::nullopt;
  // A prefix of the committed part, starting at the header with a record at or above the base.
  // Committed bytes never change, so an index written by an earlier commit or close still holds.
  if (summary->record_count == 0 || summary->entries.empty() || summary->bytes > committed_end ||
      summary->entries.front().offset != kSegmentHeaderBytes ||
      summary->first_sequence < segment.base ||
      summary->entries.front().sequence != summary->first_sequence ||
      summary->entries.back().offset >= summary->bytes) {
    return std::nullopt;
  }
  // Its last stretch (at most one index interval and a frame) must be whole frames of this
  // file, from the last entry's record to the index's last record, ending exactly at its end.
  const IndexEntry last_entry = summary->entries.back();
  std::optional<SequenceNumber> first_seen;
  SequenceNumber last_seen;
  auto scanned = ScanFrames(file, last_entry.offset, summary->bytes, true,
                            [&](Record& record, uint64_t, size_t) {
                              if (!first_seen) first_seen = record.sequence;
                              last_seen = record.sequence;
                              return true;
                            });
  if (!scanned.ok() || scanned->status != FrameStatus::kOk ||
      scanned->stop_offset != summary->bytes || first_seen != last_entry.sequence ||
      last_seen != summary->last_sequence) {
    return std::nullopt;
  }
  return std::move(*summary);
}

Status StreamImpl::LoadShard(Shard& shard, const ShardCommit* commit, bool repair) {
  io::FileSystem* fs = context_->fs;
  EDDY_ASSIGN_OR_RETURN(auto names, fs->List(shard.dir));
  std::vector<SequenceNumber> bases;
  for (const auto& name : names) {
    auto base = ParseSegmentFileName(name);
    if (base.ok()) bases.push_back(SequenceNumber(*base));
  }
  std::sort(bases.begin(), bases.end());
  if (bases.empty()) {
    if (shard.meta.expired) {
      shard.segments.clear();
      return Status::Ok();
    }
    return Corruption("shard directory " + shard.dir + " has no segment file");
  }
  SequenceNumber active_base = commit ? commit->segment_base : bases.front();
  uint64_t committed_end = commit ? commit->end_offset : kSegmentHeaderBytes;
  if (!std::binary_search(bases.begin(), bases.end(), active_base)) {
    return Corruption("shard " + shard.dir + ": committed active segment " +
                      SegmentFileName(active_base) + " is missing");
  }
  std::map<SequenceNumber, std::shared_ptr<Segment>> existing;
  for (auto& segment : shard.segments) existing[segment->base] = segment;
  std::vector<std::shared_ptr<Segment>> segments;
  for (SequenceNumber base : bases) {
    std::string path = io::JoinPath(shard.dir, SegmentFileName(base));
    if (base > active_base) {
      // Created by a roll whose commit never became durable: holds nothing acknowledged.
      if (repair) {
        EDDY_ASSIGN_OR_RETURN(uint64_t size, fs->FileSize(path));
        Logger()->warn("recovery dropped uncommitted segment file={} bytes={}", path, size);
        // Its index too (a segment of the same base made later must not find it).
        fs->Remove(SegmentIndexPath(path)).IgnoreError();
        EDDY_RETURN_IF_ERROR(fs->Remove(path));
        EDDY_RETURN_IF_ERROR(fs->SyncDirectory(shard.dir));
      }
      continue;
    }
    auto found = existing.find(base);
    if (found != existing.end() && (found->second->sealed || base == active_base)) {
      segments.push_back(found->second);
      continue;
    }
    auto segment = std::make_shared<Segment>();
    segment->base = base;
    segment->path = path;
    if (base < active_base) {
      EDDY_RETURN_IF_ERROR(LoadSealed(*segment, repair));
    } else if (found != existing.end()) {
      segment = found->second;
    }
    segments.push_back(segment);
  }
  // The active segment: index [header, committed end); in repair mode truncate beyond it.
  std::shared_ptr<Segment> active = segments.back();
  if (active->base != active_base) return Internal("active segment bookkeeping");
  if (active->summary.bytes == 0) active->summary.bytes = kSegmentHeaderBytes;
  EDDY_ASSIGN_OR_RETURN(auto file, fs->Open(active->path, io::OpenMode::kReadOnly));
  EDDY_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  if (size < kSegmentHeaderBytes) {
    return Corruption("segment " + active->path + " is shorter than its header");
  }
  if (size < committed_end) {
    Logger()->error(
        "segment shorter than its committed end file={} size={} committed_end={} "
        "(committed records lost by the file system)",
        active->path, size, committed_end);
    committed_end = size;
  }
  // A describe-only store never reads records: the committed end is all it needs.
  const bool describe_only = read_only() && context_->options.describe_only;
  // Loaded afresh: the index its commits or a clean close left covers a committed prefix, and
  // only the rest is scanned.
  bool from_index = false;
  if (active->summary.record_count == 0 && active->summary.bytes == kSegmentHeaderBytes &&
      committed_end > kSegmentHeaderBytes && !active->corrupt_offset && !describe_only) {
    if (auto indexed = ReadActiveIndex(*active, *file, committed_end)) {
      active->summary = std::move(*indexed);
      active->indexed_bytes = active->summary.bytes;
      from_index = true;
    }
  }
  if (active->summary.bytes < committed_end && !active->corrupt_offset && !describe_only) {
    uint32_t interval = context_->options.index_interval_bytes;
    auto scan = [&] {
      return ScanFrames(*file, active->summary.bytes, committed_end, true,
                        [&](Record& record, uint64_t offset, size_t frame_size) {
                          AddToSummary(active->summary, record, offset, frame_size, interval);
                          return true;
                        });
    };
    EDDY_ASSIGN_OR_RETURN(ScanOutcome outcome, scan());
    if (outcome.status != FrameStatus::kOk && from_index) {
      // The rest did not follow the index's end as frames: the index is not this file's.
      // Scan the segment whole, as without one.
      Logger()->warn("ignoring an active segment index that does not match file={}", active->path);
      active->summary = SegmentSummary();
      active->summary.bytes = kSegmentHeaderBytes;
      EDDY_ASSIGN_OR_RETURN(outcome, scan());
    }
    if (outcome.status != FrameStatus::kOk) {
      active->corrupt_offset = outcome.stop_offset;
      active->corrupt_reason = outcome.error;
      Logger()->error(
          "segment corrupt file={} offset={} reason=\"{}\" (records before it stay "
          "readable)",
          active->path, outcome.stop_offset, outcome.error);
    }
  }
  active->summary.bytes = committed_end;
  if (repair && size > committed_end) {
    // Count what is dropped for the log line (frames beyond the commit, torn or whole).
    uint64_t records = 0;
    auto counted = ScanFrames(*file, committed_end, size, false, [&](Record&, uint64_t, size_t) {
      ++records;
      return true;
    });
    bool torn = counted.ok() && counted->status != FrameStatus::kOk;
    Logger()->warn("recovery truncated uncommitted tail file={} offset={} bytes={} records={}{}",
                   active->path, committed_end, size - committed_end, records,
                   torn ? " plus a torn record" : "");
    EDDY_RETURN_IF_ERROR(fs->Truncate(active->path, committed_end));
  }
  active->sealed = false;
  // Sealed segments hold only committed data; remove orphan index files silently.
  if (repair) {
    for (const auto& name : names) {
      if (name.size() == 24 && name.substr(20) == ".idx") {
        auto base = ParseSegmentFileName(name.substr(0, 20) + ".seg");
        if (base.ok() && !std::binary_search(bases.begin(), bases.end(), SequenceNumber(*base))) {
          fs->Remove(io::JoinPath(shard.dir, name)).IgnoreError();
        }
      }
    }
  }
  shard.segments = std::move(segments);
  if (commit) {
    shard.last_sequence = commit->last_sequence;
    shard.last_arrival = commit->last_arrival;
  }
  if (repair && shard.meta.open) {
    EDDY_ASSIGN_OR_RETURN(shard.writer, fs->Open(active->path, io::OpenMode::kReadWrite));
  }
  return Status::Ok();
}

Status StreamImpl::LoadShards(const std::vector<ShardLoad>& loads, bool repair) {
  // Loading a shard scans its active segment's frames (CRC and decode of up to a segment's
  // bytes), so a stream of several shards loads them on several threads, at most one per core;
  // each load touches only its own shard and the file system (which any thread may call). The
  // first error in shard order is returned, as the sequential loop did.
  const size_t threads =
      std::min<size_t>(loads.size(), std::max<unsigned>(1, std::thread::hardware_concurrency()));
  if (threads <= 1) {
    for (const ShardLoad& load : loads) {
      EDDY_RETURN_IF_ERROR(LoadShard(*load.shard, load.commit, repair));
    }
    return Status::Ok();
  }
  std::vector<Status> results(loads.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < loads.size(); i = next++) {
      results[i] = LoadShard(*loads[i].shard, loads[i].commit, repair);
    }
  };
  std::vector<std::thread> helpers;
  for (size_t i = 1; i < threads; ++i) helpers.emplace_back(work);
  work();
  for (std::thread& helper : helpers) helper.join();
  for (Status& result : results) EDDY_RETURN_IF_ERROR(std::move(result));
  return Status::Ok();
}

Status StreamImpl::ReloadLayoutLocked(const CommitRecord* record) {
  bool repair = !read_only();
  EDDY_ASSIGN_OR_RETURN(std::string meta_bytes,
                        context_->fs->ReadFile(io::JoinPath(dir_, kMetaFile)));
  EDDY_ASSIGN_OR_RETURN(StreamMeta meta, DecodeStreamMeta(meta_bytes));
  std::map<ShardIndex, const ShardCommit*> commits;
  if (record) {
    for (const auto& shard : record->shards) commits[shard.shard_index] = &shard;
  }
  std::map<ShardIndex, std::unique_ptr<Shard>> shards;
  std::vector<ShardLoad> loads;
  for (const auto& shard_meta : meta.shards) {
    auto it = shards_.find(shard_meta.index);
    std::unique_ptr<Shard> shard;
    if (it != shards_.end()) {
      shard = std::move(it->second);
    } else {
      shard = std::make_unique<Shard>();
    }
    shard->meta = shard_meta;
    shard->dir = ShardDir(shard_meta.index);
    auto commit = commits.find(shard_meta.index);
    if (shard_meta.expired) {
      shard->segments.clear();
      if (repair) {
        // Files left by a crash between the retention commit and their removal.
        auto exists = context_->fs->Exists(shard->dir);
        if (exists.ok() && *exists) {
          auto names = context_->fs->List(shard->dir);
          if (names.ok() && !names->empty()) {
            Logger()->info("removing files of expired shard dir={}", shard->dir);
            for (const auto& name : *names) {
              context_->fs->Remove(io::JoinPath(shard->dir, name)).IgnoreError();
            }
          }
        }
      }
    } else {
      loads.push_back({shard.get(), commit == commits.end() ? nullptr : commit->second});
    }
    shards[shard_meta.index] = std::move(shard);
  }
  EDDY_RETURN_IF_ERROR(LoadShards(loads, repair));
  if (repair) {
    // Shard directories not in the metadata come from a reshard that never committed.
    EDDY_ASSIGN_OR_RETURN(auto names, context_->fs->List(dir_));
    for (const auto& name : names) {
      auto index = ParseShardId(name);
      if (index.ok() && !shards.count(ShardIndex(*index))) {
        Logger()->warn("recovery removed shard directory of an unfinished reshard dir={}",
                       io::JoinPath(dir_, name));
        EDDY_RETURN_IF_ERROR(context_->fs->RemoveTree(io::JoinPath(dir_, name)));
      }
    }
  }
  shards_ = std::move(shards);
  meta_ = std::move(meta);
  name_ = meta_.name;
  return Status::Ok();
}

Status StreamImpl::ApplyCommitLocked(const CommitRecord& record) {
  bool layout_changed = record.meta_version != meta_.meta_version;
  if (!layout_changed) {
    for (const auto& shard_commit : record.shards) {
      auto it = shards_.find(shard_commit.shard_index);
      if (it == shards_.end() || it->second->segments.empty() ||
          it->second->segments.back()->base != shard_commit.segment_base) {
        layout_changed = true;
        break;
      }
    }
  }
  if (layout_changed) {
    EDDY_RETURN_IF_ERROR(ReloadLayoutLocked(&record));
  } else {
    for (const auto& shard_commit : record.shards) {
      Shard& shard = *shards_[shard_commit.shard_index];
      EDDY_RETURN_IF_ERROR(LoadShard(shard, &shard_commit, false));
    }
  }
  last_sequence_ = record.last_sequence;
  commit_number_ = record.commit_number;
  highest_ = record.position;
  cv_.notify_all();
  return Status::Ok();
}

Status StreamImpl::Load() {
  io::FileSystem* fs = context_->fs;
  EDDY_ASSIGN_OR_RETURN(auto names, fs->List(dir_));
  std::vector<uint64_t> generations;
  for (const auto& name : names) {
    auto generation = ParseJournalFileName(name);
    if (generation.ok()) generations.push_back(*generation);
  }
  std::sort(generations.begin(), generations.end());
  std::optional<CommitRecord> last;
  uint64_t generation = 0;
  JournalScan chosen;
  // The newest journal with a valid record wins; a newer one without (a roll that crashed
  // before its first record was durable) is discarded.
  for (size_t i = generations.size(); i-- > 0;) {
    std::string path = io::JoinPath(dir_, JournalFileName(generations[i]));
    EDDY_ASSIGN_OR_RETURN(std::string bytes, fs->ReadFile(path));
    auto scan = ScanJournal(bytes);
    if (scan.ok() && scan->last) {
      if (scan->corrupt_offset) {
        Logger()->error(
            "commit journal corrupt file={} offset={} reason=\"{}\" (later records "
            "are intact and used)",
            path, *scan->corrupt_offset, scan->corrupt_reason);
      }
      if (scan->invalid_bytes > 0 && !read_only()) {
        Logger()->warn("recovery truncated torn commit journal tail file={} offset={} bytes={}",
                       path, scan->valid_end, scan->invalid_bytes);
        EDDY_RETURN_IF_ERROR(fs->Truncate(path, scan->valid_end));
      }
      last = scan->last;
      generation = generations[i];
      chosen = std::move(*scan);
      break;
    }
    if (!read_only()) {
      Logger()->warn("recovery removed commit journal without a valid record file={}", path);
      EDDY_RETURN_IF_ERROR(fs->Remove(path));
      EDDY_RETURN_IF_ERROR(fs->SyncDirectory(dir_));
    }
  }
  if (!last) return Corruption("stream " + dir_ + " has no valid commit record");
  std::lock_guard lock(mu_);
  EDDY_RETURN_IF_ERROR(ReloadLayoutLocked(&*last));
  last_sequence_ = last->last_sequence;
  commit_number_ = last->commit_number;
  highest_ = last->position;
  read_generation_ = generation;
  read_offset_ = chosen.valid_end;
  if (!read_only()) {
    // Older journals are superseded by the newest valid record.
    for (uint64_t old : generations) {
      if (old < generation) {
        fs->Remove(io::JoinPath(dir_, JournalFileName(old))).IgnoreError();
      }
    }
    journal_generation_ = generation;
    EDDY_ASSIGN_OR_RETURN(journal_, fs->Open(io::JoinPath(dir_, JournalFileName(generation)),
                                             io::OpenMode::kReadWrite));
    EDDY_ASSIGN_OR_RETURN(journal_size_, journal_->Size());
  }
  return Status::Ok();
}

Status StreamImpl::Refresh() {
  if (!read_only()) return Status::Ok();
  io::FileSystem* fs = context_->fs;
  std::lock_guard lock(mu_);
  if (deleted_) return NotFound("stream " + name_ + " was deleted");
  std::string path = io::JoinPath(dir_, JournalFileName(read_generation_));
  auto size = fs->FileSize(path);
  if (!size.ok() || *size == read_offset_) {
    // Nothing new here; the writer may have started a newer journal.
    auto names = fs->List(dir_);
    if (!names.ok()) {
      deleted_ = true;
      return NotFound("stream " + name_ + " was deleted");
    }
    uint64_t newest = read_generation_;
    for (const auto& name : *names) {
      auto generation = ParseJournalFileName(name);
      if (generation.ok()) newest = std::max(newest, *generation);
    }
    if (newest == read_generation_) return Status::Ok();
    read_generation_ = newest;
    read_offset_ = 0;
    path = io::JoinPath(dir_, JournalFileName(newest));
    size = fs->FileSize(path);
    if (!size.ok()) return Status::Ok();
  }
  auto file = fs->Open(path, io::OpenMode::kReadOnly);
  if (!file.ok()) return Status::Ok();
  std::string bytes;
  uint64_t start = read_offset_;
  if (start == 0) {
    bytes.resize(*size);
    EDDY_ASSIGN_OR_RETURN(size_t got, (*file)->ReadAt(0, *size, bytes.data()));
    bytes.resize(got);
  } else {
    // Scan only the new bytes, behind a synthetic header.
    bytes.assign(kJournalMagic, sizeof kJournalMagic);
    bytes.resize(sizeof kJournalMagic + (*size - start));
    EDDY_ASSIGN_OR_RETURN(
        size_t got, (*file)->ReadAt(start, *size - start, bytes.data() + sizeof kJournalMagic));
    bytes.resize(sizeof kJournalMagic + got);
  }
  auto scan = ScanJournal(bytes);
  if (!scan.ok()) return Status::Ok();  // header not yet written by a rolling writer
  uint64_t base = start == 0 ? 0 : start - sizeof kJournalMagic;
  read_offset_ = base + scan->valid_end;
  if (scan->last && scan->last->commit_number > commit_number_) {
    EDDY_RETURN_IF_ERROR(ApplyCommitLocked(*scan->last));
  }
  return Status::Ok();
}

}  // namespace eddy::log::internal
