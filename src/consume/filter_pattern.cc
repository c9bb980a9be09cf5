#include "consume/filter_pattern.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "format/json.h"

namespace eddy::consume {

namespace {

// A JSON value that keeps each number's spelling: EventBridge compares numbers in equality
// matchers by their text (300 is not 300.0) and in numeric matchers by value.
struct Json {
  enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  std::string text;  // a string's value or a number's spelling
  double number = 0;
  std::vector<Json> elements;                         // kArray
  std::vector<std::pair<std::string, Json>> members;  // kObject, in document order

  const Json* Find(std::string_view key) const {
    for (const auto& [name, value] : members) {
      if (name == key) return &value;
    }
    return nullptr;
  }
};

std::string_view TypeName(Json::Type type) {
  switch (type) {
    case Json::Type::kNull:
      return "null";
    case Json::Type::kBool:
      return "a boolean";
    case Json::Type::kNumber:
      return "a number";
    case Json::Type::kString:
      return "a string";
    case Json::Type::kArray:
      return "a list";
    case Json::Type::kObject:
      return "an object";
  }
  return "a value";
}

// Deeper documents are rejected (they would exhaust the stack), as format::MinifyJson does.
constexpr int kMaxDepth = 512;

bool Convert(simdjson::ondemand::value value, Json& out, int depth) {
  if (depth > kMaxDepth) return false;
  simdjson::ondemand::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return false;
  switch (type) {
    case simdjson::ondemand::json_type::object: {
      out.type = Json::Type::kObject;
      simdjson::ondemand::object object;
      if (value.get_object().get(object) != simdjson::SUCCESS) return false;
      for (auto field_result : object) {
        simdjson::ondemand::field field;
        if (std::move(field_result).get(field) != simdjson::SUCCESS) return false;
        std::string_view key;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS) return false;
        out.members.emplace_back(std::string(key), Json{});
        if (!Convert(field.value(), out.members.back().second, depth + 1)) return false;
      }
      return true;
    }
    case simdjson::ondemand::json_type::array: {
      out.type = Json::Type::kArray;
      simdjson::ondemand::array array;
      if (value.get_array().get(array) != simdjson::SUCCESS) return false;
      for (auto element_result : array) {
        simdjson::ondemand::value element;
        if (std::move(element_result).get(element) != simdjson::SUCCESS) return false;
        out.elements.emplace_back();
        if (!Convert(element, out.elements.back(), depth + 1)) return false;
      }
      return true;
    }
    case simdjson::ondemand::json_type::number: {
      out.type = Json::Type::kNumber;
      std::string_view raw = value.raw_json_token();
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\n' ||
                              raw.back() == '\r')) {
        raw.remove_suffix(1);
      }
      out.text = std::string(raw);
      return value.get_double().get(out.number) == simdjson::SUCCESS;
    }
    case simdjson::ondemand::json_type::string: {
      out.type = Json::Type::kString;
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS) return false;
      out.text = std::string(text);
      return true;
    }
    case simdjson::ondemand::json_type::boolean:
      out.type = Json::Type::kBool;
      return value.get_bool().get(out.boolean) == simdjson::SUCCESS;
    case simdjson::ondemand::json_type::null: {
      out.type = Json::Type::kNull;
      bool is_null = false;
      return value.is_null().get(is_null) == simdjson::SUCCESS && is_null;
    }
  }
  return false;
}

// One JSON value (any type at the top), or nullopt for text that is not exactly one (or
// nests deeper than kMaxDepth).
std::optional<Json> ParseJson(std::string_view text) {
  // Wrapped in a list so a scalar document is a value like any other.
  std::string wrapped;
  wrapped.reserve(text.size() + 2);
  wrapped += '[';
  wrapped += text;
  wrapped += ']';
  simdjson::padded_string padded(wrapped);
  thread_local simdjson::ondemand::parser parser;
  simdjson::ondemand::document document;
  if (parser.iterate(padded).get(document) != simdjson::SUCCESS) return std::nullopt;
  simdjson::ondemand::array array;
  if (document.get_array().get(array) != simdjson::SUCCESS) return std::nullopt;
  Json out;
  size_t count = 0;
  for (auto element_result : array) {
    simdjson::ondemand::value element;
    if (std::move(element_result).get(element) != simdjson::SUCCESS || ++count > 1) {
      return std::nullopt;
    }
    if (!Convert(element, out, 1)) return std::nullopt;
  }
  // Nothing may follow the one value ("1] [2" would otherwise pass as 1).
  if (count != 1 || document.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return std::nullopt;
  }
  return out;
}

