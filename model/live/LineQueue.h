#pragma once
// Lines on their way from the receivers (followed files, the syslog listener; their own
// thread) to the writer (LiveIngest's worker). A mutex-guarded vector the writer swaps out
// whole once per batch: a few hundred nanoseconds a line, no signal per line.
#include <QtGlobal>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace mt::live {

struct LiveLine {
    std::string text;               // the log line (syslog messages already converted)
    std::int64_t receivedMs = 0;    // wall clock when it arrived
    std::int32_t file = -1;         // followed file (LogFollower index), -1: syslog
    std::uint64_t inode = 0;        // the file it was read from
    std::uint64_t device = 0;
    std::int64_t endOffset = -1;    // byte offset just after the line in that file
    bool crlf = false;              // files: it ended in "\r\n" (the text has neither)
    bool overlong = false;          // cut at the 64 KiB limit
    std::size_t length = 0;         // its length before the cut

    // The bytes of the file just before endOffset (at most 16): what LogFollower compares to
    // notice a copytruncate that the file's size alone does not show.
    std::string fileTail() const {
        std::string t = text.size() > 16 ? text.substr(text.size() - 16) : text;
        t += crlf ? "\r\n" : "\n";
        return t.size() > 16 ? t.substr(t.size() - 16) : t;
    }
};

class LineQueue {
public:
    // Lines beyond this wait nowhere: they are dropped and counted (the writer is far behind).
    static constexpr std::size_t kMaxQueued = 2'000'000;

    void push(LiveLine&& line) {
        std::lock_guard lock(m_mutex);
        if (m_lines.size() >= kMaxQueued) {
            m_dropped.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        m_lines.push_back(std::move(line));
    }
    // Everything queued, in arrival order.
    void takeAll(std::vector<LiveLine>& out) {
        out.clear();
        std::lock_guard lock(m_mutex);
        out.swap(m_lines);
    }
    std::size_t size() const {
        std::lock_guard lock(m_mutex);
        return m_lines.size();
    }
    std::int64_t dropped() const { return m_dropped.load(std::memory_order_relaxed); }

private:
    mutable std::mutex m_mutex;
    std::vector<LiveLine> m_lines;
    std::atomic<std::int64_t> m_dropped{0};
};

} // namespace mt::live
