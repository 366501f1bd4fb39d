#pragma once
// The message list as a Qt table model, built for cases of a million messages and more.
//
// Like Wireshark's packet list it holds only the ids of the matching messages, in display
// order (one CaseReader::messageIds() query per sort or filter change), and fetches the rows
// themselves in pages of kPageSize through CaseReader::messages() when the view asks for
// them. At most kMaxPages pages are kept (least recently used goes first), so memory stays
// bounded whatever the size of the case.
//
// The id query (0.7-1.2 s on a million messages) runs on a worker thread with a CaseReader of
// its own on the same case file (QtSql connections belong to the thread that made them).
// sort(), setFilter(), reload() and setReader() return at once: the view keeps the rows it
// has (busyChanged(true)) until the new ids arrive, then the model resets once and emits
// idsReloaded() and busyChanged(false). One query runs at a time; asking again while it runs
// only remembers that the latest settings are wanted, and the result of a query overtaken
// that way is dropped (a generation counter), never shown. The pages (256 rows by primary
// key, fast) are still read on the calling thread through the reader given to setReader().
//
// No widget here: the model is drawn by a QTableView in the window.
#include "CaseReader.h"

#include <QAbstractTableModel>
#include <QFutureWatcher>
#include <QSet>
#include <QString>
#include <QThreadPool>
#include <QVector>
#include <list>

namespace mt {

class MessageTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    // Same order as MessageColumn, so a column maps straight onto CaseReader's sort key.
    enum Column { Time, Sender, Client, Subject, Attachments, Size, Recipients, Server, Flag, ColumnCount };
    enum Role {
        MessageIdRole = Qt::UserRole + 1, // qint64 database id of the row's message
        SortValueRole,                    // the raw value (bytes for Size, count for Recipients, ms for Time)
    };
    static constexpr int kPageSize = 256;
    static constexpr int kMaxPages = 12;

    explicit MessageTableModel(QObject* parent = nullptr);
    ~MessageTableModel() override;

    // What the id query in flight is for (the window says "Sorting…", "Filtering…", ...).
    enum Query { LoadQuery, SortQuery, FilterQuery };

    // The reader is not owned; pass nullptr before destroying it. Re-queries the ids (in the
    // background; a different case's rows are dropped at once). nullptr empties the model at
    // once and drops any query in flight.
    void setReader(CaseReader* reader);
    CaseReader* reader() const { return m_reader; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

    // Substring filter (sender, subject, client, Message-ID, attachment, recipient); "" = all.
    void setFilter(const QString& filter);
    QString filter() const { return m_filter; }
    // Only the messages whose Message-ID (as the case stores it: no angle brackets) is in the
    // set, on top of the substring filter (a drill's worm messages, say). Applied by the id
    // query on the worker thread like the rest; clearIdFilter() lifts it.
    void setIdFilter(const QSet<QString>& messageIds);
    void clearIdFilter();
    // Restricts the list to a scope (campaign, rule, unit, user, time range: what the analyst
    // selected elsewhere), on top of the text and id filters.
    void setScope(const MessageScope& scope);
    const MessageScope& scope() const { return m_scope; }
    bool hasIdFilter() const { return m_hasIdFilter; }
    const QSet<QString>& idFilter() const { return m_idFilter; }
    int sortColumn() const { return m_sortColumn; }
    Qt::SortOrder sortOrder() const { return m_sortOrder; }

    // Re-queries the ids with the current filter and sort (after an import) and drops the cache.
    void reload();

    // True from a sort / filter / reload / setReader until its ids are in the model (the rows
    // shown meanwhile are the previous ones). filter(), sortColumn() and sortOrder() already
    // give the settings asked for.
    bool isBusy() const { return m_busy; }
    Query busyQuery() const { return m_query; }
    // Runs the event loop until the model is not busy; false when timeoutMs (-1: no limit) ran
    // out first. For tests, --screenshot and other places that need the rows now.
    bool waitForIdle(int timeoutMs = 60000);
    // How long the last id query that reached the model took on its worker thread, in ms.
    qint64 lastQueryMs() const { return m_lastQueryMs; }

    // Database id of the message shown in row, or -1.
    qint64 messageIdAt(int row) const;
    // Row showing the message with that id, or -1 (a linear scan of the id vector).
    int rowOfMessage(qint64 messageId) const;
    // The row's message (fetching its page when needed), or nullptr for a bad row. The pointer
    // is valid until the next call into the model.
    const MessageView* messageAt(int row) const;

    // Cache figures, for tests and the curious.
    int cachedPageCount() const { return static_cast<int>(m_pages.size()); }
    int cachedRowCount() const;
    qint64 pageFetches() const { return m_fetches; }

    // Presentation helpers shared with the details view.
    static QString formatTime(qint64 msUtc);
    static QString formatSize(qint64 bytes);
    // "#3 burst type": the campaign and the rule ids of a flagged message, "" otherwise.
    static QString flagText(const MessageView& m);

signals:
    // After every re-query of the ids (sort, filter, reload, new reader), once the new ids are
    // in the model; emitted before busyChanged(false).
    void idsReloaded();
    // A query started while none was awaited (true), or the awaited ids arrived (false).
    void busyChanged(bool busy);

private:
    struct Page {
        int index = 0;
        QVector<MessageView> rows; // aligned with the ids of the page; id 0 = row vanished
    };
    // What a worker hands back.
    struct IdQueryResult {
        quint64 generation = 0;
        QVector<qint64> ids;
        QString error;
        qint64 ms = 0;
    };
    void requery(Query query);
    void startQuery();
    void onQueryFinished();
    void setBusy(bool busy);
    const Page* page(int pageIndex) const;
    QString cellText(const MessageView& m, int column) const;

    CaseReader* m_reader = nullptr;
    QString m_casePath; // the reader's, for the worker's own CaseReader
    QVector<qint64> m_ids;
    QString m_filter;
    QSet<QString> m_idFilter;
    bool m_hasIdFilter = false;
    MessageScope m_scope;
    int m_sortColumn = Time;
    Qt::SortOrder m_sortOrder = Qt::AscendingOrder;
    mutable std::list<Page> m_pages; // most recently used first
    mutable qint64 m_fetches = 0;

    // Background id query. The pool (one thread, its own so an import on the global pool
    // cannot hold a sort up) is declared before the watcher: the watcher goes first, then
    // the pool waits for a query still running.
    QThreadPool m_pool;
    QFutureWatcher<IdQueryResult> m_watcher;
    quint64 m_generation = 0;   // bumped by every request; a result of an older one is dropped
    bool m_running = false;     // a worker is running (maybe for an overtaken request)
    bool m_pending = false;     // the latest request waits for the running worker to finish
    bool m_busy = false;        // the latest request's ids are not in the model yet
    Query m_query = LoadQuery;
    qint64 m_lastQueryMs = -1;
};

} // namespace mt
