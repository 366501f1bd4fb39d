#pragma once
// MailTriage's own traffic schema, for any source without an importer of its own: CSV with a
// header row, or JSON lines with the same names. One row per (copy, recipient) event; rows
// with the same server and queue_id (else message_id) build one copy, so a source that logs
// "received" and "delivered" separately needs no pre-joining. The README documents the fields.
#include "TrafficParser.h"

namespace mt {

// One event of the schema, whichever the encoding.
struct GenericEvent {
    std::string time, server, queueId, messageId, sender, recipient, origRecipient, status, transport, relay, relayIp,
        relayPort, queuedAs, dsn, response, clientHost, clientIp, saslUser, size, subject, stage;
    std::vector<std::string> attachments;
};

class GenericEventSink : public TrafficParser {
public:
    void endFile() override;

protected:
    Result apply(const GenericEvent& e, std::string& why);
    TimeMs m_lastTime = kNoTime;
};

class GenericCsvParser : public GenericEventSink {
public:
    void beginFile(const TrafficContext& context) override;
    Result feed(std::string_view line, std::string& why) override;
    TimeMs stampOf(std::string_view line) override;

private:
    bool readHeader(std::string_view line, std::string& why);
    bool toEvent(std::string_view line, GenericEvent& e, std::string& why);
    char m_delimiter = ',';
    std::vector<int> m_map; // column -> field index
    std::vector<std::string> m_cols;
    bool m_haveHeader = false;
};

class GenericJsonlParser : public GenericEventSink {
public:
    Result feed(std::string_view line, std::string& why) override;
    TimeMs stampOf(std::string_view line) override;
};

// The schema's field names, in the order of GenericEvent (for documentation and headers).
const std::vector<std::string>& genericFieldNames();

} // namespace mt
