// The standard headers most of eddy's translation units include, compiled once per build
// directory into a precompiled header (cmake/eddy.cmake, EDDY_PRECOMPILED_HEADERS) that every
// module library, test binary and the eddy binary reuse. Parsing these took about a third of
// a typical translation unit's compile time. Only headers that never change belong here:
// a project header in a precompiled header would rebuild everything on each edit.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iomanip>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>
