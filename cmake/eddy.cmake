# Precompiled headers, which shorten from-scratch builds, the longest part of CI on a 2-core
# machine. Two headers, each built once per build directory, never changed by the project:
# cmake/pch/std_headers.h (standard headers) and cmake/pch/test_headers.h (GoogleTest and the
# standard headers). Parsing them is a third to a half of a typical file's compile time.
# - EDDY_PRECOMPILED_HEADERS (the sanitizer presets `debug` and `tsan`): module libraries and
#   the eddy binary reuse the first, test binaries the second.
# - EDDY_PRECOMPILED_TEST_HEADERS (also the `dev` preset): only the test binaries reuse the
#   second; `dev` compiles the product's own code without precompiled headers.
# Each owner target compiles with the flags of the targets that reuse its header (GCC checks,
# and with -Winvalid-pch fails the build if they differ).
# GCC 12 loses the system-header mark of code inlined from a precompiled libstdc++ header, so
# its -Warray-bounds false positives inside std::string (which it otherwise suppresses there)
# fail -Werror builds: that one warning is off wherever a precompiled header is used, and
# `dev` keeps it an error for the module libraries and the eddy binary.
# With ccache, set `sloppiness = pch_defines,time_macros` (CONTRIBUTING.md) or files using a
# precompiled header are compiled without caching.
option(EDDY_PRECOMPILED_HEADERS "Reuse precompiled standard and GoogleTest headers" OFF)
option(EDDY_PRECOMPILED_TEST_HEADERS "Reuse a precompiled GoogleTest header in the test binaries"
       ${EDDY_PRECOMPILED_HEADERS})
set(EDDY_PCH_WARNING_OPTIONS)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  set(EDDY_PCH_WARNING_OPTIONS -Wno-array-bounds)
endif()
if(EDDY_PRECOMPILED_HEADERS)
  add_compile_options(${EDDY_PCH_WARNING_OPTIONS})
  add_library(eddy_pch_std OBJECT ${CMAKE_SOURCE_DIR}/cmake/pch/anchor.cc)
  target_precompile_headers(eddy_pch_std PRIVATE ${CMAKE_SOURCE_DIR}/cmake/pch/std_headers.h)
endif()

# The test binaries' own compile options. With ASan+UBSan (the `debug` preset) their files are
# compiled with AddressSanitizer only: UBSan's checks made them compile about 40% slower, and
# the code under test (module libraries and the eddy binary) keeps both sanitizers.
set(EDDY_TEST_COMPILE_OPTIONS)
if(EDDY_SANITIZE)
  list(APPEND EDDY_TEST_COMPILE_OPTIONS -fno-sanitize=undefined)
