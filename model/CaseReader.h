#pragma once
// The case file's read side, through QtSql (its own connection, so the GUI can read while an
// import writes on another thread; WAL keeps readers and the writer out of each other's way).
#include "CaseStore.h"

#include <QSet>
#include <QSqlDatabase>
#include <QString>
#include <QStringList>
#include <QVector>
#include <functional>

namespace mt {

struct RecipientView {
    QString address;
    QString destination; // our server holding the copy, or the external relay
    QString status;      // sent, deferred, bounced, ...
};

struct MessageView {
    qint64 id = 0;
    QString messageId;
    qint64 time = 0;     // ms since epoch UTC
    QString sender;
    QString clientHost;
    QString clientIp;
    QString saslUser;
    qint64 size = -1;
    QString subject;
    QString originServer;
    QStringList attachments;
    QVector<RecipientView> recipients;
    qint64 campaignId = 0;           // detection: its campaign, 0 when not flagged
    QStringList rules;               // detection: the rule ids that hit it, sorted
    QString client() const;
};

struct DeliveryView {
    QString recipient, origRecipient, transport, relay, dsn, status, response, queuedAs, destination;
    qint64 time = 0;
    double delay = 0;
    int attempts = 0;
    bool isFinal = true;
};

struct CopyView {
    qint64 id = 0;
    QString server, queueId, origin, client, saslUser, sender;
    qint64 firstSeen = 0, lastSeen = 0, size = -1;
    int nrcpt = -1;
    bool removed = false;
    QVector<DeliveryView> deliveries;
};

struct ImportRunView {
    QString path, kind;
    qint64 size = 0, lines = 0, accepted = 0, rejected = 0, skipped = 0, startedAt = 0, durationMs = 0;
};

enum class MessageColumn { Time, Sender, Client, Subject, Attachments, Size, Recipients, Server, Flag, Count };

// Which messages a list shows besides the text filter: what the analyst selected elsewhere
// (a campaign, a rule, a unit, a user, a time range). Empty fields restrict nothing.
struct MessageScope {
    bool flaggedOnly = false;        // only messages in a campaign
    qint64 campaignId = 0;           // only this campaign's messages (implies flagged)
    QString rule;                    // only messages with a hit of this rule id
    QString unitPath;                // sender or a final recipient in this unit or below it
    QString user;                    // sender or a final recipient (address, any case)
    qint64 from = 0, to = 0;         // submit time in [from, to) when to > from (ms UTC)
    bool isEmpty() const {
        return !flaggedOnly && !campaignId && rule.isEmpty() && unitPath.isEmpty() && user.isEmpty() && to <= from;
    }
    bool operator==(const MessageScope&) const = default;
};

// Detection results (schema 2; empty on a case detection has not run on).
struct CampaignView {
    qint64 id = 0;
    QString label;
    QString patientZero;
    qint64 patientZeroMessage = 0;   // messages.id
    qint64 firstSeen = 0;            // ms since epoch UTC
    qint64 detectedAt = 0;           // 0: the rules never fired on it (all members joined afterwards)
    int generations = 0, messages = 0, senders = 0, recipients = 0;
    // Messages the rules flagged on their own evidence; the rest joined through a link
    // (received and sent on, or the same burst). The share is the campaign's confidence.
    int strongMessages = 0;
    double confidence() const { return messages > 0 ? double(strongMessages) / messages : 0; }
    QStringList units;               // unit paths, sorted
};

struct HitView {
    qint64 messageId = 0;            // messages.id
    QString rule, key, detail;
    qint64 windowStart = 0, windowEnd = 0, count = 0, threshold = 0;
    double weight = 0;
};

struct FlagView {
    qint64 messageId = 0;            // messages.id
    qint64 campaignId = 0;
    int generation = -1;
    qint64 parentMessageId = 0;      // propagation tree parent (messages.id), 0: a root
    qint64 flaggedAt = 0;
    double score = 0;
    QString source;                  // "rules", "parent", "burst"
    QStringList rules;               // the rule ids that hit it
};

// Recall (schema 3; empty on cases without recall).
struct RecallRequestView {
    qint64 id = 0, messageId = 0, campaignId = 0, updatedAt = 0, approvedAt = 0;
    QString messageKey, recipient, server, place, connector, campaignLabel, state, detail, approvedBy;
    int round = 0, attempts = 0;
    QString folder, mailbox, read; // issue 16: where the copy was found, the mailbox, "before-recall" / "while-suspended"
    qint64 cascadedAt = 0;
};

struct AuditView {
    qint64 id = 0, at = 0, requestId = 0;
    QString analyst, action, server, messageKey, recipient, stateFrom, stateTo, answer;
};

// How to open a case for reading. A case whose file or folder cannot be written (evidence on
// a read-only mount) is opened read-only and immutable: SQLite then needs no lock or -shm
// file beside it. note says so, for the user.
struct CaseReadAccess {
    QString databaseName;
    QString connectOptions;
    bool immutable = false;
    QString note;
};
CaseReadAccess caseReadAccess(const QString& path);
// Empty when db (open) is a MailTriage case this build can read, else why not (naming path).
QString caseIdentityProblem(QSqlDatabase db, const QString& path);

class CaseReader {
public:
    explicit CaseReader(const QString& path);
    ~CaseReader();
    CaseReader(const CaseReader&) = delete;
    CaseReader& operator=(const CaseReader&) = delete;