enum class MatchKind : uint8_t {
  kEquals,
  kPrefix,
  kSuffix,
  kEqualsIgnoreCase,
  kAnythingBut,
  kNumeric,
  kExists,
};

struct Matcher {
  MatchKind kind = MatchKind::kEquals;
  Json literal;                // kEquals
  std::string text;            // kPrefix, kSuffix, kEqualsIgnoreCase; kAnythingBut's string test
  std::vector<Json> excluded;  // kAnythingBut with literals
  MatchKind but = MatchKind::kEquals;  // kAnythingBut: kEquals (excluded) or a string test
  bool has_lower = false, lower_inclusive = false, has_upper = false, upper_inclusive = false;
  double lower = 0, upper = 0;  // kNumeric
  bool exists = true;           // kExists
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool SameLiteral(const Json& literal, const Json& value) {
  if (literal.type != value.type) return false;
  switch (value.type) {
    case Json::Type::kNull:
      return true;
    case Json::Type::kBool:
      return literal.boolean == value.boolean;
    case Json::Type::kNumber:
    case Json::Type::kString:
      return literal.text == value.text;
    default:
      return false;
  }
}

bool StringTest(MatchKind kind, std::string_view text, const Json& value) {
  if (value.type != Json::Type::kString) return false;
  switch (kind) {
    case MatchKind::kPrefix:
      return value.text.starts_with(text);
    case MatchKind::kSuffix:
      return value.text.ends_with(text);
    case MatchKind::kEqualsIgnoreCase:
      return EqualsIgnoreCase(value.text, text);
    default:
      return false;
  }
}

}  // namespace

struct FilterPattern::Node {
  std::string name;  // the field this node tests (empty for a pattern's root)
  bool leaf = false;
  std::vector<Node> children;     // !leaf: every child must match
  std::vector<Matcher> matchers;  // leaf: any matcher may match
};

namespace {

using Node = FilterPattern::Node;

// `value` is null when the field is absent.
bool MatchOne(const Matcher& matcher, const Json* value) {
  if (matcher.kind == MatchKind::kExists) {
    return matcher.exists ? (value != nullptr && value->type != Json::Type::kObject)
                          : value == nullptr;
  }
  if (value == nullptr) return false;
  switch (matcher.kind) {
    case MatchKind::kEquals:
      return SameLiteral(matcher.literal, *value);
    case MatchKind::kPrefix:
    case MatchKind::kSuffix:
    case MatchKind::kEqualsIgnoreCase:
      return StringTest(matcher.kind, matcher.text, *value);
    case MatchKind::kAnythingBut:
      if (value->type == Json::Type::kObject || value->type == Json::Type::kArray) return false;
      if (matcher.but != MatchKind::kEquals) {
        return value->type == Json::Type::kString && !StringTest(matcher.but, matcher.text, *value);
      }
      return std::none_of(matcher.excluded.begin(), matcher.excluded.end(),
                          [&](const Json& excluded) { return SameLiteral(excluded, *value); });
    case MatchKind::kNumeric: {
      if (value->type != Json::Type::kNumber) return false;
      double n = value->number;
      if (matcher.has_lower && (matcher.lower_inclusive ? n < matcher.lower : n <= matcher.lower)) {
        return false;
      }
      if (matcher.has_upper && (matcher.upper_inclusive ? n > matcher.upper : n >= matcher.upper)) {
        return false;
      }
      return true;
    }
    case MatchKind::kExists:
      break;
  }
  return false;
}

bool MatchLeaf(const std::vector<Matcher>& matchers, const Json* value) {
  if (value != nullptr && value->type == Json::Type::kArray) {
    // A list in the record matches when any element does; `exists` sees the list itself.
    for (const Matcher& matcher : matchers) {
      if (matcher.kind == MatchKind::kExists && matcher.exists) return true;
    }
    for (const Json& element : value->elements) {
      if (MatchLeaf(matchers, &element)) return true;
    }
    return false;
  }
  return std::any_of(matchers.begin(), matchers.end(),
                     [&](const Matcher& matcher) { return MatchOne(matcher, value); });
}

bool MatchNode(const Node& node, const Json* value) {
  if (node.leaf) return MatchLeaf(node.matchers, value);
  if (value != nullptr && value->type == Json::Type::kArray) {
    for (const Json& element : value->elements) {
      if (MatchNode(node, &element)) return true;
    }
    return false;
  }
  const Json* object = value != nullptr && value->type == Json::Type::kObject ? value : nullptr;
  for (const Node& child : node.children) {
    if (!MatchNode(child, object != nullptr ? object->Find(child.name) : nullptr)) return false;
  }
  return true;
}

class PatternCompiler {
 public:
  explicit PatternCompiler(std::string where) : where_(std::move(where)) {}

