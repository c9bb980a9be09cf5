#include "app/sink_destinations.h"

#include <memory>
#include <mutex>

#include "consume/filter_pattern.h"
#include "sink/iceberg/iceberg_destination.h"
#include "sink/kafka/kafka_destination.h"
#include "sink/kafka/kafka_settings.h"
#include "sink/kinesis/kinesis_destination.h"
#include "sink/objects/objects_destination.h"
#include "sink/objects/objects_settings.h"
#include "sink/opensearch/opensearch_destination.h"
#include "sink/replica/mariadb_target.h"
#include "sink/replica/postgres_target.h"
#include "sink/webhook/on_failure_webhook.h"
#include "sink/webhook/webhook_destination.h"

namespace eddy::app {
namespace {

// The filter's record shape follows the sink's: a webhook with event=dynamodb matches Lambda's
// DynamoDB Streams record, every other sink the Kinesis one.
Result<engine::RecordFilter> MakeFilter(const consume::SinkSpec& spec,
                                        const consume::SinkSettings& settings) {
  consume::FilterOptions options;
  auto event = spec.settings.find("event");
  if (event != spec.settings.end() && event->second == "dynamodb") {
    options.subject = consume::FilterSubject::kDynamoDb;
  }
  options.view_type = settings.view_type.value_or(format::ViewType::kNewAndOldImages);
  EDDY_ASSIGN_OR_RETURN(consume::FilterPattern pattern,
                        consume::FilterPattern::Parse(settings.filter, options));
  auto shared = std::make_shared<const consume::FilterPattern>(std::move(pattern));
  return engine::RecordFilter(
      [shared](const consume::SinkRecord& record) { return shared->Matches(record); });
}

// One on-failure poster for every sink whose on_failure is a URL (given-up batches are rare;
// posts are serialized on one kept-alive connection).
consume::FailureHandler MakeFailureHandler() {
  struct Shared {
    std::mutex mutex;
    std::unique_ptr<sink::webhook::OnFailureWebhook> poster;
  };
  auto shared = std::make_shared<Shared>();
  return [shared](const consume::OnFailureTarget& target, const consume::SinkBatch& given_up,
                  const Status& error, const consume::GiveUpContext& context) -> Status {
    sink::webhook::OnFailureWebhook* poster = nullptr;
    {
      std::lock_guard lock(shared->mutex);
      if (!shared->poster) {
        EDDY_ASSIGN_OR_RETURN(shared->poster, sink::webhook::OnFailureWebhook::Create({}));
      }
      poster = shared->poster.get();
    }
    return poster->Post(target.url, given_up, error, context.condition, context.status_code,
                        context.attempts);
  };
}

}  // namespace

engine::SinkServices MakeSinkServices() {
  engine::SinkServices services;
  for (const char* scheme : {"webhook+http", "webhook+https"}) {
    // Registering a fixed, distinct scheme list into a fresh registry cannot collide.
    services.destinations.Register(scheme, sink::webhook::MakeWebhookDestination).IgnoreError();
  }
  // Kafka (Debezium's topics and keys; exactly once by a Kafka transaction per batch).
  services.destinations.Register("kafka", sink::kafka::MakeKafkaDestination).IgnoreError();
  {
    std::map<std::string, std::string> defaults;
    for (auto& [key, value] : sink::kafka::KafkaRunnerDefaults()) defaults.emplace(key, value);
    services.destinations.SetDefaults("kafka", std::move(defaults));
  }
  // Kinesis Data Streams (sink/kinesis/): AWS or any compatible endpoint.
  for (const char* scheme : {"kinesis+http", "kinesis+https"}) {
    services.destinations.Register(scheme, sink::kinesis::MakeKinesisDestination).IgnoreError();
  }
  // Objects in S3 or a local directory, in Firehose's layout (sink/objects/).
  for (const char* scheme : {"s3", "file"}) {
    services.destinations.Register(scheme, sink::objects::MakeObjectsDestination).IgnoreError();
    // format=parquet: the objects sink encodes Parquet itself from the decoded rows.
    services.destinations.AddOwnFormat(scheme, std::string(sink::objects::kParquetFormat));
  }
  // Replica tables in a PostgreSQL target (sink/replica/): large batches, one target
  // transaction each with the checkpoint row.
  for (const char* scheme : {"postgresql", "postgres"}) {
    services.destinations.Register(scheme, sink::replica::MakePostgresDestination).IgnoreError();
    services.destinations.SetDefaults(scheme, {{"batch_size", "10000"}});
  }
  // Replica tables in a MySQL/MariaDB target (sink/replica/mariadb_target.h), same core.
  for (const char* scheme : {"mysql", "mariadb"}) {
    services.destinations.Register(scheme, sink::replica::MakeMariadbDestination).IgnoreError();
    services.destinations.SetDefaults(scheme, {{"batch_size", "10000"}});
  }
  // OpenSearch / Elasticsearch indexes kept equal to the source tables (sink/opensearch/).
  for (const char* scheme : {"opensearch+http", "opensearch+https"}) {
    services.destinations.Register(scheme, sink::opensearch::MakeOpenSearchDestination)
        .IgnoreError();
  }
  // Iceberg v2 tables mirroring the source tables (sink/iceberg/).
  for (const char* scheme : {"iceberg+file", "iceberg+s3"}) {
    services.destinations.Register(scheme, sink::iceberg::MakeIcebergDestination).IgnoreError();
  }
  services.make_filter = MakeFilter;
  services.failure_handler = MakeFailureHandler();
  return services;
}

}  // namespace eddy::app
