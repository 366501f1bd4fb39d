#include "TrafficParser.h"

#include "PostfixLog.h" // civilToMs

#include <QDateTime>
#include <QTimeZone>
#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>
#include <mutex>

namespace mt {

TrafficParser::~TrafficParser() = default;

void TrafficParser::beginFile(const TrafficContext& context) { m_context = context; }

void TrafficParser::snapshotOpen(std::vector<CopyRecord>& out) {
    for (auto& [key, o] : m_open) {
        if (!o.touched) continue;
        out.push_back(o.copy);
        o.touched = false;
    }
}

CopyRecord* TrafficParser::findOpen(std::string_view server, std::string_view localId) {
    m_probe.assign(server);
    m_probe.push_back('\x1F');
    m_probe.append(localId);
    const auto it = m_open.find(m_probe);
    if (it == m_open.end()) return nullptr;
    it->second.touched = true;
    return &it->second.copy;
}

CopyRecord& TrafficParser::openCopy(std::string_view server, std::string_view localId, TimeMs t) {
    m_probe.assign(server);
    m_probe.push_back('\x1F');
    m_probe.append(localId);
    auto [it, fresh] = m_open.try_emplace(m_probe);
    CopyRecord& c = it->second.copy;
    it->second.touched = true;
    if (!fresh) {
        if (t != kNoTime && t > c.lastSeen) c.lastSeen = t;
        return c;
    }
    m_order.emplace_back(t, m_probe);
    c.server.assign(server);
    c.queueId.assign(localId);
    c.firstSeen = c.lastSeen = t;
    return c;
}

void TrafficParser::complete(std::string_view server, std::string_view localId) {
    m_probe.assign(server);
    m_probe.push_back('\x1F');
    m_probe.append(localId);
    const auto it = m_open.find(m_probe);
    if (it == m_open.end()) return;
    m_completed.push_back(std::move(it->second.copy));
    m_open.erase(it);
}

void TrafficParser::completeAll() {
    m_completed.reserve(m_completed.size() + m_open.size());
    for (auto& [key, o] : m_open) m_completed.push_back(std::move(o.copy));
    m_open.clear();
    m_order.clear();
}

void TrafficParser::retireBefore(TimeMs t) {
    while (!m_order.empty() && m_order.front().first < t) {
        auto [seen, key] = std::move(m_order.front());
        m_order.pop_front();
        const auto it = m_open.find(key);
        if (it == m_open.end()) continue; // completed meanwhile
        const TimeMs last = it->second.copy.lastSeen;
        if (last == kNoTime || last < t) {
            m_completed.push_back(std::move(it->second.copy));
            m_open.erase(it);
        } else {
            m_order.emplace_back(last, std::move(key)); // seen again since: look later
        }
    }
}

void TrafficParser::retireIdle(TimeMs now) {
    if (++m_sinceRetire < 16384 || now == kNoTime) return;
    m_sinceRetire = 0;
    retireBefore(now - kIdleCompleteMs);
}

DeliveryRecord& TrafficParser::deliveryFor(CopyRecord& c, std::string_view recipient) {
    for (auto& d : c.deliveries)
        if (d.recipient == recipient) return d;
    DeliveryRecord& d = c.deliveries.emplace_back();
    d.recipient.assign(recipient);
    return d;
}

namespace traffic {

namespace {
inline bool isDigit(char c) { return c >= '0' && c <= '9'; }
inline char lowerChar(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

int digitsAt(std::string_view s, std::size_t pos, std::size_t n) {
    if (pos + n > s.size()) return -1;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (!isDigit(s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}
} // namespace

std::string lower(std::string_view s) {
    std::string r(s);
    for (char& c : r) c = lowerChar(c);
    return r;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lowerChar(a[i]) != lowerChar(b[i])) return false;
    return true;
}

std::string address(std::string_view s) {
    s = trim(s);
    if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
    return lower(trim(s));
}

bool cleanMessageId(std::string_view raw, std::string& out) {
    std::string_view s = trim(raw);
    if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
    s = trim(s);
    out.assign(s);
    if (s.empty() || s.size() > 995 || s.find('@') == std::string_view::npos) return false;
    for (char c : s)
        if (static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>') return false;
    return true;
}

std::string queuedAsFromReply(std::string_view reply) {
    auto token = [&](std::size_t from) {
        std::size_t e = from;
        while (e < reply.size() && reply[e] != ' ' && reply[e] != ',' && reply[e] != ']' && reply[e] != ')'
               && reply[e] != ';' && reply[e] != '"')
            ++e;
        std::string_view t = reply.substr(from, e - from);
        while (!t.empty() && t.back() == '.') t.remove_suffix(1);
        return std::string(t);
    };
    if (std::size_t k = reply.find("queued as "); k != std::string_view::npos) return token(k + 10);
    if (std::size_t k = reply.find("InternalId="); k != std::string_view::npos) return token(k + 11);
    // Exim: "250 OK id=1Mugho-0003Dg-Un"; not "...msgid=" or "set_id=".
    for (std::size_t k = reply.find("id="); k != std::string_view::npos; k = reply.find("id=", k + 3)) {
        if (k > 0 && reply[k - 1] != ' ') continue;
        return token(k + 3);
    }
    return {};
}

std::string dsnFromReply(std::string_view reply) {
    // "250 2.0.0 Ok" or "550-5.1.1 ..." : the second token when it reads d.d.d
    std::size_t p = 0;
    while (p < reply.size() && isDigit(reply[p])) ++p;
    if (p != 3 || p >= reply.size() || (reply[p] != ' ' && reply[p] != '-')) return {};
    ++p;
    std::size_t e = p;
    while (e < reply.size() && (isDigit(reply[e]) || reply[e] == '.')) ++e;
    std::string_view d = reply.substr(p, e - p);
    if (d.size() >= 5 && std::count(d.begin(), d.end(), '.') == 2 && (d[0] == '2' || d[0] == '4' || d[0] == '5'))
        return std::string(d);
    return {};
}

std::string statusFromReply(std::string_view reply) {
    reply = trim(reply);
    if (reply.size() < 3 || !isDigit(reply[0]) || !isDigit(reply[1]) || !isDigit(reply[2])) return {};
    switch (reply[0]) {
    case '2': return "sent";
    case '4': return "deferred";
    case '5': return "bounced";
    default: return {};
    }
}

TimeMs localToUtc(TimeMs local, const std::string& zone) {
    if (zone.empty() || iequals(zone, "UTC")) return local;
    // One lookup per zone and hour of log (the offset changes at most hourly).
    struct Cache {
        std::mutex mutex;
        std::map<std::pair<std::string, TimeMs>, TimeMs> offsets;
    };
    static Cache cache;
    const TimeMs hour = local / 3600000;
    std::lock_guard lock(cache.mutex);
    const auto key = std::make_pair(zone, hour);
    auto it = cache.offsets.find(key);
    if (it == cache.offsets.end()) {
        const QTimeZone tz(QByteArray::fromStdString(zone));
        TimeMs offset = 0;
        if (tz.isValid()) {
            const QDateTime asUtc = QDateTime::fromMSecsSinceEpoch(hour * 3600000, Qt::UTC);
            const QDateTime inZone(asUtc.date(), asUtc.time(), tz);
            offset = static_cast<TimeMs>(inZone.offsetFromUtc()) * 1000;
        }
        if (cache.offsets.size() > 100000) cache.offsets.clear();
        it = cache.offsets.emplace(key, offset).first;
    }
    return local - it->second;
}

TimeMs parseIsoTime(std::string_view s, const std::string& zone) {
    s = trim(s);
    // YYYY-MM-DD[T ]HH:MM:SS[.fff][Z|+hh:mm|+hhmm| +hhmm]
    if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
        return kNoTime;
    const int y = digitsAt(s, 0, 4), mo = digitsAt(s, 5, 2), d = digitsAt(s, 8, 2), h = digitsAt(s, 11, 2),
              mi = digitsAt(s, 14, 2), se = digitsAt(s, 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
        return kNoTime;
    std::size_t p = 19;
    int ms = 0;
    if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
        ++p;
        int digits = 0;
        while (p < s.size() && isDigit(s[p])) {
            if (digits < 3) ms = ms * 10 + (s[p] - '0');
            ++digits;
            ++p;
        }
        for (; digits > 0 && digits < 3; ++digits) ms *= 10;
    }
    const TimeMs local = civilToMs(y, mo, d, h, mi, se, ms);
    if (p < s.size() && s[p] == ' ') ++p;
    if (p == s.size()) return localToUtc(local, zone);
    if (s[p] == 'Z' && p + 1 == s.size()) return local;
    if ((s[p] == '+' || s[p] == '-') && p + 3 <= s.size()) {
        const int sign = s[p] == '+' ? 1 : -1;
        const int oh = digitsAt(s, p + 1, 2);
        int om = 0;
        std::size_t q = p + 3;
        if (q < s.size() && s[q] == ':') ++q;
        if (q + 2 <= s.size()) om = digitsAt(s, q, 2), q += 2;
        if (oh < 0 || om < 0 || q != s.size()) return kNoTime;
        return local - sign * (oh * 60 + om) * 60000LL;
    }
    return kNoTime;
}

TimeMs parseEpochSeconds(std::string_view s) {
    s = trim(s);
    if (s.empty()) return kNoTime;
    std::int64_t secs = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), secs);
    if (r.ec != std::errc() || secs < 0) return kNoTime;
    std::size_t p = static_cast<std::size_t>(r.ptr - s.data());
    int ms = 0;
    if (p < s.size() && s[p] == '.') {
        ++p;
        int digits = 0;
        while (p < s.size() && isDigit(s[p])) {
            if (digits < 3) ms = ms * 10 + (s[p] - '0');
            ++digits;
            ++p;
        }
        for (; digits > 0 && digits < 3; ++digits) ms *= 10;
    }
    if (p != s.size()) return kNoTime;
    return secs * 1000 + ms;
}

bool parseInt64(std::string_view s, std::int64_t& out) {
    s = trim(s);
    if (s.empty()) return false;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool splitCsv(std::string_view line, char delimiter, std::vector<std::string>& out) {
    // The strings of the previous line are reused: their buffers make most lines allocation-free.
    std::size_t n = 0;
    auto next = [&]() -> std::string& {
        if (n == out.size()) out.emplace_back();
        std::string& f = out[n++];
        f.clear();
        return f;
    };
    auto done = [&](bool ok) {
        out.resize(n);
        return ok;
    };
    std::size_t p = 0;
    for (;;) {
        std::string& field = next();
        if (p < line.size() && line[p] == '"') {
            ++p;
            for (;;) {
                const std::size_t q = line.find('"', p);
                if (q == std::string_view::npos) return done(false);
                field.append(line.substr(p, q - p));
                if (q + 1 < line.size() && line[q + 1] == '"') {
                    field.push_back('"');
                    p = q + 2;
                    continue;
                }
                p = q + 1;
                break;
            }
            // Anything between the closing quote and the delimiter is kept (lenient).
            const std::size_t d = line.find(delimiter, p);
            field.append(line.substr(p, d == std::string_view::npos ? std::string_view::npos : d - p));
            if (d == std::string_view::npos) return done(true);
            p = d + 1;
        } else {
            const std::size_t d = line.find(delimiter, p);
            if (d == std::string_view::npos) {
                field.append(line.substr(p));
                return done(true);
            }
            field.append(line.substr(p, d - p));
            p = d + 1;
        }
    }
}

namespace {

struct JsonCursor {
    std::string_view s;
    std::size_t p = 0;
    const char* why = nullptr;

    void ws() {
        while (p < s.size() && (s[p] == ' ' || s[p] == '\t' || s[p] == '\r' || s[p] == '\n')) ++p;
    }
    static void utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) out.push_back(static_cast<char>(cp));
        else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
    }
    bool hex4(unsigned& v) {
        if (p + 4 > s.size()) return false;
        v = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = s[p++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
            else return false;
        }
        return true;
    }
    bool string(std::string& out) {
        if (p >= s.size() || s[p] != '"') return fail("expected a string");
        ++p;
        out.clear();
        for (;;) {
            const std::size_t start = p;
            while (p < s.size() && s[p] != '"' && s[p] != '\\') ++p;
            out.append(s.substr(start, p - start));
            if (p >= s.size()) return fail("unterminated string");
            if (s[p] == '"') {
                ++p;
                return true;
            }
            ++p; // backslash
            if (p >= s.size()) return fail("unterminated escape");
            const char e = s[p++];
            switch (e) {
            case '"': out.push_back('"'); break;
            case '\\': out.push_back('\\'); break;
            case '/': out.push_back('/'); break;
            case 'b': out.push_back('\b'); break;
            case 'f': out.push_back('\f'); break;
            case 'n': out.push_back('\n'); break;
            case 'r': out.push_back('\r'); break;
            case 't': out.push_back('\t'); break;
            case 'u': {
                unsigned cp = 0;
                if (!hex4(cp)) return fail("bad \\u escape");
                if (cp >= 0xD800 && cp < 0xDC00 && p + 1 < s.size() && s[p] == '\\' && s[p + 1] == 'u') {
                    p += 2;
                    unsigned lo = 0;
                    if (!hex4(lo)) return fail("bad \\u escape");
                    if (lo >= 0xDC00 && lo < 0xE000) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    else { utf8(out, 0xFFFD); cp = lo; }
                } else if (cp >= 0xD800 && cp < 0xE000) {
                    cp = 0xFFFD;
                }
                utf8(out, cp);
                break;
            }
            default: return fail("bad escape");
            }
        }
    }
    bool fail(const char* w) {
        if (!why) why = w;
        return false;
    }
    // Skips a nested value (object or array), keeping its raw text.
    bool raw(std::string& out) {
        const std::size_t start = p;
        int depth = 0;
        std::string scratch;
        do {
            if (p >= s.size()) return fail("unterminated array or object");
            const char c = s[p];
            if (c == '"') {
                if (!string(scratch)) return false;
                continue;
            }
            if (c == '{' || c == '[') ++depth;
            else if (c == '}' || c == ']') --depth;
            ++p;
        } while (depth > 0);
        out.assign(s.substr(start, p - start));
        return true;
    }
    // A scalar as text; null -> isNull.
    bool scalar(std::string& out, bool& isNull) {
        isNull = false;
        if (p >= s.size()) return fail("value expected");
        if (s[p] == '"') return string(out);
        const std::size_t start = p;
        while (p < s.size() && s[p] != ',' && s[p] != '}' && s[p] != ']' && s[p] != ' ' && s[p] != '\t' && s[p] != '\r')
            ++p;
        std::string_view t = s.substr(start, p - start);
        if (t == "null") {
            isNull = true;
            out.clear();
            return true;
        }
        if (t.empty()) return fail("value expected");
        if (t != "true" && t != "false" && !(isDigit(t[0]) || t[0] == '-')) return fail("not a JSON value");
        out.assign(t);
        return true;
    }
};

} // namespace

bool JsonObject::parse(std::string_view text, std::string& why) {
    m_fields.clear();
    m_array.clear();
    JsonCursor c{text};
    c.ws();
    if (c.p >= text.size() || text[c.p] != '{') {
        why = "not a JSON object";
        return false;
    }
    ++c.p;
    c.ws();
    if (c.p < text.size() && text[c.p] == '}') {
        ++c.p;
        return true;
    }
    std::string key, value;
    for (;;) {
        c.ws();
        if (!c.string(key)) break;
        c.ws();
        if (c.p >= text.size() || text[c.p] != ':') {
            c.fail("':' expected");
            break;
        }
        ++c.p;
        c.ws();
        bool isNull = false, isArray = false;
        if (c.p < text.size() && (text[c.p] == '[' || text[c.p] == '{')) {
            isArray = text[c.p] == '[';
            if (!c.raw(value)) break;
        } else if (!c.scalar(value, isNull)) {
            break;
        }
        if (!isNull) {
            m_fields.emplace_back(std::move(key), std::move(value));
            m_array.push_back(isArray);
        }
        c.ws();
        if (c.p < text.size() && text[c.p] == ',') {
            ++c.p;
            continue;
        }
        if (c.p < text.size() && text[c.p] == '}') {
            ++c.p;
            c.ws();
            if (c.p != text.size()) {
                why = "text after the JSON object";
                return false;
            }
            return true;
        }
        c.fail("',' or '}' expected");
        break;
    }
    why = std::string("malformed JSON: ") + (c.why ? c.why : "unexpected end") + " at byte " + std::to_string(c.p + 1);
    return false;
}

const std::string* JsonObject::get(std::string_view key) const {
    for (const auto& [k, v] : m_fields)
        if (k == key) return &v;
    return nullptr;
}

bool JsonObject::isArray(std::string_view key) const {
    for (std::size_t i = 0; i < m_fields.size(); ++i)
        if (m_fields[i].first == key) return m_array[i];
    return false;
}

bool parseJsonArray(std::string_view text, std::vector<std::string>& out, std::string& why) {
    out.clear();
    JsonCursor c{text};
    c.ws();
    if (c.p >= text.size() || text[c.p] != '[') {
        why = "not a JSON array";
        return false;
    }
    ++c.p;
    c.ws();
    if (c.p < text.size() && text[c.p] == ']') return true;
    std::string value;
    for (;;) {
        c.ws();
        bool isNull = false;
        if (c.p < text.size() && (text[c.p] == '[' || text[c.p] == '{')) {
            if (!c.raw(value)) break;
        } else if (!c.scalar(value, isNull)) {
            break;
        }
        if (!isNull) out.push_back(value);
        c.ws();
        if (c.p < text.size() && text[c.p] == ',') {
            ++c.p;
            continue;
        }
        if (c.p < text.size() && text[c.p] == ']') return true;
        c.fail("',' or ']' expected");
        break;
    }
    why = std::string("malformed JSON array: ") + (c.why ? c.why : "unexpected end");
    return false;
}

} // namespace traffic

} // namespace mt
