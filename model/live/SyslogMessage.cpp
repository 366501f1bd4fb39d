#include "SyslogMessage.h"

#include <QDateTime>

#include <cstring>

namespace mt::live {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// "<PRI>" at the start; pos moves past it.
bool readPri(std::string_view m, std::size_t& pos) {
    if (m.empty() || m[0] != '<') return false;
    std::size_t i = 1;
    int pri = 0;
    while (i < m.size() && i <= 4 && isDigit(m[i])) pri = pri * 10 + (m[i++] - '0');
    if (i == 1 || i >= m.size() || m[i] != '>' || pri > 191) return false;
    pos = i + 1;
    return true;
}

// The next space-delimited field (RFC 5424 header fields); pos moves past it and its space.
bool field(std::string_view m, std::size_t& pos, std::string_view& out) {
    if (pos >= m.size()) return false;
    const std::size_t sp = m.find(' ', pos);
    if (sp == pos) return false;
    out = m.substr(pos, sp == std::string_view::npos ? std::string_view::npos : sp - pos);
    pos = sp == std::string_view::npos ? m.size() : sp + 1;
    return true;
}

std::string isoFromMs(std::int64_t ms) {
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs).toStdString();
}

// Printable only: a log line never carries control characters (a datagram might).
void appendClean(std::string& out, std::string_view s) {
    for (char c : s) out.push_back(c == '\n' || c == '\r' || c == '\t' || c == '\0' ? ' ' : c);
}

} // namespace

bool syslogToLogLine(std::string_view m, std::int64_t receivedMs, std::string_view peer, std::string& out,
                     const char*& why) {
    while (!m.empty() && (m.back() == '\n' || m.back() == '\r' || m.back() == '\0')) m.remove_suffix(1);
    std::size_t pos = 0;
    if (!readPri(m, pos)) {
        why = "no <PRI> at the start of the syslog message";
        return false;
    }
    out.clear();
    if (pos + 1 < m.size() && isDigit(m[pos]) && m[pos + 1] == ' ') {
        // RFC 5424: VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG]
        if (m[pos] != '1') {
            why = "unknown RFC 5424 version";
            return false;
        }
        pos += 2;
        std::string_view stamp, host, app, procid, msgid;
        if (!field(m, pos, stamp) || !field(m, pos, host) || !field(m, pos, app) || !field(m, pos, procid)
            || !field(m, pos, msgid) || pos >= m.size()) {
            why = "RFC 5424 header incomplete";
            return false;
        }
        // Structured data: "-" or one or more [id param="value" ...] with \] \" \\ escapes.
        if (m[pos] == '-') {
            ++pos;
        } else if (m[pos] == '[') {
            while (pos < m.size() && m[pos] == '[') {
                bool inQuote = false;
                ++pos;
                for (; pos < m.size(); ++pos) {
                    const char c = m[pos];
                    if (c == '\\' && inQuote) { ++pos; continue; }
                    if (c == '"') inQuote = !inQuote;
                    else if (c == ']' && !inQuote) break;
                }
                if (pos >= m.size()) {
                    why = "RFC 5424 structured data not terminated";
                    return false;
                }
                ++pos;
            }
        } else {
            why = "RFC 5424 structured data malformed";
            return false;
        }
        std::string_view msg;
        if (pos < m.size()) {
            if (m[pos] != ' ') {
                why = "RFC 5424 structured data malformed";
                return false;
            }
            msg = m.substr(pos + 1);
            if (msg.size() >= 3 && std::memcmp(msg.data(), "\xEF\xBB\xBF", 3) == 0) msg.remove_prefix(3); // BOM
        }
        if (app == "-") {
            why = "RFC 5424 message without APP-NAME";
            return false;
        }
        if (stamp == "-") out = isoFromMs(receivedMs);
        else if (stamp.size() >= 20 && stamp[4] == '-' && stamp[10] == 'T') out.assign(stamp);
        else {
            why = "RFC 5424 timestamp malformed";
            return false;
        }
        out.push_back(' ');
        out.append(host == "-" ? peer : host);
        out.push_back(' ');
        out.append(app);
        if (procid != "-") {
            out.push_back('[');
            out.append(procid);
            out.push_back(']');
        }
        out.append(": ");
        appendClean(out, msg);
        return true;
    }
    // RFC 3164 (or rsyslog's forward format): the rest is a log line already, except that the
    // host may be missing (some senders omit it): then the peer stands in.
    std::string_view rest = m.substr(pos);
    const bool classic = rest.size() >= 16 && rest[3] == ' ' && rest[6] == ' ' && rest[9] == ':' && rest[12] == ':';
    const bool rfc3339 = rest.size() >= 20 && isDigit(rest[0]) && rest[4] == '-' && rest[7] == '-' && rest[10] == 'T';
    if (!classic && !rfc3339) {
        why = "no timestamp after <PRI> (neither RFC 5424 nor RFC 3164)";
        return false;
    }
    std::size_t stampEnd = classic ? 15 : rest.find(' ');
    if (classic) {
        while (stampEnd < rest.size() && rest[stampEnd] != ' ') ++stampEnd; // fractional seconds
    }
    if (stampEnd == std::string_view::npos || stampEnd >= rest.size()) {
        why = "nothing after the timestamp";
        return false;
    }
    const std::string_view stamp = rest.substr(0, stampEnd);
    std::string_view after = rest.substr(stampEnd + 1);
    // "HOST TAG: msg" or "TAG: msg": the first word ending in ':' or containing '[' is the tag.
    const std::size_t sp = after.find(' ');
    const std::string_view first = after.substr(0, sp);
    const bool firstIsTag = !first.empty() && (first.back() == ':' || first.find('[') != std::string_view::npos);
    out.assign(stamp);
    out.push_back(' ');
    if (firstIsTag) {
        out.append(peer);
        out.push_back(' ');
    }
    appendClean(out, after);
    return true;
}

