// Packed sort keys: exact layouts, order kept, and the radix sort.
#include "select/key_packer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace socksnap {
namespace {

using Key = std::vector<uint64_t>;

KeyPacker packer_for(const std::vector<Key>& keys) {
  KeyPacker packer(keys.front().size());
  for (const Key& k : keys) packer.observe(k.data());
  packer.finish();
  return packer;
}

Key packed(const KeyPacker& packer, const Key& key) {
  Key out(packer.packed_words());
  packer.pack(key.data(), out.data());
  return out;
}

TEST(KeyPacker, SharedWordsAreLeftOut) {
  KeyPacker packer = packer_for({{7, 1}, {7, 1}, {7, 1}});
  EXPECT_EQ(packer.packed_bits(), 0U);
  EXPECT_EQ(packer.packed_words(), 0U);
}

TEST(KeyPacker, FewValuesBecomeTheirRank) {
  // Word 0: two values (1 bit); word 1: 5, 7, 9 span 3 bits but are three values (2 bits).
  std::vector<Key> keys = {
      {0x0600000000000000, 5}, {0x0400000000000000, 7}, {0x0400000000000000, 9}};
  KeyPacker packer = packer_for(keys);
  ASSERT_EQ(packer.packed_bits(), 3U);
  EXPECT_EQ(packed(packer, keys[0]), (Key{uint64_t{0b100} << 61}));
  EXPECT_EQ(packed(packer, keys[1]), (Key{uint64_t{0b001} << 61}));
  EXPECT_EQ(packed(packer, keys[2]), (Key{uint64_t{0b010} << 61}));
}

TEST(KeyPacker, ManyValuesKeepOnlyTheBitsThatDiffer) {
  // 16 values 0x100, 0x110, ..., 0x1f0: bit 8 is always set, bits 0-3 never; bits 4-7 differ.
  std::vector<Key> keys;
  for (uint64_t i = 0; i < 16; ++i) keys.push_back({0x100 + i * 0x10});
  KeyPacker packer = packer_for(keys);
  ASSERT_EQ(packer.packed_bits(), 4U);
  for (uint64_t i = 0; i < 16; ++i) EXPECT_EQ(packed(packer, keys[i]), (Key{i << 60}));
}

TEST(KeyPacker, FieldsRunOnIntoTheNextWord) {
  // Three words of 30 differing bits each (more than kMaxRanked values): 90 bits, two words.
  std::vector<Key> keys;
  for (uint64_t v : {0ULL, 1ULL, 2ULL, 3ULL, 4ULL, 5ULL, 6ULL, 7ULL, 8ULL, (1ULL << 30) - 1}) {
    keys.push_back({v, v, v});
  }
  keys.push_back({(1ULL << 30) - 1, 1, (1ULL << 30) - 1});
  KeyPacker packer = packer_for(keys);
  ASSERT_EQ(packer.packed_bits(), 90U);
  EXPECT_EQ(packed(packer, keys.back()), (Key{0xFFFFFFFC0000001FULL, 0xFFFFFFC000000000ULL}));
  EXPECT_EQ(packed(packer, keys[1]), (Key{(1ULL << 34) | (1ULL << 4), 1ULL << 38}));
}

TEST(KeyPacker, AbsorbIsLikeObservingEverything) {
  std::vector<Key> keys = {{1, 100}, {2, 100}, {3, 101}, {1, 102}};
  KeyPacker a(2);
  KeyPacker b(2);
  a.observe(keys[0].data());
  a.observe(keys[1].data());
  b.observe(keys[2].data());
  b.observe(keys[3].data());
  a.absorb(b);
  a.finish();
  KeyPacker whole = packer_for(keys);
  ASSERT_EQ(a.packed_bits(), whole.packed_bits());
  for (const Key& k : keys) EXPECT_EQ(packed(a, k), packed(whole, k));
}

// Random keys drawn from small pools of words: packed keys order every pair as the full keys do.
TEST(KeyPacker, KeepsTheOrderOfTheFullKeys) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    size_t width = 1 + trial % 4;
    size_t pool = 1 + trial % 20;
    std::vector<uint64_t> words(pool);
    for (auto& w : words) w = rng() >> (rng() % 64);
    std::vector<Key> keys(200, Key(width));
    for (auto& k : keys) {
      for (auto& w : k) w = words[rng() % pool];
    }
    KeyPacker packer = packer_for(keys);
    std::vector<Key> packs;
    packs.reserve(keys.size());
    for (const Key& k : keys) packs.push_back(packed(packer, k));
    for (size_t i = 0; i < keys.size(); ++i) {
      for (size_t j = 0; j < keys.size(); ++j) {
        ASSERT_EQ(keys[i] < keys[j], packs[i] < packs[j]) << trial << " " << i << " " << j;
      }
    }
  }
}

TEST(RadixSort, StableByKey) {
  std::vector<PackedRow> rows = {{3, 0}, {1, 1}, {2, 2}, {1, 3}, {0x100, 4}, {0, 5}};
  radix_sort(rows, 9);
  std::vector<uint32_t> order;
  order.reserve(rows.size());
  for (const auto& r : rows) order.push_back(r.row);
  EXPECT_EQ(order, (std::vector<uint32_t>{5, 1, 3, 2, 0, 4}));
}

TEST(RadixSort, SameAsStableSortOnRandomKeys) {
  std::mt19937_64 rng(11);
  for (unsigned bits : {1U, 7U, 8U, 20U, 33U, 64U}) {
    std::vector<PackedRow> rows(5000);
    for (uint32_t i = 0; i < rows.size(); ++i) {
      uint64_t key = bits == 64 ? rng() : rng() & ((uint64_t{1} << bits) - 1);
      rows[i] = {key & ~uint64_t{0xFF00}, i};  // one byte shared by all: skipped
    }
    auto expected = rows;
    std::stable_sort(expected.begin(), expected.end(),
                     [](const PackedRow& a, const PackedRow& b) { return a.key < b.key; });
    radix_sort(rows, bits);
    for (size_t i = 0; i < rows.size(); ++i) {
      ASSERT_EQ(rows[i].row, expected[i].row) << bits << " " << i;
    }
  }
}

// Large sorts go over several threads, each moving its slice of the rows: still stable.
TEST(RadixSort, OnThreadsTheSameAsOnOne) {
  std::mt19937_64 rng(5);
  for (unsigned bits : {3U, 22U, 38U, 64U}) {
    std::vector<PackedRow> rows(160000);
    for (uint32_t i = 0; i < rows.size(); ++i) {
      uint64_t key = bits == 64 ? rng() : rng() & ((uint64_t{1} << bits) - 1);
      rows[i] = {key & ~uint64_t{0x7ff0000}, i};  // some digits shared by all, some not
    }
    auto one = rows;
    radix_sort(one, bits, 1);
    for (unsigned threads : {2U, 3U, 8U}) {
      auto many = rows;
      radix_sort(many, bits, threads);
      for (size_t i = 0; i < rows.size(); ++i) {
        ASSERT_EQ(many[i].row, one[i].row) << bits << " bits, " << threads << " threads, " << i;
      }
    }
    for (size_t i = 1; i < one.size(); ++i) {
      ASSERT_TRUE(one[i - 1].key < one[i].key ||
                  (one[i - 1].key == one[i].key && one[i - 1].row < one[i].row))
          << bits << " " << i;
    }
  }
}

}  // namespace
}  // namespace socksnap
