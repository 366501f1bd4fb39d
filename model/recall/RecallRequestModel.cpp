#include "RecallRequestModel.h"

#include <QColor>
#include <QDateTime>
#include <QTimeZone>

#include "RecallTypes.h"

#include <optional>

namespace mt::recall {

RecallRequestModel::RecallRequestModel(QObject* parent) : QAbstractTableModel(parent) {}

void RecallRequestModel::setRequests(QVector<RecallRequestView> requests) {
    beginResetModel();
    m_rows = std::move(requests);
    endResetModel();
}

const RecallRequestView* RecallRequestModel::requestAt(int row) const {
    return row >= 0 && row < m_rows.size() ? &m_rows[row] : nullptr;
}

int RecallRequestModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : m_rows.size(); }
int RecallRequestModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QString RecallRequestModel::stateTitle(const QString& s) {
    const std::optional<recall::State> st = stateFromName(s.toStdString());
    return st ? QString::fromLatin1(stateLabel(*st)) : s;
}

QString RecallRequestModel::statusTitle(const RecallRequestView& r) {
    const std::optional<recall::State> st = stateFromName(r.state.toStdString());
    if (!st) return r.state;
    return QString::fromStdString(copyStatus(*st, readStateFromName(r.read.toStdString()), r.cascadedAt != 0));
}

RecallRequestModel::Tone RecallRequestModel::stateTone(const QString& s) {
    if (s == QLatin1String("suspended")) return Tone::Good;
    if (s == QLatin1String("already-retrieved") || s == QLatin1String("not-found") || s == QLatin1String("unreachable")
        || s == QLatin1String("auth-failed") || s == QLatin1String("refused"))
        return Tone::Bad;
    if (s == QLatin1String("deleted") || s == QLatin1String("released") || s == QLatin1String("cascaded") ||
        s == QLatin1String("not-recallable"))
        return Tone::Final;
    return Tone::Open;
}

QVariant RecallRequestModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_rows.size()) return {};
    const RecallRequestView& r = m_rows[index.row()];
    if (role == RequestIdRole) return r.id;
    if (role == MessageIdRole) return r.messageId;
    if (role == StateRole) return r.state;
    if (role == Qt::ForegroundRole && index.column() == State) {
        if (r.read == QLatin1String("while-suspended")) return QColor(0xb0, 0x00, 0x20); // read: the cascade follows
        switch (stateTone(r.state)) {
        case Tone::Good: return QColor(0x1b, 0x7a, 0x1b);
        case Tone::Bad: return QColor(0xb0, 0x00, 0x20);
        case Tone::Final: return QColor(0x55, 0x55, 0x55);
        default: return {};
        }
    }
    if (role == Qt::TextAlignmentRole && (index.column() == Id || index.column() == Round || index.column() == Attempts))
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole && index.column() == Answer) return r.detail;
    if (role == Qt::ToolTipRole && index.column() == State) {
        const std::optional<recall::State> st = stateFromName(r.state.toStdString());
        const QString what = statusTitle(r) + (st ? QStringLiteral(": ") + QString::fromLatin1(stateDescription(*st)) : QString());
        return r.approvedBy.isEmpty() ? what : tr("%1; approved by %2").arg(what, r.approvedBy);
    }
    if (role != Qt::DisplayRole) return {};
    switch (index.column()) {
    case Id: return r.id;
    case State: {
        // A marker besides the colour: ✓ blocked, ✗ not recalled, · still open.
        const Tone t = stateTone(r.state);
        const QString mark = t == Tone::Good ? QStringLiteral("✓ ") : t == Tone::Bad ? QStringLiteral("✗ ") : t == Tone::Open ? QStringLiteral("… ") : QStringLiteral("■ ");
        return mark + statusTitle(r);
    }
    case Folder: return r.folder.isEmpty() ? r.place : r.folder;
    case Server: return r.connector.isEmpty() ? r.server : QStringLiteral("%1 (%2)").arg(r.server, r.connector);
    case Recipient: return r.recipient;
    case Message: return r.messageKey;
    case Campaign: return r.campaignId > 0 ? QStringLiteral("#%1 %2").arg(r.campaignId).arg(r.campaignLabel) : QString();
    case Round: return r.round;
    case Attempts: return r.attempts;
    case Answer: return r.detail;
    case Updated:
        return r.updatedAt > 0 ? QDateTime::fromMSecsSinceEpoch(r.updatedAt, QTimeZone::utc()).toString(QStringLiteral("MM-dd HH:mm:ss"))
                               : QString();
    }
    return {};
}

QVariant RecallRequestModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
    case Id: return tr("#");
    case State: return tr("State");
    case Server: return tr("Server");
    case Recipient: return tr("Recipient");
    case Folder: return tr("Found in");
    case Message: return tr("Message-ID");
    case Campaign: return tr("Campaign");
    case Round: return tr("Round");
    case Attempts: return tr("Tries");
    case Answer: return tr("Server's answer");
    case Updated: return tr("Updated (UTC)");
    }
    return {};
}

} // namespace mt::recall
