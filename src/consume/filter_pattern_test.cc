#include "consume/filter_pattern.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "format/sample_events.h"

namespace eddy::consume {
namespace {

FilterPattern Pattern(std::string_view json, FilterOptions options = {}) {
  auto parsed = FilterPattern::Parse(json, options);
  EXPECT_TRUE(parsed.ok()) << json << ": " << parsed.status().ToString();
  if (!parsed.ok()) return std::move(FilterPattern::Parse(R"({"never":["x"]})")).value();
  return std::move(parsed).value();
}

void ExpectRejected(std::string_view json, std::string_view mentions) {
  auto parsed = FilterPattern::Parse(json);
  ASSERT_FALSE(parsed.ok()) << json;
  EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find(mentions), std::string::npos)
      << json << " -> " << parsed.status().message();
}

TEST(FilterPattern, ExactValuesStringsNumbersBooleansNull) {
  auto pattern = Pattern(R"({"status":["paid","new"],"n":[300],"ok":[true],"gone":[null]})");
  EXPECT_TRUE(pattern.MatchesJson(R"({"status":"paid","n":300,"ok":true,"gone":null})"));
  EXPECT_TRUE(pattern.MatchesJson(R"({"status":"new","n":300,"ok":true,"gone":null,"x":1})"));
  EXPECT_FALSE(pattern.MatchesJson(R"({"status":"Paid","n":300,"ok":true,"gone":null})"));
  // Numbers compare by their JSON spelling in equality, as EventBridge does.
  EXPECT_FALSE(pattern.MatchesJson(R"({"status":"paid","n":300.0,"ok":true,"gone":null})"));
  EXPECT_FALSE(pattern.MatchesJson(R"({"status":"paid","n":"300","ok":true,"gone":null})"));
  EXPECT_FALSE(pattern.MatchesJson(R"({"status":"paid","n":300,"ok":false,"gone":null})"));
  // [null] needs a present null; a missing field is not null.
  EXPECT_FALSE(pattern.MatchesJson(R"({"status":"paid","n":300,"ok":true})"));
}

TEST(FilterPattern, EmptyStringMatchesOnlyTheEmptyString) {
  auto pattern = Pattern(R"({"note":[""]})");
  EXPECT_TRUE(pattern.MatchesJson(R"({"note":""})"));
  EXPECT_FALSE(pattern.MatchesJson(R"({"note":" "})"));
  EXPECT_FALSE(pattern.MatchesJson(R"({"note":null})"));
  EXPECT_FALSE(pattern.MatchesJson(R"({})"));
}

TEST(FilterPattern, NestedFieldsAreAndedAndListsInRecordsMatchAnyElement) {
  auto pattern = Pattern(R"({"data":{"after":{"region":["eu"],"tier":["gold"]}}})");
  EXPECT_TRUE(pattern.MatchesJson(R"({"data":{"after":{"region":"eu","tier":"gold"}}})"));
  EXPECT_FALSE(pattern.MatchesJson(R"({"data":{"after":{"region":"eu","tier":"silver"}}})"));
  EXPECT_FALSE(pattern.MatchesJson(R"({"data":{"region":"eu","tier":"gold"}})"));
  auto tags = Pattern(R"({"tags":["red"]})");
  EXPECT_TRUE(tags.MatchesJson(R"({"tags":["blue","red"]})"));
  EXPECT_FALSE(tags.MatchesJson(R"({"tags":["blue"]})"));
  EXPECT_FALSE(tags.MatchesJson(R"({"tags":[]})"));
  auto items = Pattern(R"({"items":{"sku":["a"]}})");
  EXPECT_TRUE(items.MatchesJson(R"({"items":[{"sku":"b"},{"sku":"a"}]})"));
  EXPECT_FALSE(items.MatchesJson(R"({"items":[{"sku":"b"}]})"));
}

TEST(FilterPattern, PrefixSuffixAndEqualsIgnoreCase) {
  auto pattern = Pattern(
      R"({"a":[{"prefix":"ord-"}],"b":[{"suffix":".png"}],"c":[{"equals-ignore-case":"PaId"}]})");
  EXPECT_TRUE(pattern.MatchesJson(R"({"a":"ord-1","b":"x.png","c":"PAID"})"));
  EXPECT_FALSE(pattern.MatchesJson(R"({"a":"or-1","b":"x.png","c":"paid"})"));
  EXPECT_FALSE(pattern.MatchesJson(R"({"a":"ord-1","b":"x.jpg","c":"paid"})"));
  EXPECT_FALSE(pattern.MatchesJson(R"({"a":"ord-1","b":"x.png","c":"paid!"})"));
  EXPECT_FALSE(Pattern(R"({"a":[{"prefix":"1"}]})").MatchesJson(R"({"a":12})"))
      << "prefix applies to strings only";
}

TEST(FilterPattern, AnythingBut) {
  auto one = Pattern(R"({"s":[{"anything-but":"void"}]})");
  EXPECT_TRUE(one.MatchesJson(R"({"s":"paid"})"));
  EXPECT_FALSE(one.MatchesJson(R"({"s":"void"})"));
  EXPECT_FALSE(one.MatchesJson(R"({})")) << "anything-but needs the field";
  auto list = Pattern(R"({"s":[{"anything-but":["a","b",5]}]})");
  EXPECT_TRUE(list.MatchesJson(R"({"s":"c"})"));
  EXPECT_TRUE(list.MatchesJson(R"({"s":6})"));
  EXPECT_FALSE(list.MatchesJson(R"({"s":"b"})"));
  EXPECT_FALSE(list.MatchesJson(R"({"s":5})"));
  auto prefix = Pattern(R"({"s":[{"anything-but":{"prefix":"tmp"}}]})");
  EXPECT_TRUE(prefix.MatchesJson(R"({"s":"real"})"));
  EXPECT_FALSE(prefix.MatchesJson(R"({"s":"tmp-1"})"));
  auto suffix = Pattern(R"({"s":[{"anything-but":{"suffix":".tmp"}}]})");
  EXPECT_FALSE(suffix.MatchesJson(R"({"s":"a.tmp"})"));
  EXPECT_TRUE(suffix.MatchesJson(R"({"s":"a.txt"})"));
}

TEST(FilterPattern, NumericRanges) {
  auto range = Pattern(R"({"n":[{"numeric":[">",0,"<=",5]}]})");
  EXPECT_FALSE(range.MatchesJson(R"({"n":0})"));
  EXPECT_TRUE(range.MatchesJson(R"({"n":0.001})"));
  EXPECT_TRUE(range.MatchesJson(R"({"n":5})"));
  EXPECT_TRUE(range.MatchesJson(R"({"n":5.0})")) << "numeric compares values, not spellings";
  EXPECT_FALSE(range.MatchesJson(R"({"n":5.01})"));
  EXPECT_FALSE(range.MatchesJson(R"({"n":"3"})")) << "strings are not numbers";
  auto equals = Pattern(R"({"n":[{"numeric":["=",300]}]})");
  EXPECT_TRUE(equals.MatchesJson(R"({"n":3e2})"));
  EXPECT_FALSE(equals.MatchesJson(R"({"n":301})"));
  auto at_least = Pattern(R"({"n":[{"numeric":[">=",-1.5]}]})");
  EXPECT_TRUE(at_least.MatchesJson(R"({"n":-1.5})"));
  EXPECT_FALSE(at_least.MatchesJson(R"({"n":-2})"));
  auto below = Pattern(R"({"n":[{"numeric":["<",10]}]})");
  EXPECT_TRUE(below.MatchesJson(R"({"n":9.99})"));
  EXPECT_FALSE(below.MatchesJson(R"({"n":10})"));
}

TEST(FilterPattern, Exists) {
  auto present = Pattern(R"({"a":[{"exists":true}]})");
  EXPECT_TRUE(present.MatchesJson(R"({"a":null})"));
  EXPECT_TRUE(present.MatchesJson(R"({"a":[]})"));
  EXPECT_FALSE(present.MatchesJson(R"({"b":1})"));
  EXPECT_FALSE(present.MatchesJson(R"({"a":{"x":1}})")) << "exists matches leaves only";
  auto absent = Pattern(R"({"a":[{"exists":false}]})");
  EXPECT_TRUE(absent.MatchesJson(R"({"b":1})"));
  EXPECT_FALSE(absent.MatchesJson(R"({"a":0})"));
  auto nested_absent = Pattern(R"({"x":{"y":[{"exists":false}]}})");
  EXPECT_TRUE(nested_absent.MatchesJson(R"({})"));
  EXPECT_FALSE(nested_absent.MatchesJson(R"({"x":{"y":1}})"));
}

TEST(FilterPattern, PatternsOfAListAreOred) {
  auto pattern = Pattern(R"([{"a":["1"]},{"b":["2"]}])");
  EXPECT_EQ(pattern.pattern_count(), 2u);
  EXPECT_TRUE(pattern.MatchesJson(R"({"a":"1"})"));
  EXPECT_TRUE(pattern.MatchesJson(R"({"b":"2"})"));
  EXPECT_FALSE(pattern.MatchesJson(R"({"a":"2","b":"1"})"));
  EXPECT_FALSE(pattern.MatchesJson("not json"));
}

TEST(FilterPattern, AcceptsLambdasFilterCriteriaShape) {
  auto pattern = Pattern(
      R"({"Filters":[{"Pattern":"{\"data\":{\"op\":[\"c\"]}}"},{"Pattern":"{\"a\":[1]}"}]})");
  EXPECT_EQ(pattern.pattern_count(), 2u);
  EXPECT_TRUE(pattern.MatchesJson(R"({"data":{"op":"c"}})"));
  EXPECT_TRUE(pattern.MatchesJson(R"({"a":1})"));
  EXPECT_FALSE(pattern.MatchesJson(R"({"data":{"op":"u"}})"));
  // A pattern on a record field named Filters stays a pattern.
  EXPECT_TRUE(Pattern(R"({"Filters":["x"]})").MatchesJson(R"({"Filters":"x"})"));
  ExpectRejected(R"({"Filters":[{"Pattern":"{"}]})", "Filters[0].Pattern is not valid JSON");
}

