// Stand-alone driver for fuzz targets when libFuzzer is not available (g++ builds).
//
//   fuzz_x [--iterations=N] [--seed=S] [corpus files or directories...]
//
// Runs every corpus input once, then N inputs made by mutating corpus inputs (or random bytes
// when there is no corpus) with a seeded generator, printing the seed so a failure replays.
// A crash, sanitizer report or non-zero return is the failure signal, as under libFuzzer.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<std::string> LoadCorpus(const std::vector<std::string>& paths) {
  std::vector<std::string> inputs;
  auto load = [&](const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    inputs.emplace_back(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  };
  for (const auto& path : paths) {
    if (std::filesystem::is_directory(path)) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
        if (entry.is_regular_file()) load(entry.path());
      }
    } else {
      load(path);
    }
  }
  return inputs;
}

std::string Mutate(std::string input, std::mt19937_64& random) {
  int mutations = 1 + static_cast<int>(random() % 4);
  for (int i = 0; i < mutations; ++i) {
    switch (random() % 5) {
      case 0:  // flip a byte
        if (!input.empty()) input[random() % input.size()] ^= static_cast<char>(1 + random() % 255);
        break;
      case 1:  // truncate
        if (!input.empty()) input.resize(random() % input.size());
        break;
      case 2:  // insert random bytes
        input.insert(input.empty() ? 0 : random() % input.size(), std::string(1 + random() % 8, static_cast<char>(random())));
        break;
      case 3:  // set an interesting value
        if (input.size() >= 4) {
          static const uint32_t kInteresting[] = {0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff};
          uint32_t value = kInteresting[random() % 8];
          std::memcpy(&input[random() % (input.size() - 3)], &value, 4);
        }
        break;
      default:  // duplicate a chunk
        if (!input.empty()) {
          size_t start = random() % input.size();
          input.append(input.substr(start, random() % 64));
        }
        break;
    }
  }
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  long iterations = 10000;
  uint64_t seed = std::random_device()();
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--iterations=", 13) == 0) {
      iterations = std::strtol(argv[i] + 13, nullptr, 10);
    } else if (std::strncmp(argv[i], "--seed=", 7) == 0) {
      seed = std::strtoull(argv[i] + 7, nullptr, 10);
    } else {
      paths.emplace_back(argv[i]);
    }
  }
  if (const char* env = std::getenv("EDDY_TEST_SEED")) seed = std::strtoull(env, nullptr, 10);
  std::printf("fuzz driver: seed=%llu iterations=%ld (replay with --seed=%llu)\n",
              static_cast<unsigned long long>(seed), iterations,
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  auto corpus = LoadCorpus(paths);
  for (const auto& input : corpus) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  std::mt19937_64 random(seed);
  for (long i = 0; i < iterations; ++i) {
    std::string input;
    if (corpus.empty() || random() % 8 == 0) {
      input.resize(random() % 256);
      for (auto& byte : input) byte = static_cast<char>(random());
    } else {
      input = Mutate(corpus[random() % corpus.size()], random);
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  std::printf("fuzz driver: %zu corpus inputs and %ld mutated inputs ran without a failure\n",
              corpus.size(), iterations);
  return 0;
}
