// Sort keys made small for one sort. A column's key is a few 64-bit words (an endpoint is three:
// version and address bytes, then the port), but the rows of one sort tell most of them apart
// with a few bits: a word every row shares is dropped, a word with a handful of values becomes
// their rank, and of any other word only the bits that differ between rows are kept. The packed
// fields go one after another, first key first, into as few words as they need; packed keys
// compare (as unsigned words, in turn) exactly as the full keys do, for the rows observed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace socksnap {

class KeyPacker {
 public:
  // A word with at most this many distinct values may be replaced by their rank.
  static constexpr size_t kMaxRanked = 8;

  explicit KeyPacker(size_t words) : words_(words) {}

  // Takes note of one row's full key (`words` words).
  void observe(const uint64_t* key) {
    for (size_t i = 0; i < words_.size(); ++i) words_[i].observe(key[i]);
  }
  // Adds what another packer of the same width observed (for keys observed on several threads).
  void absorb(const KeyPacker& other);
  // Decides the layout; observe and absorb no more after it.
  void finish();

  size_t packed_bits() const { return packed_bits_; }
  size_t packed_words() const { return (packed_bits_ + 63) / 64; }
  // Packs the full key of an observed row into packed_words() words; the fields fill each word
  // from its most significant bit down.
  void pack(const uint64_t* key, uint64_t* out) const;
  // pack() when packed_words() is 1: the packed key in the low packed_bits() bits.
  uint64_t pack_low(const uint64_t* key) const {
    uint64_t out = 0;
    for (const Field& f : fields_) {
      uint64_t value = key[f.source];
      uint64_t bits = 0;
      if (f.ranked) {
        const Word& word = words_[f.source];
        for (uint8_t v = 0; v < word.count; ++v) bits += word.values[v] < value ? 1 : 0;
      } else {
        bits = (value >> f.shift) & f.mask;
      }
      out |= bits << (packed_bits_ - f.at - f.bits);
    }
    return out;
  }

 private:
  struct Word {
    uint64_t all_ones = ~uint64_t{0};           // bits set in every value
    uint64_t any_ones = 0;                      // bits set in some value
    std::array<uint64_t, kMaxRanked> values{};  // the distinct values, while not `many`
    uint8_t count = 0;
    bool many = false;  // more distinct values than kMaxRanked

    void observe(uint64_t value) {
      all_ones &= value;
      any_ones |= value;
      if (!many) note(value);
    }
    void note(uint64_t value);
  };
  // Where one word's bits go: (value >> shift) & mask, or its rank, at bit `at` of the output.
  struct Field {
    size_t source = 0;
    bool ranked = false;
    unsigned shift = 0;
    unsigned bits = 0;
    uint64_t mask = 0;
    size_t at = 0;
  };

  std::vector<Word> words_;
  std::vector<Field> fields_;
  size_t packed_bits_ = 0;
};

// A row with a key packed into one word.
struct PackedRow {
  uint64_t key = 0;
  uint32_t row = 0;
};

// Stable sort by `key`, of which only the low `bits` bits may be set: a least-significant-digit
// radix sort, 11 bits a pass, that skips the digits all keys share. Large sorts use up to
// `threads` threads.
void radix_sort(std::vector<PackedRow>& rows, unsigned bits, unsigned threads = 1);

}  // namespace socksnap
