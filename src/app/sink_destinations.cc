#include "app/sink_destinations.h"

namespace eddy::app {

engine::SinkServices MakeSinkServices() {
  engine::SinkServices services;
  // The webhook module (src/sink/webhook/) registers here once it is part of the build:
  //   services.destinations.Register("webhook+http", sink::webhook::MakeWebhookDestination);
  //   services.destinations.Register("webhook+https", sink::webhook::MakeWebhookDestination);
  // together with its Lambda filter-pattern matcher (services.make_filter) and on_failure URL
  // delivery (services.failure_handler). Until then every scheme is reported as unknown.
  return services;
}

}  // namespace eddy::app
