#include "engine/runtime_sinks.h"

#include <fmt/format.h>

#include "base/line_file.h"

namespace eddy::engine {
namespace {

void AppendSettings(std::string& out, const std::map<std::string, std::string>& settings) {
  for (const auto& [key, value] : settings) {
    out += "setting";
    AppendEscapedField(out, key);
    AppendEscapedField(out, value);
    out += '\n';
  }
}

}  // namespace

std::string EncodeRuntimeResources(const RuntimeResources& resources) {
  bool sinks_only = resources.sources.empty() && resources.streams.empty();
  std::string out = fmt::format("{} {}\n", kRuntimeSinksMagic,
                                sinks_only ? kRuntimeSinksVersion : kRuntimeResourcesVersion);
  for (const auto& source : resources.sources) {
    out += "source";
    AppendEscapedField(out, source.name);
    AppendEscapedField(out, source.url);
    out += '\n';
    AppendSettings(out, source.settings);
  }
  for (const auto& stream : resources.streams) {
    out += "stream";
    AppendEscapedField(out, stream.name);
    AppendEscapedField(out, stream.source);
    out += '\n';
    AppendSettings(out, stream.settings);
  }
  for (const auto& sink : resources.sinks) {
    out += "sink";
    AppendEscapedField(out, sink.name);
    AppendEscapedField(out, sink.stream);
    AppendEscapedField(out, sink.url);
    out += '\n';
    AppendSettings(out, sink.settings);
  }
  AppendCrcTrailer(out);
  return out;
}

std::string EncodeRuntimeSinks(const std::vector<consume::SinkSpec>& sinks) {
  RuntimeResources resources;
  resources.sinks = sinks;
  return EncodeRuntimeResources(resources);
}

Result<RuntimeResources> DecodeRuntimeResources(std::string_view text, std::string_view where) {
  auto corrupt = [&](size_t line_number, std::string_view what) {
    return Corruption(fmt::format(
        "{} line {}: {}; the file lists the sources, streams and sinks created at run time: "
        "restore it from a backup, or remove it (they are then gone; sink checkpoints stay in "
        "consumers/, streams in the log)",
        where, line_number, what));
  };
  if (text.size() > kMaxRuntimeSinksBytes) return corrupt(0, "larger than the 16 MiB limit");
  Result<std::string_view> checked = BodyBeforeCrcTrailer(text);
  if (!checked.ok()) return corrupt(0, checked.status().message());
  std::string_view body = *checked;

  RuntimeResources resources;
  // Where the next setting line goes: the settings of the last source, stream or sink line.
  std::map<std::string, std::string>* settings = nullptr;
  int version = 0;
  size_t line_number = 0;
  size_t begin = 0;
  while (begin < body.size()) {
    size_t end = body.find('\n', begin);
    if (end == std::string_view::npos) return corrupt(line_number + 1, "no line end");
    std::string_view line = body.substr(begin, end - begin);
    begin = end + 1;
    ++line_number;
    std::vector<std::string_view> fields = SplitEscapedFields(line);
    if (line_number == 1) {
      for (int candidate : {kRuntimeSinksVersion, kRuntimeResourcesVersion}) {
        if (line == fmt::format("{} {}", kRuntimeSinksMagic, candidate)) version = candidate;
      }
      if (version == 0) {
        return corrupt(line_number, fmt::format("expected '{} {}' or '{} {}' (another version "
                                                "of eddy?)",
                                                kRuntimeSinksMagic, kRuntimeSinksVersion,
                                                kRuntimeSinksMagic, kRuntimeResourcesVersion));
      }
      continue;
    }
    if (fields[0] == "source" && fields.size() == 3 && version >= kRuntimeResourcesVersion) {
      RuntimeSource source;
      if (!DecodeEscapedField(fields[1], &source.name) ||
          !DecodeEscapedField(fields[2], &source.url) || source.name.empty()) {
        return corrupt(line_number, "bad source line");
      }
      for (const auto& existing : resources.sources) {
        if (existing.name == source.name) return corrupt(line_number, "a source listed twice");
      }
      resources.sources.push_back(std::move(source));
      settings = &resources.sources.back().settings;
    } else if (fields[0] == "stream" && fields.size() == 3 && version >= kRuntimeResourcesVersion) {
      RuntimeStream stream;
      if (!DecodeEscapedField(fields[1], &stream.name) ||
          !DecodeEscapedField(fields[2], &stream.source) || stream.name.empty()) {
        return corrupt(line_number, "bad stream line");
      }
      for (const auto& existing : resources.streams) {
        if (existing.name == stream.name) return corrupt(line_number, "a stream listed twice");
      }
      resources.streams.push_back(std::move(stream));
      settings = &resources.streams.back().settings;
    } else if (fields[0] == "sink" && fields.size() == 4) {
      consume::SinkSpec spec;
      if (!DecodeEscapedField(fields[1], &spec.name) ||
          !DecodeEscapedField(fields[2], &spec.stream) ||
          !DecodeEscapedField(fields[3], &spec.url) || spec.name.empty()) {
        return corrupt(line_number, "bad sink line");
      }
      for (const auto& existing : resources.sinks) {
        if (existing.name == spec.name) return corrupt(line_number, "a sink listed twice");
      }
      resources.sinks.push_back(std::move(spec));
      settings = &resources.sinks.back().settings;
    } else if (fields[0] == "setting" && fields.size() == 3) {
      if (settings == nullptr) return corrupt(line_number, "a setting before any sink");
      std::string key, value;
      if (!DecodeEscapedField(fields[1], &key) || !DecodeEscapedField(fields[2], &value) ||
          key.empty()) {
        return corrupt(line_number, "bad setting line");
      }
      if (!settings->emplace(std::move(key), std::move(value)).second) {
        return corrupt(line_number, "a setting listed twice");
      }
    } else {
      return corrupt(line_number, "unknown line");
    }
  }
  if (line_number == 0) return corrupt(1, "no header line");
  return resources;
}

Result<std::vector<consume::SinkSpec>> DecodeRuntimeSinks(std::string_view text,
                                                          std::string_view where) {
  EDDY_ASSIGN_OR_RETURN(RuntimeResources resources, DecodeRuntimeResources(text, where));
  return std::move(resources.sinks);
}

Result<RuntimeResources> LoadRuntimeResources(io::FileSystem* fs, const std::string& data_dir) {
  std::string path = io::JoinPath(data_dir, std::string(kRuntimeSinksFile));
  EDDY_ASSIGN_OR_RETURN(bool exists, fs->Exists(path));
  if (!exists) return RuntimeResources();
  EDDY_ASSIGN_OR_RETURN(std::string text, fs->ReadFile(path));
  return DecodeRuntimeResources(text, path);
}

Status SaveRuntimeResources(io::FileSystem* fs, const std::string& data_dir,
                            const RuntimeResources& resources) {
  std::string path = io::JoinPath(data_dir, std::string(kRuntimeSinksFile));
  return fs->WriteFileAtomically(path, EncodeRuntimeResources(resources));
}

}  // namespace eddy::engine
