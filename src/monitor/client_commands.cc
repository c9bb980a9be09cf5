#include "monitor/client_commands.h"

namespace eddy::monitor {
namespace {

// A double-quoted Python string literal.
std::string PythonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// Kafka's topic names: characters outside [A-Za-z0-9._-] become '_' (the Kafka sink's rule,
// docs/sinks/kafka.md).
std::string TopicName(std::string_view text) {
  std::string out(text.substr(0, 249));
  for (char& c : out) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  return out;
}

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

std::string RegexEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '.' || c == '-') out += '\\';
    out += c;
  }
  return out;
}

// Query parameter `key` of `url`, percent-decoding nothing (the values the Kafka sink takes are
// host names and topic names).
std::string QueryValue(const std::string& url, std::string_view key) {
  size_t query = url.find('?');
  if (query == std::string::npos) return "";
  std::string_view rest(url);
  rest = rest.substr(query + 1);
  while (!rest.empty()) {
    std::string_view pair = rest.substr(0, rest.find('&'));
    rest = pair.size() < rest.size() ? rest.substr(pair.size() + 1) : std::string_view();
    if (pair.substr(0, pair.find('=')) == key && pair.find('=') != std::string_view::npos) {
      return std::string(pair.substr(pair.find('=') + 1));
    }
  }
  return "";
}

}  // namespace

std::string ShellQuote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

KafkaPublisher KafkaPublisherOf(const std::string& sink, const std::string& url,
                                const std::map<std::string, std::string>& settings) {
  KafkaPublisher publisher;
  publisher.sink = sink;
  auto setting = [&](const char* key) {
    auto it = settings.find(key);
    return it != settings.end() ? it->second : QueryValue(url, key);
  };
  publisher.bootstrap_servers = setting("bootstrap_servers");
  if (publisher.bootstrap_servers.empty() && url.rfind("kafka://", 0) == 0) {
    std::string rest = url.substr(8);
    publisher.bootstrap_servers = rest.substr(0, rest.find_first_of("/?"));
  }
  publisher.topic_prefix = setting("topic_prefix");
  publisher.topic = setting("topic");
  return publisher;
}

std::vector<ClientCommand> StreamClientCommands(const StreamClientsInput& input) {
  std::vector<ClientCommand> out;
  const std::string aws = "aws --endpoint-url " + ShellQuote(input.endpoint) + " --region " +
                          ShellQuote(input.region) + " kinesis ";
  const std::string stream = ShellQuote(input.stream);
  out.push_back({"aws",
                 "List the stream's shards (any AWS credentials in the environment work "
                 "unless this eddy requires its own)",
                 aws + "list-shards --stream-name " + stream});
  out.push_back(
      {"aws", "Read up to 100 records of each shard from the oldest (Data is base64)",
       "for shard in $(" + aws + "list-shards --stream-name " + stream +
           " --query 'Shards[].ShardId' --output text); do " + aws +
           "get-records --limit 100 --shard-iterator \"$(" + aws +
           "get-shard-iterator --stream-name " + stream +
           " --shard-id \"$shard\" --shard-iterator-type TRIM_HORIZON --query ShardIterator "
           "--output text)\"; done"});
  std::string python =
      "python3 - <<'EOF'\nimport boto3\nkinesis = boto3.client(\"kinesis\", "
      "endpoint_url=" +
      PythonString(input.endpoint) + ", region_name=" + PythonString(input.region) +
      ")\nstream = " + PythonString(input.stream) +
      "\nfor shard in kinesis.list_shards(StreamName=stream)[\"Shards\"]:\n"
      "    iterator = kinesis.get_shard_iterator(StreamName=stream, "
      "ShardId=shard[\"ShardId\"], ShardIteratorType=\"TRIM_HORIZON\")"
      "[\"ShardIterator\"]\n"
      "    for record in kinesis.get_records(ShardIterator=iterator, "
      "Limit=100)[\"Records\"]:\n"
      "        print(shard[\"ShardId\"], record[\"SequenceNumber\"], "
      "record[\"Data\"].decode())\nEOF";
  out.push_back(
      {"boto3", "Read up to 100 records of each shard from the oldest, with boto3", python});
  for (const auto& kafka : input.kafka) {
    if (kafka.bootstrap_servers.empty()) continue;
    const std::string brokers = ShellQuote(kafka.bootstrap_servers);
    const std::string read =
        "kcat -C -b " + brokers + " -o beginning -e -q -X isolation.level=read_committed -t ";
    std::string tmpl = kafka.topic.empty() ? "{prefix}.{schema}.{table}" : kafka.topic;
    bool per_table = tmpl.find("{table}") != std::string::npos ||
                     tmpl.find("{schema}") != std::string::npos ||
                     tmpl.find("{database}") != std::string::npos;
    if (!per_table) {
      std::string topic = tmpl;
      ReplaceAll(topic, "{prefix}", kafka.topic_prefix);
      out.push_back({"kcat", "Read the topic sink " + kafka.sink + " publishes to",
                     read + ShellQuote(TopicName(topic))});
      continue;
    }
    out.push_back({"kcat", "List the Kafka cluster's topics (sink " + kafka.sink + ")",
                   "kcat -L -b " + brokers});
    if (input.tables.empty()) {
      // The topics' common beginning: the template up to its first per-table placeholder.
      std::string prefix = tmpl;
      ReplaceAll(prefix, "{prefix}", kafka.topic_prefix);
      prefix = prefix.substr(0, prefix.find('{'));
      out.push_back({"kcat",
                     "Read every table's topic of sink " + kafka.sink +
                         " (a consumer group subscribed by pattern)",
                     "kcat -b " + brokers +
                         " -G eddy-console -X auto.offset.reset=earliest "
                         "-X isolation.level=read_committed " +
                         ShellQuote("^" + RegexEscape(TopicName(prefix)) + ".*")});
      continue;
    }
    for (const auto& table : input.tables) {
      size_t dot = table.find('.');
      std::string schema = dot == std::string::npos ? "" : table.substr(0, dot);
      std::string name = dot == std::string::npos ? table : table.substr(dot + 1);
      std::string topic = tmpl;
      ReplaceAll(topic, "{prefix}", kafka.topic_prefix);
      ReplaceAll(topic, "{schema}", schema);
      ReplaceAll(topic, "{database}", schema);
      ReplaceAll(topic, "{table}", name);
      out.push_back({"kcat", "Read table " + table + " from sink " + kafka.sink + "'s topic",
                     read + ShellQuote(TopicName(topic))});
    }
  }
  return out;
}

}  // namespace eddy::monitor
