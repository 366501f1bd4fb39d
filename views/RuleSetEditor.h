#pragma once
// The rule editor: every detection rule with its switch, window, threshold and weight in a
// table (RuleTableModel), the attachment type lists, the size bands and the decision
// threshold. It edits a RuleSet in memory; the window stores it in the case and re-runs
// detection (see MainWindow::editRules).
#include "model/detection/RuleTableModel.h"

#include <QWidget>

class QDoubleSpinBox;
class QLineEdit;
class QSpinBox;
class QTableView;
class QTableWidget;
class QTabWidget;

namespace mt {

class RuleSetEditor : public QWidget {
    Q_OBJECT
public:
    explicit RuleSetEditor(QWidget* parent = nullptr);

    void setRuleSet(const det::RuleSet& rules);
    // What the editor shows now. False (error set) when a field cannot be read, such as a
    // size band whose upper bound is below its lower bound.
    bool ruleSet(det::RuleSet& out, QString* error = nullptr) const;
    bool isModified() const { return m_modified; }
    void setModified(bool on) { m_modified = on; }

    det::RuleTableModel* ruleModel() const { return m_model; }
    QTableView* ruleTable() const { return m_table; }
    QTabWidget* tabs() const { return m_tabs; }
    QLineEdit* typeListEdit(const QString& list) const; // "executable", "script", "macro", "archive", "decoy"
    QDoubleSpinBox* decisionThresholdSpin() const { return m_threshold; }
    QTableWidget* sizeBandsTable() const { return m_bands; }

signals:
    void modified();

private:
    void markModified();
    void addBandRow(const det::SizeBand& band);

    det::RuleTableModel* m_model = nullptr;
    QTabWidget* m_tabs = nullptr;
    QTableView* m_table = nullptr;
    QDoubleSpinBox* m_threshold = nullptr;
    QDoubleSpinBox* m_behaviourCap = nullptr;
    QSpinBox* m_prefixV4 = nullptr;
    QSpinBox* m_prefixV6 = nullptr;
    QLineEdit* m_executable = nullptr;
    QLineEdit* m_script = nullptr;
    QLineEdit* m_macro = nullptr;
    QLineEdit* m_archive = nullptr;
    QLineEdit* m_decoy = nullptr;
    QLineEdit* m_mime = nullptr;
    QDoubleSpinBox* m_weightMacro = nullptr;
    QDoubleSpinBox* m_weightArchive = nullptr;
    QTableWidget* m_bands = nullptr;
    bool m_modified = false;
    bool m_loading = false;
};

} // namespace mt
