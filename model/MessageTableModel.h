#pragma once
// The message list as a Qt table model, built for cases of a million messages and more.
//
// Like Wireshark's packet list it holds only the ids of the matching messages, in display
// order (one CaseReader::messageIds() query per sort or filter change), and fetches the rows
// themselves in pages of kPageSize through CaseReader::messages() when the view asks for
// them. At most kMaxPages pages are kept (least recently used goes first), so memory stays
// bounded whatever the size of the case.
//
// No widget here: the model is drawn by a QTableView in the window.
#include "CaseReader.h"

#include <QAbstractTableModel>
#include <QString>
#include <QVector>
#include <list>

namespace mt {

class MessageTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    // Same order as MessageColumn, so a column maps straight onto CaseReader's sort key.
    enum Column { Time, Sender, Client, Subject, Attachments, Size, Recipients, Server, ColumnCount };
    enum Role {
        MessageIdRole = Qt::UserRole + 1, // qint64 database id of the row's message
        SortValueRole,                    // the raw value (bytes for Size, count for Recipients, ms for Time)
    };
    static constexpr int kPageSize = 256;
    static constexpr int kMaxPages = 12;

    explicit MessageTableModel(QObject* parent = nullptr);
    ~MessageTableModel() override;

    // The reader is not owned; pass nullptr before destroying it. Re-queries the ids.
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
    int sortColumn() const { return m_sortColumn; }
    Qt::SortOrder sortOrder() const { return m_sortOrder; }

    // Re-queries the ids with the current filter and sort (after an import) and drops the cache.
    void reload();

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

signals:
    // After every re-query of the ids (sort, filter, reload, new reader).
    void idsReloaded();

private:
    struct Page {
        int index = 0;
        QVector<MessageView> rows; // aligned with the ids of the page; id 0 = row vanished
    };
    void requery();
    const Page* page(int pageIndex) const;
    QString cellText(const MessageView& m, int column) const;

    CaseReader* m_reader = nullptr;
    QVector<qint64> m_ids;
    QString m_filter;
    int m_sortColumn = Time;
    Qt::SortOrder m_sortOrder = Qt::AscendingOrder;
    mutable std::list<Page> m_pages; // most recently used first
    mutable qint64 m_fetches = 0;
};

} // namespace mt