endif()
if((EDDY_PRECOMPILED_HEADERS OR EDDY_PRECOMPILED_TEST_HEADERS) AND EDDY_BUILD_TESTS)
  if(NOT EDDY_PRECOMPILED_HEADERS AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # `dev` at -O2 also meets GCC 12's -Wstringop-overread (and relatives) false positives
    # inside libstdc++ in test files; with EDDY_PRECOMPILED_HEADERS, -Warray-bounds is off for
    # every target already and the sanitizer presets' builds meet no other.
    list(APPEND EDDY_TEST_COMPILE_OPTIONS ${EDDY_PCH_WARNING_OPTIONS} -Wno-stringop-overread
         -Wno-stringop-overflow -Wno-restrict)
  endif()
  add_library(eddy_pch_test OBJECT ${CMAKE_SOURCE_DIR}/cmake/pch/anchor.cc)
  target_link_libraries(eddy_pch_test PRIVATE GTest::gtest)
  target_compile_options(eddy_pch_test PRIVATE ${EDDY_TEST_COMPILE_OPTIONS})
  target_precompile_headers(eddy_pch_test PRIVATE ${CMAKE_SOURCE_DIR}/cmake/pch/test_headers.h)
endif()

# eddy_use_precompiled_headers(target std|test): `target` reuses one of the headers above, when
# it is built.
function(eddy_use_precompiled_headers target kind)
  if(TARGET eddy_pch_${kind})
    target_precompile_headers(${target} REUSE_FROM eddy_pch_${kind})
  endif()
endfunction()

# eddy_unit_test(NAME name SOURCES a.cc b.cc LIBS lib1 lib2 [LABELS extra])
# Registers a GoogleTest binary whose tests are discovered into ctest with the label `unit`
# (or the labels given). Each test case becomes one ctest test so failures are precise.
function(eddy_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT EDDY_BUILD_TESTS)
    return()
  endif()
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_options(${ARG_NAME} PRIVATE ${EDDY_TEST_COMPILE_OPTIONS})
  eddy_use_precompiled_headers(${ARG_NAME} test)
  gtest_discover_tests(${ARG_NAME}
    DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "EDDY_SOURCE_DIR=${CMAKE_SOURCE_DIR};EDDY_BINARY_DIR=${CMAKE_BINARY_DIR}")
endfunction()

# eddy_library(NAME name SOURCES ... DEPS ...): a module library with src/ on the include path.
function(eddy_library)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_library(${ARG_NAME} STATIC ${ARG_SOURCES})
  target_include_directories(${ARG_NAME} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(${ARG_NAME} PUBLIC ${ARG_DEPS})
  eddy_use_precompiled_headers(${ARG_NAME} std)
endfunction()

# eddy_fuzz_target(NAME name SOURCE fuzz_x.cc LIBS ... [CORPUS dir])
# A fuzz target defines `extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t)`.
# With clang and -DEDDY_LIBFUZZER=ON it links libFuzzer for coverage-guided fuzzing; otherwise
# it links fuzz/driver.cc, which replays the corpus and then runs seeded random mutations of it,
# and is registered as a `unit` ctest test so every build exercises the decoder on bad input.
option(EDDY_LIBFUZZER "Link fuzz targets with libFuzzer (clang only)" OFF)
function(eddy_fuzz_target)
  cmake_parse_arguments(ARG "" "NAME;SOURCE;CORPUS" "LIBS" ${ARGN})
  if(NOT EDDY_BUILD_FUZZERS)
    return()
  endif()
  if(EDDY_LIBFUZZER)
    add_executable(${ARG_NAME} ${ARG_SOURCE})
    target_compile_options(${ARG_NAME} PRIVATE -fsanitize=fuzzer)
    target_link_options(${ARG_NAME} PRIVATE -fsanitize=fuzzer)
  else()
    # The stand-alone driver is compiled once (eddy_fuzz_driver) and linked into each target.
    if(NOT TARGET eddy_fuzz_driver)
      add_library(eddy_fuzz_driver STATIC ${CMAKE_SOURCE_DIR}/fuzz/driver.cc)
    endif()
    add_executable(${ARG_NAME} ${ARG_SOURCE})
    target_link_libraries(${ARG_NAME} PRIVATE eddy_fuzz_driver)
  endif()
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_LIBS})
  if(EDDY_BUILD_TESTS AND NOT EDDY_LIBFUZZER)
    set(corpus_args)
    if(ARG_CORPUS)
      set(corpus_args ${ARG_CORPUS})
    endif()
    # Sanitized builds run each mutated input 10-50x slower: they replay the corpus and a
    # quarter of the mutations the plain build runs.
    set(iterations 20000)
    if(EDDY_SANITIZE OR EDDY_TSAN)
      set(iterations 5000)
    endif()
    add_test(NAME ${ARG_NAME}.replay_and_mutate COMMAND ${ARG_NAME} --iterations=${iterations} ${corpus_args})
    set_tests_properties(${ARG_NAME}.replay_and_mutate PROPERTIES LABELS unit TIMEOUT 300)
  endif()
endfunction()

# Source files that construct a std::regex. GCC 12 at -O1 with ASan/UBSan (the debug preset)
# reports -Wmaybe-uninitialized inside libstdc++'s regex compiler (std::function's copy in
# _StateT), a false positive; there the warning is off for these files only. The dev preset's
# build of the same files keeps it as an error.
function(eddy_sources_using_std_regex)
  if(EDDY_SANITIZE)
    set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS -Wno-maybe-uninitialized)
  endif()
endfunction()
