#include "engine/destination_registry.h"

#include <algorithm>

#include "engine/sink_config.h"
#include "format/renderer.h"

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

void DestinationRegistry::AddOwnFormat(std::string scheme, std::string format) {
  own_formats_[std::move(scheme)].push_back(std::move(format));
}

Result<consume::SinkSpec> DestinationRegistry::RunnerSpec(const consume::SinkSpec& spec) const {
  auto own = own_formats_.find(UrlScheme(spec.url));
  auto format = spec.settings.find("format");
  if (own == own_formats_.end() || format == spec.settings.end()) return spec;
  const std::vector<std::string>& formats = own->second;
  if (std::find(formats.begin(), formats.end(), format->second) != formats.end()) {
    consume::SinkSpec runner = spec;
    runner.settings.erase("format");
    return runner;
  }
  auto names = format::RendererNames();
  if (std::find(names.begin(), names.end(), format->second) != names.end()) return spec;
  std::string allowed;
  for (std::string_view name : names) allowed += std::string(name) + ", ";
  for (size_t i = 0; i < formats.size(); ++i) {
    allowed +=
        (i + 1 == formats.size() ? "or " : "") + formats[i] + (i + 1 == formats.size() ? "" : ", ");
  }
  return InvalidArgument("sink '" + spec.name + "' setting format = '" +
                         format->second.substr(0, 100) + "': must be one of " + allowed);
}

}  // namespace eddy::engine
