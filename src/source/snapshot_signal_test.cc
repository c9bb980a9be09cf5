#include "source/snapshot_signal.h"

#include <gtest/gtest.h>

namespace eddy::source {
namespace {

TEST(SnapshotSignal, ExecuteWithConditions) {
  auto signal =
      ParseSnapshotSignal("signal:ad-hoc-1", "execute-snapshot",
                          R"({"data-collections":["public.orders","items"],"type":"INCREMENTAL",
          "additional-conditions":[{"data-collection":"public.orders","filter":"color='blue'"}]})");
  ASSERT_TRUE(signal.ok()) << signal.status().ToString();
  EXPECT_EQ(signal->kind, SnapshotSignal::Kind::kExecute);
  EXPECT_EQ(signal->request.origin, "signal:ad-hoc-1");
  EXPECT_EQ(signal->request.tables, (std::vector<std::string>{"public.orders", "items"}));
  ASSERT_EQ(signal->request.conditions.size(), 1u);
  EXPECT_EQ(signal->request.conditions[0].first, "public.orders");
  EXPECT_EQ(signal->request.conditions[0].second, "color='blue'");
}

TEST(SnapshotSignal, Controls) {
  auto pause = ParseSnapshotSignal("signal:1", "pause-snapshot", "anything");
  ASSERT_TRUE(pause.ok());
  EXPECT_EQ(pause->control.kind, SnapshotControl::Kind::kPause);
  auto resume = ParseSnapshotSignal("signal:2", "resume-snapshot", "");
  ASSERT_TRUE(resume.ok());
  EXPECT_EQ(resume->control.kind, SnapshotControl::Kind::kResume);
  auto stop_all = ParseSnapshotSignal("signal:3", "stop-snapshot", "");
  ASSERT_TRUE(stop_all.ok());
  EXPECT_EQ(stop_all->control.kind, SnapshotControl::Kind::kStop);
  EXPECT_TRUE(stop_all->control.tables.empty());
  auto stop_one = ParseSnapshotSignal("signal:4", "stop-snapshot",
                                      R"({"type":"incremental","data-collections":["public.a"]})");
  ASSERT_TRUE(stop_one.ok());
  EXPECT_EQ(stop_one->control.tables, (std::vector<std::string>{"public.a"}));
  auto log = ParseSnapshotSignal("signal:5", "log", R"({"message":"hello"})");
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->message, "hello");
}

TEST(SnapshotSignal, BadSignalsSayWhatIsWrong) {
  struct Case {
    const char* type;
    const char* data;
    const char* says;
  };
  for (const Case& c : {
           Case{"explode", "{}", "unknown signal type"},
           Case{"execute-snapshot", "", "not a JSON object"},
           Case{"execute-snapshot", "{not json", "not a JSON object"},
           Case{"execute-snapshot", "[1]", "not a JSON object"},
           Case{"execute-snapshot", "{}", "at least one table"},
           Case{"execute-snapshot", R"({"data-collections":[]})", "at least one table"},
           Case{"execute-snapshot", R"({"data-collections":"t"})", "must be an array"},
           Case{"execute-snapshot", R"({"data-collections":[1]})", "non-empty strings"},
           Case{"execute-snapshot", R"({"data-collections":["t"],"type":"blocking"})",
                "only \"incremental\""},
           Case{"execute-snapshot",
                R"({"data-collections":["t"],"additional-conditions":[{"filter":"x"}]})",
                "\"data-collection\" and a \"filter\""},
           Case{"execute-snapshot", R"({"data-collections":["t"],"additional-conditions":{}})",
                "must be an array of objects"},
           Case{"log", "{}", "\"message\""},
       }) {
    auto signal = ParseSnapshotSignal("signal:x", c.type, c.data);
    ASSERT_FALSE(signal.ok()) << c.type << " " << c.data;
    EXPECT_EQ(signal.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(signal.status().message().find(c.says), std::string::npos)
        << signal.status().message();
    EXPECT_NE(signal.status().message().find("signal:x"), std::string::npos);
  }
}

}  // namespace
}  // namespace eddy::source
