#include "LineReader.h"

#include <QFileInfo>
#include <cstring>
#include <sys/stat.h>
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
    const QByteArray native = QFile::encodeName(m_path);
    struct stat st {};
    m_stream = ::stat(native.constData(), &st) == 0 && !S_ISREG(st.st_mode);
    m_fileSize = m_stream ? 0 : info.size();
    gzFile gz = gzopen(native.constData(), "rb");
    if (!gz) { m_error = std::string("cannot open: ") + std::strerror(errno); return false; }
    gzbuffer(gz, 256 * 1024);
    m_gz = gz;
    m_buf.resize(kChunk + m_maxLine + 2);
    // gzdirect() is only meaningful after the first read.
    if (!fill() && !m_error.empty()) return false;
    m_gzip = gzdirect(gz) == 0;
    m_head.assign(m_buf.data() + m_begin, std::min(m_end - m_begin, kHeadBytes));
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
        if (avail > m_maxLine && m_stream) {
            // A stream may never break the line (/dev/zero): give up rather than read on.
            m_error = "no line break within " + std::to_string(m_maxLine / 1024) + " KiB (line "
                      + std::to_string(m_lineNo + 1) + "): not a text log; reading of this stream given up";
            m_eof = true;
            m_begin = m_end;
            return false;
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

const char* binaryKind(std::string_view head) {
    auto starts = [&](std::string_view magic) { return head.substr(0, magic.size()) == magic; };
    if (starts("\x7f" "ELF")) return "an ELF executable or library, not a text log";
    if (starts("%PDF-")) return "a PDF document, not a text log";
    if (starts(std::string_view("SQLite format 3\0", 16)))
        return "a SQLite database (a case file belongs after --case), not a text log";
    if (starts("PK\x03\x04")) return "a ZIP archive (or an Office document), not a text log: unpack it first";
    if (starts("BZh")) return "bzip2-compressed: decompress it first (only gzip is read directly)";
    if (starts("\xfd" "7zXZ")) return "xz-compressed: decompress it first (only gzip is read directly)";
    if (starts("\x28\xb5\x2f\xfd")) return "zstd-compressed: decompress it first (only gzip is read directly)";
    if (starts("7z\xbc\xaf\x27\x1c")) return "a 7-Zip archive, not a text log: unpack it first";
    if (starts("\x89PNG") || starts("\xff\xd8\xff") || starts("GIF8")) return "an image, not a text log";
    // UTF-16 text has NUL bytes by nature.
    if (starts("\xff\xfe") || starts("\xfe\xff")) return nullptr;
    if (head.substr(0, 4096).find('\0') != std::string_view::npos) return "binary data (NUL bytes in its first 4 KiB), not a text log";
    return nullptr;
}

} // namespace mt
