#include "LineReader.h"

#include <QFileInfo>
#include <cstring>
#include <zlib.h>

namespace mt {

namespace {
constexpr std::size_t kChunk = 1 << 20;
}

LineReader::LineReader(const QString& path, std::size_t maxLineBytes)
    : m_path(path), m_maxLine(maxLineBytes) {}

LineReader::~LineReader() {
    if (m_gz) gzclose(static_cast<gzFile>(m_gz));
}

bool LineReader::open() {
    const QFileInfo info(m_path);
    if (!info.exists()) { m_error = "no such file"; return false; }
    if (info.isDir()) { m_error = "is a directory, not a log file"; return false; }
    if (!info.isReadable()) { m_error = "permission denied"; return false; }
    m_fileSize = info.size();
    const QByteArray native = QFile::encodeName(m_path);
    gzFile gz = gzopen(native.constData(), "rb");
    if (!gz) { m_error = std::string("cannot open: ") + std::strerror(errno); return false; }
    gzbuffer(gz, 256 * 1024);
    m_gz = gz;
    m_buf.resize(kChunk + m_maxLine + 2);
    // gzdirect() is only meaningful after the first read.
    if (!fill() && !m_error.empty()) return false;
    m_gzip = gzdirect(gz) == 0;
    return true;
}

std::int64_t LineReader::bytesRead() const {
    if (!m_gz) return 0;
    return m_gzip ? static_cast<std::int64_t>(gzoffset(static_cast<gzFile>(m_gz)))
                  : static_cast<std::int64_t>(gztell(static_cast<gzFile>(m_gz)));
}

bool LineReader::fill() {
    if (m_eof) return false;
    // Move the unconsumed tail to the front, then read after it.
    if (m_begin > 0) {
        std::memmove(m_buf.data(), m_buf.data() + m_begin, m_end - m_begin);
        m_end -= m_begin;
        m_begin = 0;
    }
    const std::size_t room = m_buf.size() - m_end;
    if (room == 0) return true;
    const int n = gzread(static_cast<gzFile>(m_gz), m_buf.data() + m_end, static_cast<unsigned>(room));
    if (n < 0) {
        int errnum = 0;
        const char* msg = gzerror(static_cast<gzFile>(m_gz), &errnum);
        m_error = std::string("read error: ") + (msg ? msg : "unknown");
        m_eof = true;
        return false;
    }
    if (n == 0) {
        int errnum = 0;
        const char* msg = gzerror(static_cast<gzFile>(m_gz), &errnum);
        if (errnum != Z_OK && errnum != Z_STREAM_END)
            m_error = std::string("gzip data is damaged or truncated: ") + (msg ? msg : "");
        m_eof = true;
        return false;
    }
    m_end += static_cast<std::size_t>(n);
    return true;
}

bool LineReader::next(std::string_view& line) {
    m_truncated = false;
    for (;;) {
        const char* start = m_buf.data() + m_begin;
        const std::size_t avail = m_end - m_begin;
        const void* nl = std::memchr(start, '\n', std::min(avail, m_maxLine + 1));
        if (nl) {
            std::size_t len = static_cast<const char*>(nl) - start;
            m_begin += len + 1;
            ++m_lineNo;
            m_lastLength = len;
            if (len && start[len - 1] == '\r') --len;
            line = std::string_view(start, len);
            return true;
        }
        if (avail > m_maxLine) {
            // Overlong line: keep its head for the error message, skip the rest.
            m_longLine.assign(start, std::min<std::size_t>(avail, 200));
            std::size_t total = avail;
            m_begin = m_end;
            for (;;) {
                if (!fill()) break;
                const char* s = m_buf.data() + m_begin;
                const void* p = std::memchr(s, '\n', m_end - m_begin);
                if (p) {
                    const std::size_t k = static_cast<const char*>(p) - s;
                    total += k;
                    m_begin += k + 1;
                    break;
                }
                total += m_end - m_begin;
                m_begin = m_end;
            }
            ++m_lineNo;
            m_truncated = true;
            m_lastLength = total;
            line = std::string_view(m_longLine);
            return true;
        }
        if (!fill()) {
            if (m_end > m_begin) { // last line without a terminator
                std::size_t len = m_end - m_begin;
                const char* s = m_buf.data() + m_begin;
                m_begin = m_end;
                ++m_lineNo;
                m_lastLength = len;
                if (len && s[len - 1] == '\r') --len;
                line = std::string_view(s, len);
                return true;
            }
            return false;
        }
    }
}

} // namespace mt
