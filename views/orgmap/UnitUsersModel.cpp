#include "UnitUsersModel.h"

namespace mt {

UnitUsersModel::UnitUsersModel(QObject* parent) : QAbstractTableModel(parent) {}

void UnitUsersModel::setData(std::shared_ptr<const OrgMapData> data) {
    beginResetModel();
    m_data = std::move(data);
    m_unit = -1;
    m_rows.clear();
    endResetModel();
}

void UnitUsersModel::setUnit(int unit, const OrgMapFilter& filter) {
    beginResetModel();
    m_unit = m_data && unit >= 0 && unit < static_cast<int>(m_data->units().size()) ? unit : -1;
    m_rows = m_unit >= 0 ? m_data->userCounts(m_unit, filter, true) : std::vector<UserCounts>();
    endResetModel();
}

int UnitUsersModel::rowOf(const QString& email) const {
    if (!m_data) return -1;
    const int user = m_data->userIndex(email);
    for (int i = 0; i < static_cast<int>(m_rows.size()); ++i)
        if (m_rows[i].user == user) return i;
    return -1;
}

int UnitUsersModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(m_rows.size()); }
int UnitUsersModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant UnitUsersModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= static_cast<int>(m_rows.size())) return {};
    const UserCounts& r = m_rows[index.row()];
    const OrgUser& u = m_data->users()[r.user];
    if (role == UserIndexRole) return r.user;
    if (role == Qt::TextAlignmentRole && (index.column() == FlaggedSent || index.column() == FlaggedReceived))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole) return m_data->units()[u.unit].path;
    if (role != Qt::DisplayRole) return {};
    switch (index.column()) {
    case Email: return u.email;
    case Name: return u.name;
    case FlaggedSent: return r.sent;
    case FlaggedReceived: return r.received;
    case Types: return typeFamiliesText(r.types & ~typeBit(TypeFamily::NoAttachment) ? r.types & ~typeBit(TypeFamily::NoAttachment) : r.types);
    default: return {};
    }
}

QVariant UnitUsersModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
    case Email: return tr("E-mail");
    case Name: return tr("Name");
    case FlaggedSent: return tr("Flagged sent");
    case FlaggedReceived: return tr("Flagged received");
    case Types: return tr("Types");
    default: return {};
    }
}

} // namespace mt
