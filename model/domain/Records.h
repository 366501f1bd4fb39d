#pragma once
// Records that importers produce and the case store consumes.
// Plain structs of UTF-8 std::string: the import hot path parses hundreds of MB/s and
// converting every field to QString would cost more than the parse itself.
#include <cstdint>
#include <string>
#include <vector>

namespace mt {

// Milliseconds since the Unix epoch, UTC.
using TimeMs = std::int64_t;
constexpr TimeMs kNoTime = INT64_MIN;

// One recipient's outcome on one server (one copy). Later lines for the same
// recipient (a deferral, then a success) update the record.
struct DeliveryRecord {
    std::string recipient;      // to=<...>
    std::string origRecipient;  // orig_to=<...> when present
    std::string transport;      // smtp, lmtp, local, virtual, pipe, error, discard ...
    std::string relayHost;      // relay=host[ip]:port -> host
    std::string relayIp;
    int relayPort = 0;
    std::string dsn;            // 2.0.0
    std::string status;         // sent, deferred, bounced, expired, ...
    double delaySeconds = 0;
    TimeMs time = kNoTime;      // time of the last status line
    std::string queuedAs;       // queue id on the next hop ("250 ... queued as X")
    std::string response;       // text inside the parentheses after status=
    int attempts = 0;
};

// The message on one server under one queue id.
struct CopyRecord {
    std::string server;         // syslog host name
    std::string queueId;
    TimeMs firstSeen = kNoTime;
    TimeMs lastSeen = kNoTime;
    std::string messageId;      // without angle brackets; empty when missing
    bool messageIdValid = false;
    std::string origin;         // smtpd, pickup, ... the daemon that created the copy
    std::string clientHost;
    std::string clientIp;
    std::string saslUser;
    std::string sender;         // envelope sender, empty for bounces (<>)
    std::int64_t size = -1;
    int nrcpt = -1;
    std::string subject;
    std::vector<std::string> attachments;
    std::string confirmToken;   // X-Send-Confirm header when logged
    bool removed = false;
    // qmgr said "status=expired, returned to sender": recipients still deferred expired, also
    // those whose deferrals an earlier import holds.
    bool expired = false;
    std::vector<DeliveryRecord> deliveries;

    // The delivery row of a recipient (lower case), added when the copy has none yet: one row
    // per recipient and copy, however many lines speak of it.
    DeliveryRecord& deliveryFor(std::string recipient) {
        for (DeliveryRecord& d : deliveries)
            if (d.recipient == recipient) return d;
        deliveries.emplace_back();
        deliveries.back().recipient = std::move(recipient);
        return deliveries.back();
    }
};

// A refused attempt (NOQUEUE reject): counted, never a message.
struct RejectRecord {
    std::string server;
    TimeMs time = kNoTime;
    std::string clientHost;
    std::string clientIp;
    std::string sender;
    std::string recipient;
    std::string stage;          // RCPT, DATA, CONNECT, ...
    std::string reason;
    // The daemon's pid and the queue id, when the line has them (evidence: which session, which
    // message was refused). Lines alike are told apart by the store, which numbers them in order.
    std::string pid;
    std::string queueId;
};

// One row of an organisation chart.
struct OrgUserRecord {
    std::string email;          // lower-cased
    std::string name;
    std::string unitPath;       // "Sales/EMEA/Inside"
    std::string manager;        // manager's e-mail (CSV) or DN (LDIF), resolved by the importer when it can
    std::string workstation;
    std::string server;
    std::int64_t line = 0;      // where the record starts in its file
};

// A problem with one line (or the whole file when line == 0).
struct ParseIssue {
    std::string file;
    std::int64_t line = 0;
    std::string reason;
    std::string excerpt;        // the first bytes of the offending line
};

} // namespace mt