TEST(FilterPattern, MatchesKinesisRecordsOnDataAndMetadata) {
  SinkRecord record;
  record.partition_key = "vip-7";
  record.sequence_number = "49590338271490256608559692538361571095921575989136588898";
  record.arrival_nanos = 1545084650987000000;
  record.data = R"({"op":"u","after":{"id":7,"amount":150}})";
  EXPECT_TRUE(Pattern(R"({"data":{"op":["u"]}})").Matches(record));
  EXPECT_FALSE(Pattern(R"({"op":["u"]})").Matches(record)) << "the record's fields are under data";
  EXPECT_TRUE(Pattern(R"({"partitionKey":[{"prefix":"vip-"}]})").Matches(record));
  EXPECT_TRUE(Pattern(R"({"kinesisSchemaVersion":["1.0"]})").Matches(record));
  EXPECT_TRUE(
      Pattern(R"({"approximateArrivalTimestamp":[{"numeric":[">",1545084650]}]})").Matches(record));
  EXPECT_TRUE(Pattern(R"({"data":{"after":{"amount":[{"numeric":[">",100]}]}}})").Matches(record));
  record.data = "not json";
  EXPECT_FALSE(Pattern(R"({"data":{"op":["u"]}})").Matches(record));
  EXPECT_TRUE(Pattern(R"({"data":[{"exists":false}]})").Matches(record));
  EXPECT_TRUE(Pattern(R"({"partitionKey":["vip-7"]})").Matches(record));
}

