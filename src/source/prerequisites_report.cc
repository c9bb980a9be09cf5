#include "source/prerequisites_report.h"

namespace eddy::source {

std::string_view CheckStatusName(CheckStatus status) {
  switch (status) {
    case CheckStatus::kOk:
      return "ok";
    case CheckStatus::kWarn:
      return "warn";
    case CheckStatus::kFail:
      return "fail";
  }
  return "unknown";
}

bool CheckReport::CanCapture() const {
  for (const CheckItem& item : items) {
    if (item.status == CheckStatus::kFail) return false;
  }
  return true;
}

const CheckItem* CheckReport::Find(std::string_view name) const {
  for (const CheckItem& item : items) {
    if (item.name == name) return &item;
  }
  return nullptr;
}

std::string CheckReport::ToText() const {
  std::string out;
  for (const CheckItem& item : items) {
    switch (item.status) {
      case CheckStatus::kOk:
        out += "ok   ";
        break;
      case CheckStatus::kWarn:
        out += "WARN ";
        break;
      case CheckStatus::kFail:
        out += "FAIL ";
        break;
    }
    out += item.name + ": " + item.detail;
    if (item.status != CheckStatus::kOk && !item.fix.empty()) out += " | fix: " + item.fix;
    out += "\n";
  }
  out += CanCapture() ? "capture can start\n" : "capture cannot start until the FAIL items are fixed\n";
  return out;
}

}  // namespace eddy::source
