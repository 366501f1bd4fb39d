#pragma once
// Details of the selected message: its header fields, then every copy of it (one per server
// and queue id) with each recipient's delivery on that copy.
//
// The view never touches the case file: the window reads the message and its copies through
// CaseReader and hands them over as plain structs (MessageView, CopyView).
#include "model/CaseReader.h"

#include <QWidget>

class QTextBrowser;

namespace mt {

class MessageDetailsView : public QWidget {
    Q_OBJECT
public:
    explicit MessageDetailsView(QWidget* parent = nullptr);

    void showMessage(const MessageView& message, const QVector<CopyView>& copies);
    // Back to the "select a message" placeholder.
    void clear();

    qint64 messageId() const { return m_messageId; } // -1 when nothing is shown
    int copyCount() const { return m_copyCount; }
    int deliveryCount() const { return m_deliveryCount; }
    // What the view shows, as plain text (for tests and copy-paste).
    QString plainText() const;
    QTextBrowser* browser() const { return m_browser; }

private:
    QTextBrowser* m_browser = nullptr;
    qint64 m_messageId = -1;
    int m_copyCount = 0;
    int m_deliveryCount = 0;
};

} // namespace mt
