#include "select/key_packer.h"

#include <algorithm>
#include <array>
#include <bit>
#include <utility>

namespace socksnap {

void KeyPacker::Word::note(uint64_t value) {
  for (uint8_t i = 0; i < count; ++i) {
    if (values[i] == value) return;
  }
  if (count == kMaxRanked) {
    many = true;
    return;
  }
  values[count++] = value;
}

void KeyPacker::absorb(const KeyPacker& other) {
  for (size_t i = 0; i < words_.size(); ++i) {
    Word& word = words_[i];
    const Word& theirs = other.words_[i];
    word.all_ones &= theirs.all_ones;
    word.any_ones |= theirs.any_ones;
    word.many = word.many || theirs.many;
    for (uint8_t v = 0; v < theirs.count && !word.many; ++v) word.note(theirs.values[v]);
  }
}

void KeyPacker::finish() {
  fields_.clear();
  packed_bits_ = 0;
  for (size_t i = 0; i < words_.size(); ++i) {
    Word& word = words_[i];
    uint64_t differing = word.any_ones & ~word.all_ones;
    if (differing == 0) continue;  // every row has the same value
    // Bits above the highest and below the lowest differing bit are the same in every row.
    Field field;
    field.source = i;
    field.shift = static_cast<unsigned>(std::countr_zero(differing));
    field.bits = static_cast<unsigned>(std::bit_width(differing)) - field.shift;
    if (!word.many) {
      auto rank_bits = static_cast<unsigned>(std::bit_width(word.count - 1U));
      if (rank_bits < field.bits) {
        std::sort(word.values.begin(), word.values.begin() + word.count);
        field.ranked = true;
        field.bits = rank_bits;
      }
    }
    field.mask = field.bits == 64 ? ~uint64_t{0} : (uint64_t{1} << field.bits) - 1;
    field.at = packed_bits_;
    packed_bits_ += field.bits;
    fields_.push_back(field);
  }
}

void KeyPacker::pack(const uint64_t* key, uint64_t* out) const {
  std::fill(out, out + packed_words(), 0);
  for (const Field& f : fields_) {
    uint64_t value = key[f.source];
    uint64_t bits = 0;
    if (f.ranked) {
      const Word& word = words_[f.source];
      for (uint8_t v = 0; v < word.count; ++v) bits += word.values[v] < value ? 1 : 0;
    } else {
      bits = (value >> f.shift) & f.mask;
    }
    size_t index = f.at / 64;
    unsigned room = 64 - static_cast<unsigned>(f.at % 64);
    if (f.bits <= room) {
      out[index] |= bits << (room - f.bits);
    } else {  // split over two words
      unsigned rest = f.bits - room;
      out[index] |= bits >> rest;
      out[index + 1] |= bits << (64 - rest);
    }
  }
}

void radix_sort(std::vector<PackedRow>& rows, unsigned bits) {
  // 11-bit digits: a 38-bit key in four passes instead of five, with counts (16 KiB a digit)
  // that still sit in the first-level cache.
  constexpr unsigned kDigitBits = 11;
  constexpr size_t kBuckets = size_t{1} << kDigitBits;
  constexpr uint64_t kDigitMask = kBuckets - 1;
  unsigned passes = (std::min(bits, 64U) + kDigitBits - 1) / kDigitBits;
  if (passes == 0 || rows.size() < 2) return;
  std::vector<std::array<uint32_t, kBuckets>> counts(passes);
  for (auto& c : counts) c.fill(0);
  for (const PackedRow& r : rows) {
    for (unsigned p = 0; p < passes; ++p) ++counts[p][(r.key >> (p * kDigitBits)) & kDigitMask];
  }
  std::vector<PackedRow> other(rows.size());
  for (unsigned p = 0; p < passes; ++p) {
    auto& count = counts[p];
    if (std::find(count.begin(), count.end(), rows.size()) != count.end()) continue;  // shared
    uint32_t start = 0;
    for (uint32_t& c : count) start += std::exchange(c, start);
    for (const PackedRow& r : rows) other[count[(r.key >> (p * kDigitBits)) & kDigitMask]++] = r;
    rows.swap(other);
  }
}

}  // namespace socksnap
