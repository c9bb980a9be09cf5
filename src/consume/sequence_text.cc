#include "consume/sequence_text.h"

#include "consume/sink.h"
#include "log/kinesis.h"

namespace eddy::consume {
namespace {

constexpr uint64_t kLimbBase = 1'000'000'000;
// 2^80 = 1,208,925,819,614,629,174,706,176 in base 10^9, little-endian.
constexpr std::array<uint64_t, 3> kTwoTo80 = {174'706'176, 819'614'629, 1'208'925};
// "00", "01", ..., "99": two digits per division when formatting a limb.
constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

}  // namespace

SequenceText::SequenceText(uint32_t shard_index, int64_t shard_creation_nanos)
    : shard_index_(shard_index), shard_creation_nanos_(shard_creation_nanos) {
  std::string text =
      log::FormatSequenceNumber(SequenceNumber(0), shard_index, shard_creation_nanos);
  // The decimal into base-10^9 limbs, nine digits at a time from the right. The text is at
  // most 58 digits of plain decimal (log::FormatSequenceNumber's contract); anything else
  // leaves exact_ false.
  bool digits = !text.empty() && text.size() <= 9 * kLimbs;
  for (char c : text) digits = digits && c >= '0' && c <= '9';
  if (digits) {
    size_t end = text.size();
    for (size_t limb = 0; limb < kLimbs && end > 0; ++limb) {
      size_t begin = end >= 9 ? end - 9 : 0;
      uint64_t value = 0;
      for (size_t i = begin; i < end; ++i)
        value = value * 10 + static_cast<uint64_t>(text[i] - '0');
      base_[limb] = value;
      end = begin;
    }
    exact_ = true;
    std::string mine;
    for (uint64_t sequence : {uint64_t{1}, uint64_t{999'999'999}, uint64_t{1'000'000'000},
                              uint64_t{123'456'789'012'345'678}, ~uint64_t{0}}) {
      Compute(sequence, &mine);
      if (mine !=
          log::FormatSequenceNumber(SequenceNumber(sequence), shard_index, shard_creation_nanos)) {
        exact_ = false;
        break;
      }
    }
  }
}

void SequenceText::Format(SequenceNumber sequence, std::string* out) const {
  if (!exact_) {
    *out = log::FormatSequenceNumber(sequence, shard_index_, shard_creation_nanos_);
    return;
  }
  Compute(sequence.value(), out);
}

void SequenceText::Compute(uint64_t sequence, std::string* out) const {
  const uint64_t parts[3] = {sequence % kLimbBase, (sequence / kLimbBase) % kLimbBase,
                             sequence / (kLimbBase * kLimbBase)};
  // Each product is below 10^18 and a limb sums at most three of them and the base's limb:
  // below 2^64 before the carries are taken.
  std::array<uint64_t, kLimbs> limbs = base_;
  for (size_t i = 0; i < 3; ++i) {
    for (size_t j = 0; j < 3; ++j) limbs[i + j] += parts[i] * kTwoTo80[j];
  }
  uint64_t carry = 0;
  for (uint64_t& limb : limbs) {
    limb += carry;
    carry = limb / kLimbBase;
    limb %= kLimbBase;
  }
  size_t top = kLimbs - 1;
  while (top > 0 && limbs[top] == 0) --top;
  char buffer[9 * kLimbs];
  size_t begin = sizeof(buffer);
  for (size_t limb = 0; limb < top; ++limb) {
    // Nine digits, zero-padded: four pairs from the table, then one.
    auto value = static_cast<uint32_t>(limbs[limb]);
    for (int pair = 0; pair < 4; ++pair) {
      const char* digits = &kDigitPairs[2 * (value % 100)];
      value /= 100;
      buffer[--begin] = digits[1];
      buffer[--begin] = digits[0];
    }
    buffer[--begin] = static_cast<char>('0' + value);
  }
  // The most significant limb without leading zeros.
  uint64_t value = limbs[top];
  do {
    buffer[--begin] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  out->assign(buffer + begin, sizeof(buffer) - begin);
}

std::string SequenceNumberText(const SinkRecord& record) {
  if (!record.sequence_number.empty()) return record.sequence_number;
  return log::FormatSequenceNumber(record.sequence, record.shard_index,
                                   record.shard_creation_nanos);
}

std::string ShardIdText(const SinkRecord& record) {
  if (!record.shard_id.empty()) return record.shard_id;
  return log::FormatShardId(record.shard_index);
}

SourcePosition SourcePositionOf(const SinkRecord& record) {
  if (record.position.empty()) return SourcePosition();
  std::string_view bytes = record.position;
  auto decoded = SourcePosition::DecodeFrom(bytes);
  return decoded.ok() && bytes.empty() ? std::move(*decoded) : SourcePosition();
}

}  // namespace eddy::consume
