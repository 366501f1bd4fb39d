#pragma once
// Exim main log (mainlog, or Exim's lines in a syslog file): one copy per (server, Exim
// message id), from `<=` (arrival: sender, client, auth, size, Message-ID, subject) to
// `Completed`; `=>`/`->` deliveries, `*>` suppressed ones, `**` failures, `==` deferrals.
// A remote Exim's `C="250 OK id=..."` (or a Postfix's "queued as") is the next hop's queue
// id, so CaseStore::link() follows the message from server to server.
#include "PostfixLog.h" // SyslogFraming
#include "TrafficParser.h"

namespace mt {

// 1Mugho-0003Dg-Un (6-6-2, base 62) or the 4.97 form 1Mugho-000000003Dg-Unxx (6-11-4).
bool isEximId(std::string_view s);

class EximParser : public TrafficParser {
public:
    void beginFile(const TrafficContext& context) override;
    Result feed(std::string_view line, std::string& why) override;
    TimeMs stampOf(std::string_view line) override;

private:
    struct Prefix {
        TimeMs time = kNoTime;
        std::string_view host; // from a syslog prefix; empty for a mainlog file
        std::string_view rest;
    };
    bool parsePrefix(std::string_view line, Prefix& out, const char*& why);
    Result arrival(CopyRecord& c, std::string_view rest, TimeMs t, std::string& why);
    Result delivery(CopyRecord& c, std::string_view flag, std::string_view rest, TimeMs t, std::string& why);
    Result generalLine(std::string_view server, const Prefix& p);

    SyslogFraming m_framing; // Exim's lines in a syslog file
};

} // namespace mt
