#include "consume/checkpoint_store.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <utility>

#include "base/bytes.h"
#include "base/crc32c.h"
#include "consume/checkpoint_format.h"

namespace eddy::consume {

// ---------------------------------------------------------------------------------------------
// Names of the stored enumerations

namespace {

constexpr std::pair<SinkState, std::string_view> kStateNames[] = {
    {SinkState::kCreating, "CREATING"}, {SinkState::kActive, "ACTIVE"},
    {SinkState::kImpaired, "IMPAIRED"}, {SinkState::kPaused, "PAUSED"},
    {SinkState::kFailed, "FAILED"},     {SinkState::kDeleting, "DELETING"},
};
constexpr std::pair<ControlRequest, std::string_view> kRequestNames[] = {
    {ControlRequest::kNone, "NONE"},
    {ControlRequest::kPause, "PAUSE"},
    {ControlRequest::kResume, "RESUME"},
    {ControlRequest::kReset, "RESET"},
};
constexpr std::pair<log::IteratorType, std::string_view> kStartNames[] = {
    {log::IteratorType::kTrimHorizon, "TRIM_HORIZON"},
    {log::IteratorType::kLatest, "LATEST"},
    {log::IteratorType::kAtSequenceNumber, "AT_SEQUENCE_NUMBER"},
    {log::IteratorType::kAfterSequenceNumber, "AFTER_SEQUENCE_NUMBER"},
    {log::IteratorType::kAtTimestamp, "AT_TIMESTAMP"},
};

template <typename Enum, size_t N>
std::string_view NameOf(const std::pair<Enum, std::string_view> (&names)[N], Enum value) {
  for (const auto& [candidate, name] : names) {
    if (candidate == value) return name;
  }
  return "UNKNOWN";
}

template <typename Enum, size_t N>
Result<Enum> ValueOf(const std::pair<Enum, std::string_view> (&names)[N], std::string_view name,
                     const char* what) {
  for (const auto& [value, candidate] : names) {
    if (candidate == name) return value;
  }
  return Corruption("unknown " + std::string(what) + " '" + std::string(name) + "'");
}

}  // namespace

std::string_view SinkStateName(SinkState state) { return NameOf(kStateNames, state); }
Result<SinkState> ParseSinkStateName(std::string_view name) {
  return ValueOf(kStateNames, name, "sink state");
}
std::string_view ControlRequestName(ControlRequest request) {
  return NameOf(kRequestNames, request);
}
Result<ControlRequest> ParseControlRequestName(std::string_view name) {
  return ValueOf(kRequestNames, name, "control request");
}

// ---------------------------------------------------------------------------------------------
// The file format

std::string EncodeConsumerState(const ConsumerState& state) {
  std::string out(kCheckpointMagic);
  PutFixed32(out, kCheckpointVersion);
  PutLengthPrefixed(out, state.name);
  PutLengthPrefixed(out, state.stream);
  PutLengthPrefixed(out, state.url);
  PutLengthPrefixed(out, SinkStateName(state.state));
  PutLengthPrefixed(out, state.reason);
  PutVarintSigned64(out, state.state_since_nanos);
  PutVarint64(out, state.checkpoint.shards.size());
  for (const auto& [index, shard] : state.checkpoint.shards) {
    PutVarint64(out, index);
    PutVarint64(out, shard.next.value());
    PutFixed8(out, shard.finished ? 1 : 0);
  }
  state.last_delivered_position.EncodeTo(out);
  PutVarintSigned64(out, state.last_delivered_arrival_nanos);
  PutVarint64(out, state.delivered_records);
  PutVarint64(out, state.delivered_bytes);
  PutVarint64(out, state.failed_records);
  PutLengthPrefixed(out, ControlRequestName(state.request));
  PutLengthPrefixed(out, NameOf(kStartNames, state.reset_to.type));
  PutVarint64(out, state.reset_to.sequence.value());
  PutVarintSigned64(out, state.reset_to.timestamp_nanos);
  PutFixed8(out, state.holds_retention ? 1 : 0);
  PutVarint64(out, state.checkpoint.generation);  // version 2
  PutFixed32(out, crc32c::Mask(crc32c::Value(out)));
  return out;
}

Result<ConsumerState> DecodeConsumerState(std::string_view bytes) {
  if (bytes.size() < kCheckpointMagic.size() + 8 ||
      bytes.substr(0, kCheckpointMagic.size()) != kCheckpointMagic) {
    return Corruption("not a consumer checkpoint (no EDDYCONS magic)");
  }
  std::string_view body = bytes.substr(0, bytes.size() - 4);
  uint32_t stored = DecodeFixed32(bytes.data() + body.size());
  uint32_t actual = crc32c::Value(body);
  if (crc32c::Unmask(stored) != actual) {
    return Corruption("CRC mismatch (stored " + std::to_string(crc32c::Unmask(stored)) +
                      ", computed " + std::to_string(actual) +
                      "): the file was damaged after it was written");
  }
  ByteReader reader(body.substr(kCheckpointMagic.size()));
  EDDY_ASSIGN_OR_RETURN(uint32_t version, reader.ReadFixed32());
  if (version != 1 && version != kCheckpointVersion) {
    return FailedPrecondition("consumer checkpoint version " + std::to_string(version) +
                              " is not supported (this eddy reads version " +
                              std::to_string(kCheckpointVersion) +
                              "): it was written by a newer eddy");
  }
  ConsumerState state;
  auto read_string = [&](std::string& out) -> Status {
    EDDY_ASSIGN_OR_RETURN(std::string_view text, reader.ReadLengthPrefixed());
    out = std::string(text);
    return Status::Ok();
  };
  EDDY_RETURN_IF_ERROR(read_string(state.name));
  EDDY_RETURN_IF_ERROR(read_string(state.stream));
  EDDY_RETURN_IF_ERROR(read_string(state.url));
  EDDY_ASSIGN_OR_RETURN(std::string_view state_name, reader.ReadLengthPrefixed());
  EDDY_ASSIGN_OR_RETURN(state.state, ParseSinkStateName(state_name));
  EDDY_RETURN_IF_ERROR(read_string(state.reason));
  EDDY_ASSIGN_OR_RETURN(state.state_since_nanos, reader.ReadVarintSigned64());
  EDDY_ASSIGN_OR_RETURN(uint64_t shard_count, reader.ReadVarint64());
  if (shard_count > reader.remaining() / 3) {  // each shard takes at least 3 bytes
    return Corruption("shard count " + std::to_string(shard_count) + " exceeds the file");
  }
  for (uint64_t i = 0; i < shard_count; ++i) {
    EDDY_ASSIGN_OR_RETURN(uint64_t index, reader.ReadVarint64());
    EDDY_ASSIGN_OR_RETURN(uint64_t next, reader.ReadVarint64());
    EDDY_ASSIGN_OR_RETURN(uint8_t flags, reader.ReadFixed8());
    if (index > UINT32_MAX || flags > 1) {
      return Corruption("shard entry " + std::to_string(i) + " is invalid");
    }
    auto [it, inserted] = state.checkpoint.shards.emplace(
        static_cast<uint32_t>(index), ShardCheckpoint{SequenceNumber(next), flags == 1});
    if (!inserted) return Corruption("shard " + std::to_string(index) + " appears twice");
  }
  std::string_view rest = reader.rest();
  size_t before = rest.size();
  EDDY_ASSIGN_OR_RETURN(state.last_delivered_position, SourcePosition::DecodeFrom(rest));
  EDDY_RETURN_IF_ERROR(reader.ReadBytes(before - rest.size()).status());
  EDDY_ASSIGN_OR_RETURN(state.last_delivered_arrival_nanos, reader.ReadVarintSigned64());
  EDDY_ASSIGN_OR_RETURN(state.delivered_records, reader.ReadVarint64());
  EDDY_ASSIGN_OR_RETURN(state.delivered_bytes, reader.ReadVarint64());
  EDDY_ASSIGN_OR_RETURN(state.failed_records, reader.ReadVarint64());
  EDDY_ASSIGN_OR_RETURN(std::string_view request, reader.ReadLengthPrefixed());
  EDDY_ASSIGN_OR_RETURN(state.request, ParseControlRequestName(request));
  EDDY_ASSIGN_OR_RETURN(std::string_view start_type, reader.ReadLengthPrefixed());
  EDDY_ASSIGN_OR_RETURN(state.reset_to.type, ValueOf(kStartNames, start_type, "start position"));
  EDDY_ASSIGN_OR_RETURN(uint64_t reset_sequence, reader.ReadVarint64());
  state.reset_to.sequence = SequenceNumber(reset_sequence);
  EDDY_ASSIGN_OR_RETURN(state.reset_to.timestamp_nanos, reader.ReadVarintSigned64());
  EDDY_ASSIGN_OR_RETURN(uint8_t holds, reader.ReadFixed8());
  if (holds > 1)
    return Corruption("holds-retention flag " + std::to_string(holds) + " is not 0 or 1");
  state.holds_retention = holds == 1;
  if (version >= 2) {
    EDDY_ASSIGN_OR_RETURN(state.checkpoint.generation, reader.ReadVarint64());
  }
  if (!reader.empty()) {
    return Corruption(std::to_string(reader.remaining()) + " unexpected bytes before the CRC");
  }
  return state;
}

// ---------------------------------------------------------------------------------------------
// The text form of a checkpoint: "v1" then " <shard>:<next>" per shard in ascending order,
// with ":finished" appended for finished shards, e.g. "v1 0:120 1:97:finished 2:131". A
// checkpoint of generation N > 0 (after a reset) is "v2 g<N>" followed by the same entries.

std::string EncodeCheckpoint(const Checkpoint& checkpoint) {
  std::string text = "v1";
  if (checkpoint.generation > 0) text = "v2 g" + std::to_string(checkpoint.generation);
  for (const auto& [index, shard] : checkpoint.shards) {
    text += ' ';
    text += std::to_string(index);
    text += ':';
    text += std::to_string(shard.next.value());
    if (shard.finished) text += ":finished";
  }
  return text;
}

Result<Checkpoint> DecodeCheckpoint(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Corruption("'" + std::string(text.substr(0, 200)) +
                      "' is not an eddy checkpoint (expected \"v1 <shard>:<next>[:finished] "
                      "...\" or \"v2 g<generation> <shard>:<next>...\"): " +
                      why);
  };
  auto parse_number = [](std::string_view digits, uint64_t& out) {
    if (digits.empty() || digits.size() > 20) return false;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
    return error == std::errc() && end == digits.data() + digits.size();
  };
  bool v2 = text.substr(0, 2) == "v2";
  if (text.substr(0, 2) != "v1" && !v2) {
    return bad(text.size() >= 2 && text[0] == 'v' ? "unsupported version" : "no version");
  }
  Checkpoint checkpoint;
  std::string_view rest = text.substr(2);
  if (v2) {
    if (rest.substr(0, 2) != " g") return bad("version 2 begins with \" g<generation>\"");
    rest.remove_prefix(2);
    std::string_view digits = rest.substr(0, rest.find(' '));
    if (!parse_number(digits, checkpoint.generation)) {
      return bad("generation '" + std::string(digits) + "' is not a number");
    }
    rest.remove_prefix(digits.size());
  }
  std::optional<uint32_t> previous;
  while (!rest.empty()) {
    if (rest[0] != ' ') return bad("entries are separated by one space");
    rest.remove_prefix(1);
    std::string_view entry = rest.substr(0, rest.find(' '));
    rest.remove_prefix(entry.size());
    bool finished = false;
    constexpr std::string_view kFinished = ":finished";
    if (entry.size() > kFinished.size() &&
        entry.substr(entry.size() - kFinished.size()) == kFinished) {
      finished = true;
      entry.remove_suffix(kFinished.size());
    }
    size_t colon = entry.find(':');
    uint64_t index = 0;
    uint64_t next = 0;
    if (colon == std::string_view::npos || !parse_number(entry.substr(0, colon), index) ||
        !parse_number(entry.substr(colon + 1), next) || index > UINT32_MAX) {
      return bad("entry '" + std::string(entry) + "' is not <shard>:<next>");
    }
    if (previous && index <= *previous) return bad("shards are not in ascending order");
    previous = static_cast<uint32_t>(index);
    checkpoint.shards[static_cast<uint32_t>(index)] =
        ShardCheckpoint{SequenceNumber(next), finished};
  }
  return checkpoint;
}

