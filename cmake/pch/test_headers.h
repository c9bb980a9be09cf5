// The headers of eddy's GoogleTest binaries: GoogleTest itself (about 100,000 lines after
// preprocessing, 1.4 s of parsing per file) and the standard headers, compiled once per build
// directory into the precompiled header every eddy_test binary reuses (cmake/eddy.cmake).
#pragma once

#include "std_headers.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
