#include "sink/objects/prefix_expression.h"

#include <ctime>

namespace eddy::sink::objects {

namespace {

bool IsFieldChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

std::string Shown(std::string_view text) {
  std::string shown;
  for (char c : text.substr(0, 120)) {
    unsigned char u = static_cast<unsigned char>(c);
    shown.push_back(u < 0x20 || u == 0x7F ? '?' : c);
  }
  return shown;
}

void AppendPadded(std::string* out, int value, int width) {
  std::string digits = std::to_string(value);
  if (static_cast<int>(digits.size()) < width) out->append(width - digits.size(), '0');
  out->append(digits);
}

}  // namespace

std::string EscapePartitionValue(std::string_view value) {
  if (value.empty()) return std::string(kHiveDefaultPartition);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' ||
        c == '_' || c == '~' || c == '.') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  if (out == "." || out == "..") {
    std::string dots;
    for (size_t i = 0; i < out.size(); ++i) dots += "%2E";
    return dots;
  }
  return out;
}

Result<std::vector<PrefixExpression::TimePart>> PrefixExpression::ParseTimestampPattern(
    std::string_view pattern, std::string_view setting) {
  auto invalid = [&](std::string what) {
    return InvalidArgument("setting '" + std::string(setting) + "': !{timestamp:" + Shown(pattern) +
                           "} " + what +
                           "; use the letters yyyy, yy, MM, dd, HH, mm, ss and 'quoted text', "
                           "like !{timestamp:yyyy/MM/dd/HH/}");
  };
  if (pattern.empty()) return invalid("has an empty pattern");
  std::vector<TimePart> parts;
  auto literal = [&](std::string_view text) {
    if (!parts.empty() && parts.back().token == TimeToken::kLiteral) {
      parts.back().literal += text;
    } else {
      parts.push_back(TimePart{TimeToken::kLiteral, std::string(text)});
    }
  };
  size_t i = 0;
  while (i < pattern.size()) {
    char c = pattern[i];
    if (c == '\'') {
      if (i + 1 < pattern.size() && pattern[i + 1] == '\'') {
        literal("'");
        i += 2;
        continue;
      }
      size_t end = pattern.find('\'', i + 1);
      if (end == std::string_view::npos) return invalid("has an unclosed quote");
      literal(pattern.substr(i + 1, end - i - 1));
      i = end + 1;
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      literal(pattern.substr(i, 1));
      ++i;
      continue;
    }
    size_t run = i;
    while (run < pattern.size() && pattern[run] == c) ++run;
    std::string_view letters = pattern.substr(i, run - i);
    TimeToken token;
    if (letters == "yyyy" || letters == "uuuu") {
      token = TimeToken::kYear4;
    } else if (letters == "yy" || letters == "uu") {
      token = TimeToken::kYear2;
    } else if (letters == "MM") {
      token = TimeToken::kMonth;
    } else if (letters == "dd") {
      token = TimeToken::kDay;
    } else if (letters == "HH") {
      token = TimeToken::kHour;
    } else if (letters == "mm") {
      token = TimeToken::kMinute;
    } else if (letters == "ss") {
      token = TimeToken::kSecond;
    } else {
      return invalid("uses '" + std::string(letters) + "', which eddy does not format");
    }
    parts.push_back(TimePart{token, ""});
    i = run;
  }
  return parts;
}

