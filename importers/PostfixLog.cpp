#include "PostfixLog.h"

#include <QByteArray>
#include <QDateTime>
#include <QStringDecoder>
#include <QTimeZone>
#include <algorithm>
#include <charconv>
#include <cstring>

namespace mt {

namespace {

inline bool isDigit(char c) { return c >= '0' && c <= '9'; }

inline int twoDigits(const char* p) { return (p[0] - '0') * 10 + (p[1] - '0'); }

inline bool allDigits(std::string_view s, std::size_t pos, std::size_t n) {
    if (pos + n > s.size()) return false;
    for (std::size_t i = pos; i < pos + n; ++i)
        if (!isDigit(s[i])) return false;
    return true;
}

// ".123456" after the seconds, as milliseconds; advances pos past the digits.
int fractionMs(std::string_view line, std::size_t& pos) {
    if (pos >= line.size() || line[pos] != '.') return 0;
    ++pos;
    int ms = 0, digits = 0;
    while (pos < line.size() && isDigit(line[pos])) {
        if (digits < 3) ms = ms * 10 + (line[pos] - '0');
        ++digits;
        ++pos;
    }
    for (; digits > 0 && digits < 3; ++digits) ms *= 10;
    return ms;
}

int monthFromAbbrev(const char* p) {
    // Case-sensitive, as syslog writes them.
    static constexpr const char* kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; ++i)
        if (p[0] == kMonths[i * 3] && p[1] == kMonths[i * 3 + 1] && p[2] == kMonths[i * 3 + 2]) return i + 1;
    return 0;
}

inline bool startsWith(std::string_view s, std::string_view p) {
    return s.size() >= p.size() && std::memcmp(s.data(), p.data(), p.size()) == 0;
}

inline std::string_view afterPrefix(std::string_view s, std::string_view p) { return s.substr(p.size()); }

// Value of `key` in "key=<value>" (angle brackets) starting the search at `from`.
bool angleValue(std::string_view s, std::string_view key, std::string_view& out, std::size_t from = 0) {
    const std::size_t k = s.find(key, from);
    if (k == std::string_view::npos) return false;
    std::size_t b = k + key.size();
    if (b >= s.size() || s[b] != '<') return false;
    const std::size_t e = s.find('>', b + 1);
    if (e == std::string_view::npos) return false;
    out = s.substr(b + 1, e - b - 1);
    return true;
}

// "host[ip]" or "host[ip]:port" -> parts. Returns false when there is no bracket.
bool splitHostIp(std::string_view s, std::string_view& host, std::string_view& ip, int* port = nullptr) {
    const std::size_t lb = s.find('[');
    if (lb == std::string_view::npos) { host = s; ip = {}; return false; }
    const std::size_t rb = s.find(']', lb);
    if (rb == std::string_view::npos) { host = s; ip = {}; return false; }
    host = s.substr(0, lb);
    ip = s.substr(lb + 1, rb - lb - 1);
    if (port && rb + 1 < s.size() && s[rb + 1] == ':') {
        int p = 0;
        std::from_chars(s.data() + rb + 2, s.data() + s.size(), p);
        *port = p;
    }
    return true;
}

std::string lower(std::string_view s) {
    std::string r(s);
    for (char& c : r)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return r;
}

bool iequalsPrefix(std::string_view s, std::string_view p) {
    if (s.size() < p.size()) return false;
    for (std::size_t i = 0; i < p.size(); ++i) {
        char a = s[i], b = p[i];
        if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
        if (a != b) return false;
    }
    return true;
}

std::size_t ifind(std::string_view s, std::string_view p) {
    if (p.size() > s.size()) return std::string_view::npos;
    for (std::size_t i = 0; i + p.size() <= s.size(); ++i)
        if (iequalsPrefix(s.substr(i), p)) return i;
    return std::string_view::npos;
}

// Attachment file name from a Content-Disposition / Content-Type header value.
std::string attachmentName(std::string_view v) {
    static constexpr std::string_view keys[] = {"filename*=", "filename=", "name*=", "name="};
    for (std::string_view key : keys) {
        std::size_t k = ifind(v, key);
        // "name=" must not match inside "filename=".
        while (k != std::string_view::npos && key[0] == 'n' && k > 0 && std::isalpha(static_cast<unsigned char>(v[k - 1]))) {
            const std::size_t next = ifind(v.substr(k + 1), key);
            k = next == std::string_view::npos ? next : k + 1 + next;
        }
        if (k == std::string_view::npos) continue;
        std::string_view val = v.substr(k + key.size());
        std::string out;
        if (!val.empty() && val[0] == '"') {
            const std::size_t e = val.find('"', 1);
            out = std::string(val.substr(1, e == std::string_view::npos ? val.size() - 1 : e - 1));
        } else {
            std::size_t e = val.find_first_of("; \t");
            out = std::string(val.substr(0, e));
        }
        if (key.back() == '=' && key[key.size() - 2] == '*') {
            // RFC 2231: charset'lang'percent-encoded
            const std::size_t q = out.find('\'');
            const std::size_t q2 = q == std::string::npos ? q : out.find('\'', q + 1);
            if (q2 != std::string::npos) out = out.substr(q2 + 1);
            out = QByteArray::fromPercentEncoding(QByteArray::fromStdString(out)).toStdString();
        }
        if (out.find("=?") != std::string::npos) out = decodeMimeWords(out);
        if (!out.empty()) return out;
    }
    return {};
}

} // namespace

