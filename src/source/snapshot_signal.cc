#include "source/snapshot_signal.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <random>
#include <thread>

#include "format/json.h"

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

namespace {

std::string JsonString(std::string_view text) {
  std::string out;
  format::AppendJsonString(out, text);
  return out;
}

// How often a submitter looks at the request directory (the capture looks twice a second).
constexpr auto kRequestPoll = std::chrono::milliseconds(50);

}  // namespace

std::string SnapshotRequestData(const std::vector<std::string>& tables, std::string_view where) {
  std::string data = "{\"data-collections\": [";
  for (size_t i = 0; i < tables.size(); ++i) {
    data += (i > 0 ? ", " : "") + JsonString(tables[i]);
  }
  data += "], \"type\": \"incremental\"";
  if (!where.empty()) {
    data += ", \"additional-conditions\": [";
    for (size_t i = 0; i < tables.size(); ++i) {
      data += std::string(i > 0 ? ", " : "") + "{\"data-collection\": " + JsonString(tables[i]) +
              ", \"filter\": " + JsonString(where) + "}";
    }
    data += "]";
  }
  return data + "}";
}

Result<std::string> SubmitSnapshotRequest(io::FileSystem* fs, const std::string& capture_dir,
                                          const std::string& data,
                                          std::chrono::milliseconds timeout) {
  EDDY_RETURN_IF_ERROR(ParseSnapshotSignal("request", "execute-snapshot", data).status());
  Result<bool> exists = fs->IsDirectory(capture_dir);
  if (!exists.ok() || !*exists) {
    return NotFound(capture_dir +
                    " does not exist: no capture of this stream ran on this data "
                    "directory");
  }
  std::string directory = io::JoinPath(capture_dir, std::string(kSnapshotRequestDirectory));
  EDDY_RETURN_IF_ERROR(fs->CreateDirectories(directory));
  std::string id =
      fmt::format("{:x}-{:08x}", std::chrono::system_clock::now().time_since_epoch().count(),
                  std::random_device{}());
  auto path = [&](std::string_view suffix) {
    return io::JoinPath(directory, id + std::string(suffix));
  };
  EDDY_RETURN_IF_ERROR(fs->WriteFileAtomically(path(kRequestSuffix), data));
  auto present = [&](std::string_view suffix) {
    Result<bool> found = fs->Exists(path(suffix));
    return found.ok() && *found;
  };
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!present(kAcceptedSuffix) && !present(kDoneSuffix)) {
    if (present(kRejectedSuffix)) {
      Result<std::string> reason = fs->ReadFile(path(kRejectedSuffix));
      std::string text = reason.ok() ? *reason : reason.status().message();
      while (!text.empty() && text.back() == '\n') text.pop_back();
      return InvalidArgument("the capture rejected request " + id + ": " + text);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      Status removed = fs->Remove(path(kRequestSuffix));
      if (removed.ok()) {
        return Unavailable("no running capture took the request within " +
                           std::to_string(timeout.count()) +
                           " ms (is `eddy run` running on this data directory?); the request "
                           "is withdrawn");
      }
      if (present(kAcceptedSuffix) || present(kDoneSuffix)) break;  // taken just now
      return removed;
    }
    std::this_thread::sleep_for(kRequestPoll);  // polling the directory up to the deadline
  }
  return id;
}

std::string SnapshotRequestState(io::FileSystem* fs, const std::string& capture_dir,
                                 const std::string& id) {
  std::string directory = io::JoinPath(capture_dir, std::string(kSnapshotRequestDirectory));
  const std::pair<std::string_view, const char*> states[] = {{kDoneSuffix, "done"},
                                                             {kAcceptedSuffix, "accepted"},
                                                             {kRejectedSuffix, "rejected"},
                                                             {kRequestSuffix, "pending"}};
  for (const auto& [suffix, name] : states) {
    Result<bool> found = fs->Exists(io::JoinPath(directory, id + std::string(suffix)));
    if (found.ok() && *found) return name;
  }
  return "";
}

}  // namespace eddy::source