// ---------------------------------------------------------------------------------------------
// The store

namespace {

Status ValidateConsumerName(const std::string& name) {
  bool valid = !name.empty() && name.size() <= 128 && name != "." && name != "..";
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) {
      valid = false;
    }
  }
  if (!valid) {
    return InvalidArgument("consumer name '" + name +
                           "' must be 1-128 characters of [A-Za-z0-9_.-]");
  }
  return Status::Ok();
}

class FileCheckpointStore final : public CheckpointStore {
 public:
  FileCheckpointStore(std::string directory, io::FileSystem* fs)
      : directory_(std::move(directory)), fs_(fs) {}

  Result<ConsumerState> Load(const std::string& name) override {
    EDDY_RETURN_IF_ERROR(ValidateConsumerName(name));
    std::string path = PathOf(name);
    EDDY_ASSIGN_OR_RETURN(bool exists, fs_->Exists(path));
    if (!exists) return NotFound("no consumer named '" + name + "' in " + directory_);
    return LoadFile(path);
  }

  Status Save(const ConsumerState& state) override {
    EDDY_RETURN_IF_ERROR(ValidateConsumerName(state.name));
    if (state.stream.empty()) {
      return InvalidArgument("consumer '" + state.name + "' names no stream");
    }
    return fs_->WriteFileAtomically(PathOf(state.name), EncodeConsumerState(state))
        .WithContext("saving the checkpoint of consumer " + state.name);
  }

