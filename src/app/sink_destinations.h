// The sink destinations this build has: app/ is the one place that knows every sink module and
// registers each under its URL schemes in the engine's registry (engine/destination_registry.h),
// with the filter matcher and the on_failure URL delivery.
#pragma once

#include "engine/destination_registry.h"

namespace eddy::app {

engine::SinkServices MakeSinkServices();

}  // namespace eddy::app
