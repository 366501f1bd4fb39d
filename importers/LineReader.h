#pragma once
// Reads a text file line by line, transparently gunzipping `.gz` files (detected by their
// magic bytes, not the name). Lines longer than maxLineBytes are cut off and flagged so the
// caller can reject them with a reason instead of buffering megabytes.
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
};

} // namespace mt
