#include "engine/supervisor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace eddy::engine {
namespace {

// Records the order components stop in; may end by itself on request.
class FakeComponent final : public Component {
 public:
  FakeComponent(ComponentKind kind, std::string name, std::vector<std::string>* stops,
                std::mutex* mu)
      : kind_(kind), name_(std::move(name)), stops_(stops), mu_(mu) {}
  ComponentKind kind() const override { return kind_; }
  const std::string& name() const override { return name_; }
  ComponentState state() const override {
    return stopped_ ? ComponentState::kStopped : ComponentState::kRunning;
  }
  std::string ProgressLine() const override { return "component=" + name_; }
  Status Stop() override {
    if (!stopped_.exchange(true)) {
      std::lock_guard lock(*mu_);
      stops_->push_back(name_);
    }
    return end_status_;
  }
  void WatchEnd(std::function<void()> ended) override { ended_ = std::move(ended); }
  void EndByItself(Status status) {
    end_status_ = std::move(status);
    ended_();
  }

 private:
  ComponentKind kind_;
  std::string name_;
  std::vector<std::string>* stops_;
  std::mutex* mu_;
  std::atomic<bool> stopped_{false};
  Status end_status_;
  std::function<void()> ended_;
};

TEST(SupervisorTest, FindAndRemoveOneComponentWhileTheOthersRun) {
  std::mutex mu;
  std::vector<std::string> stops;
  Supervisor supervisor;
  supervisor.Add(std::make_unique<FakeComponent>(ComponentKind::kLog, "log", &stops, &mu));
  supervisor.Add(std::make_unique<FakeComponent>(ComponentKind::kSink, "a", &stops, &mu));
  supervisor.Add(std::make_unique<FakeComponent>(ComponentKind::kSink, "b", &stops, &mu));
  std::shared_ptr<Component> found = supervisor.Find(ComponentKind::kSink, "a");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(supervisor.Find(ComponentKind::kCapture, "a"), nullptr);
  EXPECT_EQ(supervisor.Find(ComponentKind::kSink, "c"), nullptr);

  ASSERT_TRUE(supervisor.Remove(ComponentKind::kSink, "a").ok());
  EXPECT_EQ(stops, std::vector<std::string>{"a"});
  EXPECT_EQ(found->state(), ComponentState::kStopped);  // kept alive by the caller's pointer
  EXPECT_EQ(supervisor.Find(ComponentKind::kSink, "a"), nullptr);
  EXPECT_EQ(supervisor.Remove(ComponentKind::kSink, "a").code(), ErrorCode::kNotFound);
  EXPECT_EQ(supervisor.ProgressLines().size(), 2u);
  ASSERT_TRUE(supervisor.StopAll().ok());
  EXPECT_EQ(stops, (std::vector<std::string>{"a", "b", "log"}));
}

TEST(SupervisorTest, StopsSinksFirstThenCapturesThenApiThenLog) {
  std::mutex mu;
  std::vector<std::string> stops;
  Supervisor supervisor;
  auto add = [&](ComponentKind kind, const char* name) {
    supervisor.Add(std::make_unique<FakeComponent>(kind, name, &stops, &mu));
  };
  add(ComponentKind::kLog, "log");
  add(ComponentKind::kApi, "api");
  add(ComponentKind::kCapture, "capture-a");
  add(ComponentKind::kSink, "sink-1");
  add(ComponentKind::kCapture, "capture-b");  // added late (eddy demo)
  add(ComponentKind::kSink, "sink-2");
  EXPECT_EQ(supervisor.ProgressLines().size(), 6u);
  ASSERT_TRUE(supervisor.StopAll().ok());
  EXPECT_EQ(stops,
            (std::vector<std::string>{"sink-2", "sink-1", "capture-b", "capture-a", "api", "log"}));
  ASSERT_TRUE(supervisor.StopAll().ok());  // idempotent
  EXPECT_EQ(stops.size(), 6u);
}

TEST(SupervisorTest, WaitForEndWakesOnAComponentEndingByItself) {
  std::mutex mu;
  std::vector<std::string> stops;
  Supervisor supervisor;
  auto capture = std::make_unique<FakeComponent>(ComponentKind::kCapture, "orders", &stops, &mu);
  FakeComponent* raw = capture.get();
  supervisor.Add(std::move(capture));
  EXPECT_FALSE(supervisor.WaitForEnd(std::chrono::milliseconds(1)).has_value());
  std::thread ender([raw] { raw->EndByItself(FailedPrecondition("slot dropped")); });
  auto ended = supervisor.WaitForEnd(std::chrono::seconds(20));
  ender.join();
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ(ended->first, "orders");
  EXPECT_EQ(ended->second.code(), ErrorCode::kFailedPrecondition);
  Status stopped = supervisor.StopAll();
  EXPECT_EQ(stopped.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(stopped.message().find("capture orders"), std::string::npos);
}

}  // namespace
}  // namespace eddy::engine
