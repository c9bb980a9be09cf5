// Fuzz target: a byte stream of binlog events (each framed by its header's event_size) decoded
// as capture decodes them: framing and checksums, FDE, table maps, rows events of every kind,
// query/GTID/rotate bodies. Any input must yield values or errors, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "source/mysql/binlog_event.h"

using namespace eddy::source::mysql;

namespace {

void DecodeOne(BinlogDecoder& decoder, std::string_view event) {
  auto framed = decoder.Frame(event);
  if (!framed.ok()) return;
  const uint8_t type = framed->header.type;
  std::string_view body = framed->body;
  auto post = [&](uint8_t fallback) { return decoder.PostHeaderLength(type, fallback); };
  switch (static_cast<EventType>(type)) {
    case EventType::kRotate: (void)ParseRotate(body, post(8)); break;
    case EventType::kQuery:
    case EventType::kQueryCompressed: (void)ParseQuery(type, body, post(13)); break;
    case EventType::kXid: (void)ParseXid(body); break;
    case EventType::kMariadbGtid: (void)ParseMariadbGtid(body, framed->header.server_id); break;
    case EventType::kGtidList: (void)ParseGtidList(body); break;
    case EventType::kMysqlGtid: (void)ParseMysqlGtid(body); break;
    case EventType::kAnnotateRows:
    case EventType::kRowsQuery: (void)ParseAnnotateRows(type, body); break;
    case EventType::kTableMap: {
      auto table = ParseTableMap(body, post(8));
      if (table.ok()) decoder.RememberTableMap(std::move(*table));
      break;
    }
    default:
      if (IsRowsEvent(type)) {
        auto id = PeekRowsTableId(body, post(8));
        if (!id.ok()) break;
        const TableMapEvent* table = decoder.FindTableMap(*id);
        if (table == nullptr) break;
        (void)ParseRowsEvent(type, body, post(8), *table);
        // Capture's path: rows encoded in place through a plan made for the table map.
        std::vector<std::string> prefixes(table->columns.size(), "name");
        auto plan = RowEncodePlan::For(*table, &prefixes);
        RowsEventReader reader;
        if (!plan.ok() || !reader.Open(type, body, post(8), *table).ok()) break;
        EncodedRowImage first;
        EncodedRowImage second;
        while (!reader.done() && reader.NextEncoded(first, second, *plan).ok()) {
        }
      }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.empty()) return 0;
  // First byte: whether events before the first FDE carry checksums.
  BinlogDecoder decoder((input[0] & 1) != 0);
  input.remove_prefix(1);
  int events = 0;
  while (input.size() >= kEventHeaderSize && events++ < 1000) {
    uint32_t event_size = eddy::DecodeFixed32(input.data() + 9);
    if (event_size < kEventHeaderSize || event_size > input.size()) {
      DecodeOne(decoder, input);  // malformed framing: still exercise the parsers
      break;
    }
    DecodeOne(decoder, input.substr(0, event_size));
    input.remove_prefix(event_size);
  }
  return 0;
}
