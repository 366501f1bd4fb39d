#pragma once
// Drill > Show truth…: the answer to a drill — the worm, patient zero, when it started, who
// infected whom through which message, and the legitimate bulk that only looks like a worm —
// with a button that narrows the message table to the worm's messages.
#include "model/simulator/Simulator.h"

#include <QDialog>
#include <QSet>

class QLabel;
class QPushButton;
class QTableWidget;

namespace mt::gui {

class TruthDialog : public QDialog {
    Q_OBJECT
public:
    explicit TruthDialog(const sim::Truth& truth, const QString& casePath, QWidget* parent = nullptr);

    const sim::Truth& truth() const { return m_truth; }
    // Message-IDs as the case stores them: without the angle brackets.
    static QString bareMessageId(const QString& id);
    QSet<QString> wormMessageIds() const;
    QSet<QString> hardNegativeMessageIds(int row) const;
    static QString wormTitle(sim::Worm worm); // "ILOVEYOU", "Melissa", ...

    QLabel* summaryLabel() const { return m_summary; }
    QTableWidget* chainTable() const { return m_chain; }
    QTableWidget* negativesTable() const { return m_negatives; }
    QPushButton* showWormButton() const { return m_showWorm; }

signals:
    // "Show worm messages in table" (and a double-click on a hard negative): the window puts an
    // id filter on its message table; what names the set ("worm messages").
    void showMessagesRequested(const QSet<QString>& messageIds, const QString& what);

private:
    sim::Truth m_truth;
    QLabel* m_summary = nullptr;
    QTableWidget* m_chain = nullptr;
    QTableWidget* m_negatives = nullptr;
    QPushButton* m_showWorm = nullptr;
};

} // namespace mt::gui
