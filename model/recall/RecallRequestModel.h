#pragma once
// The recall requests of a case as a table (the Recall panel): state, server, recipient,
// message, campaign, round, attempts, the server's last answer. Filled from
// CaseReader::recallRequests(); no widget here.
#include "model/CaseReader.h"

#include <QAbstractTableModel>

namespace mt::recall {

class RecallRequestModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Id, State, Server, Recipient, Folder, Message, Campaign, Round, Attempts, Answer, Updated, ColumnCount };
    enum Role { RequestIdRole = Qt::UserRole + 1, MessageIdRole, StateRole };

    explicit RecallRequestModel(QObject* parent = nullptr);
    void setRequests(QVector<RecallRequestView> requests);
    const RecallRequestView* requestAt(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Words for a state ("already-retrieved" -> "already read": recall::stateLabel, the one
    // vocabulary of the plan, panel, map, report and exports), and whether it is a success,
    // a failure to recall, or still open: drawn with a marker as well as a colour.
    static QString stateTitle(const QString& state);
    // The copy's status in those words, with the read fact ("deleted; read while suspended").
    static QString statusTitle(const RecallRequestView& r);
    enum class Tone { Open, Good, Bad, Final };
    static Tone stateTone(const QString& state);

private:
    QVector<RecallRequestView> m_rows;
};

} // namespace mt::recall
