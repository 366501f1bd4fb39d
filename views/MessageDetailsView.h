#pragma once
// Details of the selected message: its header fields, then every copy of it (one per server
// and queue id) with each recipient's delivery on that copy, in a tree (copy -> deliveries).
//
// The view never touches the case file: the window reads the message and its copies through
// CaseReader and hands them over as plain structs (MessageView, CopyView).
#include "model/CaseReader.h"

#include <QWidget>

class QLabel;
class QTreeWidget;

namespace mt {

class MessageDetailsView : public QWidget {
    Q_OBJECT
public:
    // Columns of the copies tree (delivery rows; a copy's row spans them all).
    enum Column { Recipient, Status, Dsn, Transport, Relay, Delay, Destination, QueuedAs, Final, Time, Response, ColumnCount };

    explicit MessageDetailsView(QWidget* parent = nullptr);

    void showMessage(const MessageView& message, const QVector<CopyView>& copies);
    // The detection evidence of the message shown: its campaign and every rule hit with the
    // key, window, count and threshold. Call after showMessage (which hides it); a flag with
    // messageId 0 and no hits says "not flagged".
    void showEvidence(const FlagView& flag, const QString& campaignLabel, const QVector<HitView>& hits);
    QLabel* evidenceLabel() const { return m_evidence; }
    // Back to the "select a message" placeholder.
    void clear();

    qint64 messageId() const { return m_messageId; } // -1 when nothing is shown
    int copyCount() const { return m_copyCount; }
    int deliveryCount() const { return m_deliveryCount; }
    // What the view shows, as plain text (for tests and copy-paste).
    QString plainText() const { return m_text; }

    QLabel* headerLabel() const { return m_header; }
    QTreeWidget* copiesTree() const { return m_tree; }

private:
    QLabel* m_header = nullptr;
    QLabel* m_evidence = nullptr;
    QLabel* m_placeholder = nullptr;
    QTreeWidget* m_tree = nullptr;
    QString m_text;
    qint64 m_messageId = -1;
    int m_copyCount = 0;
    int m_deliveryCount = 0;
};

} // namespace mt
