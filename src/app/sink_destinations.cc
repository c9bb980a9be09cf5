#include "app/sink_destinations.h"

#include <memory>
#include <string>

#include "consume/filter_pattern.h"
#include "sink/webhook/on_failure_webhook.h"
#include "sink/webhook/webhook_destination.h"
#include "sink/webhook/webhook_settings.h"

namespace eddy::app {

engine::SinkServices MakeSinkServices() {
  engine::SinkServices services;
  // A fresh registry: these schemes cannot be taken already.
  for (const char* scheme : {"webhook+http", "webhook+https"}) {
    services.destinations.Register(scheme, sink::webhook::MakeWebhookDestination).IgnoreError();
  }
  // Lambda's filter criteria, over the record shape the sink delivers: the DynamoDB Streams
  // record for a webhook sink with event=dynamodb, the Kinesis record (`data` holds the
  // rendered record) otherwise.
  services.make_filter = [](const consume::SinkSpec& spec,
                            std::string_view text) -> Result<engine::RecordFilter> {
    consume::FilterOptions options;
    if (spec.url.starts_with("webhook+")) {
      EDDY_ASSIGN_OR_RETURN(auto settings, sink::webhook::ParseWebhookSettings(spec));
      options = sink::webhook::FilterOptionsFor(settings);
    }
    EDDY_ASSIGN_OR_RETURN(consume::FilterPattern pattern,
                          consume::FilterPattern::Parse(text, options));
    return engine::RecordFilter([pattern = std::move(pattern)](const consume::SinkRecord& record) {
      return pattern.Matches(record);
    });
  };
  // on_failure = webhook+http(s)://...: Lambda's on-failure record, POSTed.
  services.failure_handler = [poster = std::shared_ptr<sink::webhook::OnFailureWebhook>()](
                                 const consume::OnFailureTarget& target,
                                 const consume::SinkBatch& given_up, const Status& error,
                                 std::string_view condition) mutable -> Status {
    if (poster == nullptr) {
      EDDY_ASSIGN_OR_RETURN(auto created, sink::webhook::OnFailureWebhook::Create({}));
      poster = std::move(created);
    }
    return poster->Post(target.url, given_up, error, condition);
  };
  return services;
}

}  // namespace eddy::app