    bool isOpen() const { return m_ok; }
    QString error() const { return m_error; }
    QString path() const { return m_path; }
    // Non-empty when the case was opened read-only and immutable (see CaseReadAccess).
    QString readOnlyNote() const { return m_readOnlyNote; }

    CaseCounts counts();
    QVector<ImportRunView> importRuns();

    // Every message in time order, with its final recipients, one at a time (for export).
    void forEachMessage(const std::function<void(const MessageView&)>& fn);
    // Ids of the messages matching filter (substring of sender, subject, client, Message-ID,
    // attachment name or recipient), sorted by column. With onlyMessageIds, also only the
    // messages whose Message-ID (as stored: without angle brackets) is in that set.
    QVector<qint64> messageIds(const QString& filter, MessageColumn sort, bool ascending,
                               const QSet<QString>* onlyMessageIds = nullptr);
    // The same, within a scope (campaign, rule, unit, user, time range).
    QVector<qint64> messageIds(const QString& filter, const MessageScope& scope, MessageColumn sort, bool ascending,
                               const QSet<QString>* onlyMessageIds = nullptr);
    // Rows for the given ids, in the order given.
    QVector<MessageView> messages(const QVector<qint64>& ids);
    QVector<CopyView> copies(qint64 messageId);

    // Detection (issue 4).
    bool hasDetection();
    QVector<CampaignView> campaigns();
    // Flagged messages in time order, all or one campaign's.
    QVector<FlagView> flaggedMessages(qint64 campaignId = 0);
    QVector<HitView> hits(qint64 messageId);
    // The campaign entry of one message (messageId 0 when it is not flagged).
    FlagView flag(qint64 messageId);
    // Rule ids with hits in the case and the number of messages each hit, by rule id.
    QVector<QPair<QString, qint64>> ruleHitCounts();
    // The propagation graph of a campaign: (from, to) message ids.
    QVector<QPair<qint64, qint64>> propagationEdges(qint64 campaignId);
    // Recall requests, newest first (limit 0: all); counts by state; the audit trail in order.
    QVector<RecallRequestView> recallRequests(int limit = 0);
    QVector<QPair<QString, qint64>> recallStateCounts();
    QVector<AuditView> auditTrail(int limit = 0);
    // Per unit (units.id of the recipient): copies suspended, failed to recall (already
    // retrieved, not found, unreachable) and deleted, for the org map's recall badges.
    struct UnitRecall {
        qint64 unitId = 0;
        int suspended = 0, failed = 0, deleted = 0;
    };
    QVector<UnitRecall> recallByUnit();
    // The rule set stored in the case (JSON), empty when none is.
    QByteArray ruleSetJson();

private:
    QSqlDatabase db() const;
    // Schema 2 or later (a v1 case opened read-only has no detection tables).
    bool hasDetectionTables();
    bool hasRecallTables();
    bool schemaAtLeast(int version);
    int m_detectionTables = -1;

    QString m_path;
    QString m_connection;
    QString m_error;
    QString m_readOnlyNote;
    bool m_ok = false;
};

} // namespace mt
