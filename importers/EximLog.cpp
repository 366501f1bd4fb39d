#include "EximLog.h"

#include "PostfixLog.h" // SyslogFraming, civilToMs, decodeMimeWords

#include <charconv>
#include <cstring>

namespace mt {

namespace {

inline bool isDigit(char c) { return c >= '0' && c <= '9'; }
inline bool isBase62(char c) { return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool allBase62(std::string_view s) {
    for (char c : s)
        if (!isBase62(c)) return false;
    return true;
}

int digitsAt(std::string_view s, std::size_t pos, std::size_t n) {
    if (pos + n > s.size()) return -1;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (!isDigit(s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

// "1999-03-02 09:44:33" at the start of s.
bool isEximStamp(std::string_view s) {
    return s.size() >= 19 && s[4] == '-' && s[7] == '-' && s[10] == ' ' && s[13] == ':' && s[16] == ':'
           && digitsAt(s, 0, 4) >= 0 && digitsAt(s, 5, 2) >= 0 && digitsAt(s, 8, 2) >= 0 && digitsAt(s, 11, 2) >= 0
           && digitsAt(s, 14, 2) >= 0 && digitsAt(s, 17, 2) >= 0;
}

// One `key=value` of an Exim log line, or a bare word (empty key).
struct Field {
    std::string_view key;
    std::string value;
};

// Exim quotes with C-like escapes (string_printing): \" \\ \n \t \ooo.
std::size_t readQuoted(std::string_view s, std::size_t p, std::string& out) {
    // s[p] == '"'
    ++p;
    out.clear();
    while (p < s.size() && s[p] != '"') {
        if (s[p] == '\\' && p + 1 < s.size()) {
            const char e = s[p + 1];
            if (e >= '0' && e <= '7' && p + 3 < s.size() && s[p + 2] >= '0' && s[p + 2] <= '7' && s[p + 3] >= '0'
                && s[p + 3] <= '7') {
                out.push_back(static_cast<char>((e - '0') * 64 + (s[p + 2] - '0') * 8 + (s[p + 3] - '0')));
                p += 4;
                continue;
            }
            out.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
            p += 2;
            continue;
        }
        out.push_back(s[p++]);
    }
    return p < s.size() ? p + 1 : p;
}

// Splits the fields of a line's tail; `reason` is what follows a bare ':' (failures and
// deferrals: "... R=r T=t H=h [ip]: SMTP error ...").
void scanFields(std::string_view s, std::vector<Field>& out, std::string_view* reason) {
    out.clear();
    if (reason) *reason = {};
    std::size_t p = 0;
    auto endOfFields = [&](std::size_t at) {
        if (reason) *reason = traffic::trim(s.substr(std::min(at, s.size())));
        p = s.size();
    };
    while (p < s.size()) {
        while (p < s.size() && s[p] == ' ') ++p;
        if (p >= s.size()) break;
        std::size_t k = p;
        while (k < s.size() && (isBase62(s[k]) || s[k] == '_')) ++k;
        if (k > p && k < s.size() && s[k] == '=' && isBase62(s[p])) {
            Field f;
            f.key = s.substr(p, k - p);
            p = k + 1;
            if (p < s.size() && s[p] == '"') {
                p = readQuoted(s, p, f.value);
            } else {
                const std::size_t e = s.find(' ', p);
                f.value.assign(s.substr(p, e == std::string_view::npos ? std::string_view::npos : e - p));
                p = e == std::string_view::npos ? s.size() : e;
                // "T=local_delivery: Unknown user": a colon ends the fields.
                if (!f.value.empty() && f.value.back() == ':' && f.key != "H" && f.key != "I") {
                    f.value.pop_back();
                    out.push_back(std::move(f));
                    endOfFields(p);
                    break;
                }
            }
            if (f.key == "H" || f.key == "I") {
                // H=host (helo name) [ip]:port: the parts after the first come as more words.
                bool stop = false;
                for (;;) {
                    std::size_t q = p;
                    while (q < s.size() && s[q] == ' ') ++q;
                    if (q >= s.size() || (s[q] != '(' && s[q] != '[')) break;
                    const char close = s[q] == '(' ? ')' : ']';
                    const std::size_t e = s.find(close, q);
                    if (e == std::string_view::npos) break;
                    f.value.push_back(' ');
                    f.value.append(s.substr(q, e + 1 - q));
                    p = e + 1;
                    if (p < s.size() && s[p] == ':') {
                        if (p + 1 < s.size() && isDigit(s[p + 1])) {
                            const std::size_t pe = s.find(' ', p);
                            f.value.append(s.substr(p, pe == std::string_view::npos ? std::string_view::npos : pe - p));
                            p = pe == std::string_view::npos ? s.size() : pe;
                        } else {
                            stop = true;
                            ++p;
                            break;
                        }
                    }
                }
                // "H=host [ip]:port:" can also end with a colon after the port.
                if (!stop && !f.value.empty() && f.value.back() == ':') {
                    f.value.pop_back();
                    stop = true;
                }
                out.push_back(std::move(f));
                if (stop) endOfFields(p);
                continue;
            }
            out.push_back(std::move(f));
            continue;
        }
        // A bare word; one ending in ':' ends the fields.
        const std::size_t e = s.find(' ', p);
        std::string_view w = s.substr(p, e == std::string_view::npos ? std::string_view::npos : e - p);
        p = e == std::string_view::npos ? s.size() : e;
        if (!w.empty() && w.back() == ':') {
            w.remove_suffix(1);
            if (!w.empty()) out.push_back({{}, std::string(w)});
            endOfFields(p);
            break;
        }
        out.push_back({{}, std::string(w)});
    }
}

const Field* fieldOf(const std::vector<Field>& fields, std::string_view key) {
    for (const auto& f : fields)
        if (f.key == key) return &f;
    return nullptr;
}

// "host (helo) [ip]:port" -> host, ip, port. Host is empty when only "(helo) [ip]" is known.
void splitHostField(std::string_view v, std::string& host, std::string& ip, int& port) {
    host.clear();
    ip.clear();
    port = 0;
    std::size_t p = 0;
    while (p < v.size()) {
        while (p < v.size() && v[p] == ' ') ++p;
        if (p >= v.size()) break;
        if (v[p] == '(') {
            const std::size_t e = v.find(')', p);
            p = e == std::string_view::npos ? v.size() : e + 1;
        } else if (v[p] == '[') {
            const std::size_t e = v.find(']', p);
            if (e == std::string_view::npos) break;
            if (ip.empty()) ip.assign(v.substr(p + 1, e - p - 1));
            p = e + 1;
            if (p < v.size() && v[p] == ':') {
                int n = 0;
                const auto r = std::from_chars(v.data() + p + 1, v.data() + v.size(), n);
                if (r.ec == std::errc()) port = n;
                p = static_cast<std::size_t>(r.ptr - v.data());
            }
        } else {
            const std::size_t e = v.find(' ', p);
            if (host.empty()) host.assign(v.substr(p, e == std::string_view::npos ? std::string_view::npos : e - p));
            p = e == std::string_view::npos ? v.size() : e;
        }
    }
}

std::string canonicalTransport(std::string_view eximTransport, bool remote, std::string_view address) {
    const std::string t = traffic::lower(eximTransport);
    if (remote) return t.find("lmtp") != std::string::npos ? "lmtp" : "smtp";
    if (t.find("lmtp") != std::string::npos) return "lmtp";
    if (!address.empty() && address[0] == '|') return "pipe";
    if (t.find("pipe") != std::string::npos) return "pipe";
    return "local";
}

} // namespace

bool isEximId(std::string_view s) {
    if (s.size() == 16) return s[6] == '-' && s[13] == '-' && allBase62(s.substr(0, 6)) && allBase62(s.substr(7, 6))
                               && allBase62(s.substr(14, 2));
    if (s.size() == 23) return s[6] == '-' && s[18] == '-' && allBase62(s.substr(0, 6)) && allBase62(s.substr(7, 11))
                               && allBase62(s.substr(19, 4));
    return false;
}

bool EximParser::parsePrefix(std::string_view line, Prefix& out, const char*& why) {
    out = {};
    if (isEximStamp(line)) {
        std::size_t p = 19;
        int ms = 0;
        if (p < line.size() && line[p] == '.') { // +millisec
            ++p;
            int digits = 0;
            while (p < line.size() && isDigit(line[p])) {
                if (digits < 3) ms = ms * 10 + (line[p] - '0');
                ++digits;
                ++p;
            }
            for (; digits > 0 && digits < 3; ++digits) ms *= 10;
        }
        TimeMs t = civilToMs(digitsAt(line, 0, 4), digitsAt(line, 5, 2), digitsAt(line, 8, 2), digitsAt(line, 11, 2),
                             digitsAt(line, 14, 2), digitsAt(line, 17, 2), ms);
        bool zoned = false;
        // log_timezone: " +0100"
        if (p + 6 <= line.size() && line[p] == ' ' && (line[p + 1] == '+' || line[p + 1] == '-')
            && digitsAt(line, p + 2, 4) >= 0 && (p + 6 == line.size() || line[p + 6] == ' ')) {
            const int hhmm = digitsAt(line, p + 2, 4);
            const int offMin = (hhmm / 100) * 60 + hhmm % 100;
            t -= (line[p + 1] == '+' ? 1 : -1) * offMin * 60000LL;
            zoned = true;
            p += 6;
        }
        if (!zoned) t = traffic::localToUtc(t, m_context.timeZone);
        out.time = t;
        if (p < line.size() && line[p] == ' ') ++p;
        std::string_view rest = line.substr(p);
        // +pid: "[1234] "
        if (!rest.empty() && rest[0] == '[') {
            const std::size_t e = rest.find("] ");
            if (e != std::string_view::npos && e > 1 && isDigit(rest[1])) rest = rest.substr(e + 2);
        }
        // A syslog-style "host exim[pid]: " after the stamp (some distributions' log setups).
        const std::size_t sp = rest.find(' ');
        if (sp != std::string_view::npos && sp > 0) {
            std::string_view prog = rest.substr(sp + 1);
            if (prog.rfind("exim", 0) == 0) {
                const std::size_t colon = prog.find(": ");
                const std::size_t space = prog.find(' ');
                if (colon != std::string_view::npos && colon < space) {
                    out.host = rest.substr(0, sp);
                    rest = prog.substr(colon + 2);
                }
            }
        }
        out.rest = rest;
        return true;
    }
    // Exim logging to syslog: the syslog stamp and host, program exim or exim4.
    SyslogLine sl;
    if (m_framing.parse(line, sl, why)) {
        if (sl.program.rfind("exim", 0) != 0) {
            why = "not an Exim line (syslog program is not exim)";
            return false;
        }
        out.time = sl.time;
        out.host = sl.host;
        out.rest = sl.message;
        if (isEximStamp(out.rest)) { // some setups keep Exim's own stamp inside the message
            Prefix inner;
            const char* ignored = nullptr;
            if (parsePrefix(out.rest, inner, ignored)) out.rest = inner.rest;
        }
        return true;
    }
    why = "no Exim timestamp (YYYY-MM-DD HH:MM:SS) at the start of the line";
    return false;
}

void EximParser::beginFile(const TrafficContext& context) {
    TrafficParser::beginFile(context);
    m_framing.setReference(context.referenceYear, context.referenceMonth, context.yearForced, context.referenceDay);
    m_framing.setTimeZone(context.timeZone);
}

TimeMs EximParser::stampOf(std::string_view line) {
    Prefix p;
    const char* why = nullptr;
    return parsePrefix(line, p, why) ? p.time : kNoTime;
}

TrafficParser::Result EximParser::feed(std::string_view line, std::string& why) {
    if (traffic::trim(line).empty() || line[0] == '#') return Result::Skipped;
    Prefix p;
    const char* reason = nullptr;
    if (!parsePrefix(line, p, reason)) {
        why = reason;
        return Result::Rejected;
    }
    const std::string_view server =
        !p.host.empty() ? p.host : !m_context.serverName.empty() ? std::string_view(m_context.serverName) : "exim";
    std::string_view rest = p.rest;
    const std::size_t sp = rest.find(' ');
    if (sp == std::string_view::npos || !isEximId(rest.substr(0, sp))) return generalLine(server, p);
    const std::string_view id = rest.substr(0, sp);
    rest = rest.substr(sp + 1);
    const std::size_t sp2 = rest.find(' ');
    const std::string_view flag = rest.substr(0, sp2);
    const std::string_view tail = sp2 == std::string_view::npos ? std::string_view() : rest.substr(sp2 + 1);

    if (flag == "<=") {
        CopyRecord* existing = findOpen(server, id);
        if (existing && !existing->origin.empty()) complete(server, id); // id reused: a new message
        return arrival(openCopy(server, id, p.time), tail, p.time, why);
    }
    if (flag == "=>" || flag == "->" || flag == "*>" || flag == "**" || flag == "==")
        return delivery(openCopy(server, id, p.time), flag, tail, p.time, why);
    if (flag == "Completed") {
        // A message whose other lines are in an earlier rotation that was not imported: no
        // copy of its own (an empty one would be a message with nothing known about it).
        if (CopyRecord* c = findOpen(server, id)) {
            c->removed = true;
            if (p.time > c->lastSeen) c->lastSeen = p.time;
            complete(server, id);
        }
        return Result::Accepted;
    }
    // Refused after DATA under the id the message would have had: "F=<a> H=... rejected after
    // DATA: ...", "rejected by local_scan(): ...", "rejected by non-SMTP ACL: ...". An event
    // like a refused RCPT, never a message.
    if (const std::size_t rj = rest.find("rejected "); rj != std::string_view::npos && (rj == 0 || rest[rj - 1] == ' ')
        && (rest.find("rejected after DATA") != std::string_view::npos || rest.find("rejected by ") != std::string_view::npos)) {
        Prefix atId = p;
        atId.rest = rest;
        return generalLine(server, atId);
    }
    // Frozen, SMTP error from remote mail server, Spool file is locked, removed by ...: Exim
    // lines about the message that change none of its fields.
    if (CopyRecord* c = findOpen(server, id))
        if (p.time > c->lastSeen) c->lastSeen = p.time;
    return Result::Accepted;
}

TrafficParser::Result EximParser::arrival(CopyRecord& c, std::string_view rest, TimeMs t, std::string& why) {
    const std::size_t sp = rest.find(' ');
    const std::string_view sender = rest.substr(0, sp);
    if (sender.empty()) {
        why = "arrival (<=) without a sender";
        return Result::Rejected;
    }
    c.sender = sender == "<>" ? std::string() : traffic::address(sender);
    if (c.firstSeen == kNoTime || t < c.firstSeen) c.firstSeen = t;
    std::vector<Field> fields;
    std::string_view tail = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
    // received_recipients: "... for a@b c@d" ends the line.
    std::string_view recipients;
    if (const std::size_t f = tail.rfind(" for "); f != std::string_view::npos && tail.find('"', f) == std::string_view::npos) {
        recipients = tail.substr(f + 5);
        tail = tail.substr(0, f);
    } else if (tail.rfind("for ", 0) == 0) {
        recipients = tail.substr(4);
        tail = {};
    }
    scanFields(tail, fields, nullptr);
    c.origin = "exim";
    for (const Field& f : fields) {
        if (f.key == "H") {
            int port = 0;
            splitHostField(f.value, c.clientHost, c.clientIp, port);
        } else if (f.key == "P") {
            c.origin = f.value;
        } else if (f.key == "A") {
            // A=plain:user or A=dovecot_plain:user@domain (the authenticator, then the id)
            const std::size_t colon = f.value.find(':');
            if (colon != std::string::npos) c.saslUser = traffic::lower(f.value.substr(colon + 1));
        } else if (f.key == "S") {
            std::int64_t n = 0;
            if (traffic::parseInt64(f.value, n)) c.size = n;
        } else if (f.key == "id") {
            c.messageIdValid = traffic::cleanMessageId(f.value, c.messageId);
        } else if (f.key == "T") {
            c.subject = f.value.find("=?") != std::string::npos ? decodeMimeWords(f.value) : f.value;
        }
    }
    if (!recipients.empty()) {
        int n = 0;
        std::size_t p = 0;
        while (p < recipients.size()) {
            const std::size_t e = recipients.find(' ', p);
            if (e != p) ++n;
            if (e == std::string_view::npos) break;
            p = e + 1;
        }
        c.nrcpt = n;
    }
    return Result::Accepted;
}

TrafficParser::Result EximParser::delivery(CopyRecord& c, std::string_view flag, std::string_view rest, TimeMs t,
                                           std::string& why) {
    // "addr [<original>] [(parent)] fields..." ; "** addr ...: reason" ; "== addr ... defer (-N): reason"
    std::size_t p = rest.find(' ');
    std::string_view first = rest.substr(0, p);
    if (first.empty()) {
        why = std::string("delivery line (") + std::string(flag) + ") without an address";
        return Result::Rejected;
    }
    bool firstEndsFields = false;
    if (first.back() == ':' && (flag == "**" || flag == "==")) {
        first.remove_suffix(1);
        firstEndsFields = true;
    }
    std::string_view original;
    std::string_view tail = p == std::string_view::npos ? std::string_view() : rest.substr(p + 1);
    if (!firstEndsFields && !tail.empty() && tail[0] == '<') {
        const std::size_t e = tail.find('>');
        if (e != std::string_view::npos) {
            original = tail.substr(1, e - 1);
            tail = tail.substr(e + 1);
            if (!tail.empty() && tail[0] == ':' && (flag == "**" || flag == "==")) {
                tail = tail.substr(1);
                firstEndsFields = true;
            }
        }
    }
    if (!firstEndsFields && !tail.empty() && tail[0] == ' ') tail.remove_prefix(1);
    if (!firstEndsFields && !tail.empty() && tail[0] == '(') { // parent address
        const std::size_t e = tail.find(')');
        if (e != std::string_view::npos) tail = tail.substr(e + 1);
    }
    std::vector<Field> fields;
    std::string_view reason;
    if (firstEndsFields) reason = traffic::trim(tail);
    else scanFields(tail, fields, &reason);

    // The recipient is the address; a local part or a pipe/file delivered for an address
    // names that address in <...>.
    std::string recipient, orig;
    const bool firstIsAddress = first.find('@') != std::string_view::npos;
    if (firstIsAddress || original.empty()) {
        recipient = traffic::address(first);
        if (!original.empty()) orig = traffic::address(original);
    } else {
        recipient = traffic::address(original);
    }
    if (orig == recipient) orig.clear();
    DeliveryRecord& d = deliveryFor(c, recipient);
    if (!orig.empty()) d.origRecipient = orig;
    d.time = t;
    ++d.attempts;
    const Field* transport = fieldOf(fields, "T");
    const Field* host = fieldOf(fields, "H");
    const Field* reply = fieldOf(fields, "C");
    d.transport = canonicalTransport(transport ? std::string_view(transport->value) : std::string_view(), host != nullptr,
                                     first);
    if (host) splitHostField(host->value, d.relayHost, d.relayIp, d.relayPort);
    else d.relayHost.clear(), d.relayIp.clear(), d.relayPort = 0;
    if (d.relayHost.empty() && !d.relayIp.empty()) d.relayHost = d.relayIp;
    if (flag == "=>" || flag == "->") d.status = "sent";
    else if (flag == "*>") d.status = "suppressed";
    else if (flag == "**") d.status = "bounced";
    else d.status = "deferred";
    if (reply) {
        d.response = reply->value;
        d.queuedAs = traffic::queuedAsFromReply(reply->value);
        d.dsn = traffic::dsnFromReply(reply->value);
    } else if (!reason.empty()) {
        d.response.assign(reason);
        // "SMTP error from remote mail server after RCPT TO:<x>: 550 5.1.1 ..."
        const std::size_t colon = reason.rfind(": ");
        d.dsn = traffic::dsnFromReply(colon == std::string_view::npos ? reason : reason.substr(colon + 2));
        d.queuedAs.clear();
    } else {
        d.response.clear();
        d.queuedAs.clear();
    }
    if (d.dsn.empty()) d.dsn = d.status == "sent" ? "2.0.0" : d.status == "bounced" ? "5.0.0" : d.status == "deferred" ? "4.0.0" : "";
    return Result::Accepted;
}

TrafficParser::Result EximParser::generalLine(std::string_view server, const Prefix& p) {
    // Refused attempts: "H=host [ip] F=<sender> rejected RCPT <rcpt>: reason" and kin.
    const std::string_view rest = p.rest;
    const std::size_t rj = rest.find("rejected ");
    if (rj == std::string_view::npos || (rj > 0 && rest[rj - 1] != ' ')) return Result::Accepted;
    RejectRecord r;
    r.server.assign(server);
    r.time = p.time;
    std::vector<Field> fields;
    scanFields(rest.substr(0, rj), fields, nullptr);
    if (const Field* h = fieldOf(fields, "H")) {
        int port = 0;
        splitHostField(h->value, r.clientHost, r.clientIp, port);
    }
    if (const Field* f = fieldOf(fields, "F")) r.sender = traffic::address(f->value);
    std::string_view what = rest.substr(rj + 9);
    const std::size_t sp = what.find(' ');
    const std::string_view verb = what.substr(0, sp);
    if (verb == "RCPT") {
        r.stage = "RCPT";
        const std::size_t lt = what.find('<'), gt = what.find('>');
        if (lt != std::string_view::npos && gt != std::string_view::npos && gt > lt)
            r.recipient = traffic::address(what.substr(lt, gt - lt + 1));
    } else if (verb == "MAIL") {
        r.stage = "MAIL";
    } else if (verb == "EHLO" || verb == "HELO") {
        r.stage = "HELO";
    } else if (verb == "after" || verb == "by") {
        r.stage = "DATA"; // after DATA, by local_scan() or the non-SMTP ACL: the whole message was sent
        if (verb == "by") {
            const std::size_t colon = what.find(": ");
            r.reason.assign(what.substr(0, colon)); // "by local_scan()", then the reason below
        }
    } else if (verb == "connection" || verb.rfind("connection", 0) == 0) {
        r.stage = "CONNECT";
    } else {
        r.stage = std::string(verb);
    }
    if (const std::size_t colon = what.find(": "); colon != std::string_view::npos)
        r.reason = r.reason.empty() ? std::string(what.substr(colon + 2)) : r.reason + ": " + std::string(what.substr(colon + 2));
    else if (r.reason.empty()) r.reason.assign(traffic::trim(what));
    m_rejects.push_back(std::move(r));
    return Result::Accepted;
}

} // namespace mt
