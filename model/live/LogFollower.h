#pragma once
// Follows growing log files (tail -F, done carefully): reads what is appended, line by line,
// and keeps following across rotation.
// - Rename rotation (logrotate's default, rsyslog reopening): the path now names another
//   inode. The old file is read to its end first (the daemon may still have written to it),
//   then the new one from its start.
// - copytruncate: the file shrinks (or its bytes before our offset change). What was written
//   after our last read went to the copy: it is read from the copy (a sibling whose bytes
//   before our offset match ours), then the truncated file from its start.
// - Compressed rotations (mail.log.2.gz) are never followed; a followed path that holds gzip
//   is refused with a reason.
// Polling (stat every pollMs, 250 by default) rather than inotify: it sees every rotation
// scheme, works on NFS and costs nothing measurable at this rate. Lines go to a LineQueue with
// the file, inode and the offset just after them; the writer stores the offset of the last
// line it committed, and resume() starts there again (also in a file rotated meanwhile).
#include "LineQueue.h"

#include <QObject>
#include <QString>
#include <QStringList>
#include <QTimer>

#include <atomic>
#include <memory>
#include <vector>

namespace mt::live {

// Where a file stopped, as the case stores it (table live_files).
struct FollowPosition {
    QString path;
    std::uint64_t device = 0, inode = 0;
    std::int64_t offset = 0;
    std::string tail; // the bytes just before offset
};

class LogFollower : public QObject {
    Q_OBJECT
public:
    static constexpr std::size_t kMaxLine = 64 * 1024;

    explicit LogFollower(LineQueue* queue, QObject* parent = nullptr);
    ~LogFollower() override;

    // Before start(). A position from an earlier session resumes there (its inode may now be a
    // rotated sibling: that one is finished first); else the file is read from its start.
    // Returns the file's index (LiveLine::file).
    int follow(const QString& path, const FollowPosition* resume = nullptr);
    QStringList paths() const;
    void setPollInterval(int ms) { m_pollMs = ms; }

    // Reads what is there now, then polls. Call in the thread the follower lives in.
    void start();
    void stop();
    // One poll (tests; start() polls by timer).
    void poll();

    std::int64_t linesRead() const { return m_lines.load(std::memory_order_relaxed); }
    // Files wait (they can) while the writer has this many lines to catch up on.
    static constexpr std::size_t kBackpressureLines = 200'000;

signals:
    // "rotated (rename)", "truncated (copytruncate)", "cannot read ...": for the log.
    void notice(const QString& path, const QString& what);

private:
    struct File;
    void openCurrent(File& f);
    bool readAvailable(File& f, bool finishPartial);
    bool drainSibling(File& f, std::uint64_t device, std::uint64_t inode, std::int64_t offset,
                      const std::string& tail, bool byInode);

    LineQueue* m_queue;
    std::vector<std::unique_ptr<File>> m_files;
    QTimer m_timer;
    int m_pollMs = 250;
    std::atomic<std::int64_t> m_lines{0};
};

} // namespace mt::live