  Status Remove(const std::string& name) override {
    EDDY_RETURN_IF_ERROR(ValidateConsumerName(name));
    std::string path = PathOf(name);
    EDDY_ASSIGN_OR_RETURN(bool exists, fs_->Exists(path));
    if (!exists) return NotFound("no consumer named '" + name + "' in " + directory_);
    EDDY_RETURN_IF_ERROR(fs_->Remove(path));
    return fs_->SyncDirectory(directory_);
  }

  Result<std::vector<ConsumerState>> List() override {
    EDDY_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->List(directory_));
    std::vector<ConsumerState> states;
    for (const std::string& file : names) {
      // Leftover "<name>.checkpoint.tmp" files of an interrupted Save are not states.
      if (file.size() <= kCheckpointFileSuffix.size() ||
          file.compare(file.size() - kCheckpointFileSuffix.size(), kCheckpointFileSuffix.size(),
                       kCheckpointFileSuffix) != 0) {
        continue;
      }
      EDDY_ASSIGN_OR_RETURN(ConsumerState state, LoadFile(io::JoinPath(directory_, file)));
      states.push_back(std::move(state));
    }
    return states;
  }

  Result<log::RetentionHolds> Holds(const std::string& stream) override {
    EDDY_ASSIGN_OR_RETURN(std::vector<ConsumerState> states, List());
    log::RetentionHolds holds;
    for (const ConsumerState& state : states) {
      if (state.stream != stream || !state.holds_retention || state.state == SinkState::kDeleting) {
        continue;
      }
      for (const auto& [index, shard] : state.checkpoint.shards) {
        if (shard.finished) continue;
        auto [it, inserted] = holds.keep_from.emplace(index, shard.next);
        if (!inserted) it->second = std::min(it->second, shard.next);
      }
    }
    return holds;
  }

 private:
  std::string PathOf(const std::string& name) const {
    return io::JoinPath(directory_, name + std::string(kCheckpointFileSuffix));
  }

  Result<ConsumerState> LoadFile(const std::string& path) {
    EDDY_ASSIGN_OR_RETURN(std::string bytes, fs_->ReadFile(path));
    auto state = DecodeConsumerState(bytes);
    if (!state.ok()) {
      return Status(state.status().code(),
                    "consumer checkpoint " + path + ": " + state.status().message() +
                        " (restore the file or remove it, which resets the consumer)");
    }
    return state;
  }

  const std::string directory_;
  io::FileSystem* const fs_;
};

}  // namespace

Result<std::unique_ptr<CheckpointStore>> CheckpointStore::Open(const std::string& data_dir,
                                                               io::FileSystem* fs) {
  if (fs == nullptr) fs = io::DefaultFileSystem();
  std::string directory = io::JoinPath(data_dir, std::string(kConsumersDirectory));
  EDDY_RETURN_IF_ERROR(
      fs->CreateDirectories(directory).WithContext("creating the consumer checkpoint directory"));
  return std::unique_ptr<CheckpointStore>(new FileCheckpointStore(std::move(directory), fs));
}

}  // namespace eddy::consume