TimeMs civilToMs(int y, int mon, int d, int h, int mi, int s, int ms) {
    // Howard Hinnant's days_from_civil.
    y -= mon <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    const std::int64_t days = static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
    return ((days * 24 + h) * 60 + mi) * 60000LL + s * 1000LL + ms;
}

bool isQueueId(std::string_view s) {
    if (s.size() < 5 || s.size() > 20) return false;
    bool hexUpper = true, hasDigit = false, vowel = false;
    for (char c : s) {
        const bool d = isDigit(c);
        const bool up = c >= 'A' && c <= 'Z';
        const bool lo = c >= 'a' && c <= 'z';
        if (!d && !up && !lo) return false;
        hasDigit |= d;
        if (!(d || (c >= 'A' && c <= 'F'))) hexUpper = false;
        if (std::strchr("AEIOUaeiou", c)) vowel = true;
    }
    if (hexUpper) return true;
    // Long queue ids (enable_long_queue_ids) use an alphabet without vowels.
    return s.size() >= 10 && hasDigit && !vowel;
}

std::string decodeMimeWords(std::string_view s) {
    std::string out;
    std::size_t i = 0;
    bool lastWasWord = false;
    while (i < s.size()) {
        const std::size_t start = s.find("=?", i);
        if (start == std::string_view::npos) { out.append(s.substr(i)); break; }
        const std::size_t q1 = s.find('?', start + 2);
        const std::size_t q2 = q1 == std::string_view::npos ? q1 : s.find('?', q1 + 1);
        const std::size_t end = q2 == std::string_view::npos ? q2 : s.find("?=", q2 + 1);
        if (end == std::string_view::npos || q2 != q1 + 2) { out.append(s.substr(i)); break; }
        std::string_view between = s.substr(i, start - i);
        // Whitespace between two encoded words is dropped (RFC 2047 6.2).
        if (!(lastWasWord && between.find_first_not_of(" \t") == std::string_view::npos)) out.append(between);
        const std::string charset = lower(s.substr(start + 2, q1 - start - 2));
        const char enc = static_cast<char>(std::toupper(static_cast<unsigned char>(s[q1 + 1])));
        const std::string_view text = s.substr(q2 + 1, end - q2 - 1);
        QByteArray bytes;
        if (enc == 'B') {
            bytes = QByteArray::fromBase64(QByteArray(text.data(), static_cast<qsizetype>(text.size())));
        } else {
            QByteArray t(text.data(), static_cast<qsizetype>(text.size()));
            t.replace('_', ' ');
            bytes = QByteArray::fromPercentEncoding(t, '=');
        }
        QStringDecoder dec(charset.c_str());
        if (dec.isValid()) {
            const QString u = dec.decode(bytes);
            out.append(u.toStdString());
        } else {
            out.append(bytes.constData(), static_cast<std::size_t>(bytes.size()));
        }
        i = end + 2;
        lastWasWord = true;
    }
    return out;
}

