// The schema history file: one per stream, DATA/streams/<stream>/table-schemas, holding every
// table schema version the stream's capture recorded (spec: docs/formats/schema-history.md).
//
//   file  := magic entry*
//   magic := "EDDYTS01" (8 bytes)
//   entry := u32 size | u32 masked CRC-32C of payload | payload (size bytes)
//   payload := u8 entry version (2; 1 is read) | table schema (docs/formats/event-encoding.md,
//              "Table schema": model::AppendTableSchema)
//
// Version 2 entries may carry a column's declared type and collation (modifier bits 0x08 and
// 0x10 of the table schema layout); version 1 entries, written before those existed, never do
// and read as columns without them.
//
// Integers are little-endian; the CRC is CRC-32C of the payload, masked as in the log
// segments (base/crc32c.h). Entries are only appended, each fsync'd before the capture appends
// an event that uses it. A torn or corrupt tail (a crash in the middle of an append) ends the
// valid prefix; the writer truncates it on open, readers stop there.
//
// Thread-safe (no state).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/schema.h"

namespace eddy::schema {

inline constexpr char kSchemaHistoryFileName[] = "table-schemas";
inline constexpr std::string_view kSchemaHistoryMagic = "EDDYTS01";
inline constexpr uint8_t kSchemaEntryVersion = 2;        // the version written
inline constexpr uint8_t kOldestSchemaEntryVersion = 1;  // the oldest version read
inline constexpr size_t kSchemaEntryHeaderBytes = 8;
// Larger sizes are corruption (a table of 4,096 columns with long names is far below).
inline constexpr uint32_t kMaxSchemaEntryBytes = 16u << 20;

// One framed entry (header and payload) for `schema`.
std::string EncodeSchemaEntry(const model::TableSchema& schema);

// What the valid prefix of a history file's bytes holds.
struct SchemaHistoryScan {
  std::vector<model::TableSchema> schemas;  // in file order
  size_t valid_bytes = 0;                   // magic plus whole valid entries
  // Why the scan stopped before the end ("" when every byte is valid): a torn header or
  // payload, a CRC mismatch, an undecodable schema.
  std::string problem;
  // With a problem: whether the bad bytes are only the last entry (torn or garbled by a crash
  // during its append, as nothing follows it) rather than something in the middle with
  // entries after it (damage a crash cannot cause).
  bool problem_at_tail = true;
};

// Scans history bytes from `offset` (0: the start, where the magic must be; else the end of
// a valid prefix scanned earlier). Never fails on bad bytes: they end the valid prefix. A
// prefix of the magic alone (a file torn right after creation) counts as empty.
// kCorruption only when the file does not start with the magic at all (not a history file).
Result<SchemaHistoryScan> ScanSchemaHistory(std::string_view bytes, size_t offset = 0);

}  // namespace eddy::schema
