#include "GenericCsv.h"

#include "ExchangeTracking.h" // stripBom

#include <algorithm>

namespace mt {

namespace {

// Field names, in GenericEvent's order (attachments last).
const std::vector<std::string> kNames = {"time",      "server",    "queue_id",    "message_id", "sender",
                                         "recipient", "orig_recipient", "status", "transport",  "relay",
                                         "relay_ip",  "relay_port", "queued_as",  "dsn",        "response",
                                         "client_host", "client_ip", "sasl_user", "size",       "subject",
                                         "stage",     "attachments"};

std::string* slot(GenericEvent& e, std::size_t i) {
    std::string* fields[] = {&e.time,      &e.server,    &e.queueId,   &e.messageId, &e.sender,    &e.recipient,
                             &e.origRecipient, &e.status, &e.transport, &e.relay,     &e.relayIp,   &e.relayPort,
                             &e.queuedAs,  &e.dsn,       &e.response,  &e.clientHost, &e.clientIp, &e.saslUser,
                             &e.size,      &e.subject,   &e.stage};
    return i < std::size(fields) ? fields[i] : nullptr;
}

int fieldIndex(std::string_view name) {
    const std::string n = traffic::lower(traffic::trim(name));
    for (std::size_t i = 0; i < kNames.size(); ++i)
        if (kNames[i] == n) return static_cast<int>(i);
    return -1;
}

void splitAttachments(std::string_view s, std::vector<std::string>& out) {
    out.clear();
    std::size_t p = 0;
    while (p <= s.size()) {
        const std::size_t e = s.find(';', p);
        std::string_view v = traffic::trim(s.substr(p, e == std::string_view::npos ? std::string_view::npos : e - p));
        if (!v.empty()) out.emplace_back(v);
        if (e == std::string_view::npos) break;
        p = e + 1;
    }
}

TimeMs eventTime(std::string_view s, const std::string& zone) {
    const TimeMs t = traffic::parseIsoTime(s, zone);
    return t != kNoTime ? t : traffic::parseEpochSeconds(s);
}

} // namespace

const std::vector<std::string>& genericFieldNames() { return kNames; }

void GenericEventSink::endFile() {
    if (m_lastTime != kNoTime) retireBefore(m_lastTime - kIdleCompleteMs);
}

TrafficParser::Result GenericEventSink::apply(const GenericEvent& e, std::string& why) {
    const TimeMs t = eventTime(e.time, m_context.timeZone);
    if (t == kNoTime) {
        why = e.time.empty() ? "no time" : "time '" + e.time.substr(0, 40) + "' is neither ISO 8601 nor epoch seconds";
        return Result::Rejected;
    }
    const std::string server = !e.server.empty() ? traffic::lower(e.server) : m_context.serverName;
    if (server.empty()) {
        why = "no server";
        return Result::Rejected;
    }
    const std::string status = traffic::lower(e.status);
    if (status == "rejected") {
        RejectRecord r;
        r.server = server;
        r.time = t;
        r.clientHost = e.clientHost;
        r.clientIp = e.clientIp;
        r.sender = traffic::address(e.sender);
        r.recipient = traffic::address(e.recipient);
        r.stage = e.stage.empty() ? "RCPT" : e.stage;
        r.reason = e.response;
        m_rejects.push_back(std::move(r));
        m_lastTime = std::max(m_lastTime, t);
        return Result::Accepted;
    }
    const std::string& localId = !e.queueId.empty() ? e.queueId : e.messageId;
    if (localId.empty()) {
        why = "neither queue_id nor message_id";
        return Result::Rejected;
    }
    std::int64_t size = -1;
    if (!e.size.empty() && !traffic::parseInt64(e.size, size)) {
        why = "size '" + e.size.substr(0, 20) + "' is not a number";
        return Result::Rejected;
    }
    m_lastTime = std::max(m_lastTime, t);
    retireIdle(m_lastTime);
    CopyRecord& c = openCopy(server, localId, t);
    if (t < c.firstSeen) c.firstSeen = t;
    if (c.messageId.empty() && !e.messageId.empty()) c.messageIdValid = traffic::cleanMessageId(e.messageId, c.messageId);
    if (!e.sender.empty()) c.sender = traffic::address(e.sender);
    if (!e.clientHost.empty()) c.clientHost = traffic::lower(e.clientHost);
    if (!e.clientIp.empty()) c.clientIp = e.clientIp;
    if (!e.saslUser.empty()) c.saslUser = traffic::lower(e.saslUser);
    if (size >= 0) c.size = size;
    if (!e.subject.empty()) c.subject = e.subject;
    if (c.origin.empty()) c.origin = "import";
    for (const std::string& a : e.attachments)
        if (std::find(c.attachments.begin(), c.attachments.end(), a) == c.attachments.end()) c.attachments.push_back(a);
    if (status == "removed") {
        c.removed = true;
        return Result::Accepted;
    }
    if (e.recipient.empty()) return Result::Accepted; // a "received" row: the copy's fields only
    DeliveryRecord& d = deliveryFor(c, traffic::address(e.recipient));
    if (!e.origRecipient.empty()) d.origRecipient = traffic::address(e.origRecipient);
    d.status = status.empty() ? "unknown" : status;
    d.time = t;
    ++d.attempts;
    d.relayHost = traffic::lower(e.relay);
    d.relayIp = e.relayIp;
    std::int64_t port = 0;
    d.relayPort = traffic::parseInt64(e.relayPort, port) ? static_cast<int>(port) : 0;
    // Without a transport: delivered here when there is no relay, else sent on by SMTP.
    d.transport = !e.transport.empty() ? traffic::lower(e.transport) : d.relayHost.empty() && d.relayIp.empty() ? "local" : "smtp";
    d.response = e.response;
    d.queuedAs = !e.queuedAs.empty() ? e.queuedAs : traffic::queuedAsFromReply(e.response);
    d.dsn = !e.dsn.empty() ? e.dsn : traffic::dsnFromReply(e.response);
    return Result::Accepted;
}

void GenericCsvParser::beginFile(const TrafficContext& context) {
    TrafficParser::beginFile(context);
    m_haveHeader = false;
}

bool GenericCsvParser::readHeader(std::string_view line, std::string& why) {
    // The delimiter is whichever of , ; tab | splits the header into the most known names.
    int best = -1;
    for (char d : {',', ';', '\t', '|'}) {
        std::vector<std::string> headers;
        if (!traffic::splitCsv(line, d, headers)) continue;
        int known = 0;
        std::vector<int> map;
        for (const auto& h : headers) {
            map.push_back(fieldIndex(h));
            if (map.back() >= 0) ++known;
        }
        if (known > best) {
            best = known;
            m_delimiter = d;
            m_map = std::move(map);
        }
    }
    const auto has = [&](const char* n) { return std::find(m_map.begin(), m_map.end(), fieldIndex(n)) != m_map.end(); };
    if (!has("time") || !has("server") || (!has("queue_id") && !has("message_id"))) {
        why = "the header must name time, server and queue_id or message_id (MailTriage CSV schema)";
        return false;
    }
    m_haveHeader = true;
    return true;
}

bool GenericCsvParser::toEvent(std::string_view line, GenericEvent& e, std::string& why) {
    if (!traffic::splitCsv(line, m_delimiter, m_cols)) {
        why = "unterminated quoted field";
        return false;
    }
    if (m_cols.size() != m_map.size()) {
        why = std::to_string(m_cols.size()) + " fields where the header names " + std::to_string(m_map.size());
        return false;
    }
    e = GenericEvent();
    for (std::size_t i = 0; i < m_cols.size(); ++i) {
        const int ix = m_map[i];
        if (ix < 0) continue;
        if (kNames[static_cast<std::size_t>(ix)] == "attachments") splitAttachments(m_cols[i], e.attachments);
        else if (std::string* s = slot(e, static_cast<std::size_t>(ix))) *s = m_cols[i];
    }
    return true;
}

TimeMs GenericCsvParser::stampOf(std::string_view line) {
    line = stripBom(line);
    std::string why;
    if (!m_haveHeader) {
        readHeader(line, why);
        return kNoTime;
    }
    GenericEvent e;
    return toEvent(line, e, why) ? eventTime(e.time, m_context.timeZone) : kNoTime;
}

TrafficParser::Result GenericCsvParser::feed(std::string_view line, std::string& why) {
    line = stripBom(line);
    if (traffic::trim(line).empty()) return Result::Skipped;
    if (!m_haveHeader) return readHeader(line, why) ? Result::Accepted : Result::Rejected;
    GenericEvent e;
    if (!toEvent(line, e, why)) return Result::Rejected;
    return apply(e, why);
}

namespace {

bool jsonToEvents(std::string_view line, std::vector<GenericEvent>& out, std::string& why) {
    out.clear();
    traffic::JsonObject o;
    if (!o.parse(line, why)) return false;
    GenericEvent base;
    for (std::size_t i = 0; i + 1 < kNames.size(); ++i)
        if (const std::string* v = o.get(kNames[i])) *slot(base, i) = *v;
    if (const std::string* a = o.get("attachments")) {
        if (o.isArray("attachments")) {
            if (!traffic::parseJsonArray(*a, base.attachments, why)) return false;
        } else {
            splitAttachments(*a, base.attachments);
        }
    }
    const std::string* rcpts = o.get("recipients");
    if (!rcpts) {
        out.push_back(std::move(base));
        return true;
    }
    std::vector<std::string> items;
    if (!o.isArray("recipients") || !traffic::parseJsonArray(*rcpts, items, why)) {
        if (why.empty()) why = "recipients must be an array";
        return false;
    }
    out.push_back(base); // the copy's own fields, even with no recipient
    out.back().recipient.clear();
    for (const std::string& item : items) {
        GenericEvent e = base;
        if (!item.empty() && item[0] == '{') {
            traffic::JsonObject r;
            if (!r.parse(item, why)) return false;
            e.recipient = r.has("address") ? r.value("address") : r.value("recipient");
            for (std::size_t i = 0; i + 1 < kNames.size(); ++i)
                if (kNames[i] != "recipient")
                    if (const std::string* v = r.get(kNames[i])) *slot(e, i) = *v;
        } else {
            e.recipient = item;
        }
        out.push_back(std::move(e));
    }
    return true;
}

} // namespace

TimeMs GenericJsonlParser::stampOf(std::string_view line) {
    traffic::JsonObject o;
    std::string why;
    if (!o.parse(stripBom(line), why)) return kNoTime;
    return eventTime(o.value("time"), m_context.timeZone);
}

TrafficParser::Result GenericJsonlParser::feed(std::string_view line, std::string& why) {
    line = stripBom(line);
    if (traffic::trim(line).empty()) return Result::Skipped;
    std::vector<GenericEvent> events;
    if (!jsonToEvents(line, events, why)) return Result::Rejected;
    for (const GenericEvent& e : events)
        if (apply(e, why) == Result::Rejected) return Result::Rejected;
    return Result::Accepted;
}

} // namespace mt
