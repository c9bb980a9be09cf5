#include "sink/objects/objects_destination.h"

#include <simdjson.h>

#include <functional>
#include <map>
#include <mutex>

#include "base/helper_thread.h"
#include "base/logging.h"
#include "format/json.h"
#include "format/renderer.h"
#include "format/value_text.h"
#include "model/event.h"
#include "model/event_codec.h"
#include "objstore/open_store.h"
#include "sink/objects/object_encoder.h"
#include "sink/objects/object_name.h"
#include "sink/objects/objects_settings.h"

namespace eddy::sink::objects {

namespace {

constexpr std::string_view kProcessingFailed = "processing-failed";
// Firehose's error output type for records its record format conversion could not convert.
constexpr std::string_view kFormatConversionFailed = "format-conversion-failed";

// A record field by dotted path, from the record as delivered.
Result<std::optional<std::string>> LookupField(simdjson::dom::element root, std::string_view path) {
  simdjson::dom::element current = root;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string_view name =
        path.substr(start, dot == std::string_view::npos ? path.npos : dot - start);
    simdjson::dom::object object;
    if (current.get_object().get(object) != simdjson::SUCCESS) {
      return InvalidArgument("'" + std::string(path.substr(0, start == 0 ? 0 : start - 1)) +
                             "' is not an object in the record");
    }
    if (object[name].get(current) != simdjson::SUCCESS) {
      return InvalidArgument("the record has no field '" + std::string(path) + "'");
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  switch (current.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
      return std::optional<std::string>();
    case simdjson::dom::element_type::STRING:
      return std::optional<std::string>(std::string(current.get_string().value_unsafe()));
    case simdjson::dom::element_type::ARRAY:
    case simdjson::dom::element_type::OBJECT:
      return InvalidArgument("the field '" + std::string(path) +
                             "' is an object or array, not a value to partition by");
    default:
      return std::optional<std::string>(simdjson::minify(current));
  }
}

Result<std::unique_ptr<objstore::ObjectStore>> MakeStore(const ObjectsSettings& settings) {
  objstore::StoreLocation location;
  location.local = settings.backend == Backend::kFile;
  location.directory = settings.directory;
  location.s3.bucket = settings.bucket;
  location.s3.region = settings.region;
  location.s3.endpoint = settings.endpoint;
  location.s3.honours_if_none_match = settings.if_none_match;
  location.s3.multipart_threshold = settings.multipart_threshold_bytes;
  location.s3.part_size = settings.part_size_bytes;
  location.url = "s3://" + settings.bucket;
  location.logger = "sink.objects";
  return objstore::OpenStore(std::move(location));
}

// A Parquet flush laid out as its records come, for a prefix without partition fields: the
// records are grouped as ObjectsDestination::Flush groups them (the evaluated prefix of the
// arrival second, the table schema; groups in order of their first record) and each record's
// row is appended to its group's writer, so the encoding of a staged batch
// (Destination::Stage) runs while the runner still reads the rest. Only the common case is
// laid out here: anything else (a record without a table schema, a prefix that does not
// evaluate, a value that does not convert, bytes that do not decode) marks the flush
// `unusable`, and the batch is then written by Flush from its records, which produces the
// error output. The objects are the same bytes either way (one writer per group, the same
// rows in the same order).
//
// Two steps per slice of records: Take copies what the encoding reads out of the records (a
// StagedSlice: the stored events into one buffer, each record's arrival time and table
// schema) on the caller's thread; Encode appends the slice's rows, and may run on another
// thread, since it reads only the slice and the flush (ObjectsDestination::Stage encodes one
// slice on its encoder thread while the lane gathers and copies the next).
struct StagedSlice {
  struct Row {
    size_t offset = 0;  // of the stored event in `bytes`
    size_t size = 0;    // 0: no stored event, `event` holds it
    int64_t arrival_nanos = 0;
    uint32_t shard_index = 0;
    SequenceNumber sequence;
    uint32_t schema = 0;  // index into `schemas`
    std::shared_ptr<const model::ChangeEvent> event;
  };
  std::string bytes;
  std::vector<Row> rows;
  // The rows' table schemas, one entry per run of rows with the same schema (null: none).
  std::vector<std::shared_ptr<const model::TableSchema>> schemas;

  // Refills the slice from `records` (its buffers' capacity is kept).
  void Take(const std::vector<consume::SinkRecord>& records) {
    bytes.clear();
    rows.clear();
    schemas.clear();
    size_t total = 0;
    for (const consume::SinkRecord& record : records) total += record.stored_event.size();
    bytes.reserve(total);
    rows.reserve(records.size());
    for (const consume::SinkRecord& record : records) {
      Row& row = rows.emplace_back();
      row.offset = bytes.size();
      row.size = record.stored_event.size();
      bytes.append(record.stored_event);
      row.arrival_nanos = record.arrival_nanos;
      row.shard_index = record.shard_index;
      row.sequence = record.sequence;
      if (record.stored_event.empty()) row.event = record.event;
      if (schemas.empty() || schemas.back() != record.table_schema) {
        schemas.push_back(record.table_schema);
      }
      row.schema = static_cast<uint32_t>(schemas.size() - 1);
    }
  }
};

class ParquetFlush {
 public:
  ParquetFlush(const ObjectsSettings& settings, parquet::WriterOptions options)
      : settings_(settings), options_(std::move(options)) {}

  bool unusable() const { return unusable_; }

  // Takes and encodes `records` on the calling thread.
  void Add(const std::vector<consume::SinkRecord>& records) {
    StagedSlice slice;
    slice.Take(records);
    Encode(slice);
  }

  // Appends the rows of `slice` (see StagedSlice).
  void Encode(const StagedSlice& slice) {
    for (const StagedSlice::Row& row : slice.rows) {
      if (unusable_) return;
      Add(slice, row);
    }
  }

  // Whether `records` are exactly the records added so far (the staged batch): the same count
  // and the same first and last records. The runner hands Deliver the records it staged, in
  // order, or a batch that is not staged at all (a retry, a bisected part).
  bool Holds(const std::vector<consume::SinkRecord>& records) const {
    return !records.empty() && records.size() == count_ &&
           records.front().shard_index == first_.shard &&
           records.front().sequence == first_.sequence &&
           records.back().shard_index == last_.shard && records.back().sequence == last_.sequence;
  }

  // Finishes each group's file and writes it with `write(key, bytes)`, in group order.
  Status Write(const std::string& stream_name,
               const std::function<Status(const std::string&, const std::string&)>& write) {
    for (const std::unique_ptr<Group>& group : groups_) {
      EDDY_RETURN_IF_ERROR(group->writer->Finish().status());
      ObjectNameParts name;
      name.stream = stream_name;
      name.version = settings_.version;
      name.first_arrival_nanos = group->first_arrival_nanos;
      name.first_shard = group->first.shard;
      name.first_sequence = group->first.sequence.value();
      EDDY_RETURN_IF_ERROR(
          write(group->prefix + ObjectName(name, settings_.file_extension), group->bytes));
    }
    return Status::Ok();
  }

 private:
  struct Position {
    uint32_t shard = 0;
    SequenceNumber sequence;
  };
  struct Group {
    std::string prefix;
    const model::TableSchema* schema = nullptr;  // kept alive by `schema_owner`
    std::shared_ptr<const model::TableSchema> schema_owner;
    int64_t first_arrival_nanos = 0;
    Position first;
    std::string bytes;  // the writer's output
    std::unique_ptr<parquet::ParquetWriter> writer;
  };

  void Add(const StagedSlice& slice, const StagedSlice::Row& record) {
    if (count_ == 0) first_ = Position{record.shard_index, record.sequence};
    last_ = Position{record.shard_index, record.sequence};
    ++count_;
    const std::string_view stored =
        std::string_view(slice.bytes).substr(record.offset, record.size);
    // Only row changes are rows (as in Flush).
    if (!stored.empty()) {
      Result<model::Operation> op = model::StoredEventOperation(stored);
      if (!op.ok()) {
        unusable_ = true;
        return;
      }
      if (!model::IsRowChange(*op)) return;
    } else if (record.event == nullptr || !model::IsRowChange(record.event->op)) {
      return;
    }
    const std::shared_ptr<const model::TableSchema>& table_schema = slice.schemas[record.schema];
    if (table_schema == nullptr) {
      unusable_ = true;  // the error output's record: Flush writes it
      return;
    }
    const int64_t second = format::FloorDiv(record.arrival_nanos, 1'000'000'000);
    Group* group = nullptr;
    if (last_group_ != nullptr && cached_second_ == second &&
        last_group_->schema == table_schema.get()) {
      group = last_group_;
    } else {
      Result<std::string> prefix = settings_.prefix.Evaluate(
          record.arrival_nanos, [](std::string_view) { return std::optional<std::string>(); });
      if (!prefix.ok()) {
        unusable_ = true;
        return;
      }
      for (const std::unique_ptr<Group>& candidate : groups_) {
        if (candidate->prefix == *prefix && (candidate->schema == table_schema.get() ||
                                             (candidate->schema->version == table_schema->version &&
                                              candidate->schema->table == table_schema->table))) {
          group = candidate.get();
          break;
        }
      }
      if (group == nullptr) {
        auto created = std::make_unique<Group>();
        created->prefix = std::move(*prefix);
        created->schema = table_schema.get();
        created->schema_owner = table_schema;
        created->first_arrival_nanos = record.arrival_nanos;
        created->first = Position{record.shard_index, record.sequence};
        auto writer = parquet::ParquetWriter::OpenBuffer(*table_schema, options_, &created->bytes);
        if (!writer.ok()) {
          unusable_ = true;
          return;
        }
        created->writer = std::move(*writer);
        groups_.push_back(std::move(created));
        group = groups_.back().get();
      }
      cached_second_ = second;
    }
    last_group_ = group;
    Status appended = stored.empty() ? group->writer->AppendEvent(*record.event)
                                     : group->writer->AppendStoredEvent(stored);
    if (!appended.ok()) unusable_ = true;
  }

  const ObjectsSettings& settings_;
  const parquet::WriterOptions options_;
  std::vector<std::unique_ptr<Group>> groups_;
  Group* last_group_ = nullptr;  // the last record's group, for its arrival second
  int64_t cached_second_ = 0;
  size_t count_ = 0;
  Position first_;
  Position last_;
  bool unusable_ = false;
};

class ObjectsDestination final : public consume::Destination {
 public:
  ObjectsDestination(ObjectsSettings settings, std::unique_ptr<objstore::ObjectStore> store)
      : settings_(std::move(settings)),
        store_(std::move(store)),
        encoder_(MakeJsonLinesEncoder(settings_.compression, settings_.compression_level)),
        // Error objects of a Parquet sink are JSON lines, uncompressed (settings_.compression
        // names Parquet's page codec there).
        error_encoder_(settings_.format == ObjectFormat::kParquet
                           ? MakeJsonLinesEncoder(Compression::kNone, 0)
                           : nullptr),
        logger_(logging::Get("sink.objects")) {}

  std::optional<consume::BatchingOverride> Batching() const override {
    consume::BatchingOverride batching;
    batching.batch_size = kMaxRecordsPerFlush;
    batching.batch_bytes = settings_.buffer_bytes;
    batching.window = settings_.buffer_interval;
    return batching;
  }

  // Parquet files are laid out from the decoded rows; the rendered record is read only to
  // evaluate a prefix's !{partitionKeyFromQuery:...} fields.
  bool UsesRenderedData() const override {
    return settings_.format != ObjectFormat::kParquet || !settings_.prefix.fields().empty();
  }

  // Parquet rows are decoded from the stored events straight into the writer's columns
  // (ParquetWriter::AppendStoredEvent): no ChangeEvent per record held for a whole flush.
  bool TakesStoredEvents() const override { return settings_.format == ObjectFormat::kParquet; }
  // Only an error output record prints them (ShardIdText and SequenceNumberText there).
  bool ReadsRecordIdText() const override { return false; }

  // Parquet without partition fields: each flush's rows are encoded as the runner gathers them
  // (ParquetFlush), overlapping its reading; the objects are written by Deliver.
  bool StagesRecords() const override { return LaysOutAsRecordsCome(); }

  // Copies the slice's stored events (StagedSlice::Take) and hands them to the encoder thread,
  // once it finished the slice before: the lane gathers and copies slice N+1 while slice N is
  // encoded, so a flush's Parquet encoding runs beside the lane's own work (on a second core).
  void Stage(size_t /*lane*/, const std::vector<consume::SinkRecord>& records,
             bool first) override {
    std::lock_guard lock(mutex_);
    StagedSlice& slice = slices_[next_slice_];
    slice.Take(records);
    if (encoder_thread_ == nullptr) encoder_thread_ = std::make_unique<HelperThread>("objects-encode");
    encoder_thread_->Wait();  // the slice before is encoded: staged_ and the other slice are free
    if (first) staged_ = std::make_unique<ParquetFlush>(settings_, ParquetOptions());
    if (staged_ == nullptr || staged_->unusable()) return;
    ParquetFlush* flush = staged_.get();
    encoder_thread_->Run([flush, &slice] { flush->Encode(slice); });
    next_slice_ = 1 - next_slice_;
  }

  Status Open() override {
    if (store_ == nullptr) {
      // Credentials and region are read here, not in the factory (which does no I/O).
      EDDY_ASSIGN_OR_RETURN(store_, MakeStore(settings_));
    }
    Status checked = store_->Check();
    if (!checked.ok()) return checked.WithContext(store_->Describe(""));
    return Status::Ok();
  }

  consume::DeliveryOutcome Deliver(const consume::SinkBatch& batch) override {
    std::lock_guard lock(mutex_);
    consume::DeliveryOutcome outcome;
    Status written = LaysOutAsRecordsCome() ? FlushAsRecordsCame(batch) : Flush(batch);
    if (written.code() == ErrorCode::kCorruption) {
      // A stored event that does not decode (the runner reads only the headers of a Parquet
      // sink's records, TakesStoredEvents): not retriable, nothing after it is delivered.
      outcome.failure =
          Status(ErrorCode::kCorruption,
                 written.message() +
                     "; the log holds a record that does not decode: skip it with `eddy "
                     "sink reset --name " +
                     batch.sink_name + " --to SEQUENCE` (the record after it)");
      return outcome;
    }
    if (!written.ok()) {
      outcome.failure = objstore::RetriableWhileWaiting(written);
      return outcome;
    }
    outcome.acknowledged = batch.records.size();
    return outcome;
  }

  Status Close() override {
    {
      std::lock_guard lock(mutex_);
      if (encoder_thread_ != nullptr) encoder_thread_->Wait();
    }
    if (store_ != nullptr) store_->Close();
    return Status::Ok();
  }

 private:
  bool LaysOutAsRecordsCome() const {
    return settings_.format == ObjectFormat::kParquet && settings_.prefix.fields().empty();
  }

  // A Parquet flush through ParquetFlush: the one staged for this batch when it holds exactly
  // the batch's records, else laid out now; Flush when it is unusable (see ParquetFlush).
  Status FlushAsRecordsCame(const consume::SinkBatch& batch) {
    if (encoder_thread_ != nullptr) encoder_thread_->Wait();  // the last staged slice is encoded
    std::unique_ptr<ParquetFlush> flush = std::move(staged_);
    if (flush == nullptr || !flush->Holds(batch.records)) {
      flush = std::make_unique<ParquetFlush>(settings_, ParquetOptions());
      flush->Add(batch.records);
    }
    if (flush->unusable()) return Flush(batch);
    return flush->Write(batch.stream_name, [&](const std::string& key, const std::string& bytes) {
      return Write(key, bytes, kParquetContentType);
    });
  }

  // The records of one object: the same evaluated prefix and, for Parquet, the same table
  // schema (table and version). JSON lines groups hold lines; Parquet groups hold records.
  struct Group {
    std::string prefix;
    const consume::SinkRecord* first = nullptr;
    bool error = false;  // under error_prefix: JSON lines whatever the format
    std::vector<std::string_view> lines;
    std::vector<const consume::SinkRecord*> records;  // kParquet data groups
  };

  Status Flush(const consume::SinkBatch& batch) {
    std::vector<Group> groups;
    std::map<std::string, size_t, std::less<>> by_key;
    std::vector<std::string> error_lines;  // owned here; groups point into them
    error_lines.reserve(batch.records.size());
    const bool parquet = settings_.format == ObjectFormat::kParquet;
    std::string key;
    auto group_for = [&](std::string_view prefix, const consume::SinkRecord& record,
                         std::string_view schema_key, bool error) -> Group& {
      key.assign(prefix);
      if (!schema_key.empty()) {
        key += '\0';
        key += schema_key;
      }
      auto it = by_key.find(key);
      if (it == by_key.end()) {
        it = by_key.emplace(key, groups.size()).first;
        groups.push_back(Group{std::string(prefix), &record, error, {}, {}});
      }
      return groups[it->second];
    };
    auto add_error = [&](const consume::SinkRecord& record, std::string_view type,
                         std::string_view code, const Status& why) -> Status {
      EDDY_ASSIGN_OR_RETURN(
          std::string error_prefix,
          settings_.error_prefix.Evaluate(
              record.arrival_nanos, [](std::string_view) { return std::optional<std::string>(); },
              type));
      error_lines.push_back(ErrorLine(record, code, why));
      group_for(error_prefix, record, "", true).lines.push_back(error_lines.back());
      return Status::Ok();
    };
    const bool needs_fields = !settings_.prefix.fields().empty();
    std::string schema_key;
    // Per-record work the common case can skip: without partition fields a prefix depends on
    // the arrival second alone (seconds are the finest unit of !{timestamp:...}), and
    // consecutive records mostly share their second, prefix and table schema, so they join the
    // group of the record before them without evaluating the prefix or building a group key.
    bool cached = false;  // cached_second and cached_prefix hold a prefix
    int64_t cached_second = 0;
    std::string cached_prefix;
    size_t last_group = groups.max_size();  // none
    const model::TableSchema* last_schema = nullptr;
    for (const consume::SinkRecord& record : batch.records) {
      if (parquet) {
        // Only row changes are rows; schema changes, truncates and transaction markers have
        // no place in a table's file (the schema change shows as the next file's columns).
        if (!record.stored_event.empty()) {
          EDDY_ASSIGN_OR_RETURN(model::Operation op,
                                model::StoredEventOperation(record.stored_event));
          if (!model::IsRowChange(op)) continue;
        } else if (record.event == nullptr || !model::IsRowChange(record.event->op)) {
          continue;
        }
        if (record.table_schema == nullptr) {
          EDDY_RETURN_IF_ERROR(add_error(
              record, kFormatConversionFailed, "DataFormatConversion.SchemaMissing",
              FailedPrecondition("no recorded table schema for " + TableAndVersion(record) +
                                 "; Parquet columns come from the catalog schema")));
          continue;
        }
      }
      if (!needs_fields) {
        const int64_t second = format::FloorDiv(record.arrival_nanos, 1'000'000'000);
        const model::TableSchema* schema = parquet ? record.table_schema.get() : nullptr;
        if (cached && cached_second == second && last_group < groups.size() &&
            schema == last_schema) {
          if (parquet) {
            groups[last_group].records.push_back(&record);
          } else {
            groups[last_group].lines.push_back(record.data);
          }
          continue;
        }
        Result<std::string> prefix = settings_.prefix.Evaluate(
            record.arrival_nanos, [](std::string_view) { return std::optional<std::string>(); });
        if (!prefix.ok()) {
          EDDY_RETURN_IF_ERROR(
              add_error(record, kProcessingFailed, "PartitionKeyQueryFailed", prefix.status()));
          cached = false;
          continue;
        }
        cached = true;
        cached_second = second;
        cached_prefix = std::move(*prefix);
        last_schema = schema;
        if (!parquet) {
          Group& group = group_for(cached_prefix, record, "", false);
          last_group = static_cast<size_t>(&group - groups.data());
          group.lines.push_back(record.data);
          continue;
        }
        schema_key = record.table_schema->table.ToString();
        schema_key += '\0';
        schema_key += std::to_string(record.table_schema->version);
        Group& group = group_for(cached_prefix, record, schema_key, false);
        last_group = static_cast<size_t>(&group - groups.data());
        group.records.push_back(&record);
        continue;
      }
      simdjson::dom::element root;
      Status parsed = Status::Ok();
      {
        simdjson::error_code error = parser_.parse(record.data).get(root);
        if (error != simdjson::SUCCESS) {
          parsed = InvalidArgument(std::string("the record is not JSON: ") +
                                   simdjson::error_message(error));
        }
      }
      Result<std::string> prefix =
          parsed.ok() ? settings_.prefix.Evaluate(
                            record.arrival_nanos,
                            [&](std::string_view name) { return LookupField(root, name); })
                      : Result<std::string>(parsed);
      if (!prefix.ok()) {
        EDDY_RETURN_IF_ERROR(
            add_error(record, kProcessingFailed, "PartitionKeyQueryFailed", prefix.status()));
        continue;
      }
      if (!parquet) {
        group_for(*prefix, record, "", false).lines.push_back(record.data);
        continue;
      }
      schema_key = record.table_schema->table.ToString();
      schema_key += '\0';
      schema_key += std::to_string(record.table_schema->version);
      group_for(*prefix, record, schema_key, false).records.push_back(&record);
    }
    // Indexes, not references: rejected Parquet records add error groups while this runs.
    for (size_t i = 0; i < groups.size(); ++i) {
      std::string bytes;
      const bool error_group = groups[i].error;
      const ObjectEncoder* lines_encoder =
          error_group && parquet ? error_encoder_.get() : encoder_.get();
      if (!groups[i].records.empty()) {
        std::vector<std::pair<const consume::SinkRecord*, Status>> rejected;
        EDDY_RETURN_IF_ERROR(EncodeParquet(groups[i].records, &bytes, &rejected));
        for (const auto& [record, why] : rejected) {
          EDDY_RETURN_IF_ERROR(add_error(*record, kFormatConversionFailed,
                                         "DataFormatConversion.InvalidValue", why));
        }
        if (groups[i].records.empty()) continue;  // every record went to the error output
        groups[i].first = groups[i].records.front();
      } else {
        EDDY_ASSIGN_OR_RETURN(bytes, lines_encoder->Encode(groups[i].lines));
      }
      const Group& group = groups[i];
      ObjectNameParts name;
      name.stream = batch.stream_name;
      name.version = settings_.version;
      name.first_arrival_nanos = group.first->arrival_nanos;
      name.first_shard = group.first->shard_index;
      name.first_sequence = group.first->sequence.value();
      const bool parquet_object = parquet && !group.error;
      std::string object_key =
          group.prefix + ObjectName(name, parquet && group.error ? std::string_view(".json")
                                                                 : settings_.file_extension);
      EDDY_RETURN_IF_ERROR(Write(
          object_key, bytes, parquet_object ? kParquetContentType : lines_encoder->content_type()));
    }
    return Status::Ok();
  }

  static constexpr std::string_view kParquetContentType = "application/vnd.apache.parquet";

  parquet::WriterOptions ParquetOptions() const {
    parquet::WriterOptions options;
    options.compression = settings_.parquet_compression;
    if (settings_.parquet_compression == parquet::Compression::kZstd) {
      options.zstd_level = settings_.compression_level;
    }
    options.cdc_columns = true;
    return options;
  }

  // One Parquet file of `records` (one table schema). A value that does not fit its column
  // (a source that reported a value outside its declared type) moves that record from
  // `records` to `rejected`, for the error output as format-conversion-failed (as Firehose
  // does), and the file holds the rest.
  Status EncodeParquet(std::vector<const consume::SinkRecord*>& records, std::string* bytes,
                       std::vector<std::pair<const consume::SinkRecord*, Status>>* rejected) const {
    const model::TableSchema& schema = *records.front()->table_schema;
    const parquet::WriterOptions options = ParquetOptions();
    Status appended = AppendAll(schema, options, records, bytes);
    if (appended.ok() || appended.code() != ErrorCode::kInvalidArgument) return appended;
    // Find the records that do not convert, one at a time (only after a failure).
    std::vector<const consume::SinkRecord*> kept;
    std::string scratch;
    for (const consume::SinkRecord* record : records) {
      Status alone = AppendAll(schema, options, {record}, &scratch);
      if (alone.ok()) {
        kept.push_back(record);
      } else if (alone.code() == ErrorCode::kInvalidArgument) {
        rejected->emplace_back(record, std::move(alone));
      } else {
        return alone;
      }
    }
    records = std::move(kept);
    if (records.empty()) return Status::Ok();
    return AppendAll(schema, options, records, bytes);
  }

  static Status AppendAll(const model::TableSchema& schema, const parquet::WriterOptions& options,
                          const std::vector<const consume::SinkRecord*>& records,
                          std::string* bytes) {
    EDDY_ASSIGN_OR_RETURN(auto writer, parquet::ParquetWriter::OpenBuffer(schema, options, bytes));
    for (const consume::SinkRecord* record : records) {
      Status appended = record->stored_event.empty()
                            ? writer->AppendEvent(*record->event)
                            : writer->AppendStoredEvent(record->stored_event);
      if (appended.code() == ErrorCode::kCorruption) {
        return appended.WithContext("record " + consume::SequenceNumberText(*record) + " of " +
                                    consume::ShardIdText(*record));
      }
      EDDY_RETURN_IF_ERROR(appended);
    }
    return writer->Finish().status();
  }

  Status Write(const std::string& key, const std::string& bytes, std::string_view content_type) {
    objstore::PutOptions options;
    options.content_type = std::string(content_type);
    options.if_none_match = store_->HonoursIfNoneMatch();
    Status put = store_->Put(key, bytes, options);
    if (put.code() == ErrorCode::kAlreadyExists) {
      // Left by a flush that was interrupted before its checkpoint: these records (and maybe
      // fewer or more of the same run) are being delivered again under the same first record.
      logger_->info("replacing object={} left by an interrupted flush", store_->Describe(key));
      options.if_none_match = false;
      put = store_->Put(key, bytes, options);
    }
    if (!put.ok()) return put.WithContext("writing " + store_->Describe(key));
    return Status::Ok();
  }

  // "db.public.orders version 3": the record's table and schema version, for errors.
  static std::string TableAndVersion(const consume::SinkRecord& record) {
    if (record.event != nullptr) {
      return record.event->table.ToString() + " version " +
             std::to_string(record.event->schema_version);
    }
    auto view = model::DecodeEventView(record.stored_event);
    if (!view.ok()) return "a record that does not decode (" + view.status().message() + ")";
    const model::TableId table{std::string(view->database), std::string(view->schema),
                               std::string(view->table)};
    return table.ToString() + " version " + std::to_string(view->schema_version);
  }

  // Firehose's processing-failed record, with the log's coordinates of the record. Its
  // rawData is the record as rendered; a Parquet sink's records are not rendered by the runner
  // (UsesRenderedData), so such a record is rendered here in eddy's native format.
  static std::string ErrorLine(const consume::SinkRecord& record, std::string_view code,
                               const Status& error) {
    std::string rendered;
    std::shared_ptr<const model::ChangeEvent> event = record.event;
    if (event == nullptr && !record.stored_event.empty()) {
      auto decoded = model::DecodeEvent(record.stored_event);
      if (decoded.ok()) event = std::make_shared<const model::ChangeEvent>(std::move(*decoded));
    }
    if (record.data.empty() && event != nullptr) {
      static const std::unique_ptr<format::Renderer> native = [] {
        auto renderer = format::MakeRenderer("native");
        return renderer.ok() ? std::move(renderer).value() : nullptr;
      }();
      if (native != nullptr) {
        format::RecordContext context;
        context.sequence_number = consume::SequenceNumberText(record);
        context.table_schema = record.table_schema.get();
        rendered = native->Render(*event, format::ViewType::kNewAndOldImages, context);
      }
    }
    format::JsonWriter writer;
    writer.BeginObject();
    writer.Member("errorCode", code);
    writer.Member("errorMessage", error.message());
    writer.MemberInt("approximateArrivalTimestamp", record.arrival_nanos / 1'000'000);
    writer.Member("shardId", consume::ShardIdText(record));
    writer.Member("sequenceNumber", consume::SequenceNumberText(record));
    writer.Member("partitionKey", record.partition_key);
    writer.MemberBase64(
        "rawData", rendered.empty() ? std::string_view(record.data) : std::string_view(rendered));
    writer.EndObject();
    return writer.Take();
  }

  const ObjectsSettings settings_;
  std::unique_ptr<objstore::ObjectStore> store_;  // set by Open at the latest
  const std::unique_ptr<ObjectEncoder> encoder_;
  const std::unique_ptr<ObjectEncoder> error_encoder_;  // kParquet: the error objects' encoder
  std::shared_ptr<logging::Logger> logger_;
  std::mutex mutex_;  // serializes Deliver and Stage (and guards parser_, staged_)
  // The Parquet flush staged for the next Deliver (StagesRecords). While a slice is being
  // encoded (between encoder_thread_'s Run and Wait) the encoder thread owns staged_'s flush and
  // that slice; everything else here is the lane's (under mutex_).
  std::unique_ptr<ParquetFlush> staged_;
  StagedSlice slices_[2];  // filled in turn: one is encoded while the next is copied
  size_t next_slice_ = 0;
  simdjson::dom::parser parser_;
  // Encodes staged slices (Stage; started by the first). Last: destroyed first, so a slice it
  // is encoding finishes while the flush and the slice are still alive.
  std::unique_ptr<HelperThread> encoder_thread_;
};

}  // namespace

Result<std::unique_ptr<consume::Destination>> MakeObjectsDestinationWithStore(
    const consume::SinkSpec& spec, std::unique_ptr<objstore::ObjectStore> store) {
  EDDY_ASSIGN_OR_RETURN(ObjectsSettings settings, ParseObjectsSettings(spec));
  return std::unique_ptr<consume::Destination>(
      new ObjectsDestination(std::move(settings), std::move(store)));
}

Result<std::unique_ptr<consume::Destination>> MakeObjectsDestination(
    const consume::SinkSpec& spec) {
  EDDY_ASSIGN_OR_RETURN(ObjectsSettings settings, ParseObjectsSettings(spec));
  return std::unique_ptr<consume::Destination>(
      new ObjectsDestination(std::move(settings), nullptr));
}

}  // namespace eddy::sink::objects
