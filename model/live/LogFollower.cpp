#include "LogFollower.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mt::live {

namespace {

// One open file being read: where complete lines end, and the partial line after that.
struct Reader {
    int fd = -1;
    std::uint64_t device = 0, inode = 0;
    std::int64_t consumed = 0;   // end of the last complete line
    std::int64_t readPos = 0;    // bytes read (consumed + pending)
    std::string pending;         // a line not terminated yet
    bool overlong = false;       // discarding the rest of a line over the limit
    std::size_t overlongLength = 0;
    std::string tail;            // the (at most 16) bytes before consumed

    void close() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

bool preadAll(int fd, char* buf, std::size_t n, std::int64_t at) {
    std::size_t got = 0;
    while (got < n) {
        const ssize_t r = ::pread(fd, buf + got, n - got, static_cast<off_t>(at + static_cast<std::int64_t>(got)));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        got += static_cast<std::size_t>(r);
    }
    return true;
}

bool tailMatches(int fd, std::int64_t offset, const std::string& tail) {
    if (tail.empty()) return offset == 0;
    if (offset < static_cast<std::int64_t>(tail.size())) return false;
    std::string buf(tail.size(), '\0');
    return preadAll(fd, buf.data(), buf.size(), offset - static_cast<std::int64_t>(tail.size())) && buf == tail;
}

bool isGzip(int fd) {
    unsigned char magic[2];
    return preadAll(fd, reinterpret_cast<char*>(magic), 2, 0) && magic[0] == 0x1f && magic[1] == 0x8b;
}

} // namespace

struct LogFollower::File {
    int index = 0;
    QString path;
    QByteArray pathBytes;
    Reader cur;
    std::unique_ptr<FollowPosition> resume;
    std::uint64_t refusedInode = 0; // a gzip file at the path: refused until the path changes
    bool missingNoticed = false;
};

LogFollower::LogFollower(LineQueue* queue, QObject* parent) : QObject(parent), m_queue(queue), m_timer(this) {
    connect(&m_timer, &QTimer::timeout, this, &LogFollower::poll);
}

LogFollower::~LogFollower() {
    for (auto& f : m_files) f->cur.close();
}

int LogFollower::follow(const QString& path, const FollowPosition* resume) {
    auto f = std::make_unique<File>();
    f->index = static_cast<int>(m_files.size());
    f->path = QFileInfo(path).absoluteFilePath();
    f->pathBytes = QFile::encodeName(f->path);
    if (resume && resume->inode) f->resume = std::make_unique<FollowPosition>(*resume);
    m_files.push_back(std::move(f));
    return m_files.back()->index;
}

QStringList LogFollower::paths() const {
    QStringList out;
    for (const auto& f : m_files) out << f->path;
    return out;
}

void LogFollower::start() {
    poll();
    m_timer.start(m_pollMs);
}

void LogFollower::stop() {
    m_timer.stop();
    // What is there now, so a clean stop leaves nothing unread.
    for (auto& f : m_files)
        if (f->cur.fd >= 0) readAvailable(*f, false);
}

namespace {

// Splits what the reader has into lines; `finish` also emits an unterminated last line.
template <class Emit>
void readInto(Reader& r, bool finish, Emit&& sink) {
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(r.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        std::size_t start = 0;
        for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
            if (buf[i] != '\n') continue;
            const std::size_t len = i - start;
            r.readPos += static_cast<std::int64_t>(len + 1);
            if (r.overlong) {
                r.overlongLength += len;
                sink(r, std::string_view(r.pending), true, r.overlongLength);
                r.overlong = false;
                r.pending.clear();
            } else if (r.pending.empty()) {
                sink(r, std::string_view(buf + start, len), false, len);
            } else {
                r.pending.append(buf + start, len);
                sink(r, std::string_view(r.pending), false, r.pending.size());
                r.pending.clear();
            }
            r.consumed = r.readPos;
            start = i + 1;
        }
        const std::size_t rest = static_cast<std::size_t>(n) - start;
        r.readPos += static_cast<std::int64_t>(rest);
        if (r.overlong) {
            r.overlongLength += rest;
        } else {
            r.pending.append(buf + start, rest);
            if (r.pending.size() > LogFollower::kMaxLine) {
                // Keep the start for the excerpt; the rest is counted, not buffered.
                r.overlong = true;
                r.overlongLength = r.pending.size();
                r.pending.resize(160);
            }
        }
    }
    if (finish && (!r.pending.empty() || r.overlong)) {
        sink(r, std::string_view(r.pending), r.overlong, r.overlong ? r.overlongLength : r.pending.size());
        r.pending.clear();
        r.overlong = false;
        r.consumed = r.readPos;
    }
}

} // namespace

bool LogFollower::readAvailable(File& f, bool finishPartial) {
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    readInto(f.cur, finishPartial, [&](Reader& r, std::string_view text, bool overlong, std::size_t length) {
        LiveLine l;
        l.crlf = !overlong && !text.empty() && text.back() == '\r';
        if (l.crlf) text.remove_suffix(1);
        l.text.assign(text);
        l.receivedMs = now;
        l.file = f.index;
        l.inode = r.inode;
        l.device = r.device;
        l.endOffset = r.readPos;
        l.overlong = overlong;
        l.length = length;
        r.tail = overlong ? std::string() : l.fileTail();
        m_lines.fetch_add(1, std::memory_order_relaxed);
        m_queue->push(std::move(l));
    });
    return true;
}

