#pragma once
// The common shape of the traffic-log parsers other than Postfix (Exim, Zeek, Exchange,
// Microsoft 365, our own CSV/JSONL): lines in, CopyRecord/RejectRecord out, assembled the way
// PostfixAssembler does it, so CaseStore::link() joins copies of every format by Message-ID
// and by the next hop's queue id ("queued as"). Plus the small text helpers they share.
#include "model/domain/Records.h"

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mt {

// Attachment names and MIME types by Zeek file id, from files.log (see ZeekSmtp.h).
struct ZeekFileInfo {
    std::string filename;
    std::string mimeType;
};
using ZeekFileMap = std::unordered_map<std::string, ZeekFileInfo>;

// What a parser needs to know beyond the lines.
struct TrafficContext {
    // Server name for formats whose lines do not name one (an Exim main log written to a
    // file, the Zeek sensor): derived from the file by the caller, or forced by the user.
    std::string serverName;
    // Zone of stamps without one (IANA id); empty means UTC.
    std::string timeZone;
    // Year and month (1-12) classic syslog stamps ("Nov 22 09:00:01") belong to: the file's
    // date unless yearForced (as for Postfix: December lines in a January file go back a year).
    int referenceYear = 1970;
    int referenceMonth = 12;
    int referenceDay = 31;
    bool yearForced = false;
    // Zeek files.log entries (shared across the files of one import).
    std::shared_ptr<const ZeekFileMap> zeekFiles;
};

class TrafficParser {
public:
    enum class Result { Accepted, Skipped, Rejected };

    virtual ~TrafficParser();

    // A new file starts (header lines such as Zeek's #fields or Exchange's #Fields: belong to
    // one file); context may name a different server.
    virtual void beginFile(const TrafficContext& context);
    // Feeds one line; on Rejected, why names the reason.
    virtual Result feed(std::string_view line, std::string& why) = 0;
    // End of a file: copies that cannot continue in the next file are completed.
    virtual void endFile() {}
    // The time of a line, for ordering files (kNoTime when the line carries none).
    virtual TimeMs stampOf(std::string_view line) = 0;

    std::vector<CopyRecord>& completed() { return m_completed; }
    std::vector<RejectRecord>& rejects() { return m_rejects; }
    // Copies still open that a line touched since the last call: emitted as they stand (the
    // store merges later sightings of the same server, first sighting and queue id). Copies
    // left open by earlier files and not touched since are not written again.
    void snapshotOpen(std::vector<CopyRecord>& out);
    std::size_t openCount() const { return m_open.size(); }
    // Forgets open copies (after a failed file, so its half-read lines do not leak).
    void dropOpen() {
        m_open.clear();
        m_order.clear();
    }

protected:
    // The open copy of (server, local id), created at time t when missing.
    CopyRecord& openCopy(std::string_view server, std::string_view localId, TimeMs t);
    CopyRecord* findOpen(std::string_view server, std::string_view localId);
    // Moves an open copy to completed().
    void complete(std::string_view server, std::string_view localId);
    void completeAll();
    // Completes the copies last seen before t (formats without an end-of-message line).
    void retireBefore(TimeMs t);
    // Every few thousand lines, completes the copies idle for two hours of log time before
    // `now`: tracking logs and traces have no end-of-message line, and holding a day's
    // copies open costs memory and time. A row for such a copy after that starts a new copy
    // (it joins the message again by Message-ID).
    void retireIdle(TimeMs now);
    static constexpr TimeMs kIdleCompleteMs = 2 * 3600 * 1000;
    // The delivery record of recipient in c (created when missing).
    static DeliveryRecord& deliveryFor(CopyRecord& c, std::string_view recipient);

    TrafficContext m_context;
    std::vector<CopyRecord> m_completed;
    std::vector<RejectRecord> m_rejects;

private:
    struct Open {
        CopyRecord copy;
        bool touched = true;
    };
    std::unordered_map<std::string, Open> m_open; // "server\x1Flocal id"
    std::string m_probe;
    std::uint32_t m_sinceRetire = 0;
    // Open copies' keys, roughly in order of last sighting, so retiring idle copies does not
    // walk the whole map.
    std::deque<std::pair<TimeMs, std::string>> m_order;
};

namespace traffic {

std::string lower(std::string_view s);
std::string_view trim(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
// "<a@b>" -> "a@b" (lower case); "<>" -> "".
std::string address(std::string_view s);
// Message-ID without angle brackets and surrounding space; false when it does not look like
// one (no '@', spaces, control characters): the copy then joins by queue id only.
bool cleanMessageId(std::string_view raw, std::string& out);
// The next hop's queue id in an SMTP reply: "queued as X" (Postfix), "id=X" (Exim),
// "InternalId=X" (Exchange). Empty when none.
std::string queuedAsFromReply(std::string_view reply);
// "2.0.0" from a reply such as "250 2.0.0 Ok"; empty when there is none.
std::string dsnFromReply(std::string_view reply);
// sent / deferred / bounced from an SMTP reply code (2xx, 4xx, 5xx); empty when none.
std::string statusFromReply(std::string_view reply);
// ISO 8601 / RFC 3339 date-time ("2016-04-05T00:00:02.052Z", "2026-11-22 09:00:01+01:00",
// "2026-11-22T09:00:01" naive = zone). Returns kNoTime when unreadable.
TimeMs parseIsoTime(std::string_view s, const std::string& zone = {});
// Seconds since the epoch with a fraction ("1521911721.789543"). kNoTime when unreadable.
TimeMs parseEpochSeconds(std::string_view s);
// Naive local time in an IANA zone -> UTC (empty zone: UTC). Cached per hour.
TimeMs localToUtc(TimeMs local, const std::string& zone);
bool parseInt64(std::string_view s, std::int64_t& out);

// RFC 4180 fields of one CSV line (quotes, doubled quotes); false on an unterminated quote.
bool splitCsv(std::string_view line, char delimiter, std::vector<std::string>& out);

// A flat JSON object (one line of Zeek JSON or our JSONL): values as text (strings
// unescaped, numbers and booleans verbatim, null absent) and arrays of scalars or of flat
// objects kept as raw JSON text for parseJsonArray().
class JsonObject {
public:
    // False with why on malformed JSON.
    bool parse(std::string_view text, std::string& why);
    const std::string* get(std::string_view key) const;
    std::string value(std::string_view key) const {
        const std::string* v = get(key);
        return v ? *v : std::string();
    }
    bool has(std::string_view key) const { return get(key) != nullptr; }
    bool isArray(std::string_view key) const;
    const std::vector<std::pair<std::string, std::string>>& fields() const { return m_fields; }

private:
    std::vector<std::pair<std::string, std::string>> m_fields;
    std::vector<bool> m_array;
};
// Elements of a JSON array: scalars as text, objects/arrays as raw JSON text.
bool parseJsonArray(std::string_view text, std::vector<std::string>& out, std::string& why);

} // namespace traffic

} // namespace mt
