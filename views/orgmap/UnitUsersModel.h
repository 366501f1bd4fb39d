#pragma once
// The users of one unit (and the units below it) with their flagged mail under a filter: the
// org map's full per-unit list (issue 5). Sorted by flagged total, descending.
#include "model/orgmap/OrgMapData.h"

#include <QAbstractTableModel>
#include <memory>

namespace mt {

class UnitUsersModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Email, Name, FlaggedSent, FlaggedReceived, Types, ColumnCount };
    enum Role { UserIndexRole = Qt::UserRole + 1 }; // index into OrgMapData::users()

    explicit UnitUsersModel(QObject* parent = nullptr);
    void setData(std::shared_ptr<const OrgMapData> data);
    // unit: index into OrgMapData::units(), -1: none (empty list).
    void setUnit(int unit, const OrgMapFilter& filter);
    int unit() const { return m_unit; }
    int userAt(int row) const { return row >= 0 && row < static_cast<int>(m_rows.size()) ? m_rows[row].user : -1; }
    int rowOf(const QString& email) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

private:
    std::shared_ptr<const OrgMapData> m_data;
    int m_unit = -1;
    std::vector<UserCounts> m_rows;
};

} // namespace mt