void SyslogStreamFramer::append(const char* data, std::size_t n) {
    if (m_skip) {
        const std::size_t k = std::min(m_skip, n);
        m_skip -= k;
        data += k;
        n -= k;
    }
    m_buf.append(data, n);
}

void SyslogStreamFramer::compact() {
    if (m_pos > 0 && (m_pos >= 65536 || m_pos * 2 >= m_buf.size())) {
        m_buf.erase(0, m_pos);
        m_pos = 0;
    }
}

bool SyslogStreamFramer::next(std::string& frame) {
    for (;;) {
        if (m_skip) return false;
        if (m_skipToLf) {
            const std::size_t lf = m_buf.find('\n', m_pos);
            if (lf == std::string::npos) {
                m_buf.clear();
                m_pos = 0;
                return false;
            }
            m_pos = lf + 1;
            m_skipToLf = false;
            compact();
            continue;
        }
        while (m_pos < m_buf.size() && (m_buf[m_pos] == '\n' || m_buf[m_pos] == '\r' || m_buf[m_pos] == '\0')) ++m_pos;
        if (m_pos >= m_buf.size()) {
            m_buf.clear();
            m_pos = 0;
            return false;
        }
        if (isDigit(m_buf[m_pos])) {
            // Octet counting: MSG-LEN SP SYSLOG-MSG.
            std::size_t i = m_pos;
            std::size_t len = 0;
            while (i < m_buf.size() && isDigit(m_buf[i]) && i - m_pos < 10) len = len * 10 + static_cast<std::size_t>(m_buf[i++] - '0');
            if (i >= m_buf.size()) return false; // the count itself is not complete yet
            if (m_buf[i] != ' ' || len == 0) {
                ++malformed;
                m_skipToLf = true;
                continue;
            }
            const std::size_t start = i + 1;
            if (len > m_max) {
                ++oversized;
                const std::size_t have = m_buf.size() - start;
                if (have >= len) {
                    m_pos = start + len;
                } else {
                    m_skip = len - have;
                    m_buf.clear();
                    m_pos = 0;
                }
                compact();
                continue;
            }
            if (m_buf.size() - start < len) return false;
            frame.assign(m_buf, start, len);
            m_pos = start + len;
            compact();
            return true;
        }
        // LF framing (a '<' starts the message).
        const std::size_t lf = m_buf.find('\n', m_pos);
        if (lf == std::string::npos) {
            if (m_buf.size() - m_pos > m_max) {
                ++oversized;
                m_skipToLf = true;
                m_buf.clear();
                m_pos = 0;
            }
            return false;
        }
        if (lf - m_pos > m_max) {
            ++oversized;
            m_pos = lf + 1;
            compact();
            continue;
        }
        frame.assign(m_buf, m_pos, lf - m_pos);
        m_pos = lf + 1;
        compact();
        return true;
    }
}

} // namespace mt::live
