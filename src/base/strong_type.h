// StrongType<T, Tag>: a value of T that does not mix with other StrongTypes of the same T.
// Positions (LSN, sequence numbers, shard indexes) are all integers; the compiler keeps them apart.
#pragma once

#include <compare>
#include <functional>

namespace eddy {

template <typename T, typename Tag>
class StrongType {
 public:
  using ValueType = T;
  constexpr StrongType() = default;
  constexpr explicit StrongType(T value) : value_(value) {}
  constexpr T value() const { return value_; }
  friend constexpr auto operator<=>(const StrongType&, const StrongType&) = default;
  friend constexpr bool operator==(const StrongType&, const StrongType&) = default;

 private:
  T value_{};
};

}  // namespace eddy

template <typename T, typename Tag>
struct std::hash<eddy::StrongType<T, Tag>> {
  size_t operator()(const eddy::StrongType<T, Tag>& v) const noexcept {
    return std::hash<T>()(v.value());
  }
};
