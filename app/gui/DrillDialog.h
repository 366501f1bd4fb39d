#pragma once
// File > New drill…: the worm, the size of the organisation, how careless its users are, the
// seed (shown, so a drill can be run again) and where the case goes.
#include "Drill.h"

#include <QDialog>

class QComboBox;
class QDialogButtonBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace mt::gui {

class DrillDialog : public QDialog {
    Q_OBJECT
public:
    explicit DrillDialog(QWidget* parent = nullptr);

    // What OK runs: the options (outDir = the case's logs folder) and the case path.
    DrillRequest request() const;
    // Fills the form (the case path too, as if the user had typed it).
    void setRequest(const DrillRequest& request);
    // Empty when the form can be run, else why not (also shown in the dialog).
    QString problem() const;

    QComboBox* wormCombo() const { return m_worm; }
    QSpinBox* usersSpin() const { return m_users; }
    QSpinBox* serversSpin() const { return m_servers; }
    QSpinBox* hoursSpin() const { return m_hours; }
    QDoubleSpinBox* openProbabilitySpin() const { return m_openProbability; }
    QLineEdit* seedEdit() const { return m_seed; }
    QLineEdit* casePathEdit() const { return m_casePath; }
    QLabel* logsLabel() const { return m_logs; }

private:
    void newSeed();
    void browse();
    void updateDefaultPath();
    void validate();
    sim::Worm worm() const;
    std::uint64_t seed(bool* ok = nullptr) const;

    QComboBox* m_worm = nullptr;
    QSpinBox* m_users = nullptr;
    QSpinBox* m_servers = nullptr;
    QSpinBox* m_hours = nullptr;
    QDoubleSpinBox* m_openProbability = nullptr;
    QLineEdit* m_seed = nullptr;
    QLineEdit* m_casePath = nullptr;
    QLabel* m_logs = nullptr;
    QLabel* m_problem = nullptr;
    QDialogButtonBox* m_buttons = nullptr;
    bool m_pathEdited = false; // the user chose the path: worm and seed no longer change it
};

} // namespace mt::gui