  Status CompileObject(const Json& object, const std::string& path, Node& out) {
    if (object.members.empty()) {
      return Error(path,
                   "an empty object matches nothing specific; name fields with matcher "
                   "lists, like {\"status\":[\"paid\"]}");
    }
    for (const auto& [name, value] : object.members) {
      std::string child_path = path.empty() ? name : path + "." + name;
      Node child;
      child.name = name;
      if (value.type == Json::Type::kObject) {
        EDDY_RETURN_IF_ERROR(CompileObject(value, child_path, child));
      } else if (value.type == Json::Type::kArray) {
        child.leaf = true;
        if (value.elements.empty()) {
          return Error(child_path, "an empty list matches nothing; list at least one value");
        }
        for (const Json& element : value.elements) {
          Matcher matcher;
          EDDY_RETURN_IF_ERROR(CompileMatcher(element, child_path, matcher));
          child.matchers.push_back(std::move(matcher));
        }
      } else {
        return Error(child_path, "is " + std::string(TypeName(value.type)) +
                                     "; a field's value must be a list of matchers like "
                                     "[\"paid\"] or an object of nested fields");
      }
      out.children.push_back(std::move(child));
    }
    return Status::Ok();
  }

 private:
  Status Error(const std::string& path, std::string what) const {
    return InvalidArgument(where_ + (path.empty() ? "" : " field \"" + path + "\"") + ": " + what);
  }

  Status StringOperand(const Json& operand, const std::string& path, std::string_view op,
                       std::string& out) const {
    if (operand.type != Json::Type::kString) {
      return Error(path, "\"" + std::string(op) + "\" takes a string, not " +
                             std::string(TypeName(operand.type)));
    }
    out = operand.text;
    return Status::Ok();
  }

  Status CompileMatcher(const Json& element, const std::string& path, Matcher& out) {
    switch (element.type) {
      case Json::Type::kNull:
      case Json::Type::kBool:
      case Json::Type::kNumber:
      case Json::Type::kString:
        out.kind = MatchKind::kEquals;
        out.literal = element;
        return Status::Ok();
      case Json::Type::kArray:
        return Error(path,
                     "a list inside a matcher list is not a matcher; write the values in "
                     "one list");
      case Json::Type::kObject:
        break;
    }
    if (element.members.size() != 1) {
      return Error(path, "a matcher object has exactly one operator, like {\"prefix\":\"a\"}");
    }
    const auto& [op, operand] = element.members.front();
    if (op == "prefix" || op == "suffix" || op == "equals-ignore-case") {
      out.kind = op == "prefix"   ? MatchKind::kPrefix
                 : op == "suffix" ? MatchKind::kSuffix
                                  : MatchKind::kEqualsIgnoreCase;
      return StringOperand(operand, path, op, out.text);
    }
    if (op == "exists") {
      if (operand.type != Json::Type::kBool) {
        return Error(path, "\"exists\" takes true or false");
      }
      out.kind = MatchKind::kExists;
      out.exists = operand.boolean;
      return Status::Ok();
    }
    if (op == "anything-but") return CompileAnythingBut(operand, path, out);
    if (op == "numeric") return CompileNumeric(operand, path, out);
    return Error(path, "unknown operator \"" + op +
                           "\"; use prefix, suffix, equals-ignore-case, anything-but, numeric "
                           "or exists");
  }