TEST(FilterPattern, MatchesDynamoDbRecordsRenderedFromTheEvent) {
  FilterOptions options;
  options.subject = FilterSubject::kDynamoDb;
  auto inserts =
      Pattern(R"({"eventName":["INSERT"],"dynamodb":{"Keys":{"id":{"N":["1001"]}}}})", options);
  auto paid = Pattern(R"({"dynamodb":{"NewImage":{"status":{"S":["paid"]}}}})", options);
  int checked = 0;
  for (const auto& sample : format::testing::SampleEvents()) {
    SinkRecord record;
    record.sequence_number = "100";
    record.event = std::make_shared<model::ChangeEvent>(sample.event);
    if (sample.name == "pg_insert") {
      EXPECT_TRUE(inserts.Matches(record));
      EXPECT_FALSE(paid.Matches(record));
      ++checked;
    } else if (sample.name == "pg_update") {
      EXPECT_FALSE(inserts.Matches(record));
      EXPECT_TRUE(paid.Matches(record));
      ++checked;
    } else if (sample.name == "pg_truncate") {
      EXPECT_FALSE(inserts.Matches(record)) << "no DynamoDB representation";
      ++checked;
    }
  }
  EXPECT_EQ(checked, 3);
  SinkRecord plain;
  plain.data = R"({"eventName":"INSERT"})";
  EXPECT_FALSE(inserts.Matches(plain)) << "no change event";
}

