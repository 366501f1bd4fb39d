#pragma once
// The case file's write side: schema and migrations, per-file import transactions, and the
// linking pass that joins copies across servers into logical messages and finds each
// recipient's destination.
#include "SqliteDb.h"
#include "model/domain/Records.h"

#include <QElapsedTimer>
#include <QString>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace mt {

struct ImportFileFigures {
    std::string path;
    std::string kind;          // "postfix", "org-csv", "org-ldif"
    std::int64_t size = 0;
    std::int64_t lines = 0;
    std::int64_t accepted = 0;
    std::int64_t rejected = 0;
    std::int64_t skipped = 0;
    std::int64_t durationMs = 0;
};

// The counts as one row (messages, deliveries, copies, servers, users, units, rejected
// attempts, imports): shared by CaseStore and CaseReader so both count the same way.
inline constexpr const char* kCaseCountsSql =
    "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM deliveries WHERE is_final = 1), "
    "(SELECT count(*) FROM copies), (SELECT count(*) FROM servers), (SELECT count(*) FROM users), "
    "(SELECT count(*) FROM units), (SELECT count(*) FROM rejects), (SELECT count(*) FROM imports)";

struct CaseCounts {
    std::int64_t messages = 0;
    std::int64_t deliveries = 0;  // one per recipient of a logical message (final outcome)
    std::int64_t copies = 0;
    std::int64_t servers = 0;
    std::int64_t users = 0;
    std::int64_t units = 0;
    std::int64_t rejectedAttempts = 0;
    std::int64_t imports = 0;

    // From a row of kCaseCountsSql; get(i) reads column i as an integer.
    template <class Get>
    static CaseCounts fromRow(Get get) {
        CaseCounts c;
        c.messages = get(0);
        c.deliveries = get(1);
        c.copies = get(2);
        c.servers = get(3);
        c.users = get(4);
        c.units = get(5);
        c.rejectedAttempts = get(6);
        c.imports = get(7);
        return c;
    }
};

class CaseStore {
public:
    static constexpr int kSchemaVersion = 7;
    // PRAGMA application_id of a case ("MTrC"): set on every new case and on cases of ours
    // written before it existed; any other database is refused and left untouched.
    static constexpr int kApplicationId = 0x4D547243;
    // The tables by which a case written before kApplicationId existed is recognised.
    static constexpr const char* kCoreTables[] = {"servers", "imports", "messages", "copies", "deliveries"};
    static constexpr const char* kUnassignedUnit = "Unassigned";

    CaseStore();
    ~CaseStore();

    // Opens (creating when asked) and migrates. Throws SqliteError with a readable reason: a
    // file that is not a MailTriage case, or a case that cannot be written (read-only file or
    // folder), is refused without a byte of it changed.
    void open(const QString& path, bool create = true);
    void close();
    bool isOpen() const { return m_db.isOpen(); }
    QString path() const { return m_path; }
    int schemaVersion();

    // One transaction per imported file: begin, write, then commit or roll back.
    void beginFile(const ImportFileFigures& file);
    void writeCopies(const std::vector<CopyRecord>& copies);
    void writeRejects(const std::vector<RejectRecord>& rejects);
    void writeOrgUsers(const std::vector<OrgUserRecord>& users);
    void writeIssues(const std::vector<ParseIssue>& issues);
    // Links what this file added, records the import run (its duration measured from
    // beginFile, linking included, and written back into figures), commits.
    void commitFile(ImportFileFigures& figures);
    void rollbackFile();
    bool inFile() const { return m_inFile; }

    CaseCounts counts();
    // For writers that never end (live monitoring): forgets the per-session caches (the
    // message cache and the in-memory link of a bulk load), which otherwise grow with every
    // message written, so memory stays flat; later files are linked by SQL. Not inside a file.
    void dropSessionCaches();
    // Copies whose `removed` line has not been seen (a log cut at a rotation, deferred mail),
    // as records keyed so that re-emitting them merges into the same rows.
    std::vector<CopyRecord> openCopies();

    SqliteDb& db() { return m_db; }

private:
    void migrate();
    // Refuses a database that is not a case of ours; marks a new or older case with kApplicationId.
    void checkIdentity();
    std::int64_t serverId(const std::string& name);
    std::int64_t unitId(const std::string& path);
    void link();
    void linkSql();
    void linkInMemory();
    void resolveNextHops();
    // A copy moved from one message to another by joinHandOvers().
    struct CopyMove {
        std::int64_t copyId, from, to;
    };
    // Hops of this file whose "queued as" reaches a copy of another message, where one of the
    // two messages has no usable Message-ID: the two are one message (the one with a valid
    // Message-ID keeps its row, else the upstream one). Returns the copies it moved.
    std::vector<CopyMove> joinHandOvers();
    void buildDeferredIndexes(bool beforeLink);

    struct Statements;
    SqliteDb m_db;
    QString m_path;
    std::unique_ptr<Statements> m_st;
    struct BulkLink;
    std::unique_ptr<BulkLink> m_bulk;
    std::unordered_map<std::string, std::int64_t> m_servers;
    std::unordered_map<std::string, std::int64_t> m_units;
    // Messages written in this session: a relay's copy of a known message skips the message
    // upsert unless it knows something the message lacks.
    enum : unsigned { kHasSubject = 1, kHasToken = 2, kHasSender = 4, kHasSize = 8 };
    struct CachedMessage {
        std::int64_t id;
        unsigned knows;
    };
    std::unordered_map<std::string, CachedMessage> m_messageCache;
    // Reject lines of the file in progress, by their key without seq: how many came before.
    std::unordered_map<std::string, std::int64_t> m_rejectSeq;
    // Hand-overs without a Message-ID (joinHandOvers): the queue ids of copies in messages
    // without a usable Message-ID, and the "queued as" of their unlinked hops, for the whole
    // case (loaded once per session, then kept up to date; rows a rollback removed only cost a
    // useless look-up). A copy of this file that touches either is a candidate, so the join
    // costs nothing for the great majority of copies, which have a valid Message-ID.
    bool m_handOverSetsLoaded = false;
    std::unordered_set<std::string> m_invalidQueueIds, m_invalidHopTargets;
    std::unordered_set<std::int64_t> m_handOverCandidates; // copy ids of the file in progress
    void loadHandOverSets();
    std::int64_t m_importId = 0;
    // Rows above these ids were added by the file being imported.
    std::int64_t m_copyWatermark = 0, m_deliveryWatermark = 0, m_messageWatermark = 0;
    // Indexes (name, CREATE statement) dropped for a bulk load, to be built at commit.
    std::vector<std::pair<std::string, std::string>> m_deferredIndexes;
    bool m_inFile = false;
    QElapsedTimer m_fileTimer;
    std::string m_fileKind;
};

} // namespace mt