// ---------------------------------------------------------------- syslog framing

void SyslogFraming::setReference(int referenceYear, int referenceMonth, bool yearForced, int referenceDay) {
    m_year = referenceYear;
    m_refMonth = referenceMonth;
    m_refDay = referenceDay;
    m_classic = m_earlier = 0;
    m_forced = yearForced;
    m_lastMonth = 0;
}

bool SyslogFraming::setTimeZone(const std::string& ianaId) {
    m_cachedHour = kNoTime;
    if (ianaId.empty() || ianaId == "UTC") {
        m_zone.reset();
        return true;
    }
    auto zone = std::make_shared<QTimeZone>(QByteArray::fromStdString(ianaId));
    if (!zone->isValid()) return false;
    m_zone = zone;
    return true;
}

TimeMs SyslogFraming::localToUtc(TimeMs local) {
    if (!m_zone) return local;
    // The offset changes at most hourly (DST); one zone lookup per hour of log.
    const TimeMs hour = local / 3600000;
    if (hour != m_cachedHour) {
        const auto* zone = static_cast<const QTimeZone*>(m_zone.get());
        const QDateTime asUtc = QDateTime::fromMSecsSinceEpoch(hour * 3600000, Qt::UTC);
        const QDateTime inZone(asUtc.date(), asUtc.time(), *zone);
        m_cachedOffsetMs = static_cast<TimeMs>(inZone.offsetFromUtc()) * 1000;
        m_cachedHour = hour;
    }
    return local - m_cachedOffsetMs;
}

bool SyslogFraming::parse(std::string_view line, SyslogLine& out, const char*& why) {
    std::size_t pos = 0;
    if (line.size() >= 20 && line[4] == '-' && line[7] == '-' && (line[10] == 'T' || line[10] == ' ')
        && allDigits(line, 0, 4)) {
        // RFC 3339: 2026-11-22T09:00:01.123456+01:00
        if (!allDigits(line, 5, 2) || !allDigits(line, 8, 2) || !allDigits(line, 11, 2) || line[13] != ':'
            || !allDigits(line, 14, 2) || line[16] != ':' || !allDigits(line, 17, 2)) {
            why = "malformed RFC 3339 timestamp";
            return false;
        }
        const int y = (line[0] - '0') * 1000 + (line[1] - '0') * 100 + twoDigits(&line[2]);
        const int mon = twoDigits(&line[5]), d = twoDigits(&line[8]);
        const int h = twoDigits(&line[11]), mi = twoDigits(&line[14]), s = twoDigits(&line[17]);
        if (mon < 1 || mon > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
            why = "timestamp out of range";
            return false;
        }
        pos = 19;
        const int ms = fractionMs(line, pos);
        int offsetMin = 0;
        if (pos < line.size() && (line[pos] == 'Z' || line[pos] == 'z')) {
            ++pos;
        } else if (pos + 6 <= line.size() && (line[pos] == '+' || line[pos] == '-') && allDigits(line, pos + 1, 2)
                   && line[pos + 3] == ':' && allDigits(line, pos + 4, 2)) {
            offsetMin = twoDigits(&line[pos + 1]) * 60 + twoDigits(&line[pos + 4]);
            if (line[pos] == '-') offsetMin = -offsetMin;
            pos += 6;
        }
        out.time = civilToMs(y, mon, d, h, mi, s, ms) - offsetMin * 60000LL;
    } else if (line.size() >= 16 && line[3] == ' ' && line[6] == ' ' && line[9] == ':' && line[12] == ':') {
        // Classic: "Nov 22 09:00:01" (day space-padded), optionally ".123456" (postlogd).
        const int mon = monthFromAbbrev(line.data());
        const int d = line[4] == ' ' ? (line[5] - '0') : twoDigits(&line[4]);
        if (mon == 0 || !isDigit(line[5]) || !allDigits(line, 7, 2) || !allDigits(line, 10, 2)
            || !allDigits(line, 13, 2) || d < 1 || d > 31) {
            why = "malformed syslog timestamp";
            return false;
        }
        pos = 15;
        const int ms = fractionMs(line, pos);
        int year = m_year;
        if (m_forced) {
            // A log that runs over New Year: December, then January.
            if (m_lastMonth == 12 && mon == 1) ++m_year, year = m_year;
        } else if (mon > m_refMonth || (mon == m_refMonth && d > m_refDay)) {
            year = m_year - 1; // written before the file's last change, so last year
            ++m_earlier;
        }
        ++m_classic;
        m_lastMonth = mon;
        out.time = localToUtc(civilToMs(year, mon, d, twoDigits(&line[7]), twoDigits(&line[10]), twoDigits(&line[13]), ms));
    } else {
        why = "no syslog timestamp at the start of the line";
        return false;
    }
    if (pos >= line.size() || line[pos] != ' ') {
        why = "no host after the timestamp";
        return false;
    }
    ++pos;
    const std::size_t hostEnd = line.find(' ', pos);
    if (hostEnd == std::string_view::npos || hostEnd == pos) {
        why = "no program after the host";
        return false;
    }
    out.host = line.substr(pos, hostEnd - pos);
    pos = hostEnd + 1;
    const std::size_t colon = line.find(':', pos);
    if (colon == std::string_view::npos) {
        why = "no 'program[pid]:' tag";
        return false;
    }
    std::string_view tag = line.substr(pos, colon - pos);
    const std::size_t lb = tag.find('[');
    out.pid = {};
    if (lb != std::string_view::npos) {
        const std::size_t rb = tag.find(']', lb);
        if (rb != std::string_view::npos) out.pid = tag.substr(lb + 1, rb - lb - 1);
        tag = tag.substr(0, lb);
    }
    if (tag.empty() || tag.find(' ') != std::string_view::npos) {
        why = "no 'program[pid]:' tag";
        return false;
    }
    out.program = tag;
    pos = colon + 1;
    if (pos < line.size() && line[pos] == ' ') ++pos;
    out.message = line.substr(pos);
    return true;
}

