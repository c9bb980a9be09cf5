// AWS DMS's Kinesis record shape (docs/formats/dms.md).
#include "format/renderers.h"
#include "format/value_text.h"

namespace eddy::format {

namespace {

class DmsRenderer final : public Renderer {
 public:
  using Renderer::Render;
  std::string_view name() const override { return "dms"; }

  std::string Render(const model::ChangeEvent& event, ViewType view,
                     const RecordContext& /*context*/) const override {
    Images images(event, view);
    bool control = !model::IsRowChange(event.op);
    JsonWriter writer;
    writer.BeginObject();
    if (!control) {
      // DMS puts the row in "data": the new row, or the deleted row for deletes.
      const model::Row* data = event.op == model::Operation::kDelete
                                   ? images.before()
                                   : (images.after() ? images.after() : images.before());
      writer.Key("data");
      if (data) {
        WriteNativeRow(writer, *data);
      } else {
        writer.BeginObject();
        writer.EndObject();
      }
      if (event.op == model::Operation::kUpdate && images.before() && images.after()) {
        writer.Key("before-image");
        WriteNativeRow(writer, *images.before());
      }
    }
    if (event.schema_change) {
      // eddy's addition: DMS control records carry no statement; the native object does.
      writer.Key("control");
      WriteNativeSchemaChange(writer, *event.schema_change);
    } else if (event.op == model::Operation::kTransactionBegin ||
               event.op == model::Operation::kTransactionEnd) {
      writer.Key("control");
      WriteTransactionBlock(writer, event);
    }
    writer.Key("metadata");
    writer.BeginObject();
    writer.Member("timestamp", FormatEpochNanos(event.commit_time_ns));
    writer.Member("record-type", control ? "control" : "data");
    writer.Member("operation", event.schema_change ? model::SchemaChangeKindName(event.schema_change->kind)
                                                   : Operation(event.op));
    writer.Member("partition-key-type", event.key.empty() ? "schema-table" : "primary-key");
    writer.Member("schema-name", event.table.schema.empty() ? event.table.database : event.table.schema);
    writer.Member("table-name", event.table.name);
    // Loads (snapshot rows) belong to no source transaction; DMS omits the id for them.
    if (!event.transaction_id.empty() && event.op != model::Operation::kRead) {
      writer.Key("transaction-id");
      bool digits = event.transaction_id.size() <= 15;
      for (char c : event.transaction_id) digits = digits && c >= '0' && c <= '9';
      if (digits) {
        writer.Int(std::stoll(event.transaction_id));
      } else {
        writer.String(event.transaction_id);
      }
    }
    if (event.transaction_order) {
      // DMS IncludeTransactionDetails' record offset within the transaction (1-based here).
      writer.Key("transaction-record-id");
      writer.Uint(event.transaction_order->total_order);
    }
    writer.EndObject();
    writer.EndObject();
    return writer.Take();
  }

 private:
  static std::string_view Operation(model::Operation op) {
    switch (op) {
      case model::Operation::kInsert: return "insert";
      case model::Operation::kUpdate: return "update";
      case model::Operation::kDelete: return "delete";
      case model::Operation::kRead: return "load";
      case model::Operation::kTruncate: return "truncate-table";
      case model::Operation::kMessage: return "message";
      case model::Operation::kSchemaChange: return "other";  // the kind's name when known
      case model::Operation::kTransactionBegin: return "transaction-begin";
      case model::Operation::kTransactionEnd: return "transaction-end";
      case model::Operation::kHeartbeat: return "heartbeat";
    }
    return "insert";
  }
};

}  // namespace

std::unique_ptr<Renderer> MakeDmsRenderer() { return std::make_unique<DmsRenderer>(); }

}  // namespace eddy::format
