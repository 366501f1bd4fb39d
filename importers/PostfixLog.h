#pragma once
// Postfix log parsing: syslog framing (RFC 3339, classic BSD and Postfix's own maillog_file
// stamps), then the per-daemon messages, assembled into one CopyRecord per (server, queue id).
#include "model/domain/Records.h"

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mt {

struct SyslogLine {
    TimeMs time = kNoTime;
    std::string_view host;
    std::string_view program; // "postfix/smtpd", "postfix-out/smtp", "dovecot"
    std::string_view message; // after "prog[pid]: "
    std::string_view pid;     // the digits inside "[pid]", empty when the tag has none
};

// Splits a syslog line. Classic stamps carry no year: yearFor() supplies it.
class SyslogFraming {
public:
    // referenceYear: the year classic stamps belong to; referenceMonth (1-12): the month of
    // the file's last write, so that December lines in a January file go to the year before.
    // referenceDay: the day of that month; a stamp after the reference date goes to the year
    // before (never after the file's date).
    void setReference(int referenceYear, int referenceMonth, bool yearForced, int referenceDay = 31);
    // Classic stamps (no year) read since setReference(), and how many went to the year before.
    std::int64_t classicStamps() const { return m_classic; }
    std::int64_t earlierYearStamps() const { return m_earlier; }
    // Zone of stamps that carry none (classic syslog, maillog_file): an IANA id such as
    // "Europe/Berlin"; empty means UTC. RFC 3339 stamps carry their own offset.
    bool setTimeZone(const std::string& ianaId);
    bool parse(std::string_view line, SyslogLine& out, const char*& why);

private:
    TimeMs localToUtc(TimeMs local);

    std::shared_ptr<void> m_zone; // QTimeZone, kept out of this header
    TimeMs m_cachedHour = kNoTime;
    TimeMs m_cachedOffsetMs = 0;

    int m_year = 1970;
    int m_refMonth = 12;
    int m_refDay = 31;
    std::int64_t m_classic = 0, m_earlier = 0;
    bool m_forced = false;
    int m_lastMonth = 0;
};

TimeMs civilToMs(int y, int mon, int d, int h, int mi, int s, int ms);

struct PostfixStats {
    std::int64_t lines = 0;
    std::int64_t accepted = 0;  // Postfix lines understood (used or deliberately uninteresting)
    std::int64_t skipped = 0;   // other programs' lines, blank lines, comments
    std::int64_t rejected = 0;  // lines we could not read
};

class PostfixAssembler {
public:
    enum class Result { Accepted, Skipped, Rejected };

    PostfixAssembler();
    ~PostfixAssembler();

    SyslogFraming& framing() { return m_framing; }

    // Feeds one line; on Rejected, why names the reason.
    Result feed(std::string_view line, std::string& why);

    // Completed copies (their `removed` line was seen, or their queue id was reused).
    std::vector<CopyRecord>& completed() { return m_completed; }
    std::vector<RejectRecord>& rejects() { return m_rejects; }
    // Copies still open: emitted as they stand (the store merges later sightings).
    void snapshotOpen(std::vector<CopyRecord>& out) const;
    std::size_t openCount() const { return m_open.size(); }
    // Forgets the open copies (after a failed file, so its half-read lines do not leak).
    void dropOpen() {
        m_open.clear();
        m_seeded.clear();
    }
    // A copy an earlier import left open (no `removed` yet): lines for its queue id continue
    // it instead of starting a fragment. It is emitted only once a line touched it.
    void seedOpen(CopyRecord copy);

private:
    struct Key {
        std::string server, qid;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        std::size_t operator()(const Key& k) const noexcept;
    };

    CopyRecord& copyFor(std::string_view server, std::string_view qid, TimeMs t, bool startsNew);
    void close(std::unordered_map<Key, CopyRecord, KeyHash>::iterator it);
    Result handleQueueLine(const SyslogLine& sl, std::string_view daemon, std::string_view qid,
                           std::string_view rest, std::string& why);
    Result handleNoQueue(const SyslogLine& sl, std::string_view rest, std::string& why, std::string_view qid = {});
    Result handleDelivery(CopyRecord& c, const SyslogLine& sl, std::string_view daemon,
                          std::string_view rest, std::string& why);
    void handleHeaderWarning(CopyRecord& c, std::string_view rest);
    Result handleSendmail(const SyslogLine& sl, std::string& why);

    SyslogFraming m_framing;
    std::unordered_map<Key, CopyRecord, KeyHash> m_open;
    std::vector<CopyRecord> m_completed;
    std::vector<RejectRecord> m_rejects;
    Key m_probe;
    std::unordered_map<Key, TimeMs, KeyHash> m_seeded; // seeded copies and their lastSeen then
};

// The final status a content filter's answer gives a delivery that Postfix logged as `sent`
// (amavis: "250 2.7.0 Ok, discarded, id=... - INFECTED: Eicar-Test-Signature") or `bounced`
// ("554 5.7.0 Reject, id=... - INFECTED: ..."): "discarded", "quarantined", "filter-rejected",
// or empty when the answer is an ordinary one. The answer itself stays in the response.
std::string_view filterOutcome(std::string_view status, std::string_view response);

// Decodes RFC 2047 encoded words (=?UTF-8?B?...?= / ?Q?) as seen in logged Subject headers.
std::string decodeMimeWords(std::string_view s);
// True when the queue id looks like a Postfix short (hex) or long queue id.
bool isQueueId(std::string_view s);

} // namespace mt