// ---------------------------------------------------------------- assembler

std::size_t PostfixAssembler::KeyHash::operator()(const Key& k) const noexcept {
    return std::hash<std::string>()(k.qid) * 31u ^ std::hash<std::string>()(k.server);
}

PostfixAssembler::PostfixAssembler() = default;
PostfixAssembler::~PostfixAssembler() = default;

namespace {
// smtpd assigns a queue id at MAIL FROM; when every recipient is then rejected, no message
// ever exists. Such a copy has no Message-ID, no qmgr line and no delivery.
bool isPhantom(const CopyRecord& c) {
    return c.messageId.empty() && c.size < 0 && c.deliveries.empty() && c.sender.empty();
}
} // namespace

void PostfixAssembler::seedOpen(CopyRecord copy) {
    Key key{copy.server, copy.queueId};
    m_seeded[key] = copy.lastSeen;
    m_open.insert_or_assign(std::move(key), std::move(copy));
}

void PostfixAssembler::snapshotOpen(std::vector<CopyRecord>& out) const {
    out.reserve(out.size() + m_open.size());
    for (const auto& [key, copy] : m_open) {
        if (isPhantom(copy)) continue;
        if (const auto s = m_seeded.find(key); s != m_seeded.end() && s->second == copy.lastSeen) continue; // untouched
        out.push_back(copy);
    }
}

void PostfixAssembler::close(std::unordered_map<Key, CopyRecord, KeyHash>::iterator it) {
    bool untouchedSeed = false;
    if (const auto s = m_seeded.find(it->first); s != m_seeded.end()) {
        untouchedSeed = s->second == it->second.lastSeen;
        m_seeded.erase(s);
    }
    if (!isPhantom(it->second) && !untouchedSeed) m_completed.push_back(std::move(it->second));
    m_open.erase(it);
}

