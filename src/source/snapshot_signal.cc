#include "source/snapshot_signal.h"

#include <simdjson.h>

namespace eddy::source {
namespace {

Status Bad(std::string_view origin, std::string_view type, const std::string& what) {
  return InvalidArgument("signal " + std::string(origin) + " (" + std::string(type) + "): " + what);
}

// The string array `key` of `object` (absent: empty).
Result<std::vector<std::string>> Strings(const simdjson::dom::object& object, const char* key,
                                         std::string_view origin, std::string_view type) {
  std::vector<std::string> out;
  simdjson::dom::element element;
  if (object.at_key(key).get(element) != simdjson::SUCCESS) return out;
  simdjson::dom::array array;
  if (element.get_array().get(array) != simdjson::SUCCESS) {
    return Bad(origin, type, std::string("\"") + key + "\" must be an array of table names");
  }
  for (simdjson::dom::element item : array) {
    std::string_view text;
    if (item.get_string().get(text) != simdjson::SUCCESS || text.empty()) {
      return Bad(origin, type,
                 std::string("\"") + key + "\" must hold non-empty strings (table names)");
    }
    out.emplace_back(text);
  }
  return out;
}

Status CheckType(const simdjson::dom::object& object, std::string_view origin,
                 std::string_view type) {
  std::string_view snapshot_type;
  simdjson::dom::element element;
  if (object.at_key("type").get(element) != simdjson::SUCCESS) return Status::Ok();
  if (element.get_string().get(snapshot_type) != simdjson::SUCCESS) {
    return Bad(origin, type, "\"type\" must be a string");
  }
  std::string lower;
  for (char c : snapshot_type) lower.push_back(static_cast<char>(std::tolower(c)));
  if (lower != "incremental") {
    return Bad(origin, type,
               "snapshot type \"" + std::string(snapshot_type) +
                   "\" is not supported: only \"incremental\" snapshots run on demand");
  }
  return Status::Ok();
}

}  // namespace

Result<SnapshotSignal> ParseSnapshotSignal(std::string_view origin, std::string_view type,
                                           std::string_view data) {
  SnapshotSignal signal;
  if (type == "pause-snapshot" || type == "resume-snapshot") {
    signal.kind = SnapshotSignal::Kind::kControl;
    signal.control.kind =
        type == "pause-snapshot" ? SnapshotControl::Kind::kPause : SnapshotControl::Kind::kResume;
    signal.control.origin = std::string(origin);
    return signal;
  }
  if (type != "execute-snapshot" && type != "stop-snapshot" && type != "log") {
    return Bad(origin, type,
               "unknown signal type; expected execute-snapshot, stop-snapshot, "
               "pause-snapshot, resume-snapshot or log");
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object object;
  bool empty = data.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (empty && type == "stop-snapshot") {
    signal.kind = SnapshotSignal::Kind::kControl;
    signal.control.kind = SnapshotControl::Kind::kStop;
    signal.control.origin = std::string(origin);
    return signal;
  }
  if (empty || parser.parse(data.data(), data.size()).get(root) != simdjson::SUCCESS ||
      root.get_object().get(object) != simdjson::SUCCESS) {
    return Bad(origin, type, "data is not a JSON object");
  }
  if (type == "log") {
    std::string_view message;
    if (object.at_key("message").get_string().get(message) != simdjson::SUCCESS) {
      return Bad(origin, type, "data needs a string \"message\"");
    }
    signal.kind = SnapshotSignal::Kind::kLog;
    signal.message = std::string(message);
    return signal;
  }
  EDDY_RETURN_IF_ERROR(CheckType(object, origin, type));
  EDDY_ASSIGN_OR_RETURN(std::vector<std::string> tables,
                        Strings(object, "data-collections", origin, type));
  if (type == "stop-snapshot") {
    signal.kind = SnapshotSignal::Kind::kControl;
    signal.control.kind = SnapshotControl::Kind::kStop;
    signal.control.origin = std::string(origin);
    signal.control.tables = std::move(tables);
    return signal;
  }
  if (tables.empty()) {
    return Bad(origin, type, "\"data-collections\" must name at least one table");
  }
  signal.kind = SnapshotSignal::Kind::kExecute;
  signal.request.origin = std::string(origin);
  signal.request.tables = std::move(tables);
  simdjson::dom::element conditions;
  if (object.at_key("additional-conditions").get(conditions) == simdjson::SUCCESS) {
    simdjson::dom::array array;
    if (conditions.get_array().get(array) != simdjson::SUCCESS) {
      return Bad(origin, type, "\"additional-conditions\" must be an array of objects");
    }
    for (simdjson::dom::element item : array) {
      std::string_view table;
      std::string_view filter;
      if (item.at_key("data-collection").get_string().get(table) != simdjson::SUCCESS ||
          item.at_key("filter").get_string().get(filter) != simdjson::SUCCESS || table.empty() ||
          filter.empty()) {
        return Bad(origin, type,
                   "each additional condition needs a \"data-collection\" and a \"filter\" "
                   "(strings)");
      }
      signal.request.conditions.emplace_back(std::string(table), std::string(filter));
    }
  }
  return signal;
}

}  // namespace eddy::source
