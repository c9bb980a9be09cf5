#include "engine/destination_registry.h"

#include "engine/sink_config.h"

namespace eddy::engine {

Status DestinationRegistry::Register(std::string scheme, consume::DestinationFactory factory) {
  if (!factories_.emplace(scheme, std::move(factory)).second) {
    return AlreadyExists("sink scheme '" + scheme + "' is registered twice");
  }
  return Status::Ok();
}

Result<std::unique_ptr<consume::Destination>> DestinationRegistry::Create(
    const consume::SinkSpec& spec) const {
  std::string_view scheme = UrlScheme(spec.url);
  auto it = factories_.find(scheme);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& [name, factory] : factories_) known += (known.empty() ? "" : ", ") + name;
    return InvalidArgument("sink '" + spec.name + "': url scheme '" + std::string(scheme) +
                           "' is not one this build delivers to; " +
                           (known.empty() ? std::string("this build has no sink destinations")
                                          : "use one of: " + known));
  }
  auto destination = it->second(spec);
  if (!destination.ok()) return destination.status().WithContext("sink '" + spec.name + "'");
  return destination;
}

std::vector<std::string> DestinationRegistry::Schemes() const {
  std::vector<std::string> schemes;
  for (const auto& [name, factory] : factories_) schemes.push_back(name);
  return schemes;
}

void DestinationRegistry::SetDefaults(std::string scheme,
                                      std::map<std::string, std::string> settings) {
  defaults_[std::move(scheme)] = std::move(settings);
}

void DestinationRegistry::ApplyDefaults(consume::SinkSpec& spec) const {
  auto it = defaults_.find(UrlScheme(spec.url));
  if (it == defaults_.end()) return;
  for (const auto& [key, value] : it->second) spec.settings.emplace(key, value);
}

}  // namespace eddy::engine
