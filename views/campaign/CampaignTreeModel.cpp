#include "CampaignTreeModel.h"

#include "CampaignTableModel.h"

#include <QFont>
#include <QLocale>

namespace mt {

CampaignTreeModel::CampaignTreeModel(QObject* parent) : QAbstractItemModel(parent) {}

void CampaignTreeModel::setTree(const CampaignTree& tree) {
    beginResetModel();
    m_tree = tree;
    computeRows();
    endResetModel();
}

void CampaignTreeModel::setShape(Shape shape) {
    if (shape == m_shape) return;
    beginResetModel();
    m_shape = shape;
    endResetModel();
}

void CampaignTreeModel::computeRows() {
    const int n = m_tree.nodes.size();
    m_rowInParent.fill(-1, n);
    m_rowInGeneration.fill(-1, n);
    for (int r = 0; r < m_tree.roots.size(); ++r) m_rowInParent[m_tree.roots[r]] = r;
    for (const CampaignNode& node : m_tree.nodes)
        for (int r = 0; r < node.children.size(); ++r) m_rowInParent[node.children[r]] = r;
    for (const QVector<int>& g : m_tree.generations)
        for (int r = 0; r < g.size(); ++r) m_rowInGeneration[g[r]] = r;
}

QModelIndex CampaignTreeModel::index(int row, int column, const QModelIndex& parent) const {
    if (row < 0 || column < 0 || column >= ColumnCount) return {};
    if (m_shape == ByParent) {
        if (!parent.isValid()) return row < m_tree.roots.size() ? createIndex(row, column, quintptr(m_tree.roots[row] + 1)) : QModelIndex();
        const int p = int(parent.internalId()) - 1;
        const QVector<int>& kids = m_tree.nodes[p].children;
        return row < kids.size() ? createIndex(row, column, quintptr(kids[row] + 1)) : QModelIndex();
    }
    if (!parent.isValid()) return row < m_tree.generations.size() ? createIndex(row, column, kGenerationTag | quintptr(row)) : QModelIndex();
    if (!(parent.internalId() & kGenerationTag)) return {};
    const QVector<int>& members = m_tree.generations[int(parent.internalId() & ~kGenerationTag)];
    return row < members.size() ? createIndex(row, column, quintptr(members[row] + 1)) : QModelIndex();
}

QModelIndex CampaignTreeModel::parent(const QModelIndex& child) const {
    if (!child.isValid() || (child.internalId() & kGenerationTag)) return {};
    const int i = int(child.internalId()) - 1;
    const CampaignNode& node = m_tree.nodes[i];
    if (m_shape == ByParent) {
        if (node.parent < 0) return {};
        return createIndex(m_rowInParent[node.parent], 0, quintptr(node.parent + 1));
    }
    if (node.generation < 0) return {};
    return createIndex(node.generation, 0, kGenerationTag | quintptr(node.generation));
}

int CampaignTreeModel::rowCount(const QModelIndex& parent) const {
    if (parent.column() > 0) return 0;
    if (m_shape == ByParent) {
        if (!parent.isValid()) return m_tree.roots.size();
        return m_tree.nodes[int(parent.internalId()) - 1].children.size();
    }
    if (!parent.isValid()) return m_tree.generations.size();
    if (parent.internalId() & kGenerationTag) return m_tree.generations[int(parent.internalId() & ~kGenerationTag)].size();
    return 0;
}

int CampaignTreeModel::columnCount(const QModelIndex&) const { return ColumnCount; }

QModelIndex CampaignTreeModel::indexOfMessage(qint64 messageId) const {
    const int i = m_tree.indexOf(messageId);
    if (i < 0) return {};
    if (m_shape == ByParent) return createIndex(m_rowInParent[i], 0, quintptr(i + 1));
    if (m_rowInGeneration[i] < 0) return {};
    return createIndex(m_rowInGeneration[i], 0, quintptr(i + 1));
}

qint64 CampaignTreeModel::messageIdAt(const QModelIndex& index) const {
    if (!index.isValid() || (index.internalId() & kGenerationTag)) return 0;
    return m_tree.nodes[int(index.internalId()) - 1].messageId;
}

QVariant CampaignTreeModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid()) return {};
    const QLocale loc;
    if (index.internalId() & kGenerationTag) {
        const int g = int(index.internalId() & ~kGenerationTag);
        if (role == IsGenerationRole) return true;
        if (role == GenerationRole) return g;
        if (role == Qt::FontRole) { QFont f; f.setBold(true); return f; }
        if (role != Qt::DisplayRole || index.column() != Sender) return {};
        const int count = m_tree.generations[g].size();
        const QString what = g == 0 ? QStringLiteral("Generation 0 (patient zero)") : QStringLiteral("Generation %1").arg(g);
        return QStringLiteral("%1: %2 message%3").arg(what, loc.toString(count), count == 1 ? QString() : QStringLiteral("s"));
    }
    const CampaignNode& n = m_tree.nodes[int(index.internalId()) - 1];
    switch (role) {
    case MessageIdRole: return n.messageId;
    case GenerationRole: return n.generation;
    case IsGenerationRole: return false;
    case Qt::ToolTipRole:
        return QStringLiteral("%1\n%2\nsubject: %3\nin the campaign by: %4")
            .arg(n.sender, CampaignTableModel::formatTime(n.time), n.subject, n.source);
    case Qt::TextAlignmentRole:
        return index.column() == Recipients || index.column() == Generation ? int(Qt::AlignRight | Qt::AlignVCenter)
                                                                            : int(Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::DisplayRole:
        switch (index.column()) {
        case Sender: return n.sender;
        case Time: return CampaignTableModel::formatTime(n.time);
        case Recipients: return loc.toString(n.recipients);
        case Unit: return n.senderUnit;
        case Generation: return n.generation < 0 ? QString() : QString::number(n.generation);
        }
        return {};
    default: return {};
    }
}

QVariant CampaignTreeModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return QAbstractItemModel::headerData(section, orientation, role);
    switch (section) {
    case Sender: return QStringLiteral("Sender");
    case Time: return QStringLiteral("Sent");
    case Recipients: return QStringLiteral("Recipients");
    case Unit: return QStringLiteral("Sender's unit");
    case Generation: return QStringLiteral("Gen.");
    }
    return {};
}

} // namespace mt
