#include "select/key_packer.h"

#include <algorithm>
#include <array>
#include <bit>
#include <utility>

namespace socksnap {

void KeyPacker::note_value(Word& word, uint64_t value) {
  if (word.many) return;
  if (std::find(word.values.begin(), word.values.end(), value) != word.values.end()) return;
  if (word.values.size() == kMaxRanked) {
    word.many = true;
    word.values.clear();
    word.values.shrink_to_fit();
    return;
  }
  word.values.push_back(value);
}

void KeyPacker::observe(const uint64_t* key) {
  for (size_t i = 0; i < words_.size(); ++i) {
    Word& word = words_[i];
    word.all_ones &= key[i];
    word.any_ones |= key[i];
    // Most rows repeat the value seen first: check it before searching.
    if (!word.many && (word.values.empty() || word.values.front() != key[i])) {
      note_value(word, key[i]);
    }
  }
}

void KeyPacker::absorb(const KeyPacker& other) {
  for (size_t i = 0; i < words_.size(); ++i) {
    Word& word = words_[i];
    const Word& theirs = other.words_[i];
    word.all_ones &= theirs.all_ones;
    word.any_ones |= theirs.any_ones;
    if (theirs.many) {
      word.many = true;
      word.values.clear();
    }
    for (uint64_t v : theirs.values) note_value(word, v);
  }
}

void KeyPacker::finish() {
  packed_bits_ = 0;
  for (Word& word : words_) {
    uint64_t differing = word.any_ones & ~word.all_ones;
    if (differing == 0) continue;  // every row has the same value
    // Bits above the highest and below the lowest differing bit are the same in every row.
    auto low = static_cast<unsigned>(std::countr_zero(differing));
    auto span = static_cast<unsigned>(std::bit_width(differing)) - low;
    word.shift = low;
    word.bits = span;
    if (!word.many) {
      auto rank_bits = static_cast<unsigned>(std::bit_width(word.values.size() - 1));
      if (rank_bits < span) {
        std::sort(word.values.begin(), word.values.end());
        word.ranked = true;
        word.bits = rank_bits;
      }
    }
    packed_bits_ += word.bits;
  }
}

void KeyPacker::pack(const uint64_t* key, uint64_t* out) const {
  std::fill(out, out + packed_words(), 0);
  size_t at = 0;  // bits of the output used so far
  for (size_t i = 0; i < words_.size(); ++i) {
    const Word& word = words_[i];
    if (word.bits == 0) continue;
    uint64_t field = 0;
    if (word.ranked) {
      field = static_cast<uint64_t>(std::find(word.values.begin(), word.values.end(), key[i]) -
                                    word.values.begin());
    } else {
      field = key[i] >> word.shift;
      if (word.bits < 64) field &= (uint64_t{1} << word.bits) - 1;
    }
    size_t index = at / 64;
    unsigned room = 64 - static_cast<unsigned>(at % 64);
    if (word.bits <= room) {
      out[index] |= field << (room - word.bits);
    } else {  // split over two words
      unsigned rest = word.bits - room;
      out[index] |= field >> rest;
      out[index + 1] |= field << (64 - rest);
    }
    at += word.bits;
  }
}

void radix_sort(std::vector<PackedRow>& rows, unsigned bits) {
  constexpr unsigned kDigitBits = 8;
  constexpr size_t kBuckets = size_t{1} << kDigitBits;
  unsigned passes = (std::min(bits, 64U) + kDigitBits - 1) / kDigitBits;
  if (passes == 0 || rows.size() < 2) return;
  std::vector<std::array<size_t, kBuckets>> counts(passes);
  for (auto& c : counts) c.fill(0);
  for (const PackedRow& r : rows) {
    for (unsigned p = 0; p < passes; ++p) ++counts[p][(r.key >> (p * kDigitBits)) & 0xFF];
  }
  std::vector<PackedRow> other(rows.size());
  for (unsigned p = 0; p < passes; ++p) {
    auto& count = counts[p];
    if (std::find(count.begin(), count.end(), rows.size()) != count.end()) continue;  // shared
    size_t start = 0;
    for (size_t& c : count) start += std::exchange(c, start);
    for (const PackedRow& r : rows) other[count[(r.key >> (p * kDigitBits)) & 0xFF]++] = r;
    rows.swap(other);
  }
}

}  // namespace socksnap
