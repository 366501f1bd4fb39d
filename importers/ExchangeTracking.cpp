#include "ExchangeTracking.h"

#include <algorithm>
#include <cstdio>

namespace mt {

namespace {

enum ExIx {
    kDateTime, kClientIp, kClientHost, kServerIp, kServerHost, kSourceContext, kSource, kEventId, kInternalId,
    kMessageId, kRecipients, kRecipientStatus, kTotalBytes, kRecipientCount, kSubject, kSenderAddress, kReturnPath,
    kNetworkMessageId, kExCount
};
constexpr const char* kExColumns[] = {"date-time",       "client-ip",        "client-hostname", "server-ip",
                                      "server-hostname", "source-context",   "source",          "event-id",
                                      "internal-message-id", "message-id",   "recipient-address", "recipient-status",
                                      "total-bytes",     "recipient-count",  "message-subject", "sender-address",
                                      "return-path",     "network-message-id"};
static_assert(sizeof(kExColumns) / sizeof(kExColumns[0]) == kExCount);

void splitList(std::string_view s, char sep, std::vector<std::string>& out) {
    out.clear();
    std::size_t p = 0;
    while (p <= s.size()) {
        const std::size_t e = s.find(sep, p);
        std::string_view v = traffic::trim(s.substr(p, e == std::string_view::npos ? std::string_view::npos : e - p));
        if (!v.empty()) out.emplace_back(v);
        if (e == std::string_view::npos) break;
        p = e + 1;
    }
}

} // namespace

std::string_view stripBom(std::string_view line) {
    if (line.size() >= 3 && static_cast<unsigned char>(line[0]) == 0xEF && static_cast<unsigned char>(line[1]) == 0xBB
        && static_cast<unsigned char>(line[2]) == 0xBF)
        line.remove_prefix(3);
    return line;
}

void ExchangeTrackingParser::beginFile(const TrafficContext& context) {
    TrafficParser::beginFile(context);
    m_fields.clear();
    for (int& i : m_ix) i = -1;
}

int ExchangeTrackingParser::col(std::string_view name) const {
    for (std::size_t i = 0; i < m_fields.size(); ++i)
        if (traffic::iequals(m_fields[i], name)) return static_cast<int>(i);
    return -1;
}

TimeMs ExchangeTrackingParser::stampOf(std::string_view line) {
    line = stripBom(line);
    if (line.empty() || line[0] == '#') return kNoTime;
    const std::size_t comma = line.find(',');
    return traffic::parseIsoTime(line.substr(0, comma));
}

void ExchangeTrackingParser::endFile() {
    if (m_lastTime != kNoTime) retireBefore(m_lastTime - kIdleCompleteMs);
}

TrafficParser::Result ExchangeTrackingParser::feed(std::string_view line, std::string& why) {
    line = stripBom(line);
    if (traffic::trim(line).empty()) return Result::Skipped;
    if (line[0] == '#') {
        if (line.rfind("#Fields:", 0) == 0) {
            splitList(line.substr(8), ',', m_fields);
            for (int i = 0; i < kExCount; ++i) m_ix[i] = col(kExColumns[i]);
            if (m_ix[kDateTime] < 0 || m_ix[kEventId] < 0) {
                why = "the #Fields: header has no date-time or event-id: not an Exchange message tracking log";
                m_fields.clear();
                return Result::Rejected;
            }
        }
        return Result::Accepted;
    }
    if (m_fields.empty()) {
        why = "data line before the #Fields: header";
        return Result::Rejected;
    }
    if (!traffic::splitCsv(line, ',', m_cols)) {
        why = "unterminated quoted field";
        return Result::Rejected;
    }
    if (m_cols.size() != m_fields.size()) {
        why = std::to_string(m_cols.size()) + " fields where #Fields: names " + std::to_string(m_fields.size());
        return Result::Rejected;
    }
    auto get = [&](int ix) -> const std::string& {
        static const std::string none;
        return m_ix[ix] >= 0 ? m_cols[static_cast<std::size_t>(m_ix[ix])] : none;
    };
    const TimeMs t = traffic::parseIsoTime(get(kDateTime));
    if (t == kNoTime) {
        why = "date-time '" + get(kDateTime).substr(0, 40) + "' is not a time";
        return Result::Rejected;
    }
    m_lastTime = std::max(m_lastTime, t);
    retireIdle(m_lastTime);
    const std::string event = traffic::lower(get(kEventId));
    const std::string& internalId = get(kInternalId);
    if (internalId.empty()) return Result::Accepted; // NOTIFYMAPI and other store events: no message
    // The server whose log this is: the sending side of a SEND, the receiving side otherwise.
    std::string server = event == "send" ? get(kClientHost) : get(kServerHost);
    if (server.empty()) server = event == "send" ? get(kServerHost) : get(kClientHost);
    if (server.empty()) server = !m_lastServer.empty() ? m_lastServer : !m_context.serverName.empty() ? m_context.serverName : "exchange";
    server = traffic::lower(server);
    m_lastServer = server;

    CopyRecord& c = openCopy(server, internalId, t);
    if (t < c.firstSeen) c.firstSeen = t;
    if (c.messageId.empty() && !get(kMessageId).empty()) c.messageIdValid = traffic::cleanMessageId(get(kMessageId), c.messageId);
    if (c.sender.empty()) c.sender = traffic::address(!get(kSenderAddress).empty() ? get(kSenderAddress) : get(kReturnPath));
    if (c.subject.empty()) c.subject = get(kSubject);
    if (c.size < 0) {
        std::int64_t n = 0;
        if (traffic::parseInt64(get(kTotalBytes), n)) c.size = n;
    }
    if (c.nrcpt < 0) {
        std::int64_t n = 0;
        if (traffic::parseInt64(get(kRecipientCount), n)) c.nrcpt = static_cast<int>(n);
    }
    if (c.origin.empty()) c.origin = traffic::lower(get(kSource));
    if (event == "receive") {
        c.origin = traffic::lower(get(kSource));
        c.clientIp = get(kClientIp);
        c.clientHost = traffic::lower(get(kClientHost));
        if (c.clientHost == server) c.clientHost.clear(); // STOREDRIVER: the mailbox server itself
        return Result::Accepted;
    }
    std::string status, transport;
    if (event == "deliver") status = "sent", transport = "local";
    else if (event == "send") status = "sent", transport = "smtp";
    else if (event == "fail") status = "bounced";
    else if (event == "defer") status = "deferred";
    else if (event == "haredirect") status = "shadowed", transport = "smtp";
    else return Result::Accepted; // SUBMIT, AGENTINFO, RESOLVE, EXPAND, TRANSFER, DSN, HARECEIVE ...

    std::vector<std::string> recipients, statuses;
    splitList(get(kRecipients), ';', recipients);
    splitList(get(kRecipientStatus), ';', statuses);
    const std::string& context = get(kSourceContext);
    for (std::size_t i = 0; i < recipients.size(); ++i) {
        DeliveryRecord& d = deliveryFor(c, traffic::address(recipients[i]));
        // A shadow copy never overrides the primary's outcome.
        if (event == "haredirect" && !d.status.empty() && d.status != "shadowed") continue;
        const std::string& rs = i < statuses.size() ? statuses[i] : statuses.size() == 1 ? statuses[0] : context;
        d.status = status;
        d.time = t;
        ++d.attempts;
        if (!transport.empty()) d.transport = transport;
        if (transport == "smtp") {
            d.relayHost = traffic::lower(get(kServerHost));
            d.relayIp = get(kServerIp);
            if (d.relayHost.empty()) d.relayHost = d.relayIp;
            d.relayPort = 25;
        } else if (transport == "local") {
            d.relayHost.clear();
            d.relayIp.clear();
            d.relayPort = 0;
        }
        // The next hop's answer is in source-context ("250 2.6.0 <id> [InternalId=..] Queued ...").
        std::string reply = !context.empty() && (event == "send" || event == "haredirect") ? context : rs;
        const std::size_t eq = reply.find(" = ");
        if (eq != std::string::npos && eq < 100) reply = reply.substr(eq + 3); // "host = 250 ..." (HAREDIRECT)
        d.response = reply;
        d.dsn = traffic::dsnFromReply(reply);
        d.queuedAs = event == "haredirect" ? std::string() : traffic::queuedAsFromReply(reply);
    }
    return Result::Accepted;
}

// ---- Microsoft 365 message trace ----

namespace {

enum M365Ix { kMTime, kMSender, kMRecipient, kMSubject, kMStatus, kMToIp, kMFromIp, kMSize, kMMessageId, kMTraceId,
              kMRecipientStatus, kMCount };

int m365Column(std::string_view header) {
    const std::string h = traffic::lower(traffic::trim(header));
    static const std::pair<const char*, int> names[] = {
        {"received", kMTime}, {"origin_timestamp_utc", kMTime}, {"date_time_utc", kMTime}, {"date", kMTime},
        {"senderaddress", kMSender}, {"sender_address", kMSender}, {"recipientaddress", kMRecipient},
        {"recipient_address", kMRecipient}, {"subject", kMSubject}, {"message_subject", kMSubject},
        {"status", kMStatus}, {"delivery_status", kMStatus}, {"toip", kMToIp}, {"fromip", kMFromIp},
        {"original_client_ip", kMFromIp}, {"size", kMSize}, {"total_bytes", kMSize}, {"messageid", kMMessageId},
        {"message_id", kMMessageId}, {"messagetraceid", kMTraceId}, {"network_message_id", kMTraceId},
        {"recipient_status", kMRecipientStatus}};
    for (const auto& [n, ix] : names)
        if (h == n) return ix;
    return -1;
}

void mapStatus(std::string_view raw, std::string& status, bool& mailbox) {
    const std::string s = traffic::lower(traffic::trim(raw));
    mailbox = false;
    if (s == "delivered" || s == "deliver") status = "sent", mailbox = true;
    else if (s == "send") status = "sent";
    else if (s == "failed" || s == "fail") status = "bounced";
    else if (s == "pending" || s == "defer" || s == "deferred") status = "deferred";
    else if (s == "quarantined") status = "quarantined";
    else if (s == "filteredasspam") status = "filtered";
    else if (s == "expanded" || s == "expand") status = "expanded";
    else if (s.empty() || s == "none" || s == "gettingstatus") status = "unknown";
    else status = s;
}

} // namespace

void M365TraceParser::beginFile(const TrafficContext& context) {
    TrafficParser::beginFile(context);
    m_haveHeader = false;
}

bool M365TraceParser::readHeader(std::string_view line, std::string& why) {
    std::vector<std::string> headers;
    if (!traffic::splitCsv(line, ',', headers)) {
        why = "unterminated quote in the header";
        return false;
    }
    for (int& i : m_ix) i = -1;
    for (std::size_t i = 0; i < headers.size(); ++i)
        if (const int ix = m365Column(headers[i]); ix >= 0 && m_ix[ix] < 0) m_ix[ix] = static_cast<int>(i);
    if (m_ix[kMTime] < 0 || m_ix[kMSender] < 0 || (m_ix[kMRecipient] < 0 && m_ix[kMRecipientStatus] < 0)) {
        why = "the header names no Received/origin_timestamp_utc, SenderAddress and RecipientAddress/recipient_status "
              "columns: not a Microsoft 365 message trace";
        return false;
    }
    m_haveHeader = true;
    return true;
}

TimeMs M365TraceParser::stampOf(std::string_view line) {
    line = stripBom(line);
    if (!m_haveHeader) {
        std::string why;
        if (line.rfind("#", 0) != 0) readHeader(line, why);
        return kNoTime;
    }
    if (!traffic::splitCsv(line, ',', m_cols) || m_ix[kMTime] >= static_cast<int>(m_cols.size())) return kNoTime;
    return traffic::parseIsoTime(m_cols[static_cast<std::size_t>(m_ix[kMTime])]);
}

void M365TraceParser::endFile() {
    if (m_lastTime != kNoTime) retireBefore(m_lastTime - kIdleCompleteMs);
}

TrafficParser::Result M365TraceParser::feed(std::string_view line, std::string& why) {
    line = stripBom(line);
    if (traffic::trim(line).empty()) return Result::Skipped;
    if (line[0] == '#') return Result::Accepted; // PowerShell's "#TYPE ..." line
    if (!m_haveHeader) return readHeader(line, why) ? Result::Accepted : Result::Rejected;
    if (!traffic::splitCsv(line, ',', m_cols)) {
        why = "unterminated quoted field";
        return Result::Rejected;
    }
    static const std::string none;
    auto get = [&](int ix) -> const std::string& {
        if (m_ix[ix] < 0 || m_ix[ix] >= static_cast<int>(m_cols.size())) return none;
        return m_cols[static_cast<std::size_t>(m_ix[ix])];
    };
    // Get-MessageTrace writes US dates ("11/22/2026 9:00:01 AM") when not told otherwise.
    const std::string& stamp = get(kMTime);
    TimeMs t = traffic::parseIsoTime(stamp, m_context.timeZone);
    if (t == kNoTime) {
        int mo = 0, d = 0, y = 0, h = 0, mi = 0, s = 0;
        char ampm[3] = {};
        if (std::sscanf(stamp.c_str(), "%d/%d/%d %d:%d:%d %2s", &mo, &d, &y, &h, &mi, &s, ampm) >= 6 && mo >= 1 && mo <= 12
            && d >= 1 && d <= 31 && y > 1970) {
            if ((ampm[0] == 'P' || ampm[0] == 'p') && h < 12) h += 12;
            if ((ampm[0] == 'A' || ampm[0] == 'a') && h == 12) h = 0;
            char iso[40];
            std::snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, h, mi, s);
            t = traffic::parseIsoTime(iso, m_context.timeZone);
        }
    }
    if (t == kNoTime) {
        why = "time '" + stamp.substr(0, 40) + "' is not a date";
        return Result::Rejected;
    }
    m_lastTime = std::max(m_lastTime, t);
    retireIdle(m_lastTime);
    std::string traceId = get(kMTraceId);
    const std::string& messageId = get(kMMessageId);
    if (traceId.empty()) traceId = messageId;
    if (traceId.empty()) {
        why = "no MessageTraceId/network_message_id or MessageId";
        return Result::Rejected;
    }
    const std::string server = !m_context.serverName.empty() ? m_context.serverName : "exchange-online";
    CopyRecord& c = openCopy(server, traceId, t);
    if (t < c.firstSeen) c.firstSeen = t;
    if (c.messageId.empty()) c.messageIdValid = traffic::cleanMessageId(messageId, c.messageId);
    if (c.sender.empty()) c.sender = traffic::address(get(kMSender));
    if (c.subject.empty()) c.subject = get(kMSubject);
    if (c.clientIp.empty()) c.clientIp = get(kMFromIp);
    if (c.origin.empty()) c.origin = "m365";
    if (c.size < 0) {
        std::int64_t n = 0;
        if (traffic::parseInt64(get(kMSize), n)) c.size = n;
    }
    // Recipients: one column (Get-MessageTrace), or "a@b##Receive, Deliver;c@d##Receive, Fail".
    std::vector<std::pair<std::string, std::string>> outcomes;
    if (m_ix[kMRecipient] >= 0) {
        outcomes.emplace_back(get(kMRecipient), get(kMStatus));
    } else {
        std::vector<std::string> parts;
        splitList(get(kMRecipientStatus), ';', parts);
        for (const std::string& p : parts) {
            const std::size_t hash = p.find("##");
            std::string events = hash == std::string::npos ? std::string() : p.substr(hash + 2);
            const std::size_t last = events.rfind(',');
            outcomes.emplace_back(p.substr(0, hash), std::string(traffic::trim(last == std::string::npos ? events : events.substr(last + 1))));
        }
    }
    const std::string toIp = get(kMToIp);
    for (const auto& [rcpt, rawStatus] : outcomes) {
        if (traffic::trim(rcpt).empty()) continue;
        DeliveryRecord& d = deliveryFor(c, traffic::address(rcpt));
        bool mailbox = false;
        mapStatus(rawStatus, d.status, mailbox);
        d.time = t;
        d.attempts = std::max(d.attempts, 1);
        d.response = rawStatus;
        if (!toIp.empty()) {
            d.transport = "smtp";
            d.relayHost = d.relayIp = toIp;
        } else if (mailbox) {
            d.transport = "local"; // in an Exchange Online mailbox
        } else if (d.transport.empty()) {
            d.transport = "smtp";
        }
    }
    if (c.nrcpt < static_cast<int>(c.deliveries.size())) c.nrcpt = static_cast<int>(c.deliveries.size());
    return Result::Accepted;
}

} // namespace mt
