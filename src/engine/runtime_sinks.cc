#include "engine/runtime_sinks.h"

#include <fmt/format.h>

#include "base/crc32c.h"

namespace eddy::engine {
namespace {

void AppendField(std::string& out, std::string_view text) {
  out += ' ';
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte == '%' || byte < 0x21 || byte > 0x7e) {
      out += fmt::format("%{:02X}", byte);
    } else {
      out += c;
    }
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool DecodeField(std::string_view field, std::string* out) {
  out->clear();
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '%') {
      out->push_back(field[i]);
      continue;
    }
    if (i + 2 >= field.size()) return false;
    int high = HexValue(field[i + 1]);
    int low = HexValue(field[i + 2]);
    if (high < 0 || low < 0) return false;
    out->push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return true;
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t begin = 0;
  while (true) {
    size_t end = line.find(' ', begin);
    fields.push_back(line.substr(begin, end == std::string_view::npos ? end : end - begin));
    if (end == std::string_view::npos) break;
    begin = end + 1;
  }
  return fields;
}

}  // namespace

std::string EncodeRuntimeSinks(const std::vector<consume::SinkSpec>& sinks) {
  std::string out = fmt::format("{} {}\n", kRuntimeSinksMagic, kRuntimeSinksVersion);
  for (const auto& sink : sinks) {
    out += "sink";
    AppendField(out, sink.name);
    AppendField(out, sink.stream);
    AppendField(out, sink.url);
    out += '\n';
    for (const auto& [key, value] : sink.settings) {
      out += "setting";
      AppendField(out, key);
      AppendField(out, value);
      out += '\n';
    }
  }
  out += fmt::format("crc32c {:08x}\n", crc32c::Mask(crc32c::Value(out)));
  return out;
}

Result<std::vector<consume::SinkSpec>> DecodeRuntimeSinks(std::string_view text,
                                                          std::string_view where) {
  auto corrupt = [&](size_t line_number, std::string_view what) {
    return Corruption(fmt::format(
        "{} line {}: {}; the file lists the sinks created through the admin API: restore it "
        "from a backup, or remove it (those sinks are then gone; their checkpoints stay in "
        "consumers/)",
        where, line_number, what));
  };
  if (text.size() > kMaxRuntimeSinksBytes) return corrupt(0, "larger than the 16 MiB limit");
  size_t crc_line = text.rfind("crc32c ");
  if (crc_line == std::string_view::npos || (crc_line != 0 && text[crc_line - 1] != '\n')) {
    return corrupt(0, "no crc32c line (a torn write?)");
  }
  std::string_view crc_text = text.substr(crc_line + 7);
  if (crc_text.size() != 9 || crc_text.back() != '\n') return corrupt(0, "bad crc32c line");
  uint32_t stored = 0;
  for (char c : crc_text.substr(0, 8)) {
    int value = HexValue(c);
    if (value < 0) return corrupt(0, "bad crc32c line");
    stored = stored * 16 + static_cast<uint32_t>(value);
  }
  std::string_view body = text.substr(0, crc_line);
  if (crc32c::Mask(crc32c::Value(body)) != stored) return corrupt(0, "CRC mismatch");

  std::vector<consume::SinkSpec> sinks;
  size_t line_number = 0;
  size_t begin = 0;
  while (begin < body.size()) {
    size_t end = body.find('\n', begin);
    if (end == std::string_view::npos) return corrupt(line_number + 1, "no line end");
    std::string_view line = body.substr(begin, end - begin);
    begin = end + 1;
    ++line_number;
    std::vector<std::string_view> fields = SplitFields(line);
    if (line_number == 1) {
      if (line != fmt::format("{} {}", kRuntimeSinksMagic, kRuntimeSinksVersion)) {
        return corrupt(line_number, fmt::format("expected '{} {}' (another version of eddy?)",
                                                kRuntimeSinksMagic, kRuntimeSinksVersion));
      }
      continue;
    }
    if (fields[0] == "sink" && fields.size() == 4) {
      consume::SinkSpec spec;
      if (!DecodeField(fields[1], &spec.name) || !DecodeField(fields[2], &spec.stream) ||
          !DecodeField(fields[3], &spec.url) || spec.name.empty()) {
        return corrupt(line_number, "bad sink line");
      }
      for (const auto& existing : sinks) {
        if (existing.name == spec.name) return corrupt(line_number, "a sink listed twice");
      }
      sinks.push_back(std::move(spec));
    } else if (fields[0] == "setting" && fields.size() == 3) {
      if (sinks.empty()) return corrupt(line_number, "a setting before any sink");
      std::string key, value;
      if (!DecodeField(fields[1], &key) || !DecodeField(fields[2], &value) || key.empty()) {
        return corrupt(line_number, "bad setting line");
      }
      if (!sinks.back().settings.emplace(std::move(key), std::move(value)).second) {
        return corrupt(line_number, "a setting listed twice");
      }
    } else {
      return corrupt(line_number, "unknown line");
    }
  }
  if (line_number == 0) return corrupt(1, "no header line");
  return sinks;
}

Result<std::vector<consume::SinkSpec>> LoadRuntimeSinks(io::FileSystem* fs,
                                                        const std::string& data_dir) {
  std::string path = io::JoinPath(data_dir, std::string(kRuntimeSinksFile));
  EDDY_ASSIGN_OR_RETURN(bool exists, fs->Exists(path));
  if (!exists) return std::vector<consume::SinkSpec>();
  EDDY_ASSIGN_OR_RETURN(std::string text, fs->ReadFile(path));
  return DecodeRuntimeSinks(text, path);
}

Status SaveRuntimeSinks(io::FileSystem* fs, const std::string& data_dir,
                        const std::vector<consume::SinkSpec>& sinks) {
  std::string path = io::JoinPath(data_dir, std::string(kRuntimeSinksFile));
  return fs->WriteFileAtomically(path, EncodeRuntimeSinks(sinks));
}

}  // namespace eddy::engine
