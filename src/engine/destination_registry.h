// DestinationRegistry: the sink destinations this build has, by URL scheme. The engine owns
// one; app/ registers the destination modules (webhook+http, webhook+https, ...) before the
// engine starts, so the engine imports no sink module (layering: sinks sit above consume/,
// the wiring above them).
//
// Thread safety: Register before the engine starts; Create from the starting thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "consume/sink.h"
#include "consume/sink_runner.h"

namespace eddy::engine {

class DestinationRegistry {
 public:
  // kAlreadyExists when `scheme` is registered already.
  Status Register(std::string scheme, consume::DestinationFactory factory);
  // Builds the destination for `spec` by its URL's scheme. An unknown scheme is
  // kInvalidArgument naming the sink, the scheme and the schemes this build has.
  Result<std::unique_ptr<consume::Destination>> Create(const consume::SinkSpec& spec) const;
  std::vector<std::string> Schemes() const;
  // Defaults a destination gives the runner's settings (the Kafka sink's format is
  // debezium-schema, Kafka Connect's default); ApplyDefaults adds those `spec` leaves unset.
  void SetDefaults(std::string scheme, std::map<std::string, std::string> settings);
  void ApplyDefaults(consume::SinkSpec& spec) const;
  // A `format` a destination encodes itself instead of a renderer's (the objects sink's
  // `parquet`). For a sink whose format is one of its scheme's, the runner renders records in
  // its default format and the destination reads `format` from the spec.
  void AddOwnFormat(std::string scheme, std::string format);
  // The spec the runner's settings are parsed from: `spec` without an own `format` of its
  // scheme. kInvalidArgument when `format` is neither a renderer nor one of the scheme's own,
  // listing both.
  Result<consume::SinkSpec> RunnerSpec(const consume::SinkSpec& spec) const;

 private:
  std::map<std::string, consume::DestinationFactory, std::less<>> factories_;
  std::map<std::string, std::map<std::string, std::string>, std::less<>> defaults_;
  std::map<std::string, std::vector<std::string>, std::less<>> own_formats_;
};

// A sink's record filter, built from its `filter` setting (a Lambda filter pattern, in
// settings.filter); the spec tells which record shape the pattern is written against (a
// webhook's event=dynamodb matches the DynamoDB Streams shape).
using RecordFilter = std::function<bool(const consume::SinkRecord&)>;
using FilterFactory = std::function<Result<RecordFilter>(const consume::SinkSpec& spec,
                                                         const consume::SinkSettings& settings)>;

// What the engine's sinks take from the layers above it; app/ fills it in.
struct SinkServices {
  DestinationRegistry destinations;
  // Empty: a sink with a `filter` setting is a configuration error in this build.
  FilterFactory make_filter;
  // Delivers given-up records to an `on_failure` URL; empty: such URLs are errors.
  consume::FailureHandler failure_handler;
};

}  // namespace eddy::engine
