#pragma once
// A campaign's propagation tree for a QTreeView (issue 5), over a CampaignTree read by
// model/timeline. Two shapes of the same nodes:
//  - ByParent: patient zero's messages at the top, each message under the message its sender
//    received before sending it on (the stored tree parent);
//  - ByGeneration: one row per generation, its messages beneath in time order.
#include "model/timeline/CampaignTree.h"

#include <QAbstractItemModel>

namespace mt {

class CampaignTreeModel : public QAbstractItemModel {
    Q_OBJECT
public:
    enum Shape { ByParent, ByGeneration };
    enum Column { Sender, Time, Recipients, Generation, Unit, ColumnCount };
    enum Role { MessageIdRole = Qt::UserRole + 1, GenerationRole, IsGenerationRole };

    explicit CampaignTreeModel(QObject* parent = nullptr);

    void setTree(const CampaignTree& tree);
    const CampaignTree& tree() const { return m_tree; }
    void setShape(Shape shape);
    Shape shape() const { return m_shape; }

    // The row of a message (column 0), invalid when it is not in the tree.
    QModelIndex indexOfMessage(qint64 messageId) const;
    qint64 messageIdAt(const QModelIndex& index) const;   // 0 for generation rows

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    // internalId: node index + 1 for a message, kGenerationTag | g for a generation row.
    static constexpr quintptr kGenerationTag = quintptr(1) << 40;
    void computeRows();

    CampaignTree m_tree;
    Shape m_shape = ByParent;
    QVector<int> m_rowInParent;      // ByParent: row of each node under its parent (or among roots)
    QVector<int> m_rowInGeneration;  // ByGeneration: row of each node within its generation
};

} // namespace mt
