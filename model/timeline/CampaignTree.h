#pragma once
// A campaign as the campaign panel shows it (issue 5): its summary (patient zero, first
// sighting, detection moment, units reached) and its propagation tree, read from what
// detection stored: campaign_messages gives each message's generation and its tree parent
// (the breadth-first tree of the propagation graph), propagation_edges the whole graph.
//
// Node = one campaign message (sender, sender's unit, time, recipients, generation). The
// roots are the generation-0 messages (patient zero's); every other node hangs under its
// stored parent. A parent outside the campaign (should not happen) makes the node a root.
#include "model/CaseReader.h"

#include <QHash>
#include <QString>
#include <QVector>

namespace mt {

struct CampaignNode {
    qint64 messageId = 0;       // messages.id
    qint64 parentMessageId = 0; // stored tree parent, 0: a root
    int generation = -1;
    qint64 time = 0;            // ms since epoch UTC
    QString sender;
    QString senderUnit;         // units.path of the sender ("" when the org chart lacks them)
    QString subject;
    QString source;             // why it is in the campaign: rules, parent, burst
    int recipients = 0;         // final recipients of the message
    int parent = -1;            // index of the parent node in CampaignTree::nodes, -1: a root
    QVector<int> children;      // indexes into nodes, in time order
};

struct CampaignTree {
    bool ok = false;
    QString error;
    CampaignView campaign;      // id 0 when the campaign does not exist
    QVector<CampaignNode> nodes;          // in time order
    QVector<int> roots;                   // indexes of the root nodes, in time order
    QVector<QVector<int>> generations;    // generations[g] = indexes of the nodes of generation g
    int edgeCount = 0;                    // edges of the propagation graph (a tree has nodes - roots)
    QHash<qint64, int> byMessage;         // messages.id -> index in nodes

    int indexOf(qint64 messageId) const;  // -1 when the message is not in the campaign
    bool isEmpty() const { return nodes.isEmpty(); }
};

// Every campaign of the case (CaseReader::campaigns()), and whether detection ran at all (so a
// view can tell "not run yet" from "ran and found nothing").
struct CampaignList {
    bool ok = false;            // false: error says why
    QString error;
    bool hasDetection = false;
    QVector<CampaignView> campaigns;
};
CampaignList loadCampaignList(const QString& casePath);

// One campaign and its tree. Safe on any thread (its own connection).
CampaignTree loadCampaignTree(const QString& casePath, qint64 campaignId);

} // namespace mt
