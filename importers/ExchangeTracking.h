#pragma once
// Exchange message tracking logs (MSGTRK*.LOG: a #Fields: header, UTF-8 with BOM, CRLF, RFC
// 4180 quoting, recipients as "a;b") and the Microsoft 365 message trace CSV export.
//
// Exchange: a copy is the message on one server under its internal-message-id. RECEIVE gives
// the client, sender, size, subject and Message-ID; DELIVER puts a recipient in a mailbox on
// that server; SEND hands it to the next hop (whose "[InternalId=N, Hostname=H]" in the reply
// is the next copy's id, so link() follows it); FAIL bounces; DEFER defers; HAREDIRECT sends a
// shadow copy for redundancy (status "shadowed" until the primary's fate is logged). Other
// events (SUBMIT, AGENTINFO, RESOLVE, EXPAND, TRANSFER, DSN ...) fill in the copy's fields.
//
// Microsoft 365: one row per (message, recipient), the copy being the message in Exchange
// Online under its MessageTraceId / network_message_id.
#include "TrafficParser.h"

namespace mt {

class ExchangeTrackingParser : public TrafficParser {
public:
    void beginFile(const TrafficContext& context) override;
    Result feed(std::string_view line, std::string& why) override;
    void endFile() override;
    TimeMs stampOf(std::string_view line) override;

private:
    int col(std::string_view name) const;
    std::vector<std::string> m_fields;
    std::vector<std::string> m_cols;
    int m_ix[20] = {};
    std::string m_lastServer;
    TimeMs m_lastTime = kNoTime;
};

class M365TraceParser : public TrafficParser {
public:
    void beginFile(const TrafficContext& context) override;
    Result feed(std::string_view line, std::string& why) override;
    void endFile() override;
    TimeMs stampOf(std::string_view line) override;

private:
    bool readHeader(std::string_view line, std::string& why);
    std::vector<std::string> m_cols;
    int m_ix[12] = {};
    bool m_haveHeader = false;
    TimeMs m_lastTime = kNoTime;
};

// Strips a UTF-8 byte order mark.
std::string_view stripBom(std::string_view line);

} // namespace mt
