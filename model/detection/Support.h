#pragma once
// Small building blocks of the detection engine: 64-bit hashing, an open-addressing hash map
// from 64-bit keys, a string pool, and sliding-window sums. Millions of window events pass
// through these per run; std::unordered_map and std::deque would cost several times more.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace mt::det {

inline std::uint64_t mix64(std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return x;
}

// FNV-1a, finished with a mixer; `tag` separates kinds of keys with the same text.
inline std::uint64_t hashText(std::string_view s, std::uint64_t tag = 0) {
    std::uint64_t h = 0xCBF29CE484222325ull ^ (tag * 0x100000001B3ull);
    for (unsigned char c : s) {
        h ^= c;
        h *= 0x100000001B3ull;
    }
    const std::uint64_t r = mix64(h + tag);
    return r ? r : 1;
}

// hashText, one character at a time (to hash text while normalising it, without a copy).
struct TextHasher {
    explicit TextHasher(std::uint64_t t = 0) : tag(t), h(0xCBF29CE484222325ull ^ (t * 0x100000001B3ull)) {}
    void put(char c) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001B3ull;
        ++length;
    }
    std::uint64_t done() const {
        const std::uint64_t r = mix64(h + tag);
        return r ? r : 1;
    }
    std::uint64_t tag, h;
    std::size_t length = 0;
};

inline std::uint64_t combine(std::uint64_t a, std::uint64_t b) {
    const std::uint64_t r = mix64(a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull);
    return r ? r : 1;
}

// Open addressing, linear probing; keys are non-zero 64-bit values; no erase.
template <class V>
class FlatMap {
public:
    FlatMap() { rehash(16); }
    V* find(std::uint64_t key) {
        std::size_t i = mix64(key) & m_mask;
        while (true) {
            const std::uint64_t k = m_keys[i];
            if (k == key) return &m_vals[i];
            if (k == 0) return nullptr;
            i = (i + 1) & m_mask;
        }
    }
    const V* find(std::uint64_t key) const { return const_cast<FlatMap*>(this)->find(key); }
    // The value for key, default-constructed when new; `fresh` tells which.
    V& get(std::uint64_t key, bool* fresh = nullptr) {
        if ((m_count + 1) * 2 > m_keys.size()) rehash(m_keys.size() * 2);
        std::size_t i = mix64(key) & m_mask;
        while (true) {
            const std::uint64_t k = m_keys[i];
            if (k == key) {
                if (fresh) *fresh = false;
                return m_vals[i];
            }
            if (k == 0) {
                m_keys[i] = key;
                m_vals[i] = V();
                ++m_count;
                if (fresh) *fresh = true;
                return m_vals[i];
            }
            i = (i + 1) & m_mask;
        }
    }
    std::size_t size() const { return m_count; }
    void clear() {
        m_keys.assign(m_keys.size(), 0);
        m_count = 0;
    }

private:
    void rehash(std::size_t n) {
        std::vector<std::uint64_t> keys(n, 0);
        std::vector<V> vals(n);
        const std::size_t mask = n - 1;
        for (std::size_t j = 0; j < m_keys.size(); ++j) {
            if (!m_keys[j]) continue;
            std::size_t i = mix64(m_keys[j]) & mask;
            while (keys[i]) i = (i + 1) & mask;
            keys[i] = m_keys[j];
            vals[i] = std::move(m_vals[j]);
        }
        m_keys.swap(keys);
        m_vals.swap(vals);
        m_mask = mask;
    }
    std::vector<std::uint64_t> m_keys;
    std::vector<V> m_vals;
    std::size_t m_mask = 0;
    std::size_t m_count = 0;
};

// Strings stored once; id 0 is the empty string.
class StringPool {
public:
    StringPool() {
        m_offsets.push_back(0);
        m_offsets.push_back(0);
    }
    std::uint32_t intern(std::string_view s) {
        if (s.empty()) return 0;
        std::uint64_t h = hashText(s, 0x5354);
        while (true) {
            std::uint32_t& slot = m_index.get(h);
            if (slot == 0) {
                m_arena.append(s.data(), s.size());
                m_offsets.push_back(m_arena.size());
                slot = static_cast<std::uint32_t>(m_offsets.size() - 2);
                return slot;
            }
            if (view(slot) == s) return slot;
            h = combine(h, 0x51); // a true collision of 64-bit hashes: probe a derived key
        }
    }
    // Stores s without looking for an equal string (for strings that are all different).
    std::uint32_t append(std::string_view s) {
        if (s.empty()) return 0;
        m_arena.append(s.data(), s.size());
        m_offsets.push_back(m_arena.size());
        return static_cast<std::uint32_t>(m_offsets.size() - 2);
    }
    std::string_view view(std::uint32_t id) const {
        if (id == 0 || id + 1 >= m_offsets.size()) return {};
        return std::string_view(m_arena).substr(m_offsets[id], m_offsets[id + 1] - m_offsets[id]);
    }
    std::string str(std::uint32_t id) const { return std::string(view(id)); }
    std::size_t size() const { return m_offsets.size() - 1; }

private:
    std::string m_arena;
    std::vector<std::size_t> m_offsets; // string id i spans [m_offsets[i], m_offsets[i + 1])
    FlatMap<std::uint32_t> m_index;
};

