// The commands that read a stream with the clients its users already have: the aws CLI and
// boto3 (eddy's Kinesis-compatible API) and, when a Kafka sink publishes the stream, kcat.
// Shown in the console and returned by `GET /admin/v1/clients` (docs/admin-api.md).
//
// Every name that goes into a command is quoted for a POSIX shell (single quotes), so a
// command is safe to paste whatever the names hold; the endpoint is checked by the caller
// (engine/console_monitor.cc takes it from the request's Host header, or the API's port).
//
// Thread safety: pure functions.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace eddy::monitor {

struct KafkaPublisher {
  std::string sink;               // the Kafka sink's name
  std::string bootstrap_servers;  // "host:port[,host:port]"
  std::string topic_prefix;       // Debezium's topic.prefix
  std::string topic;              // the `topic` template setting; empty: <prefix>.<schema>.<table>
};

struct StreamClientsInput {
  std::string endpoint;  // "http://127.0.0.1:4567"
  std::string region;    // "us-east-1"
  std::string stream;
  std::vector<std::string> tables;  // "schema.table"; empty: every table
  std::vector<KafkaPublisher> kafka;
};

struct ClientCommand {
  std::string client;       // "aws", "boto3" or "kcat"
  std::string description;  // one line: what the command does
  std::string command;      // for a POSIX shell (bash, zsh)
};

std::vector<ClientCommand> StreamClientCommands(const StreamClientsInput& input);

// A Kafka sink's publisher settings from its URL (`kafka://HOST:PORT[,...]?topic_prefix=...`)
// and settings ([[sink]] keys win over the URL's query; `bootstrap_servers` for `type =
// "kafka"`).
KafkaPublisher KafkaPublisherOf(const std::string& sink, const std::string& url,
                                const std::map<std::string, std::string>& settings);

// `text` in single quotes for a POSIX shell ('it'\''s').
std::string ShellQuote(std::string_view text);

}  // namespace eddy::monitor