Result<PrefixExpression> PrefixExpression::Parse(std::string_view text, PrefixKind kind,
                                                 std::string_view setting) {
  auto invalid = [&](std::string what) {
    return InvalidArgument("setting '" + std::string(setting) + "' = '" + Shown(text) +
                           "': " + what);
  };
  if (text.size() > kMaxPrefixBytes) {
    return invalid("longer than 512 characters (Firehose's limit); shorten it");
  }
  PrefixExpression expression;
  expression.text_ = std::string(text);
  bool has_error_type = false;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = text.find("!{", i);
    std::string_view literal =
        text.substr(i, start == std::string_view::npos ? text.npos : start - i);
    for (char c : literal) {
      unsigned char u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7F || c == '\\') {
        return invalid("contains a control character or a backslash; keys are '/'-separated");
      }
    }
    if (!literal.empty())
      expression.parts_.push_back(Part{PartKind::kLiteral, std::string(literal), {}});
    if (start == std::string_view::npos) break;
    size_t end = text.find('}', start);
    if (end == std::string_view::npos) {
      return invalid("an expression '!{' is not closed with '}'");
    }
    std::string_view body = text.substr(start + 2, end - start - 2);
    size_t colon = body.find(':');
    if (colon == std::string_view::npos) {
      return invalid("'!{" + Shown(body) +
                     "}' is not NAMESPACE:ARGUMENT; use !{timestamp:yyyy/MM/dd}, "
                     "!{partitionKeyFromQuery:NAME} or !{firehose:error-output-type}");
    }
    std::string_view name_space = body.substr(0, colon);
    std::string_view argument = body.substr(colon + 1);
    if (name_space == "timestamp") {
      EDDY_ASSIGN_OR_RETURN(auto time, ParseTimestampPattern(argument, setting));
      expression.parts_.push_back(
          Part{PartKind::kTimestamp, std::string(argument), std::move(time)});
      expression.has_timestamp_ = true;
    } else if (name_space == "partitionKeyFromQuery") {
      if (kind == PrefixKind::kError) {
        return invalid(
            "error_prefix cannot use !{partitionKeyFromQuery:...} (Firehose's rule: "
            "failed records may lack the field); remove it");
      }
      bool valid = !argument.empty() && argument.front() != '.' && argument.back() != '.' &&
                   argument.find("..") == std::string_view::npos;
      for (char c : argument) valid = valid && IsFieldChar(c);
      if (!valid) {
        return invalid("'!{partitionKeyFromQuery:" + Shown(argument) +
                       "}' does not name a record field; use a dotted path of letters, digits, "
                       "'_' and '-', like source.table or after.region");
      }
      expression.parts_.push_back(Part{PartKind::kField, std::string(argument), {}});
      bool seen = false;
      for (const auto& field : expression.fields_) seen = seen || field == argument;
      if (!seen) expression.fields_.emplace_back(argument);
    } else if (name_space == "firehose") {
      if (argument == "error-output-type") {
        if (kind != PrefixKind::kError) {
          return invalid("!{firehose:error-output-type} belongs in error_prefix only");
        }
        expression.parts_.push_back(Part{PartKind::kErrorOutputType, "", {}});
        has_error_type = true;
      } else if (argument == "random-string") {
        return invalid(
            "!{firehose:random-string} would give a retried flush a new key (a "
            "duplicate object); eddy names objects from the log range they hold, so "
            "remove it");
      } else {
        return invalid("'!{firehose:" + Shown(argument) +
                       "}' is unknown; the firehose namespace has error-output-type");
      }
    } else if (name_space == "partitionKeyFromLambda") {
      return invalid(
          "!{partitionKeyFromLambda:...} needs a Lambda transform, which eddy does "
          "not run; use !{partitionKeyFromQuery:FIELD} with a record field");
    } else {
      return invalid("the namespace '" + Shown(name_space) +
                     "' is unknown; use timestamp, partitionKeyFromQuery or firehose");
    }
    i = end + 1;
  }
  if (kind == PrefixKind::kError && !has_error_type) {
    return invalid(
        "error_prefix must contain !{firehose:error-output-type} (Firehose's rule), "
        "like errors/!{firehose:error-output-type}/");
  }
  return expression;
}

Result<std::string> PrefixExpression::Evaluate(int64_t arrival_nanos, const FieldLookup& fields,
                                               std::string_view error_output_type) const {
  std::string out;
  std::tm utc{};
  bool have_time = false;
  for (const Part& part : parts_) {
    switch (part.kind) {
      case PartKind::kLiteral:
        out += part.text;
        break;
      case PartKind::kErrorOutputType:
        out += error_output_type;
        break;
      case PartKind::kField: {
        auto value = fields(part.text);
        if (!value.ok()) {
          return InvalidArgument("!{partitionKeyFromQuery:" + part.text +
                                 "}: " + value.status().message());
        }
        out +=
            value->has_value() ? EscapePartitionValue(**value) : std::string(kHiveDefaultPartition);
        break;
      }
      case PartKind::kTimestamp: {
        if (!have_time) {
          int64_t seconds = arrival_nanos >= 0 ? arrival_nanos / 1'000'000'000
                                               : (arrival_nanos + 1) / 1'000'000'000 - 1;
          std::time_t time = static_cast<std::time_t>(seconds);
          if (gmtime_r(&time, &utc) == nullptr) {
            return InvalidArgument("the arrival time " + std::to_string(arrival_nanos) +
                                   " cannot be formatted");
          }
          have_time = true;
        }
        for (const TimePart& token : part.time) {
          switch (token.token) {
            case TimeToken::kLiteral:
              out += token.literal;
              break;
            case TimeToken::kYear4:
              AppendPadded(&out, utc.tm_year + 1900, 4);
              break;
            case TimeToken::kYear2:
              AppendPadded(&out, (utc.tm_year + 1900) % 100, 2);
              break;
            case TimeToken::kMonth:
              AppendPadded(&out, utc.tm_mon + 1, 2);
              break;
            case TimeToken::kDay:
              AppendPadded(&out, utc.tm_mday, 2);
              break;
            case TimeToken::kHour:
              AppendPadded(&out, utc.tm_hour, 2);
              break;
            case TimeToken::kMinute:
              AppendPadded(&out, utc.tm_min, 2);
              break;
            case TimeToken::kSecond:
              AppendPadded(&out, utc.tm_sec, 2);
              break;
          }
        }
        break;
      }
    }
  }
  if (out.size() > kMaxPrefixBytes) {
    return InvalidArgument("the prefix '" + Shown(out) +
                           "...' is longer than 512 bytes after evaluation (Firehose's limit)");
  }
  return out;
}

}  // namespace eddy::sink::objects