TEST(FilterPattern, OnePatternMatchesFromManyThreads) {
  auto pattern = Pattern(R"({"data":{"n":[{"numeric":[">=",50]}]}})");
  std::atomic<int> matched{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int n = 0; n < 100; ++n) {
        SinkRecord record;
        record.data = R"({"n":)" + std::to_string(n) + "}";
        if (pattern.Matches(record)) ++matched;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(matched.load(), 4 * 50);
}

TEST(FilterPattern, RejectsMalformedPatternsNamingWhatIsWrong) {
  ExpectRejected("", "not valid JSON");
  ExpectRejected("{", "not valid JSON");
  ExpectRejected(R"({"a":["x"]} {"b":["y"]})", "not valid JSON");
  ExpectRejected(R"({"a":["x"]}] [{"b":["y"]})", "not valid JSON");
  ExpectRejected(std::string(5000, '[') + std::string(5000, ']'), "not valid JSON");
  ExpectRejected(R"("status")", "filter is a string");
  ExpectRejected("[]", "lists 0 patterns");
  ExpectRejected(R"([{"a":[1]},{"a":[1]},{"a":[1]},{"a":[1]},{"a":[1]},{"a":[1]}])",
                 "lists 6 patterns");
  ExpectRejected(R"([{"a":[1]},"b"])", "filter pattern 2 is a string");
  ExpectRejected("{}", "empty object");
  ExpectRejected(R"({"data":{}})", "field \"data\": an empty object");
  ExpectRejected(R"({"data":{"op":"c"}})", "field \"data.op\": is a string");
  ExpectRejected(R"({"op":[]})", "empty list");
  ExpectRejected(R"({"op":[["c"]]})", "list inside a matcher list");
  ExpectRejected(R"({"op":[{"prefix":"a","suffix":"b"}]})", "exactly one operator");
  ExpectRejected(R"({"op":[{"contains":"a"}]})", "unknown operator \"contains\"");
  ExpectRejected(R"({"op":[{"prefix":1}]})", "\"prefix\" takes a string");
  ExpectRejected(R"({"op":[{"exists":"yes"}]})", "\"exists\" takes true or false");
  ExpectRejected(R"({"op":[{"anything-but":[]}]})", "at least one value");
  ExpectRejected(R"({"op":[{"anything-but":[null]}]})", "strings or numbers");
  ExpectRejected(R"({"op":[{"anything-but":{"numeric":[">",1]}}]})", "\"anything-but\" takes");
  ExpectRejected(R"({"n":[{"numeric":[">"]}]})", "operator-number pairs");
  ExpectRejected(R"({"n":[{"numeric":[">","1"]}]})", "compares with numbers");
  ExpectRejected(R"({"n":[{"numeric":[">",1,">=",2]}]})", "two lower bounds");
  ExpectRejected(R"({"n":[{"numeric":["<",1,"<=",2]}]})", "two upper bounds");
  ExpectRejected(R"({"n":[{"numeric":["=",1,"<",2]}]})", "\"=\" stands alone");
  ExpectRejected(R"({"n":[{"numeric":["!=",1]}]})", "unknown operator \"!=\"");
  ExpectRejected(R"({"n":[{"numeric":"5"}]})", "operator-number pairs");
}

}  // namespace
}  // namespace eddy::consume
