#pragma once
// Syslog messages as mail servers forward them (rsyslog omfwd, syslog-ng, journald upload):
// RFC 5424 ("<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG"), RFC 3164 ("<PRI>Mmm dd
// hh:mm:ss HOST TAG: MSG") and rsyslog's forward format (RFC 3164 framing with an RFC 3339
// stamp), turned into the log line a Postfix log file holds ("STAMP HOST PROGRAM[PID]: MSG"),
// which PostfixAssembler reads like any other line. And the TCP framing of RFC 6587: octet
// counting ("LEN SP MSG") and LF-terminated frames, with a size limit.
#include <cstdint>
#include <string>
#include <string_view>

namespace mt::live {

// Converts one syslog message into a log line. `receivedMs` stands in for a missing stamp
// (RFC 5424 NILVALUE) and `peer` for a missing host. False with a reason for anything that is
// not a syslog message (no <PRI>, bad version, no tag).
bool syslogToLogLine(std::string_view message, std::int64_t receivedMs, std::string_view peer, std::string& out,
                     const char*& why);

// RFC 6587 frames from a TCP stream. Feed bytes as they come; take frames until next() says
// none is complete. A frame over the limit is dropped (counted) without buffering it.
class SyslogStreamFramer {
public:
    explicit SyslogStreamFramer(std::size_t maxMessage) : m_max(maxMessage) {}

    void append(const char* data, std::size_t n);
    // The next complete frame (without its length prefix or LF); false when none is complete.
    bool next(std::string& frame);
    // Bytes of an unfinished frame (a peer that disconnects now loses them).
    std::size_t pending() const { return m_buf.size() - m_pos + (m_skip > 0 ? 1 : 0); }

    std::int64_t oversized = 0;  // frames dropped for their size
    std::int64_t malformed = 0;  // a bad octet count (the stream is resynchronised at the next LF)

private:
    void compact();

    std::size_t m_max;
    std::string m_buf;
    std::size_t m_pos = 0;
    std::size_t m_skip = 0;      // bytes of an oversized counted frame still to discard
    bool m_skipToLf = false;     // discarding an oversized (or unreadable) LF frame
};

} // namespace mt::live