bool LogFollower::drainSibling(File& f, std::uint64_t device, std::uint64_t inode, std::int64_t offset,
                               const std::string& tail, bool byInode) {
    const QFileInfo fi(f.path);
    const QDir dir = fi.absoluteDir();
    const QString base = fi.fileName();
    // logrotate names: mail.log.1, mail.log-20261126, mail.log.0 ...; compressed ones are skipped.
    const QFileInfoList candidates = dir.entryInfoList(QDir::Files | QDir::Hidden, QDir::Time);
    for (const QFileInfo& c : candidates) {
        if (c.fileName() == base || !c.fileName().startsWith(base) || c.fileName().endsWith(QLatin1String(".gz"))
            || c.fileName().endsWith(QLatin1String(".bz2")) || c.fileName().endsWith(QLatin1String(".xz"))
            || c.fileName().endsWith(QLatin1String(".zst")))
            continue;
        struct stat st {};
        const QByteArray name = QFile::encodeName(c.absoluteFilePath());
        if (::stat(name.constData(), &st) != 0) continue;
        if (byInode && (st.st_ino != inode || (device && st.st_dev != device))) continue;
        if (!byInode && (st.st_ino == f.cur.inode || st.st_size < offset)) continue;
        const int fd = ::open(name.constData(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        if (isGzip(fd) || (!byInode && !tailMatches(fd, offset, tail)) || (byInode && st.st_size < offset)) {
            ::close(fd);
            continue;
        }
        Reader r;
        r.fd = fd;
        r.device = st.st_dev;
        r.inode = st.st_ino;
        r.consumed = r.readPos = offset;
        ::lseek(fd, offset, SEEK_SET);
        std::swap(f.cur, r);
        readAvailable(f, true);
        std::swap(f.cur, r);
        r.close();
        emit notice(f.path, tr("read the rest of %1 from byte %2").arg(c.fileName()).arg(offset));
        return true;
    }
    return false;
}

void LogFollower::openCurrent(File& f) {
    const int fd = ::open(f.pathBytes.constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (!f.missingNoticed) emit notice(f.path, tr("cannot open: %1 (waiting for it)").arg(QString::fromLocal8Bit(std::strerror(errno))));
        f.missingNoticed = true;
        return;
    }
    f.missingNoticed = false;
    struct stat st {};
    ::fstat(fd, &st);
    if (st.st_ino == f.refusedInode) {
        ::close(fd);
        return;
    }
    if (isGzip(fd)) {
        f.refusedInode = st.st_ino;
        ::close(fd);
        emit notice(f.path, tr("is gzip-compressed: a rotated file, not followed (import it instead)"));
        return;
    }
    Reader r;
    r.fd = fd;
    r.device = st.st_dev;
    r.inode = st.st_ino;
    if (f.resume) {
        const FollowPosition& p = *f.resume;
        if (p.inode == r.inode && (!p.device || p.device == r.device)) {
            if (st.st_size >= p.offset && (p.tail.empty() || tailMatches(fd, p.offset, p.tail))) {
                r.consumed = r.readPos = p.offset;
                r.tail = p.tail;
            } else {
                emit notice(f.path, tr("changed while not followed (truncated): read again from the start"));
            }
        } else if (!drainSibling(f, p.device, p.inode, p.offset, p.tail, true)) {
            emit notice(f.path, tr("rotated while not followed and the old file is gone (or compressed): lines after "
                                   "byte %1 of it may be missing").arg(p.offset));
        }
        f.resume.reset();
    }
    ::lseek(fd, r.consumed, SEEK_SET);
    f.cur = std::move(r);
}

void LogFollower::poll() {
    if (m_queue->size() > kBackpressureLines) return;
    for (auto& fp : m_files) {
        File& f = *fp;
        if (f.cur.fd < 0) {
            openCurrent(f);
            if (f.cur.fd < 0) continue;
        }
        // Rotation is looked for before reading: a truncated file must not be read from the
        // old offset.
        struct stat st {};
        if (::stat(f.pathBytes.constData(), &st) == 0 && (st.st_ino != f.cur.inode || st.st_dev != f.cur.device)) {
            // Rename rotation: finish the old file (the daemon may have written to it until it
            // reopened), then the new one from its start.
            readAvailable(f, true);
            f.cur.close();
            emit notice(f.path, tr("rotated (renamed); following the new file"));
            openCurrent(f);
            if (f.cur.fd >= 0) readAvailable(f, false);
            continue;
        }
        // (A path that is gone was renamed and not recreated yet: the old file is read on.)
        struct stat fst {};
        ::fstat(f.cur.fd, &fst);
        const bool shrunk = fst.st_size < f.cur.readPos;
        const bool rewritten = !shrunk && !f.cur.tail.empty() && !tailMatches(f.cur.fd, f.cur.consumed, f.cur.tail);
        if (shrunk || rewritten) {
            // copytruncate: lines written since our last read went to the copy.
            const std::int64_t at = f.cur.consumed;
            const std::string tail = f.cur.tail;
            f.cur.pending.clear();
            f.cur.overlong = false;
            if (at > 0 && !drainSibling(f, 0, 0, at, tail, false))
                emit notice(f.path, tr("truncated; no copy found to read the lines after byte %1 from").arg(at));
            emit notice(f.path, tr("truncated (copytruncate); reading it from the start"));
            f.cur.consumed = f.cur.readPos = 0;
            f.cur.tail.clear();
            ::lseek(f.cur.fd, 0, SEEK_SET);
        }
        readAvailable(f, false);
    }
}

} // namespace mt::live
