// A SinkSpec for the destinations' settings tests. Header only; for tests.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "consume/sink.h"

namespace eddy::consume::testing {

// Sink `name` reading stream "orders" from `url` with `settings` (no data directory).
inline SinkSpec MakeSpec(std::string name, std::string url,
                         std::map<std::string, std::string> settings = {}) {
  SinkSpec spec;
  spec.name = std::move(name);
  spec.stream = "orders";
  spec.url = std::move(url);
  spec.settings = std::move(settings);
  return spec;
}

}  // namespace eddy::consume::testing
