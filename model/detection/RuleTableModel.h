#pragma once
// The rule set as an editable table: one row per rule (rate and volume rules one row each),
// with the parameters every rule has in common - enabled, window, threshold, weight - as
// columns. A cell that means nothing for a rule (a type rule has no window) is empty and not
// editable. What does not fit a table (type lists, size bands, the decision threshold) the
// editor edits through ruleSet()/setRuleSet(). No widget here: the rule editor draws it.
#include "Rules.h"

#include <QAbstractTableModel>

namespace mt::det {

class RuleTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Enabled, Rule, Description, Window, Threshold, Weight, ColumnCount };

    explicit RuleTableModel(QObject* parent = nullptr);

    void setRuleSet(const RuleSet& rules);
    const RuleSet& ruleSet() const { return m_rules; }
    // The rule id shown in a row ("rate-sender-messages", "fanout", ...).
    QString ruleId(int row) const;
    int rowOfRule(const QString& id) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // "10 min", "72 h", "45 s".
    static QString formatWindow(int seconds);
    // Accepts "600", "600s", "10m", "10 min", "2h", "1d"; false on anything else.
    static bool parseWindow(const QString& text, int& seconds);

signals:
    // Any parameter changed through setData.
    void ruleSetEdited();

private:
    // Where a row's parameters live in the RuleSet (pointers into m_rules; null: not applicable).
    struct RowRef {
        QString id, description;
        bool* enabled = nullptr;
        int* window = nullptr;
        std::int64_t* threshold = nullptr;
        double* weight = nullptr;
        QString thresholdUnit;  // "messages", "bytes", ...
    };
    void rebuildRows();

    RuleSet m_rules;
    QVector<RowRef> m_rows;
};

} // namespace mt::det