  Status CompileAnythingBut(const Json& operand, const std::string& path, Matcher& out) {
    out.kind = MatchKind::kAnythingBut;
    auto literal_ok = [](const Json& value) {
      return value.type == Json::Type::kString || value.type == Json::Type::kNumber;
    };
    if (literal_ok(operand)) {
      out.excluded.push_back(operand);
      return Status::Ok();
    }
    if (operand.type == Json::Type::kArray) {
      if (operand.elements.empty()) {
        return Error(path, "\"anything-but\" needs at least one value");
      }
      for (const Json& value : operand.elements) {
        if (!literal_ok(value)) {
          return Error(path, "\"anything-but\" lists strings or numbers, not " +
                                 std::string(TypeName(value.type)));
        }
        out.excluded.push_back(value);
      }
      return Status::Ok();
    }
    if (operand.type == Json::Type::kObject && operand.members.size() == 1) {
      const auto& [op, text] = operand.members.front();
      if (op == "prefix" || op == "suffix" || op == "equals-ignore-case") {
        out.but = op == "prefix"   ? MatchKind::kPrefix
                  : op == "suffix" ? MatchKind::kSuffix
                                   : MatchKind::kEqualsIgnoreCase;
        return StringOperand(text, path, "anything-but " + op, out.text);
      }
    }
    return Error(path,
                 "\"anything-but\" takes a string, a number, a list of them, or "
                 "{\"prefix\"|\"suffix\"|\"equals-ignore-case\": \"text\"}");
  }

  Status CompileNumeric(const Json& operand, const std::string& path, Matcher& out) {
    out.kind = MatchKind::kNumeric;
    auto usage = [&](std::string what) {
      return Error(path, "\"numeric\" " + what +
                             "; write [\"=\", 5], [\">\", 0], [\">=\", 0, \"<\", 10] (operators "
                             "=, <, <=, >, >=)");
    };
    if (operand.type != Json::Type::kArray || operand.elements.empty() ||
        operand.elements.size() % 2 != 0 || operand.elements.size() > 4) {
      return usage("takes a list of one or two operator-number pairs");
    }
    for (size_t i = 0; i < operand.elements.size(); i += 2) {
      const Json& op = operand.elements[i];
      const Json& number = operand.elements[i + 1];
      if (op.type != Json::Type::kString)
        return usage("needs an operator string before each number");
      if (number.type != Json::Type::kNumber) {
        return usage("compares with numbers, and \"" + op.text + "\" is followed by " +
                     std::string(TypeName(number.type)));
      }
      if (op.text == "=") {
        if (operand.elements.size() != 2) return usage("\"=\" stands alone");
        out.has_lower = out.has_upper = out.lower_inclusive = out.upper_inclusive = true;
        out.lower = out.upper = number.number;
      } else if (op.text == ">" || op.text == ">=") {
        if (out.has_lower) return usage("has two lower bounds");
        out.has_lower = true;
        out.lower_inclusive = op.text == ">=";
        out.lower = number.number;
      } else if (op.text == "<" || op.text == "<=") {
        if (out.has_upper) return usage("has two upper bounds");
        out.has_upper = true;
        out.upper_inclusive = op.text == "<=";
        out.upper = number.number;
      } else {
        return usage("has the unknown operator \"" + op.text + "\"");
      }
    }
    return Status::Ok();
  }

  std::string where_;
};

// {"Filters":[{"Pattern":"..."}, ...]}: exactly that shape, so a pattern on a record field
// named Filters (whose value would be a matcher list) is never taken for it.
bool IsFilterCriteria(const Json& value) {
  if (value.type != Json::Type::kObject || value.members.size() != 1 ||
      value.members.front().first != "Filters") {
    return false;
  }
  const Json& filters = value.members.front().second;
  if (filters.type != Json::Type::kArray || filters.elements.empty()) return false;
  for (const Json& filter : filters.elements) {
    if (filter.type != Json::Type::kObject || filter.members.size() != 1 ||
        filter.members.front().first != "Pattern" ||
        filter.members.front().second.type != Json::Type::kString) {
      return false;
    }
  }
  return true;
}

const format::Renderer& DynamoDbRenderer() {
  static const std::unique_ptr<format::Renderer> renderer =
      std::move(format::MakeRenderer("dynamodb")).value();
  return *renderer;
}

}  // namespace

