#include "source/postgres/transaction_buffer.h"

#include <algorithm>

#include "base/bytes.h"
#include "base/logging.h"
#include "model/event_codec.h"

namespace eddy::source::postgres {

TransactionBuffer::TransactionBuffer(io::FileSystem* file_system, std::string spill_path,
                                     size_t memory_budget_bytes)
    : file_system_(file_system),
      spill_path_(std::move(spill_path)),
      memory_budget_bytes_(memory_budget_bytes) {}

TransactionBuffer::~TransactionBuffer() {
  if (file_ != nullptr) {
    file_.reset();
    Status removed = file_system_->Remove(spill_path_);
    if (!removed.ok()) {
      logging::Get("postgres")->warn("cannot remove spill file path={} error=\"{}\"", spill_path_,
                                     removed.ToString());
    }
  }
}

namespace {

size_t ApproxBytes(const model::Value& value) {
  size_t bytes = sizeof(model::Value);
  if (const auto* text = value.TryGet<std::string>()) bytes += text->capacity();
  else if (const auto* decimal = value.TryGet<model::DecimalValue>()) bytes += decimal->text.size();
  else if (const auto* data = value.TryGet<model::BytesValue>()) bytes += data->data.size();
  else if (const auto* json = value.TryGet<model::JsonValue>()) bytes += json->text.size();
  else if (const auto* typed = value.TryGet<model::TypedTextValue>()) bytes += typed->text.size() + typed->type_name.size();
  else if (const auto* label = value.TryGet<model::EnumValue>()) bytes += label->label.size();
  else if (const auto* bits = value.TryGet<model::BitsValue>()) bytes += bits->bits.size();
  else if (const auto* array = value.TryGet<model::ArrayValue>()) {
    for (const model::Value& element : array->elements) bytes += ApproxBytes(element);
  }
  return bytes;
}

size_t ApproxBytes(const model::Row& row) {
  size_t bytes = sizeof(model::Row);
  for (const model::Field& field : row) {
    bytes += sizeof(model::Field) - sizeof(model::Value) + field.name.capacity() + ApproxBytes(field.value);
  }
  return bytes;
}

// An estimate of the heap and object bytes an event holds (the budget is approximate).
size_t ApproxBytes(const model::ChangeEvent& event) {
  size_t bytes = sizeof(model::ChangeEvent) + event.table.database.size() +
                 event.table.schema.size() + event.table.name.size() + ApproxBytes(event.key);
  if (event.before) bytes += ApproxBytes(*event.before);
  if (event.after) bytes += ApproxBytes(*event.after);
  if (event.message) bytes += event.message->prefix.size() + event.message->content.size();
  return bytes;
}

}  // namespace

Status TransactionBuffer::Add(uint32_t subxid, model::ChangeEvent event) {
  memory_bytes_ += ApproxBytes(event) + sizeof(Entry) - sizeof(model::ChangeEvent);
  entries_.push_back(Entry{subxid, std::move(event)});
  ++count_;
  if (memory_bytes_ > memory_budget_bytes_) return Spill();
  return Status::Ok();
}

Status TransactionBuffer::Spill() {
  if (file_ == nullptr) {
    EDDY_ASSIGN_OR_RETURN(file_, file_system_->Open(spill_path_, io::OpenMode::kCreateOrTruncate));
    logging::Get("postgres")->info("transaction exceeds the memory budget; spilling to disk "
                                   "path={} budget_bytes={}",
                                   spill_path_, memory_budget_bytes_);
  }
  std::string out;
  out.reserve(memory_bytes_);
  std::string encoded;
  for (const Entry& entry : entries_) {
    encoded.clear();
    model::EncodeEvent(entry.event, encoded);
    PutFixed32(out, entry.subxid);
    PutFixed32(out, static_cast<uint32_t>(encoded.size()));
    out += encoded;
  }
  // No fsync: the spill is scratch space; after a crash the server resends the transaction.
  EDDY_RETURN_IF_ERROR(file_->Append(out).WithContext("spilling a large transaction to " +
                                                      spill_path_));
  spilled_bytes_ += out.size();
  entries_.clear();
  entries_.shrink_to_fit();
  memory_bytes_ = 0;
  return Status::Ok();
}

Status TransactionBuffer::ForEach(const std::function<Status(model::ChangeEvent&&)>& visit) {
  if (file_ != nullptr) {
    // Read the file in large blocks; entries may straddle block boundaries.
    constexpr size_t kBlockBytes = 1u << 20;
    uint64_t file_offset = 0;
    std::string window;
    size_t position = 0;
    auto ensure = [&](size_t needed) -> Status {
      while (window.size() - position < needed) {
        if (file_offset >= spilled_bytes_) {
          return Corruption("spill file " + spill_path_ + " is truncated");
        }
        window.erase(0, position);
        position = 0;
        size_t want = static_cast<size_t>(
            std::min<uint64_t>(std::max(kBlockBytes, needed), spilled_bytes_ - file_offset));
        size_t old_size = window.size();
        window.resize(old_size + want);
        EDDY_ASSIGN_OR_RETURN(size_t got, file_->ReadAt(file_offset, want, window.data() + old_size));
        if (got != want) return Corruption("spill file " + spill_path_ + " is truncated");
        file_offset += got;
      }
      return Status::Ok();
    };
    uint64_t consumed = 0;
    while (consumed < spilled_bytes_) {
      EDDY_RETURN_IF_ERROR(ensure(8));
      uint32_t subxid = DecodeFixed32(window.data() + position);
      uint32_t length = DecodeFixed32(window.data() + position + 4);
      position += 8;
      EDDY_RETURN_IF_ERROR(ensure(length));
      std::string_view body(window.data() + position, length);
      position += length;
      consumed += 8 + static_cast<uint64_t>(length);
      if (aborted_.count(subxid) != 0) continue;
      EDDY_ASSIGN_OR_RETURN(model::ChangeEvent event, model::DecodeEvent(body));
      EDDY_RETURN_IF_ERROR(visit(std::move(event)));
    }
  }
  for (Entry& entry : entries_) {
    if (!aborted_.empty() && aborted_.count(entry.subxid) != 0) continue;
    EDDY_RETURN_IF_ERROR(visit(std::move(entry.event)));
  }
  entries_.clear();
  return Status::Ok();
}

}  // namespace eddy::source::postgres
