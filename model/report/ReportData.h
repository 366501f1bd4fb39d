#pragma once
// Everything the incident report states, read from a case file in one go (issue 7): the
// period covered, the case's figures, each campaign with its generations, units, users,
// attachment types and rule evidence, and - when recall has run - the outcomes per server and
// the audit trail. Plain structs, so the report can be laid out (views/report) or exported
// without touching the database again.
#include "model/CaseReader.h"

#include <QDateTime>
#include <QString>
#include <QStringList>
#include <QVector>

namespace mt::report {

struct Count {
    QString name;
    qint64 value = 0;
    qint64 extra = 0; // a second figure where a table has one (received, recipients ...)
};

struct RuleEvidence {
    QString rule;
    qint64 messages = 0;      // messages of the campaign the rule hit
    qint64 maxCount = 0;      // the highest count seen in its windows
    qint64 threshold = 0;     // its threshold (the lowest, when it varied)
    QString sampleKey;        // one key it counted by, for the reader to picture it
};

struct CampaignSection {
    CampaignView campaign;
    QVector<Count> generations;   // name "0", "1", ...: messages per generation
    QVector<Count> topUnits;      // flagged messages sent from (value) and received in (extra)
    QVector<Count> topUsers;      // flagged messages sent (value), recipients (extra)
    QVector<Count> attachments;   // attachment names, messages
    QVector<Count> attachmentTypes; // extension, messages
    QVector<RuleEvidence> rules;
    qint64 recipients = 0, usersReached = 0;
    // The propagation tree: (parent messages.id, child messages.id) and each node's sender,
    // time and generation, for the tree figure.
    struct Node {
        qint64 id = 0, parent = 0, time = 0;
        int generation = 0;
        QString sender;
    };
    QVector<Node> tree;
};

struct RecallServerRow {
    QString server;
    QVector<Count> states;  // state name, requests
};

struct AuditRow {
    qint64 time = 0;
    QString analyst, action, server, request, answer;
};

struct ReportData {
    QString casePath, caseName, analyst;
    QDateTime generatedAt;
    qint64 periodFrom = 0, periodTo = 0;     // first and last message (ms UTC)
    CaseCounts counts;
    bool detected = false;
    qint64 flagged = 0, usersReached = 0, unitsReached = 0, flaggedRecipients = 0;
    QVector<CampaignSection> campaigns;
    // Recall (empty when the case has no recall tables or no requests).
    bool hasRecall = false;
    QVector<Count> recallStates;             // overall: state, copies
    qint64 recallReadWhileSuspended = 0;     // copies read while suspended (issue 16; any state now)
    qint64 recallReadBefore = 0;             // copies read before the recall (already read; any state now)
    QVector<RecallServerRow> recallByServer;
    QVector<AuditRow> audit;

    qint64 recallCount(const QString& state) const;
};

struct ReportOptions {
    qint64 campaignId = 0;                   // 0: every campaign
    QString analyst;                         // "" : the login name
    int topN = 10;
    int maxTreeNodes = 400;                  // the tree figure draws at most this many messages
};

// Reads the report's data. False with error set when the case cannot be read.
bool loadReportData(const QString& casePath, const ReportOptions& options, ReportData& out, QString* error = nullptr);

} // namespace mt::report
