#include "CampaignTree.h"

#include "ReadOnlyCase.h"

#include <QHash>

namespace mt {

namespace {
QString fromUtf8(const std::string& s) { return QString::fromUtf8(s.data(), qsizetype(s.size())); }
}

int CampaignTree::indexOf(qint64 messageId) const { return byMessage.value(messageId, -1); }

CampaignList loadCampaignList(const QString& casePath) {
    CampaignList out;
    ReadOnlyCase probe;
    if (!probe.open(casePath)) {
        out.error = probe.error();
        return out;
    }
    out.hasDetection = probe.hasDetection();
    if (probe.hasTable("campaigns")) {   // a schema-1 case has none: detection never ran
        CaseReader reader(casePath);
        if (!reader.isOpen()) {
            out.error = reader.error();
            return out;
        }
        out.campaigns = reader.campaigns();
    }
    out.ok = true;
    return out;
}

CampaignTree loadCampaignTree(const QString& casePath, qint64 campaignId) {
    CampaignTree t;
    ReadOnlyCase db;
    if (!db.open(casePath)) {
        t.error = db.error();
        return t;
    }
    if (!db.hasTable("campaigns")) {
        t.ok = true;
        return t;
    }
    {
        CaseReader reader(casePath);
        for (const CampaignView& c : reader.campaigns())
            if (c.id == campaignId) t.campaign = c;
    }
    if (t.campaign.id == 0) {
        t.ok = true;
        return t;
    }
    try {
        SqliteStmt q = db.prepare(
            "SELECT cm.message_id, cm.parent_message_id, cm.generation, m.time, m.sender, un.path, m.subject, cm.source, "
            "(SELECT count(DISTINCT d.recipient) FROM copies c JOIN deliveries d ON d.copy_id = c.id "
            " WHERE c.message_id = cm.message_id AND d.is_final = 1) "
            "FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id "
            "LEFT JOIN users u ON u.email = m.sender LEFT JOIN units un ON un.id = u.unit_id "
            "WHERE cm.campaign_id = ? ORDER BY m.time, m.id");
        q.bind(1, std::int64_t(campaignId));
        QHash<qint64, int>& index = t.byMessage;
        while (q.step()) {
            CampaignNode n;
            n.messageId = q.int64(0);
            n.parentMessageId = q.isNull(1) ? 0 : q.int64(1);
            n.generation = q.isNull(2) ? -1 : int(q.int64(2));
            n.time = q.int64(3);
            n.sender = fromUtf8(q.text(4));
            n.senderUnit = fromUtf8(q.text(5));
            n.subject = fromUtf8(q.text(6));
            n.source = fromUtf8(q.text(7));
            n.recipients = int(q.int64(8));
            index.insert(n.messageId, t.nodes.size());
            t.nodes.push_back(std::move(n));
        }
        for (int i = 0; i < t.nodes.size(); ++i) {
            CampaignNode& n = t.nodes[i];
            const auto it = n.parentMessageId ? index.constFind(n.parentMessageId) : index.constEnd();
            if (it != index.constEnd() && *it != i) {
                n.parent = *it;
                t.nodes[*it].children.push_back(i);
            } else {
                t.roots.push_back(i);
            }
            if (n.generation >= 0) {
                if (t.generations.size() <= n.generation) t.generations.resize(n.generation + 1);
                t.generations[n.generation].push_back(i);
            }
        }
        SqliteStmt e = db.prepare("SELECT count(*) FROM propagation_edges WHERE campaign_id = ?");
        e.bind(1, std::int64_t(campaignId));
        if (e.step()) t.edgeCount = int(e.int64(0));
        t.ok = true;
    } catch (const SqliteError& ex) {
        t.nodes.clear();
        t.byMessage.clear();
        t.roots.clear();
        t.generations.clear();
        t.error = QStringLiteral("cannot read campaign %1 of %2: %3").arg(campaignId).arg(casePath, QString::fromUtf8(ex.what()));
    }
    return t;
}

} // namespace mt