Result<FilterPattern> FilterPattern::Parse(std::string_view json_array_or_object,
                                           FilterOptions options) {
  constexpr std::string_view kShape =
      "a filter is a pattern object like {\"data\":{\"op\":[\"c\",\"u\"]}} or a list of up to 5 "
      "of them";
  std::optional<Json> parsed = ParseJson(json_array_or_object);
  if (!parsed)
    return InvalidArgument("filter is not valid JSON (or nests deeper than " +
                           std::to_string(kMaxDepth) + " levels); " + std::string(kShape));
  // Lambda's FilterCriteria as CloudFormation and the API write it,
  // {"Filters":[{"Pattern":"<pattern as a JSON string>"}, ...]}, is accepted as well.
  std::vector<Json> unwrapped;
  if (IsFilterCriteria(*parsed)) {
    const std::vector<Json>& filters = parsed->members.front().second.elements;
    unwrapped.reserve(filters.size());
    for (const Json& filter : filters) {
      std::optional<Json> pattern = ParseJson(filter.members.front().second.text);
      if (!pattern) {
        return InvalidArgument("filter: Filters[" + std::to_string(unwrapped.size()) +
                               "].Pattern is not valid JSON; " + std::string(kShape));
      }
      unwrapped.push_back(std::move(*pattern));
    }
    Json list;
    list.type = Json::Type::kArray;
    list.elements = std::move(unwrapped);
    parsed = std::move(list);
  }
  std::vector<const Json*> objects;
  if (parsed->type == Json::Type::kObject) {
    objects.push_back(&*parsed);
  } else if (parsed->type == Json::Type::kArray) {
    if (parsed->elements.empty() || parsed->elements.size() > kMaxPatterns) {
      return InvalidArgument("filter lists " + std::to_string(parsed->elements.size()) +
                             " patterns; " + std::string(kShape));
    }
    for (const Json& element : parsed->elements) {
      if (element.type != Json::Type::kObject) {
        return InvalidArgument("filter pattern " + std::to_string(objects.size() + 1) + " is " +
                               std::string(TypeName(element.type)) + "; " + std::string(kShape));
      }
      objects.push_back(&element);
    }
  } else {
    return InvalidArgument("filter is " + std::string(TypeName(parsed->type)) + "; " +
                           std::string(kShape));
  }
  auto patterns = std::make_shared<std::vector<Node>>();
  for (size_t i = 0; i < objects.size(); ++i) {
    std::string where = objects.size() == 1 ? "filter" : "filter pattern " + std::to_string(i + 1);
    PatternCompiler compiler(where);
    Node root;
    EDDY_RETURN_IF_ERROR(compiler.CompileObject(*objects[i], "", root));
    patterns->push_back(std::move(root));
  }
  FilterPattern pattern;
  pattern.patterns_ = std::move(patterns);
  pattern.options_ = options;
  return pattern;
}

size_t FilterPattern::pattern_count() const { return patterns_ ? patterns_->size() : 0; }

namespace {

bool AnyMatches(const std::vector<Node>& patterns, const Json& document) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const Node& pattern) { return MatchNode(pattern, &document); });
}

}  // namespace

bool FilterPattern::MatchesJson(std::string_view document) const {
  std::optional<Json> parsed = ParseJson(document);
  return parsed && AnyMatches(*patterns_, *parsed);
}

bool FilterPattern::Matches(const SinkRecord& record) const {
  if (options_.subject == FilterSubject::kDynamoDb) {
    if (record.event == nullptr) return false;
    format::RecordContext context;
    context.sequence_number = record.sequence_number;
    std::string rendered = DynamoDbRenderer().Render(*record.event, options_.view_type, context);
    return !rendered.empty() && MatchesJson(rendered);
  }
  Json document;
  document.type = Json::Type::kObject;
  auto add_string = [&](std::string name, std::string text) {
    Json value;
    value.type = Json::Type::kString;
    value.text = std::move(text);
    document.members.emplace_back(std::move(name), std::move(value));
  };
  add_string("kinesisSchemaVersion", "1.0");
  add_string("partitionKey", record.partition_key);
  add_string("sequenceNumber", record.sequence_number);
  Json arrival;
  arrival.type = Json::Type::kNumber;
  arrival.number = static_cast<double>(record.arrival_nanos / 1'000'000) / 1000.0;
  format::JsonWriter spelling;
  spelling.Double(arrival.number);
  arrival.text = spelling.str();
  document.members.emplace_back("approximateArrivalTimestamp", std::move(arrival));
  if (std::optional<Json> data = ParseJson(record.data)) {
    document.members.emplace_back("data", std::move(*data));
  }
  return AnyMatches(*patterns_, document);
}

}  // namespace eddy::consume
