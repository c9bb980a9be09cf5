// The consumer checkpoint file (DATA/consumers/<name>.checkpoint): one consumer's durable
// state (consume::ConsumerState). Spec: docs/formats/consumer-checkpoint.md.
//
//   "EDDYCONS"                   8-byte magic
//   u32 version = 1
//   lp name | lp stream | lp url
//   lp state name                ("CREATING", "ACTIVE", "IMPAIRED", "PAUSED", "FAILED",
//                                 "DELETING")
//   lp reason | zigzag state since (ns since the epoch)
//   varint shard count | (varint shard index | varint next sequence | u8 flags) * count
//                                flags: 1 = finished; shards in ascending index order
//   source position              last delivered (docs/formats/source-position.md)
//   zigzag last delivered arrival (ns)
//   varint delivered records | varint delivered bytes | varint failed records
//   lp request name              ("NONE", "PAUSE", "RESUME", "RESET")
//   lp reset-to type name        ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER",
//                                 "AFTER_SEQUENCE_NUMBER", "AT_TIMESTAMP")
//   varint reset-to sequence | zigzag reset-to timestamp (ns)
//   u8 holds retention (0 or 1)
//   varint checkpoint generation (version 2; 0 when a version-1 file is read)
//   u32 masked CRC-32C of every byte before it
// (`lp` = varint length + bytes; integers little-endian; varints unsigned LEB128; zigzag =
// signed varints as base/bytes.h writes them.)
//
// Enumerations are stored by name, so their in-memory values may change without a format
// change; an unknown name is corruption. Readers reject versions they do not know with
// kFailedPrecondition (a newer eddy wrote the file); a new version appends fields.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "consume/checkpoint_store.h"

namespace eddy::consume {

inline constexpr std::string_view kCheckpointMagic = "EDDYCONS";
inline constexpr uint32_t kCheckpointVersion = 2;  // writes 2; reads 1 and 2
inline constexpr std::string_view kCheckpointFileSuffix = ".checkpoint";
inline constexpr std::string_view kConsumersDirectory = "consumers";

std::string EncodeConsumerState(const ConsumerState& state);
// kCorruption for bytes that are not a valid version-1 or version-2 file (the message says what is
// wrong, not which file: callers add that); kFailedPrecondition for another version.
Result<ConsumerState> DecodeConsumerState(std::string_view bytes);

// The names the file stores (and `eddy status` shows).
std::string_view SinkStateName(SinkState state);
Result<SinkState> ParseSinkStateName(std::string_view name);
std::string_view ControlRequestName(ControlRequest request);
Result<ControlRequest> ParseControlRequestName(std::string_view name);

}  // namespace eddy::consume
