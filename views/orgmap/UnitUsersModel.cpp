#include "UnitUsersModel.h"

namespace mt {

namespace {
// Compact names for the table; the tooltip has the full ones.
QString shortTypes(std::uint32_t bits) {
    static const char* const names[] = {"script", "exe", "macro", "archive", "dbl ext", "other", "none"};
    if (bits & ~typeBit(TypeFamily::NoAttachment)) bits &= ~typeBit(TypeFamily::NoAttachment);
    QStringList parts;
    for (int i = 0; i < kTypeFamilyCount; ++i)
        if (bits & (1u << i)) parts << QString::fromLatin1(names[i]);
    return parts.join(QStringLiteral(", "));
}
} // namespace

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
    if (role == Qt::ToolTipRole)
        return index.column() == Types ? typeFamiliesText(r.types) : u.email + QLatin1Char('\n') + m_data->units()[u.unit].path;
    if (role != Qt::DisplayRole) return {};
    switch (index.column()) {
    case Email: return u.email;
    case Name: return u.name;
    case FlaggedSent: return r.sent;
    case FlaggedReceived: return r.received;
    case Types: return shortTypes(r.types);
    default: return {};
    }
}

QVariant UnitUsersModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal) return {};
    if (role == Qt::ToolTipRole) {
        if (section == FlaggedSent) return tr("Flagged messages this user sent");
        if (section == FlaggedReceived) return tr("Flagged messages this user received");
        if (section == Types) return tr("Attachment types of those messages");
        return {};
    }
    if (role != Qt::DisplayRole) return {};
    switch (section) {
    case Email: return tr("E-mail");
    case Name: return tr("Name");
    case FlaggedSent: return tr("\u2191 Sent");
    case FlaggedReceived: return tr("\u2193 Rcvd");
    case Types: return tr("Types");
    default: return {};
    }
}

} // namespace mt
