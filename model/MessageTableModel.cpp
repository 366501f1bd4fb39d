#include "MessageTableModel.h"

#include <QDateTime>
#include <QLocale>
#include <QTimeZone>
#include <algorithm>

namespace mt {

namespace {

// Cells longer than this get the full text as a tooltip (the view elides them).
constexpr int kTooltipThreshold = 40;
// At most this many recipients / attachments listed in a tooltip.
constexpr int kTooltipListMax = 25;

QString listTooltip(const QStringList& items) {
    QStringList shown = items.mid(0, kTooltipListMax);
    if (items.size() > kTooltipListMax)
        shown << MessageTableModel::tr("… and %1 more").arg(items.size() - kTooltipListMax);
    return shown.join(QLatin1Char('\n'));
}

} // namespace

MessageTableModel::MessageTableModel(QObject* parent) : QAbstractTableModel(parent) {}

MessageTableModel::~MessageTableModel() = default;

void MessageTableModel::setReader(CaseReader* reader) {
    m_reader = reader;
    requery();
}

int MessageTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_ids.size());
}

int MessageTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QString MessageTableModel::formatTime(qint64 msUtc) {
    if (msUtc <= 0) return {};
    return QDateTime::fromMSecsSinceEpoch(msUtc, QTimeZone::utc()).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

QString MessageTableModel::formatSize(qint64 bytes) {
    if (bytes < 0) return {};
    if (bytes < 1024) return QStringLiteral("%1 B").arg(bytes);
    return QLocale::c().formattedDataSize(bytes, 1, QLocale::DataSizeTraditionalFormat);
}

QString MessageTableModel::cellText(const MessageView& m, int column) const {
    switch (column) {
    case Time: return formatTime(m.time);
    case Sender: return m.sender.isEmpty() ? QStringLiteral("<>") : m.sender;
    case Client: return m.client();
    case Subject: return m.subject;
    case Attachments: return m.attachments.join(QStringLiteral(", "));
    case Size: return formatSize(m.size);
    case Recipients: return QString::number(m.recipients.size());
    case Server: return m.originServer;
    default: return {};
    }
}

QVariant MessageTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() < 0 || index.row() >= m_ids.size() || index.column() < 0
        || index.column() >= ColumnCount)
        return {};
    if (role == MessageIdRole) return m_ids.at(index.row());
    if (role == Qt::TextAlignmentRole) {
        if (index.column() == Size || index.column() == Recipients)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return QVariant::fromValue(Qt::AlignLeft | Qt::AlignVCenter);
    }
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole && role != Qt::EditRole && role != SortValueRole)
        return {};

    const MessageView* m = messageAt(index.row());
    if (!m || m->id == 0) {
        // The message vanished since the ids were read (re-linked by an import): reload() fixes it.
        return role == Qt::DisplayRole && index.column() == Subject ? QVariant(tr("(no longer in the case)"))
                                                                     : QVariant();
    }
    const int col = index.column();
    if (role == SortValueRole) {
        switch (col) {
        case Time: return m->time;
        case Size: return m->size;
        case Recipients: return static_cast<int>(m->recipients.size());
        default: return cellText(*m, col);
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (col) {
        case Recipients: {
            QStringList lines;
            for (const RecipientView& r : m->recipients) {
                QString line = r.address;
                if (!r.status.isEmpty()) line += QStringLiteral("  (") + r.status + QLatin1Char(')');
                if (!r.destination.isEmpty()) line += QStringLiteral("  → ") + r.destination;
                lines << line;
            }
            return lines.isEmpty() ? QVariant() : QVariant(listTooltip(lines));
        }
        case Attachments:
            return m->attachments.isEmpty() ? QVariant() : QVariant(listTooltip(m->attachments));
        case Client: {
            QString t = m->client();
            if (!m->saslUser.isEmpty()) t += (t.isEmpty() ? QString() : QStringLiteral("\n")) + tr("SASL user: %1").arg(m->saslUser);
            return t.isEmpty() ? QVariant() : QVariant(t);
        }
        case Size:
            return m->size < 0 ? QVariant() : QVariant(tr("%1 bytes").arg(QLocale::c().toString(m->size)));
        case Time:
            return m->time <= 0 ? QVariant() : QVariant(formatTime(m->time) + QStringLiteral(" UTC"));
        default: {
            const QString t = cellText(*m, col);
            return t.size() > kTooltipThreshold ? QVariant(t) : QVariant();
        }
        }
    }
    return cellText(*m, col);
}