// A FIFO in one growing ring of memory (no shifting, no per-element allocation).
template <class T>
class Ring {
public:
    bool empty() const { return m_size == 0; }
    std::size_t size() const { return m_size; }
    const T& front() const { return m_buf[m_head]; }
    void pop() {
        m_head = (m_head + 1) & (m_buf.size() - 1);
        --m_size;
    }
    void push(const T& v) {
        if (m_size == m_buf.size()) grow();
        m_buf[(m_head + m_size) & (m_buf.size() - 1)] = v;
        ++m_size;
    }

private:
    void grow() {
        std::vector<T> next(m_buf.empty() ? 1024 : m_buf.size() * 2);
        for (std::size_t i = 0; i < m_size; ++i) next[i] = m_buf[(m_head + i) & (m_buf.size() - 1)];
        m_buf.swap(next);
        m_head = 0;
    }
    std::vector<T> m_buf;
    std::size_t m_head = 0, m_size = 0;
};

// Sums of weights per key over a sliding window (t - window, t]. Events must arrive in time
// order; each costs O(1) amortised.
class WindowSum {
public:
    explicit WindowSum(std::int64_t windowMs = 0) : m_window(windowMs) {}
    void setWindow(std::int64_t windowMs) { m_window = windowMs; }
    std::int64_t window() const { return m_window; }
    // Adds w under key at time now and returns the key's sum, the new event included.
    std::int64_t add(std::uint64_t key, std::int64_t now, std::int64_t w) {
        bool fresh = false;
        std::uint32_t& slot = m_slots.get(key, &fresh);
        if (fresh) slot = m_nextSlot++;
        return addSlot(slot, now, w);
    }
    // The key's sum at time now without adding anything.
    std::int64_t peek(std::uint64_t key, std::int64_t now) {
        const std::uint32_t* slot = m_slots.find(key);
        return slot ? peekSlot(*slot, now) : (expire(now), 0);
    }
    // The same with the caller's own dense slot numbers instead of hashed keys (do not mix
    // both kinds of keys in one WindowSum).
    std::int64_t addSlot(std::uint32_t slot, std::int64_t now, std::int64_t w) {
        expire(now);
        if (slot >= m_sums.size()) m_sums.resize(slot + 1 + m_sums.size() / 2, 0);
        m_sums[slot] += w;
        m_events.push({now, slot, w});
        return m_sums[slot];
    }
    std::int64_t peekSlot(std::uint32_t slot, std::int64_t now) {
        expire(now);
        return slot < m_sums.size() ? m_sums[slot] : 0;
    }

private:
    struct Event {
        std::int64_t time;
        std::uint32_t slot;
        std::int64_t w;
    };
    void expire(std::int64_t now) {
        const std::int64_t edge = now - m_window;
        while (!m_events.empty() && m_events.front().time <= edge) {
            const Event& e = m_events.front();
            m_sums[e.slot] -= e.w;
            m_events.pop();
        }
    }
    std::int64_t m_window;
    Ring<Event> m_events;
    FlatMap<std::uint32_t> m_slots;
    std::uint32_t m_nextSlot = 0;
    std::vector<std::int64_t> m_sums;
};

// Distinct items per key over a sliding window (t - window, t].
class WindowDistinct {
public:
    explicit WindowDistinct(std::int64_t windowMs = 0) : m_window(windowMs) {}
    void setWindow(std::int64_t windowMs) { m_window = windowMs; }
    // Records item under key at time now; returns the key's distinct items in the window.
    std::int64_t add(std::uint64_t key, std::uint64_t item, std::int64_t now) {
        expire(now);
        bool fresh = false;
        std::uint32_t& kslot = m_keys.get(key, &fresh);
        if (fresh) {
            kslot = static_cast<std::uint32_t>(m_distinct.size());
            m_distinct.push_back(0);
        }
        const std::uint32_t ks = kslot;
        std::uint32_t& pslot = m_pairs.get(combine(key, item), &fresh);
        if (fresh) {
            pslot = static_cast<std::uint32_t>(m_last.size());
            m_last.push_back({INT64_MIN, ks});
        }
        Pair& p = m_last[pslot];
        if (p.last == now) return m_distinct[ks]; // already counted at this very moment
        if (p.last <= now - m_window) ++m_distinct[ks];
        p.last = now;
        m_events.push({now, pslot});
        return m_distinct[ks];
    }
    std::int64_t peek(std::uint64_t key, std::int64_t now) {
        expire(now);
        const std::uint32_t* k = m_keys.find(key);
        return k ? m_distinct[*k] : 0;
    }

private:
    struct Pair {
        std::int64_t last;
        std::uint32_t keySlot;
    };
    struct Event {
        std::int64_t time;
        std::uint32_t pair;
    };
    void expire(std::int64_t now) {
        const std::int64_t edge = now - m_window;
        while (!m_events.empty() && m_events.front().time <= edge) {
            const Pair& p = m_last[m_events.front().pair];
            // Only the item's latest sighting takes it out of the window.
            if (p.last == m_events.front().time) --m_distinct[p.keySlot];
            m_events.pop();
        }
    }
    std::int64_t m_window;
    Ring<Event> m_events;
    FlatMap<std::uint32_t> m_keys, m_pairs;
    std::vector<Pair> m_last;
    std::vector<std::int64_t> m_distinct;
};

} // namespace mt::det
