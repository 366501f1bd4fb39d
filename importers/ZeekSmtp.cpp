#include "ZeekSmtp.h"

#include <cstring>

namespace mt {

namespace {

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Zeek escapes the separator and non-printable bytes as \xHH, and a backslash as \\.
std::string unescapeZeek(std::string_view s) {
    if (s.find('\\') == std::string_view::npos) return std::string(s);
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && hexValue(s[i + 2]) >= 0 && hexValue(s[i + 3]) >= 0) {
            out.push_back(static_cast<char>(hexValue(s[i + 2]) * 16 + hexValue(s[i + 3])));
            i += 3;
        } else if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '\\') {
            out.push_back('\\');
            ++i;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

enum Ix { kTs, kUid, kOrigH, kRespH, kRespP, kDepth, kHelo, kMailFrom, kRcptTo, kFrom, kMsgId, kSubject, kLastReply, kFuids };
constexpr const char* kColumns[] = {"ts",       "uid",    "id.orig_h", "id.resp_h", "id.resp_p", "trans_depth", "helo",
                                    "mailfrom", "rcptto", "from",      "msg_id",    "subject",   "last_reply",  "fuids"};

TimeMs zeekTime(std::string_view ts) {
    if (ts.size() >= 10 && ts[4] == '-') return traffic::parseIsoTime(ts);
    return traffic::parseEpochSeconds(ts);
}

} // namespace

bool ZeekTsvHeader::feedHeader(std::string_view line) {
    if (line.empty() || line[0] != '#') return false;
    auto valueAfter = [&](std::string_view key) -> std::string_view {
        std::string_view v = line.substr(key.size());
        if (!v.empty() && (v[0] == m_sep || v[0] == ' ' || v[0] == '\t')) v.remove_prefix(1);
        return v;
    };
    if (line.rfind("#separator", 0) == 0) {
        std::string_view v = line.substr(10);
        v = traffic::trim(v);
        const std::string u = unescapeZeek(v);
        if (u.size() == 1) m_sep = u[0];
    } else if (line.rfind("#set_separator", 0) == 0) {
        const std::string u = unescapeZeek(valueAfter("#set_separator"));
        if (u.size() == 1) m_setSep = u[0];
    } else if (line.rfind("#empty_field", 0) == 0) {
        m_empty = unescapeZeek(valueAfter("#empty_field"));
    } else if (line.rfind("#unset_field", 0) == 0) {
        m_unset = unescapeZeek(valueAfter("#unset_field"));
    } else if (line.rfind("#path", 0) == 0) {
        m_path = std::string(traffic::trim(valueAfter("#path")));
    } else if (line.rfind("#fields", 0) == 0) {
        m_fields.clear();
        std::string_view v = valueAfter("#fields");
        std::size_t p = 0;
        while (p <= v.size()) {
            const std::size_t e = v.find(m_sep, p);
            m_fields.emplace_back(v.substr(p, e == std::string_view::npos ? std::string_view::npos : e - p));
            if (e == std::string_view::npos) break;
            p = e + 1;
        }
    }
    return true; // #types, #open, #close, "### BTest ..." and other comments
}

int ZeekTsvHeader::column(std::string_view name) const {
    for (std::size_t i = 0; i < m_fields.size(); ++i)
        if (m_fields[i] == name) return static_cast<int>(i);
    return -1;
}

void ZeekTsvHeader::split(std::string_view line, std::vector<std::string>& out) const {
    out.clear();
    std::size_t p = 0;
    for (;;) {
        const std::size_t e = line.find(m_sep, p);
        std::string_view v = line.substr(p, e == std::string_view::npos ? std::string_view::npos : e - p);
        if (v == m_unset || v == m_empty) out.emplace_back();
        else out.push_back(unescapeZeek(v));
        if (e == std::string_view::npos) break;
        p = e + 1;
    }
}

void ZeekTsvHeader::splitSet(std::string_view value, std::vector<std::string>& out) const {
    out.clear();
    if (value.empty()) return;
    std::size_t p = 0;
    for (;;) {
        const std::size_t e = value.find(m_setSep, p);
        std::string_view v = value.substr(p, e == std::string_view::npos ? std::string_view::npos : e - p);
        if (!v.empty()) out.emplace_back(v);
        if (e == std::string_view::npos) break;
        p = e + 1;
    }
}

void ZeekSmtpParser::beginFile(const TrafficContext& context) {
    TrafficParser::beginFile(context);
    m_header.reset();
    for (int& i : m_ix) i = -1;
}

TimeMs ZeekSmtpParser::stampOf(std::string_view line) {
    if (line.empty()) return kNoTime;
    if (line[0] == '{') {
        traffic::JsonObject o;
        std::string why;
        if (!o.parse(line, why)) return kNoTime;
        return zeekTime(o.value("ts"));
    }
    if (line[0] == '#') {
        m_header.feedHeader(line);
        return kNoTime;
    }
    const std::size_t tab = line.find('\t');
    const int ts = m_header.column("ts");
    if (ts == 0 || ts < 0) return zeekTime(line.substr(0, tab));
    return kNoTime;
}

bool ZeekSmtpParser::fromJson(std::string_view line, Transaction& t, std::string& why) {
    traffic::JsonObject o;
    if (!o.parse(line, why)) return false;
    if (const std::string* path = o.get("_path"); path && *path != "smtp") {
        why = "a Zeek '" + *path + "' record in an smtp.log";
        return false;
    }
    t.ts = o.value("ts");
    t.uid = o.value("uid");
    t.origH = o.value("id.orig_h");
    t.respH = o.value("id.resp_h");
    t.respP = o.value("id.resp_p");
    t.transDepth = o.value("trans_depth");
    t.helo = o.value("helo");
    t.mailfrom = o.value("mailfrom");
    t.from = o.value("from");
    t.msgId = o.value("msg_id");
    t.subject = o.value("subject");
    t.lastReply = o.value("last_reply");
    t.node = o.value("_node_name");
    if (t.node.empty()) t.node = o.value("_system_name");
    t.rcptto.clear();
    t.fuids.clear();
    if (const std::string* r = o.get("rcptto")) {
        if (o.isArray("rcptto")) {
            if (!traffic::parseJsonArray(*r, t.rcptto, why)) return false;
        } else {
            t.rcptto.push_back(*r);
        }
    }
    if (const std::string* f = o.get("fuids"); f && o.isArray("fuids"))
        if (!traffic::parseJsonArray(*f, t.fuids, why)) return false;
    return true;
}

bool ZeekSmtpParser::fromTsv(std::string_view line, Transaction& t, std::string& why) {
    if (!m_header.hasFields()) {
        why = "Zeek data line before the #fields header";
        return false;
    }
    if (m_ix[kTs] < 0 && m_ix[kUid] < 0) {
        for (int i = 0; i < 14; ++i) m_ix[i] = m_header.column(kColumns[i]);
        if (m_ix[kTs] < 0 || m_ix[kUid] < 0) {
            why = "the #fields header has no ts or uid column: not a Zeek smtp.log";
            return false;
        }
    }
    m_header.split(line, m_cols);
    if (m_cols.size() != m_header.fieldCount()) {
        why = std::to_string(m_cols.size()) + " columns where #fields names " + std::to_string(m_header.fieldCount());
        return false;
    }
    auto col = [&](int ix) -> std::string& {
        static std::string none;
        none.clear();
        return m_ix[ix] >= 0 ? m_cols[static_cast<std::size_t>(m_ix[ix])] : none;
    };
    t.ts = col(kTs);
    t.uid = col(kUid);
    t.origH = col(kOrigH);
    t.respH = col(kRespH);
    t.respP = col(kRespP);
    t.transDepth = col(kDepth);
    t.helo = col(kHelo);
    t.mailfrom = col(kMailFrom);
    t.from = col(kFrom);
    t.msgId = col(kMsgId);
    t.subject = col(kSubject);
    t.lastReply = col(kLastReply);
    t.node.clear();
    m_header.splitSet(col(kRcptTo), t.rcptto);
    m_header.splitSet(col(kFuids), t.fuids);
    return true;
}

TrafficParser::Result ZeekSmtpParser::feed(std::string_view line, std::string& why) {
    if (line.empty()) return Result::Skipped;
    if (line[0] == '#') {
        m_header.feedHeader(line);
        // A new #fields (logs of another Zeek version concatenated): its columns, not the last ones.
        if (line.rfind("#fields", 0) == 0)
            for (int& i : m_ix) i = -1;
        if (!m_header.path().empty() && m_header.path() != "smtp") {
            why = "a Zeek '" + m_header.path() + "' log, not smtp.log";
            return Result::Rejected;
        }
        return Result::Accepted;
    }
    Transaction t;
    const bool ok = line[0] == '{' ? fromJson(line, t, why) : fromTsv(line, t, why);
    if (!ok) return Result::Rejected;
    return record(t, why);
}

TrafficParser::Result ZeekSmtpParser::record(const Transaction& t, std::string& why) {
    const TimeMs time = zeekTime(t.ts);
    if (time == kNoTime) {
        why = "ts '" + t.ts.substr(0, 40) + "' is not a time";
        return Result::Rejected;
    }
    if (t.uid.empty()) {
        why = "no uid";
        return Result::Rejected;
    }
    // A session without MAIL FROM (banner only, STARTTLS, a scanner, RCPT refused for want of
    // MAIL): no transaction at all, skipped like the README says.
    if (t.mailfrom.empty()) return Result::Skipped;
    const std::string server = !m_context.serverName.empty() ? m_context.serverName
                               : !t.node.empty()              ? t.node
                                                              : std::string("zeek");
    // DATA happened when headers or files were seen, or the server said it queued the message.
    const bool accepted = traffic::statusFromReply(t.lastReply) == "sent"
                          && (!traffic::queuedAsFromReply(t.lastReply).empty() || t.lastReply.find("queued") != std::string::npos);
    const bool dataSeen = !t.msgId.empty() || !t.subject.empty() || !t.from.empty() || !t.fuids.empty() || accepted;
    if (!dataSeen) {
        // MAIL/RCPT without a message: a refused or abandoned attempt.
        RejectRecord r;
        r.server = server;
        r.time = time;
        r.clientIp = t.origH;
        r.sender = traffic::address(t.mailfrom);
        r.recipient = t.rcptto.empty() ? std::string() : traffic::address(t.rcptto.front());
        r.stage = t.rcptto.empty() ? "MAIL" : traffic::statusFromReply(t.lastReply) == "sent" ? "DATA" : "RCPT";
        r.reason = t.lastReply.empty() ? "no DATA" : t.lastReply;
        m_rejects.push_back(std::move(r));
        return Result::Accepted;
    }
    CopyRecord c;
    c.server = server;
    c.queueId = t.uid + "/" + (t.transDepth.empty() ? std::string("1") : t.transDepth);
    c.firstSeen = c.lastSeen = time;
    c.origin = "zeek";
    c.clientIp = t.origH;
    c.sender = traffic::address(t.mailfrom);
    c.messageIdValid = traffic::cleanMessageId(t.msgId, c.messageId);
    c.subject = t.subject;
    c.nrcpt = static_cast<int>(t.rcptto.size());
    c.removed = true; // the transaction is over: nothing more will come for this copy
    if (m_context.zeekFiles) {
        for (const std::string& fuid : t.fuids) {
            const auto it = m_context.zeekFiles->find(fuid);
            if (it != m_context.zeekFiles->end() && !it->second.filename.empty()) c.attachments.push_back(it->second.filename);
        }
    }
    const std::string status = traffic::statusFromReply(t.lastReply);
    const std::string queuedAs = traffic::queuedAsFromReply(t.lastReply);
    const std::string dsn = traffic::dsnFromReply(t.lastReply);
    int port = 0;
    std::int64_t p64 = 0;
    if (traffic::parseInt64(t.respP, p64)) port = static_cast<int>(p64);
    for (const std::string& rcpt : t.rcptto) {
        DeliveryRecord& d = deliveryFor(c, traffic::address(rcpt));
        d.transport = "smtp";
        d.relayHost = t.respH;
        d.relayIp = t.respH;
        d.relayPort = port;
        // No reply seen (one-sided capture): the sensor saw the message go, not its fate.
        d.status = status.empty() ? "unknown" : status;
        d.response = t.lastReply;
        d.queuedAs = queuedAs;
        d.dsn = dsn;
        d.time = time;
        d.attempts = 1;
    }
    m_completed.push_back(std::move(c));
    return Result::Accepted;
}

void ZeekFilesParser::beginFile(const TrafficContext& context) {
    TrafficParser::beginFile(context);
    m_header.reset();
}

TimeMs ZeekFilesParser::stampOf(std::string_view) { return kNoTime; }

TrafficParser::Result ZeekFilesParser::feed(std::string_view line, std::string& why) {
    if (line.empty()) return Result::Skipped;
    std::string fuid, filename, mime;
    if (line[0] == '#') {
        m_header.feedHeader(line);
        return Result::Accepted;
    }
    if (line[0] == '{') {
        traffic::JsonObject o;
        if (!o.parse(line, why)) return Result::Rejected;
        fuid = o.value("fuid");
        filename = o.value("filename");
        mime = o.value("mime_type");
    } else {
        const int f = m_header.column("fuid");
        if (f < 0) {
            why = "Zeek files.log data line without a #fields header naming fuid";
            return Result::Rejected;
        }
        m_header.split(line, m_cols);
        if (m_cols.size() != m_header.fieldCount()) {
            why = std::to_string(m_cols.size()) + " columns where #fields names " + std::to_string(m_header.fieldCount());
            return Result::Rejected;
        }
        fuid = m_cols[static_cast<std::size_t>(f)];
        if (const int n = m_header.column("filename"); n >= 0) filename = m_cols[static_cast<std::size_t>(n)];
        if (const int m = m_header.column("mime_type"); m >= 0) mime = m_cols[static_cast<std::size_t>(m)];
    }
    if (fuid.empty()) {
        why = "no fuid";
        return Result::Rejected;
    }
    (*m_files)[fuid] = {filename, mime};
    return Result::Accepted;
}

} // namespace mt