CopyRecord& PostfixAssembler::copyFor(std::string_view server, std::string_view qid, TimeMs t, bool startsNew) {
    m_probe.server.assign(server);
    m_probe.qid.assign(qid);
    auto it = m_open.find(m_probe);
    if (it != m_open.end() && startsNew) {
        // The queue id was reused before we saw the old copy's `removed`: close the old one.
        close(it);
        it = m_open.end();
    }
    if (it == m_open.end()) {
        it = m_open.emplace(m_probe, CopyRecord{}).first;
        CopyRecord& c = it->second;
        c.server.assign(server);
        c.queueId.assign(qid);
        c.firstSeen = t;
    }
    CopyRecord& c = it->second;
    c.lastSeen = t;
    return c;
}

PostfixAssembler::Result PostfixAssembler::feed(std::string_view line, std::string& why) {
    if (line.empty()) return Result::Skipped;
    if (line[0] == '#') return Result::Skipped; // comments in test corpora and hand-edited excerpts
    if (std::memchr(line.data(), '\0', line.size())) {
        why = "binary data (NUL bytes) in the line";
        return Result::Rejected;
    }
    SyslogLine sl;
    const char* reason = nullptr;
    if (!m_framing.parse(line, sl, reason)) {
        why = reason;
        return Result::Rejected;
    }
    if (sl.program == "sendmail" || sl.program == "sm-mta" || sl.program == "sm-msp-queue") return handleSendmail(sl, why);
    if (!startsWith(sl.program, "postfix")) return Result::Skipped; // dovecot, amavis, opendkim ...
    std::string_view daemon = sl.program;
    const std::size_t slash = daemon.rfind('/');
    if (slash != std::string_view::npos) daemon = daemon.substr(slash + 1);
    std::string_view msg = sl.message;

    if (startsWith(msg, "NOQUEUE: ")) return handleNoQueue(sl, afterPrefix(msg, "NOQUEUE: "), why);

    const std::size_t colon = msg.find(": ");
    if (colon != std::string_view::npos && colon >= 5 && colon <= 20) {
        const std::string_view qid = msg.substr(0, colon);
        if (isQueueId(qid)) return handleQueueLine(sl, daemon, qid, msg.substr(colon + 2), why);
    }
    // connect/disconnect, TLS, warnings, statistics: understood, nothing to keep.
    return Result::Accepted;
}

PostfixAssembler::Result PostfixAssembler::handleNoQueue(const SyslogLine& sl, std::string_view rest, std::string& why,
                                                         std::string_view qid) {
    const bool milter = startsWith(rest, "milter-reject: ");
    if (!startsWith(rest, "reject: ") && !milter) return Result::Accepted; // filter:, discard:, client= (proxy)
    rest = rest.substr(milter ? 15 : 8);
    RejectRecord r;
    r.server.assign(sl.host);
    r.time = sl.time;
    r.pid.assign(sl.pid);
    r.queueId.assign(qid);
    const std::size_t sp = rest.find(' ');
    if (sp == std::string_view::npos) {
        why = "NOQUEUE reject without a stage";
        return Result::Rejected;
    }
    r.stage.assign(rest.substr(0, sp));
    std::string_view after = rest.substr(sp + 1);
    if (startsWith(after, "from ")) {
        after = after.substr(5);
        const std::size_t end = after.find(": ");
        std::string_view client = after.substr(0, end);
        std::string_view host, ip;
        splitHostIp(client, host, ip);
        r.clientHost.assign(host);
        r.clientIp.assign(ip);
        if (end != std::string_view::npos) after = after.substr(end + 2);
    }
    const std::size_t semi = after.find("; from=<");
    r.reason.assign(after.substr(0, semi));
    std::string_view v;
    if (angleValue(after, "from=", v)) r.sender = lower(v);
    if (angleValue(after, "to=", v)) r.recipient = lower(v);
    m_rejects.push_back(std::move(r));
    return Result::Accepted;
}

