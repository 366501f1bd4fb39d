#include "CampaignTableModel.h"

#include <QDateTime>
#include <QLocale>

#include <limits>

namespace mt {

CampaignTableModel::CampaignTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void CampaignTableModel::setCampaigns(const QVector<CampaignView>& campaigns) {
    beginResetModel();
    m_campaigns = campaigns;
    endResetModel();
}

const CampaignView* CampaignTableModel::campaign(qint64 id) const {
    const int row = rowOf(id);
    return row < 0 ? nullptr : &m_campaigns[row];
}

int CampaignTableModel::rowOf(qint64 campaignId) const {
    for (int i = 0; i < m_campaigns.size(); ++i)
        if (m_campaigns[i].id == campaignId) return i;
    return -1;
}

int CampaignTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : m_campaigns.size(); }
int CampaignTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QString CampaignTableModel::formatTime(qint64 ms) {
    if (ms <= 0) return {};
    return QLocale().toString(QDateTime::fromMSecsSinceEpoch(ms), QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

QVariant CampaignTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_campaigns.size()) return {};
    const CampaignView& c = m_campaigns[index.row()];
    if (role == CampaignIdRole) return c.id;
    if (role == Qt::TextAlignmentRole) {
        switch (index.column()) {
        case Id: case Messages: case Evidence: case Senders: case Recipients: case Units:
            return int(Qt::AlignRight | Qt::AlignVCenter);
        default:
            return int(Qt::AlignLeft | Qt::AlignVCenter);
        }
    }
    if (role == Qt::ToolTipRole) {
        if (index.column() == Units) return c.units.join(QLatin1Char('\n'));
        if (index.column() == Label) return c.label;
        if (index.column() == Evidence)
            return QStringLiteral("%1 of %2 messages flagged on their own evidence; %3 joined through a link "
                                  "(received and sent on, or the same burst). Review the joined ones before a verdict.")
                .arg(QLocale().toString(c.strongMessages), QLocale().toString(c.messages),
                     QLocale().toString(c.messages - c.strongMessages));
        if (index.column() == DetectedAt && c.detectedAt == 0)
            return QStringLiteral("The rules never fired on this campaign itself: its messages joined it through propagation");
        return {};
    }
    if (role == SortRole) {
        switch (index.column()) {
        case Id: return c.id;
        case Label: return c.label.toLower();
        case Messages: return c.messages;
        case Evidence: return c.confidence();
        case Senders: return c.senders;
        case Recipients: return c.recipients;
        case PatientZero: return c.patientZero.toLower();
        case FirstSeen: return c.firstSeen;
        case DetectedAt: return c.detectedAt ? c.detectedAt : std::numeric_limits<qint64>::max();
        case Units: return int(c.units.size());
        default: return {};
        }
    }
    if (role != Qt::DisplayRole) return {};
    const QLocale loc;
    switch (index.column()) {
    case Id: return c.id;
    case Label: return c.label;
    case Messages: return loc.toString(c.messages);
    case Evidence: return QStringLiteral("%1% strong").arg(qRound(100 * c.confidence()));
    case Senders: return loc.toString(c.senders);
    case Recipients: return loc.toString(c.recipients);
    case PatientZero: return c.patientZero;
    case FirstSeen: return formatTime(c.firstSeen);
    case DetectedAt: return c.detectedAt ? formatTime(c.detectedAt) : QStringLiteral("\u2014");
    case Units: return loc.toString(c.units.size());
    default: return {};
    }
}

QVariant CampaignTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Id: return QStringLiteral("#");
    case Label: return QStringLiteral("Campaign");
    case Messages: return QStringLiteral("Messages");
    case Evidence: return QStringLiteral("Evidence");
    case Senders: return QStringLiteral("Senders");
    case Recipients: return QStringLiteral("Recipients");
    case PatientZero: return QStringLiteral("Patient zero");
    case FirstSeen: return QStringLiteral("First seen");
    case DetectedAt: return QStringLiteral("Detected at");
    case Units: return QStringLiteral("Units");
    default: return {};
    }
}

} // namespace mt
