#pragma once
// The recall tables of the case file (schema 3): requests, runs, verdicts, allow entries and
// the append-only audit trail. Every state change goes through transition(), which checks the
// state graph and the state the caller last saw, and writes the audit row in the same
// transaction: a crash leaves either both or neither.
#include "RecallTypes.h"
#include "model/SqliteDb.h"

#include <QString>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mt::recall {

struct Request {
    std::int64_t id = 0;
    std::int64_t caseMessageId = 0;
    std::string messageKey;
    std::string recipient;
    std::string server;
    Place place = Place::Mailbox;
    std::string queueId;
    std::int64_t deliveredAt = 0;
    std::string connector;      // "imap", "postfix", "demo", "" (none)
    std::int64_t campaignId = 0; // snapshot (0: none)
    std::string campaignLabel;   // snapshot
    int round = 0;
    std::int64_t parentRequestId = 0;
    State state = State::Proposed;
    std::string detail;
    int attempts = 0;
    std::string approvedBy;
    std::int64_t approvedAt = 0;
    std::int64_t runId = 0;
    std::int64_t updatedAt = 0;
    std::string folder;          // where the connector found the copy ("Archive", "queue:deferred")
    std::string mailbox;         // the mailbox the connector logged in to
    ReadState read = ReadState::Unread;
    std::int64_t cascadedAt = 0; // when the cascade followed this read copy (0: not yet)

    std::string status() const { return copyStatus(state, read, cascadedAt != 0); }
    CopyRef copyRef() const;
};

struct RequestFilter {
    std::vector<State> states;                // any of these (empty: all)
    std::vector<std::int64_t> ids;            // these requests (empty: all)
    std::vector<std::int64_t> caseMessageIds; // requests for these messages (empty: all)
    int round = -1;                           // -1: any
    // Only copies the recipient read (already read, or read while suspended) that the cascade
    // has not followed yet.
    bool readNotCascaded = false;
};

struct AuditEntry {
    std::int64_t id = 0;
    std::int64_t at = 0;
    std::string analyst, action, server;
    std::int64_t requestId = 0;
    std::string messageKey, recipient, stateFrom, stateTo, answer;
};

// Counts of requests, by state name and by server then state name.
struct StateCounts {
    std::map<std::string, std::int64_t> total;
    std::map<std::string, std::map<std::string, std::int64_t>> byServer;
    std::int64_t requests = 0;
};

// A request before it is stored (the planner's output).
struct PlannedCopy {
    std::int64_t caseMessageId = 0;
    std::string messageKey, recipient, server;
    Place place = Place::Mailbox;
    std::string queueId;
    std::int64_t deliveredAt = 0;
    std::string connector;
    std::int64_t campaignId = 0;
    std::string campaignLabel;
    int round = 0;
    std::int64_t parentRequestId = 0;
    bool recallable = true;
    std::string reason; // why not recallable
};

class RecallStore {
public:
    explicit RecallStore(SqliteDb& db);

    // Stores a planned copy as 'proposed' (or 'not-recallable'). An existing request with the
    // same key keeps its state unless it is still proposed / not recallable (then the plan
    // replaces what it says). Returns the request id and whether the row was new.
    std::int64_t propose(const PlannedCopy& copy, const std::string& analyst, bool* created = nullptr);

    std::vector<Request> requests(const RequestFilter& filter = {});
    bool request(std::int64_t id, Request& out);

    // Moves a request from `from` to `to` and audits it, in one transaction. False (nothing
    // written) when the request is no longer in `from`. Throws on a move the graph forbids.
    bool transition(std::int64_t id, State from, State to, const std::string& analyst, const std::string& action,
                    const std::string& answer, std::int64_t runId = 0, bool countAttempt = false);
    // What the connector saw (where the copy was, who it logged in as, whether it had been read),
    // kept beside the state. Empty strings leave a value as it was; read never goes back to unread.
    void recordFinding(std::int64_t id, const std::string& folder, const std::string& mailbox, ReadState read);
    // The copy is found at another place than planned (the queued copy was delivered): from now
    // on the request acts there.
    void relocate(std::int64_t id, Place place, const std::string& connector);
    void markCascaded(std::int64_t id);
    // Approval records who approved, then moves proposed -> approved.
    bool approve(std::int64_t id, const std::string& analyst);

    std::int64_t beginRun(const std::string& action, const std::string& analyst);
    void finishRun(std::int64_t runId, const std::string& status, std::int64_t requests);

    // Records a verdict on these messages (campaign id and label as a snapshot).
    std::int64_t addVerdict(const std::string& verdict, const std::string& analyst, std::int64_t campaignId,
                            const std::string& campaignLabel, const std::vector<std::int64_t>& messages);
    // True when the latest verdict on the message is "virus": the only case a copy may be deleted.
    bool hasVirusVerdictFor(std::int64_t caseMessageId);
    // True when the entry is new.
    bool addAllowEntry(const std::string& sender, const std::string& subjectNorm, const std::string& attachmentsNorm,
                       std::int64_t verdictId, const std::string& analyst);

    void audit(const AuditEntry& e);
    std::vector<AuditEntry> auditTrail();
    // RFC 4180 CSV with a header row. False with `error` set when the file cannot be written.
    bool exportAuditCsv(const QString& path, QString* error = nullptr);

    StateCounts counts(const RequestFilter& filter = {});

    SqliteDb& db() { return m_db; }

private:
    SqliteStmt& cached(const char* sql);
    SqliteDb& m_db;
    std::map<const char*, std::unique_ptr<SqliteStmt>> m_statements;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back when left by an exception.
class Transaction {
public:
    explicit Transaction(SqliteDb& db);
    ~Transaction();
    void commit();

private:
    SqliteDb& m_db;
    bool m_done = false;
};

std::int64_t nowMs();

} // namespace mt::recall
