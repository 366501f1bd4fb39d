// Shared plumbing of the org-chart importers (file loading, text hygiene, e-mail and unit
// normalisation) and the format detection behind readOrgChart().
#include "OrgChart.h"

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QString>

#include <algorithm>
#include <cstring>

namespace mt {
namespace orgdetail {

namespace {

constexpr std::int64_t kMaxFileBytes = std::int64_t(1) << 30; // 1 GiB: no org chart is larger
constexpr std::size_t kSniffBytes = 64 * 1024;

bool startsWith(std::string_view s, std::string_view p)
{
    return s.size() >= p.size() && std::memcmp(s.data(), p.data(), p.size()) == 0;
}

bool startsWithNoCase(std::string_view s, std::string_view p)
{
    if (s.size() < p.size())
        return false;
    for (std::size_t i = 0; i < p.size(); ++i) {
        char a = s[i], b = p[i];
        if (a >= 'A' && a <= 'Z')
            a = char(a - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

void appendUtf8(std::string& out, char32_t cp)
{
    if (cp < 0x80) {
        out.push_back(char(cp));
    } else if (cp < 0x800) {
        out.push_back(char(0xC0 | (cp >> 6)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(char(0xE0 | (cp >> 12)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(char(0xF0 | (cp >> 18)));
        out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    }
}

// Recognisable binary containers people pick by mistake, with a hint.
const char* binarySignature(std::string_view s)
{
    if (startsWith(s, "\x1f\x8b"))
        return "a gzip-compressed file; decompress it first";
    if (startsWith(s, "PK\x03\x04"))
        return "a ZIP archive (an Excel .xlsx workbook?); export the sheet as CSV first";
    if (startsWith(s, "\xD0\xCF\x11\xE0"))
        return "an OLE compound file (an Excel 97-2003 .xls workbook?); export the sheet as CSV first";
    if (startsWith(s, "%PDF"))
        return "a PDF document";
    if (startsWith(s, "\x89PNG") || startsWith(s, "\xFF\xD8\xFF") || startsWith(s, "GIF8"))
        return "an image";
    if (startsWith(s, "7z\xBC\xAF"))
        return "a 7-Zip archive";
    if (startsWith(s, "SQLite format 3"))
        return "an SQLite database";
    return nullptr;
}

bool looksBinary(std::string_view s)
{
    const std::size_t n = std::min(s.size(), kSniffBytes);
    std::size_t control = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == 0)
            return true;
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1B)
            ++control;
        else if (c == 0x7F)
            ++control;
    }
    return control * 100 > n; // more than 1 % control characters: not text
}

// Length of an incomplete UTF-8 sequence at the very end of s (cut by a size limit).
std::size_t incompleteTail(std::string_view s)
{
    std::size_t k = 0;
    while (k < 4 && k < s.size() && (static_cast<unsigned char>(s[s.size() - 1 - k]) & 0xC0) == 0x80)
        ++k;
    if (k >= s.size())
        return 0;
    const unsigned char lead = static_cast<unsigned char>(s[s.size() - 1 - k]);
    std::size_t need = 0;
    if (lead >= 0xF0)
        need = 3;
    else if (lead >= 0xE0)
        need = 2;
    else if (lead >= 0xC0)
        need = 1;
    else
        return 0;
    return need > k ? k + 1 : 0;
}

} // namespace

std::string fileLabel(const QString& path)
{
    if (path.isEmpty())
        return "(no file name)";
    return QDir::toNativeSeparators(path).toStdString();
}

std::string_view trim(std::string_view s)
{
    for (;;) {
        if (s.empty())
            return s;
        const unsigned char c = static_cast<unsigned char>(s.front());
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v')
            s.remove_prefix(1);
        else if (startsWith(s, "\xC2\xA0")) // no-break space (spreadsheets love it)
            s.remove_prefix(2);
        else if (startsWith(s, "\xEF\xBB\xBF")) // a stray BOM
            s.remove_prefix(3);
        else
            break;
    }
    for (;;) {
        if (s.empty())
            return s;
        const unsigned char c = static_cast<unsigned char>(s.back());
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v')
            s.remove_suffix(1);
        else if (s.size() >= 2 && s.substr(s.size() - 2) == "\xC2\xA0")
            s.remove_suffix(2);
        else
            break;
    }
    return s;
}

std::string foldCase(std::string_view s)
{
    std::string out(s);
    bool ascii = true;
    for (char& ch : out) {
        const unsigned char c = static_cast<unsigned char>(ch);
        if (c >= 0x80)
            ascii = false;
        else if (c >= 'A' && c <= 'Z')
            ch = char(c - 'A' + 'a');
    }
    if (!ascii)
        out = QString::fromUtf8(out.data(), qsizetype(out.size())).toCaseFolded().toStdString();
    return out;
}

bool isValidUtf8(std::string_view s)
{
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        // ASCII fast path, 8 bytes at a time.
        while (end - p >= 8) {
            std::uint64_t w;
            std::memcpy(&w, p, 8);
            if (w & 0x8080808080808080ULL)
                break;
            p += 8;
        }
        if (p >= end)
            break;
        const unsigned char c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        int n;
        char32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (end - p <= n)
            return false;
        for (int i = 1; i <= n; ++i) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += n + 1;
    }
    return true;
}

std::string latin1ToUtf8(std::string_view s)
{
    if (s.empty())
        return {};
    // Windows-1252: Latin-1 plus typographic characters in 0x80-0x9F.
    static const char16_t k1252[32] = {
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};
    std::string out;
    out.reserve(s.size() + s.size() / 8);
    for (char ch : s) {
        const unsigned char c = static_cast<unsigned char>(ch);
        if (c < 0x80)
            out.push_back(ch);
        else if (c < 0xA0)
            appendUtf8(out, k1252[c - 0x80]);
        else
            appendUtf8(out, c);
    }
    return out;
}

std::string excerpt(std::string_view line, std::size_t maxBytes)
{
    std::size_t n = std::min(line.size(), maxBytes);
    if (n < line.size()) {
        while (n > 0 && (static_cast<unsigned char>(line[n]) & 0xC0) == 0x80)
            --n;
    }
    std::string out(line.substr(0, n));
    for (char& ch : out) {
        const unsigned char c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7F)
            ch = ' ';
    }
    if (!isValidUtf8(out))
        out = latin1ToUtf8(out);
    return out;
}

void addIssue(OrgChartResult& r, const std::string& file, std::int64_t line, std::string reason,
              std::string_view rawLine)
{
    ParseIssue is;
    is.file = file;
    is.line = line;
    is.reason = std::move(reason);
    if (!rawLine.empty())
        is.excerpt = excerpt(rawLine);
    r.issues.push_back(std::move(is));
}

bool loadText(const QString& path, std::string& text, OrgChartResult& r, std::int64_t maxBytes)
{
    const std::string label = fileLabel(path);
    auto fail = [&](const std::string& why) {
        r.failed = true;
        r.failure = label + ": " + why;
        text.clear();
        return false;
    };
    if (path.isEmpty())
        return fail("no file given");
    const QFileInfo fi(path);
    if (!fi.exists())
        return fail("no such file");
    if (fi.isDir())
        return fail("is a directory, not an org chart file");
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return fail("cannot be read: " + f.errorString().toStdString());

    const std::int64_t limit = maxBytes > 0 ? maxBytes : kMaxFileBytes + 1;
    text.clear();
    const qint64 size = f.size();
    if (size > 0)
        text.reserve(std::size_t(std::min<std::int64_t>(size, limit)));
    constexpr qint64 kChunk = 1 << 20;
    std::string chunk(std::size_t(kChunk), '\0');
    bool truncated = false;
    for (;;) {
        const qint64 want = std::min<qint64>(kChunk, limit - std::int64_t(text.size()));
        if (want <= 0) {
            truncated = true;
            break;
        }
        const qint64 got = f.read(chunk.data(), want);
        if (got < 0)
            return fail("read error: " + f.errorString().toStdString());
        if (got == 0)
            break;
        text.append(chunk.data(), std::size_t(got));
    }
    if (truncated && maxBytes <= 0)
        return fail("larger than 1 GiB; that is not an org chart");

    if (text.empty())
        return fail("file is empty");

    // Byte order marks.
    if (startsWith(text, "\xEF\xBB\xBF")) {
        text.erase(0, 3);
    } else if (startsWith(text, "\xFF\xFE") || startsWith(text, "\xFE\xFF")) {
        const bool le = text[0] == '\xFF';
        const std::size_t units = (text.size() - 2) / 2;
        std::u16string u16(units, u'\0');
        for (std::size_t i = 0; i < units; ++i) {
            const unsigned char a = static_cast<unsigned char>(text[2 + 2 * i]);
            const unsigned char b = static_cast<unsigned char>(text[3 + 2 * i]);
            u16[i] = le ? char16_t(a | (b << 8)) : char16_t((a << 8) | b);
        }
        text = QString::fromUtf16(u16.data(), qsizetype(u16.size())).toStdString();
    }
    if (text.empty())
        return fail("file is empty");

    if (trim(text).empty())
        return fail("file is empty (only blank space)");

    if (const char* what = binarySignature(text))
        return fail(std::string("is ") + what + ", not an org chart (CSV or LDIF)");
    if (looksBinary(text))
        return fail("is a binary file, not an org chart (CSV or LDIF text)");

    if (truncated)
        text.resize(text.size() - incompleteTail(text));
    if (!isValidUtf8(text)) {
        text = latin1ToUtf8(text);
        addIssue(r, label, 0, "file is not valid UTF-8; read as Windows-1252 (Latin-1)");
    }
    return true;
}

bool normaliseEmail(std::string_view in, std::string& out, bool spacesInLocalPart)
{
    std::string_view s = trim(in);
    // "Jane Doe <jane@x>"
    const std::size_t lt = s.rfind('<');
    if (lt != std::string_view::npos) {
        const std::size_t gt = s.find('>', lt);
        if (gt != std::string_view::npos)
            s = trim(s.substr(lt + 1, gt - lt - 1));
    }
    if (startsWithNoCase(s, "mailto:"))
        s = trim(s.substr(7));
    else if (startsWithNoCase(s, "smtp:"))
        s = trim(s.substr(5));
    out.assign(s);
    if (s.empty() || s.size() > 254)
        return false;

    std::size_t at = std::string_view::npos;
    std::size_t i = 0;
    bool ascii = true;
    // A quoted local part ("john smith"@example.com) may hold anything printable.
    if (s.front() == '"') {
        std::size_t q = 1;
        while (q < s.size() && s[q] != '"') {
            const unsigned char c = static_cast<unsigned char>(s[q]);
            if (c < 0x20 || c == 0x7F)
                return false;
            if (c >= 0x80)
                ascii = false;
            q += (c == '\\' && q + 1 < s.size()) ? 2 : 1;
        }
        if (q >= s.size() || q == 1 || q + 1 >= s.size() || s[q + 1] != '@')
            return false;
        at = q + 1;
        i = q + 2;
    }
    for (; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            ascii = false;
            continue;
        }
        if (c == ' ' && spacesInLocalPart && at == std::string_view::npos)
            continue;
        if (c <= 0x20 || c == 0x7F)
            return false;
        switch (c) {
        case '"': case '(': case ')': case ',': case ':': case ';':
        case '<': case '>': case '[': case '\\': case ']':
            return false;
        case '@':
            if (at != std::string_view::npos)
                return false;
            at = i;
            break;
        default:
            break;
        }
    }
    if (at == std::string_view::npos || at == 0 || at + 1 >= s.size())
        return false;
    const std::string_view local = s.substr(0, at);
    const std::string_view domain = s.substr(at + 1);
    if (local.front() != '"') {
        if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
            return false;
        if (local.find("  ") != std::string_view::npos || local.back() == ' ')
            return false;
    }
    // Domain: dot-separated non-empty labels of letters, digits, '-' (and IDN bytes).
    std::size_t labelLen = 0;
    for (char ch : domain) {
        const unsigned char c = static_cast<unsigned char>(ch);
        if (c == '.') {
            if (labelLen == 0)
                return false;
            labelLen = 0;
            continue;
        }
        const bool ok = c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                        || c == '-' || c == '_';
        if (!ok)
            return false;
        ++labelLen;
    }
    if (labelLen == 0)
        return false;

    if (ascii) {
        for (char& ch : out)
            if (ch >= 'A' && ch <= 'Z')
                ch = char(ch - 'A' + 'a');
    } else {
        out = QString::fromUtf8(out.data(), qsizetype(out.size())).toLower().toStdString();
    }
    return true;
}

std::string normaliseUnitPath(std::string_view in)
{
    std::string out;
    std::size_t i = 0;
    while (i <= in.size()) {
        std::size_t j = in.find('/', i);
        if (j == std::string_view::npos)
            j = in.size();
        std::string_view seg = trim(in.substr(i, j - i));
        if (!seg.empty()) {
            if (!out.empty())
                out.push_back('/');
            const std::size_t start = out.size();
            out.append(seg);
            // A segment never carries line breaks or tabs (quoted CSV cells may).
            for (std::size_t k = start; k < out.size(); ++k)
                if (out[k] == '\n' || out[k] == '\r' || out[k] == '\t')
                    out[k] = ' ';
        }
        i = j + 1;
    }
    return out;
}

bool looksLikeLdif(std::string_view text)
{
    std::size_t pos = 0;
    const std::size_t limit = std::min(text.size(), kSniffBytes);
    while (pos < limit) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos)
            nl = text.size();
        std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (trim(line).empty() || line.front() == '#' || line.front() == ' ')
            continue; // blank, comment, or a comment's continuation
        return startsWithNoCase(line, "dn:") || startsWithNoCase(line, "version:");
    }
    return false;
}

} // namespace orgdetail

OrgChartResult readOrgChart(const QString& path, const OrgColumnMap& map)
{
    OrgChartResult r;
    std::string text;
    if (!orgdetail::loadText(path, text, r))
        return r;
    const std::string file = orgdetail::fileLabel(path);
    if (orgdetail::looksLikeLdif(text))
        orgdetail::parseLdif(text, file, r);
    else
        orgdetail::parseCsv(text, file, map, r);
    return r;
}

} // namespace mt
