#include "MessageTableModel.h"

#include <QColor>
#include <QDateTime>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QLocale>
#include <QTimeZone>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>
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

MessageTableModel::MessageTableModel(QObject* parent) : QAbstractTableModel(parent) {
    m_pool.setMaxThreadCount(1);
    m_pool.setObjectName(QStringLiteral("mt-message-ids"));
    connect(&m_watcher, &QFutureWatcherBase::finished, this, &MessageTableModel::onQueryFinished);
}

MessageTableModel::~MessageTableModel() {
    // A query still running holds nothing of ours (copies of the path and settings, its own
    // reader); its result is simply not delivered. The pool's destructor waits for it.
    m_watcher.disconnect(this);
}

void MessageTableModel::setReader(CaseReader* reader) {
    const bool sameCase = reader && reader == m_reader;
    m_reader = reader;
    m_casePath = reader ? reader->path() : QString();
    if (!sameCase && (!m_ids.isEmpty() || !m_pages.empty())) {
        // Another case: its ids mean other messages here, so they go now, not with the new ids.
        beginResetModel();
        m_pages.clear();
        m_ids = {};
        endResetModel();
    }
    requery(LoadQuery);
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
    case Flag: return flagText(m);
    default: return {};
    }
}

QString MessageTableModel::flagText(const MessageView& m) {
    if (m.campaignId <= 0) return {};
    return QStringLiteral("⚑ #%1 %2").arg(m.campaignId).arg(m.rules.join(QLatin1Char(' ')));
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
    if (role == Qt::BackgroundRole || role == Qt::ForegroundRole) {
        // Flagged rows stand out; the Flagged column says so in words as well.
        const MessageView* m = messageAt(index.row());
        if (!m || m->campaignId <= 0) return {};
        return role == Qt::BackgroundRole ? QVariant(QColor(0xff, 0xe8, 0xc2)) : QVariant(QColor(0x20, 0x20, 0x20));
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
        case Flag:
            return m->campaignId <= 0 ? QVariant()
                                      : QVariant(tr("Campaign #%1; rules: %2").arg(m->campaignId).arg(m->rules.join(QStringLiteral(", "))));
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
        case Flag: return tr("Flagged");
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
        case Flag: return tr("Detection: the campaign (#id) and the rules that hit the message");
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
    requery(SortQuery);
}

void MessageTableModel::setFilter(const QString& filter) {
    m_filter = filter;
    requery(FilterQuery);
}

void MessageTableModel::setIdFilter(const QSet<QString>& messageIds) {
    m_idFilter = messageIds;
    m_hasIdFilter = true;
    requery(FilterQuery);
}

void MessageTableModel::clearIdFilter() {
    if (!m_hasIdFilter) return;
    m_idFilter.clear();
    m_hasIdFilter = false;
    requery(FilterQuery);
}

void MessageTableModel::setScope(const MessageScope& scope) {
    if (scope == m_scope) return;
    m_scope = scope;
    requery(FilterQuery);
}

void MessageTableModel::reload() { requery(LoadQuery); }

void MessageTableModel::setBusy(bool busy) {
    if (m_busy == busy) return;
    m_busy = busy;
    emit busyChanged(busy);
}

void MessageTableModel::requery(Query query) {
    ++m_generation; // whatever is running now answers an older question
    m_query = query;
    if (!m_reader || !m_reader->isOpen()) {
        // Nothing to ask: empty now (a worker still running is ignored when it ends).
        m_pending = false;
        beginResetModel();
        m_pages.clear();
        m_ids = {};
        endResetModel();
        emit idsReloaded();
        setBusy(false);
        return;
    }
    setBusy(true);
    if (m_running) {
        // One query at a time (two would share the cores and both come late): this one starts
        // when the running one ends, with the settings current then.
        m_pending = true;
        return;
    }
    startQuery();
}

void MessageTableModel::startQuery() {
    m_running = true;
    m_pending = false;
    const quint64 generation = m_generation;
    const QString path = m_casePath;
    const QString filter = m_filter;
    const auto column = static_cast<MessageColumn>(m_sortColumn);
    const bool ascending = m_sortOrder == Qt::AscendingOrder;
    const bool hasIdFilter = m_hasIdFilter;
    const QSet<QString> idFilter = m_idFilter; // implicitly shared: a copy for the worker
    const MessageScope scope = m_scope;
    m_watcher.setFuture(QtConcurrent::run(&m_pool, [generation, path, filter, scope, column, ascending, hasIdFilter, idFilter] {
        // On the worker thread: a connection of its own, opened and closed here.
        QElapsedTimer timer;
        timer.start();
        IdQueryResult r;
        r.generation = generation;
        CaseReader reader(path);
        if (reader.isOpen())
            r.ids = reader.messageIds(filter, scope, column, ascending, hasIdFilter ? &idFilter : nullptr);
        else
            r.error = reader.error();
        r.ids.squeeze();
        r.ms = timer.elapsed();
        return r;
    }));
}

void MessageTableModel::onQueryFinished() {
    m_running = false;
    const IdQueryResult r = m_watcher.result();
    if (r.generation != m_generation) {
        // Overtaken by a later sort / filter / reload: drop it, run the latest one.
        if (m_pending) startQuery();
        return;
    }
    if (!r.error.isEmpty()) qWarning("MessageTableModel: could not read the message ids: %s", qPrintable(r.error));
    m_lastQueryMs = r.ms;
    beginResetModel();
    m_pages.clear();
    m_ids = r.ids;
    endResetModel();
    emit idsReloaded();
    // Only when nothing asked for another query in the slots of the signals above.
    if (m_generation == r.generation) setBusy(false);
}

bool MessageTableModel::waitForIdle(int timeoutMs) {
    const QDeadlineTimer deadline(timeoutMs);
    while (m_busy && !deadline.hasExpired()) {
        QEventLoop loop;
        connect(this, &MessageTableModel::busyChanged, &loop, [&loop](bool busy) {
            if (!busy) loop.quit();
        });
        if (!deadline.isForever())
            QTimer::singleShot(std::max<qint64>(1, deadline.remainingTime()), &loop, &QEventLoop::quit);
        loop.exec();
    }
    return !m_busy;
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