void PostfixAssembler::handleHeaderWarning(CopyRecord& c, std::string_view rest) {
    // "<action>: header Name: value from host[ip]; from=<a> to=<b> proto=ESMTP helo=<h>"
    const std::size_t h = rest.find("header ");
    if (h == std::string_view::npos) return;
    std::string_view hv = rest.substr(h + 7);
    std::size_t tail = hv.rfind("; from=<");
    if (tail == std::string_view::npos) tail = hv.size();
    std::size_t fromWord = hv.rfind(" from ", tail);
    if (fromWord == std::string_view::npos) fromWord = tail;
    hv = hv.substr(0, fromWord);
    const std::size_t nameEnd = hv.find(':');
    if (nameEnd == std::string_view::npos) return;
    const std::string_view name = hv.substr(0, nameEnd);
    std::string_view value = hv.substr(nameEnd + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (iequalsPrefix(name, "subject") && name.size() == 7) {
        c.subject = value.find("=?") != std::string_view::npos ? decodeMimeWords(value) : std::string(value);
    } else if (iequalsPrefix(name, "content-disposition") || iequalsPrefix(name, "content-type")) {
        std::string file = attachmentName(value);
        if (!file.empty() && std::find(c.attachments.begin(), c.attachments.end(), file) == c.attachments.end())
            c.attachments.push_back(std::move(file));
    } else if (iequalsPrefix(name, "x-send-confirm") && name.size() == 14) {
        c.confirmToken.assign(value);
    }
}

PostfixAssembler::Result PostfixAssembler::handleQueueLine(const SyslogLine& sl, std::string_view daemon,
                                                           std::string_view qid, std::string_view rest,
                                                           std::string& why) {
    if (daemon == "smtpd" || daemon == "submission" || daemon == "smtps") {
        if (startsWith(rest, "reject: ") || startsWith(rest, "milter-reject: ")) return handleNoQueue(sl, rest, why, qid);
        if (!startsWith(rest, "client=")) return Result::Accepted;
        CopyRecord& c = copyFor(sl.host, qid, sl.time, true);
        c.origin = "smtpd";
        std::string_view v = afterPrefix(rest, "client=");
        const std::size_t comma = v.find(", ");
        std::string_view client = v.substr(0, comma);
        std::string_view host, ip;
        splitHostIp(client, host, ip);
        c.clientHost.assign(host);
        c.clientIp.assign(ip);
        const std::size_t su = v.find("sasl_username=");
        if (su != std::string_view::npos) {
            std::string_view u = v.substr(su + 14);
            u = u.substr(0, u.find(','));
            c.saslUser = lower(u);
        }
        return Result::Accepted;
    }
    if (daemon == "pickup") {
        CopyRecord& c = copyFor(sl.host, qid, sl.time, true);
        c.origin = "pickup";
        c.clientHost = "localhost";
        std::string_view v;
        if (angleValue(rest, "from=", v)) c.sender = lower(v);
        return Result::Accepted;
    }
    if (daemon == "cleanup") {
        if (startsWith(rest, "message-id=")) {
            std::string_view id = afterPrefix(rest, "message-id=");
            // Some cleanup builds log a blank after the closing bracket: "<x@y> ".
            while (!id.empty() && (id.back() == ' ' || id.back() == '\t' || id.back() == '\r')) id.remove_suffix(1);
            const bool bracketed = id.size() > 2 && id.front() == '<' && id.back() == '>';
            if (bracketed) id = id.substr(1, id.size() - 2);
            else if (!id.empty() && id.front() == '<') id = id.substr(1);
            const bool valid = bracketed && id.find(' ') == std::string_view::npos;
            CopyRecord* existing = nullptr;
            m_probe.server.assign(sl.host);
            m_probe.qid.assign(qid);
            if (auto it = m_open.find(m_probe); it != m_open.end()) existing = &it->second;
            if (existing && !existing->messageId.empty()) {
                // A second Message-ID under an open queue id. A queue id is free again only after
                // its `removed`; without one, the id was reused only when the old copy is done
                // (delivered, nothing left deferred) and that line was lost. Otherwise it is the
                // same copy logging its id twice: one copy, one message. A valid id wins over a
                // broken one; the first valid one otherwise.
                bool done = !existing->deliveries.empty();
                for (const auto& d : existing->deliveries) done = done && d.status != "deferred";
                if (!done) {
                    existing->lastSeen = sl.time;
                    if (valid && !existing->messageIdValid) {
                        existing->messageId.assign(id);
                        existing->messageIdValid = true;
                    }
                    return Result::Accepted;
                }
            }
            CopyRecord& c = copyFor(sl.host, qid, sl.time, existing && !existing->messageId.empty());
            c.messageId.assign(id);
            c.messageIdValid = valid;
            return Result::Accepted;
        }
        if (startsWith(rest, "reject: ") || startsWith(rest, "milter-reject: ")) {
            // Refused after DATA (header_checks REJECT, a milter at END-OF-MESSAGE): an event of
            // its own, like smtpd's.
            return handleNoQueue(sl, rest, why, qid);
        }
        if (startsWith(rest, "warning: header ") || startsWith(rest, "info: header ") || startsWith(rest, "hold: header ")
            || startsWith(rest, "redirect: header ") || startsWith(rest, "filter: header ")) {
            handleHeaderWarning(copyFor(sl.host, qid, sl.time, false), rest);
            return Result::Accepted;
        }
        return Result::Accepted;
    }
    if (daemon == "qmgr" || daemon == "nqmgr") {
        if (startsWith(rest, "removed") && rest != "removed") {
            // A damaged line ("removedo", "removed\x00..."): the copy may or may not be gone.
            why = "qmgr line starting with 'removed' but damaged after it";
            return Result::Rejected;
        }
        if (rest == "removed") {
            m_probe.server.assign(sl.host);
            m_probe.qid.assign(qid);
            auto it = m_open.find(m_probe);
            if (it == m_open.end()) {
                copyFor(sl.host, qid, sl.time, false);
                it = m_open.find(m_probe);
            }
            it->second.removed = true;
            it->second.lastSeen = sl.time;
            close(it);
            return Result::Accepted;
        }
        if (startsWith(rest, "from=<") && rest.find(", status=expired") != std::string_view::npos) {
            // "from=<s>, status=expired, returned to sender": the queue lifetime ran out. Every
            // recipient still waiting ends here; its last deferral reason stays in the response.
            CopyRecord& c = copyFor(sl.host, qid, sl.time, false);
            std::string_view v;
            if (c.sender.empty() && angleValue(rest, "from=", v)) c.sender = lower(v);
            c.expired = true;
            for (auto& d : c.deliveries)
                if (d.status == "deferred" || d.status.empty()) {
                    d.status = "expired";
                    d.time = sl.time;
                }
            return Result::Accepted;
        }
        if (startsWith(rest, "from=<")) {
            // Validate before touching the copy, so a broken line leaves no trace.
            std::int64_t size = -1;
            const std::size_t sz = rest.find("size=");
            if (sz != std::string_view::npos) {
                const char* b = rest.data() + sz + 5;
                auto [p, ec] = std::from_chars(b, rest.data() + rest.size(), size);
                if (ec != std::errc()) {
                    why = "qmgr line with an unreadable size=";
                    return Result::Rejected;
                }
            }
            CopyRecord& c = copyFor(sl.host, qid, sl.time, false);
            std::string_view v;
            if (angleValue(rest, "from=", v)) c.sender = lower(v);
            if (size >= 0) c.size = size;
            const std::size_t nr = rest.find("nrcpt=");
            if (nr != std::string_view::npos) {
                int n = 0;
                std::from_chars(rest.data() + nr + 6, rest.data() + rest.size(), n);
                c.nrcpt = n;
            }
            return Result::Accepted;
        }
        return Result::Accepted;
    }
    if (daemon == "postsuper" && startsWith(rest, "removed") && rest != "removed") {
        why = "postsuper line starting with 'removed' but damaged after it";
        return Result::Rejected;
    }
    if (daemon == "postsuper" && rest == "removed") {
        m_probe.server.assign(sl.host);
        m_probe.qid.assign(qid);
        if (auto it = m_open.find(m_probe); it != m_open.end()) {
            it->second.removed = true;
            close(it);
        }
        return Result::Accepted;
    }
    if (startsWith(rest, "to=<")) return handleDelivery(copyFor(sl.host, qid, sl.time, false), sl, daemon, rest, why);
    return Result::Accepted;
}

PostfixAssembler::Result PostfixAssembler::handleDelivery(CopyRecord& c, const SyslogLine& sl, std::string_view daemon,
                                                          std::string_view rest, std::string& why) {
    std::string_view to;
    if (!angleValue(rest, "to=", to)) {
        why = "delivery line with an unterminated to=<...>";
        return Result::Rejected;
    }
    const std::size_t statusPos = rest.find(", status=");
    if (statusPos == std::string_view::npos) {
        why = "delivery line without status=";
        return Result::Rejected;
    }
    DeliveryRecord* d = &c.deliveryFor(lower(to));
    d->transport.assign(daemon);
    d->time = sl.time;
    ++d->attempts;
    std::string_view v;
    if (angleValue(rest, "orig_to=", v)) d->origRecipient = lower(v);
    const std::size_t rel = rest.find("relay=");
    if (rel != std::string_view::npos) {
        std::string_view r = rest.substr(rel + 6);
        r = r.substr(0, r.find(", "));
        std::string_view host, ip;
        int port = 0;
        splitHostIp(r, host, ip, &port);
        d->relayHost.assign(host);
        d->relayIp.assign(ip);
        d->relayPort = port;
    }
    const std::size_t dl = rest.find("delay=");
    if (dl != std::string_view::npos && dl < statusPos) {
        double delay = 0;
        std::from_chars(rest.data() + dl + 6, rest.data() + statusPos, delay);
        d->delaySeconds = delay;
    }
    const std::size_t dsn = rest.find("dsn=");
    if (dsn != std::string_view::npos && dsn < statusPos) {
        std::string_view x = rest.substr(dsn + 4);
        d->dsn.assign(x.substr(0, x.find(',')));
    }
    std::string_view st = rest.substr(statusPos + 9);
    const std::size_t sp = st.find(' ');
    d->status.assign(st.substr(0, sp));
    d->response.clear();
    d->queuedAs.clear();
    if (sp != std::string_view::npos) {
        std::string_view resp = st.substr(sp + 1);
        if (!resp.empty() && resp.front() == '(') resp.remove_prefix(1);
        if (!resp.empty() && resp.back() == ')') resp.remove_suffix(1);
        d->response.assign(resp.substr(0, 512));
        const std::size_t qa = resp.find("queued as ");
        if (qa != std::string_view::npos) {
            std::string_view id = resp.substr(qa + 10);
            std::size_t e = 0;
            while (e < id.size() && std::isalnum(static_cast<unsigned char>(id[e]))) ++e;
            d->queuedAs.assign(id.substr(0, e));
        }
    }
    if (const std::string_view outcome = filterOutcome(d->status, d->response); !outcome.empty()) {
        d->status.assign(outcome);
        d->queuedAs.clear(); // nothing went on from the filter
    } else if (d->status == "sent" && daemon == "discard") {
        d->status = "discarded"; // Postfix's own discard(8) transport
    }
    return Result::Accepted;
}

std::string_view filterOutcome(std::string_view status, std::string_view response) {
    // amavis, and content filters that imitate it, put their verdict in the SMTP answer.
    if (status == "sent") {
        if (ifind(response, "quarantined") != std::string_view::npos) return "quarantined";
        if (ifind(response, " discarded") != std::string_view::npos || ifind(response, "ok, discarded") != std::string_view::npos)
            return "discarded";
        return {};
    }
    if (status == "bounced") {
        // "554 5.7.0 Reject, id=07135-04 - INFECTED: ...": the filter refused it, not the recipient.
        if (ifind(response, "reject, id=") != std::string_view::npos
            || (ifind(response, ", id=") != std::string_view::npos
                && (ifind(response, "INFECTED") != std::string_view::npos || ifind(response, "BANNED") != std::string_view::npos
                    || ifind(response, "SPAM") != std::string_view::npos)))
            return "filter-rejected";
    }
    return {};
}

} // namespace mt