QVariant MessageTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal) {
        if (role == Qt::DisplayRole) return section + 1;
        return {};
    }
    if (role == Qt::DisplayRole) {
        switch (section) {
        case Time: return tr("Time (UTC)");
        case Sender: return tr("Sender");
        case Client: return tr("Client");
        case Subject: return tr("Subject");
        case Attachments: return tr("Attachments");
        case Size: return tr("Size");
        case Recipients: return tr("Recipients");
        case Server: return tr("Server");
        default: return {};
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case Time: return tr("When the message first entered one of the servers (UTC)");
        case Sender: return tr("Envelope sender; <> for bounces");
        case Client: return tr("The host that submitted the message: name[IP]");
        case Subject: return tr("Subject header, when the servers log it");
        case Attachments: return tr("Attachment file names, when the servers log them");
        case Size: return tr("Message size; sorts by bytes");
        case Recipients: return tr("Number of final recipients");
        case Server: return tr("The server the message entered first");
        default: return {};
        }
    }
    if (role == Qt::TextAlignmentRole) {
        if (section == Size || section == Recipients) return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return QVariant::fromValue(Qt::AlignLeft | Qt::AlignVCenter);
    }
    return {};
}

void MessageTableModel::sort(int column, Qt::SortOrder order) {
    if (column < 0 || column >= ColumnCount) return;
    m_sortColumn = column;
    m_sortOrder = order;
    requery();
}

void MessageTableModel::setFilter(const QString& filter) {
    m_filter = filter;
    requery();
}

void MessageTableModel::reload() { requery(); }

void MessageTableModel::requery() {
    beginResetModel();
    m_pages.clear();
    m_ids.clear();
    if (m_reader && m_reader->isOpen())
        m_ids = m_reader->messageIds(m_filter, static_cast<MessageColumn>(m_sortColumn),
                                     m_sortOrder == Qt::AscendingOrder);
    m_ids.squeeze();
    endResetModel();
    emit idsReloaded();
}

qint64 MessageTableModel::messageIdAt(int row) const {
    return row >= 0 && row < m_ids.size() ? m_ids.at(row) : -1;
}

int MessageTableModel::rowOfMessage(qint64 messageId) const {
    const auto it = std::find(m_ids.cbegin(), m_ids.cend(), messageId);
    return it == m_ids.cend() ? -1 : static_cast<int>(it - m_ids.cbegin());
}

const MessageView* MessageTableModel::messageAt(int row) const {
    if (row < 0 || row >= m_ids.size()) return nullptr;
    const Page* p = page(row / kPageSize);
    if (!p) return nullptr;
    const int offset = row % kPageSize;
    return offset < p->rows.size() ? &p->rows.at(offset) : nullptr;
}

int MessageTableModel::cachedRowCount() const {
    int n = 0;
    for (const Page& p : m_pages) n += static_cast<int>(p.rows.size());
    return n;
}

const MessageTableModel::Page* MessageTableModel::page(int pageIndex) const {
    for (auto it = m_pages.begin(); it != m_pages.end(); ++it) {
        if (it->index != pageIndex) continue;
        if (it != m_pages.begin()) m_pages.splice(m_pages.begin(), m_pages, it); // most recently used
        return &m_pages.front();
    }
    if (!m_reader || !m_reader->isOpen()) return nullptr;

    const int first = pageIndex * kPageSize;
    const int count = std::min<int>(kPageSize, static_cast<int>(m_ids.size()) - first);
    if (count <= 0) return nullptr;
    const QVector<qint64> ids = m_ids.mid(first, count);
    QVector<MessageView> fetched = m_reader->messages(ids);
    ++m_fetches;

    Page p;
    p.index = pageIndex;
    p.rows.resize(count);
    // messages() returns the rows in the order asked, leaving out ids no longer in the case:
    // align them back onto the ids so a vanished message cannot shift the rows after it.
    int j = 0;
    for (int i = 0; i < count && j < fetched.size(); ++i) {
        if (fetched[j].id == ids[i]) p.rows[i] = std::move(fetched[j++]);
    }
    m_pages.push_front(std::move(p));
    while (static_cast<int>(m_pages.size()) > kMaxPages) m_pages.pop_back();
    return &m_pages.front();
}

} // namespace mt
