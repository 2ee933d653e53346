#include "select/key_packer.h"

#include <algorithm>
#include <array>
#include <barrier>
#include <bit>
#include <memory>
#include <thread>
#include <utility>

#include "util/huge_pages.h"

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

void radix_sort(std::vector<PackedRow>& rows, unsigned bits, unsigned threads) {
  // 11-bit digits: a 38-bit key in four passes instead of five, with counts (8 KiB a digit)
  // that still sit in the first-level cache.
  constexpr unsigned kDigitBits = 11;
  constexpr size_t kBuckets = size_t{1} << kDigitBits;
  constexpr uint64_t kDigitMask = kBuckets - 1;
  constexpr size_t kRowsPerPart = 50000;
  unsigned passes = (std::min(bits, 64U) + kDigitBits - 1) / kDigitBits;
  if (passes == 0 || rows.size() < 2) return;
  size_t parts = std::clamp<size_t>(rows.size() / kRowsPerPart, 1, std::max(1U, threads));
  using Counts = std::array<uint32_t, kBuckets>;
  std::vector<std::unique_ptr<Counts>> counts(parts);
  std::vector<PackedRow> other;
  reserve_huge(other, rows.size());  // util/huge_pages.h: a page fault a 2 MiB, not a 4 KiB
  other.resize(rows.size());
  std::barrier sync(static_cast<std::ptrdiff_t>(parts));
  // Each part counts the digits of its slice of the rows, then, once all have, moves them to
  // where its share of each bucket begins: after the earlier parts' share, so the sort stays
  // stable.
  auto work = [&](size_t part) {
    counts[part] = std::make_unique<Counts>();  // allocated by the thread that writes it
    Counts& mine = *counts[part];
    PackedRow* from = rows.data();
    PackedRow* to = other.data();
    size_t begin = rows.size() * part / parts;
    size_t end = rows.size() * (part + 1) / parts;
    for (unsigned p = 0; p < passes; ++p) {
      unsigned shift = p * kDigitBits;
      mine.fill(0);
      for (size_t i = begin; i < end; ++i) ++mine[(from[i].key >> shift) & kDigitMask];
      sync.arrive_and_wait();
      Counts start{};
      bool shared = false;  // every row has the same digit: nothing to move
      uint32_t at = 0;
      for (size_t b = 0; b < kBuckets; ++b) {
        uint32_t bucket = 0;
        for (size_t q = 0; q < parts; ++q) {
          if (q == part) start[b] = at + bucket;
          bucket += (*counts[q])[b];
        }
        shared = shared || bucket == rows.size();
        at += bucket;
      }
      sync.arrive_and_wait();  // counts read by all before the next pass overwrites them
      if (shared) continue;
      for (size_t i = begin; i < end; ++i)
        to[start[(from[i].key >> shift) & kDigitMask]++] = from[i];
      sync.arrive_and_wait();
      std::swap(from, to);
    }
    if (part == 0 && from != rows.data()) rows.swap(other);
  };
  std::vector<std::thread> pool;
  for (size_t part = 1; part < parts; ++part) pool.emplace_back(work, part);
  work(0);
  for (auto& t : pool) t.join();
}

}  // namespace socksnap
