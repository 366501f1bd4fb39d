#pragma once
// Reads a text file line by line, transparently gunzipping `.gz` files (detected by their
// magic bytes, not the name). Lines longer than maxLineBytes are cut off and flagged so the
// caller can reject them with a reason instead of buffering megabytes.
//
// Inputs that are not regular files (a FIFO, `<(cat log)`, a character device) are streams:
// they can be read once only, so callers that want to look before they import use head()
// (the first bytes, kept from open()) instead of opening the path a second time. A stream
// whose line runs past the limit without a line break is given up (error()), since skipping
// to the next break could read forever (/dev/zero).
#include <QString>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mt {

class LineReader {
public:
    static constexpr std::size_t kDefaultMaxLine = 64 * 1024;

    explicit LineReader(const QString& path, std::size_t maxLineBytes = kDefaultMaxLine);
    ~LineReader();
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    // False when the file cannot be read at all; error() says why.
    bool open();
    // Next line without its terminator ('\n', "\r\n"). Returns false at end of input or on a
    // read error (check error()). The view stays valid until the next call.
    bool next(std::string_view& line);

    std::int64_t lineNumber() const { return m_lineNo; }
    bool lastLineTruncated() const { return m_truncated; }
    std::size_t lastLineLength() const { return m_lastLength; }
    // Compressed bytes consumed so far (for progress) and the file's size on disk.
    std::int64_t bytesRead() const;
    std::int64_t fileSize() const { return m_fileSize; }
    // Not a regular file: read once, as a stream (see above).
    bool isStream() const { return m_stream; }
    // The first bytes of the (decompressed) input, up to kHeadBytes, as read by open().
    static constexpr std::size_t kHeadBytes = 1024 * 1024;
    std::string_view head() const { return m_head; }
    bool isGzip() const { return m_gzip; }
    const std::string& error() const { return m_error; }

private:
    bool fill();

    QString m_path;
    std::size_t m_maxLine;
    void* m_gz = nullptr; // gzFile, kept opaque so zlib.h stays out of headers
    std::vector<char> m_buf;
    std::size_t m_begin = 0, m_end = 0;
    bool m_eof = false;
    bool m_gzip = false;
    bool m_truncated = false;
    std::size_t m_lastLength = 0;
    std::int64_t m_lineNo = 0;
    std::int64_t m_fileSize = 0;
    std::string m_error;
    std::string m_longLine;
    std::string m_head;
    bool m_stream = false;
};

// What a file is when it is plainly not a text log (an ELF executable, a PDF, a SQLite
// database, an archive, binary data), from its first bytes; nullptr for text. The reason is
// meant for "not a log: <reason>".
const char* binaryKind(std::string_view head);

} // namespace mt
