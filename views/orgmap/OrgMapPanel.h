#pragma once
// The org map with everything around it (issue 5): search box, fit button, the map, its
// legend, the selected unit's users (a table), and the playback bar. The lead's main window
// embeds this one widget and hands it the window's AnalysisSelection.
#include "model/AnalysisSelection.h"
#include "model/orgmap/OrgMapData.h"

#include <QFutureWatcher>
#include <QPointer>
#include <QSize>
#include <QWidget>
#include <memory>

class QLabel;
class QLineEdit;
class QTableView;

namespace mt {


class OrgMapLegend;
class OrgMapView;
class PlaybackBar;
class UnitUsersModel;

class OrgMapPanel : public QWidget {
    Q_OBJECT
public:
    explicit OrgMapPanel(QWidget* parent = nullptr);
    ~OrgMapPanel() override;

    // Loads the case on the calling thread (about 0.3 s for 50,000 users and 100k flagged
    // messages). False with *error when it cannot be read; the map then shows "No case open".
    bool openCase(const QString& casePath, QString* error = nullptr);
    // Loads on a worker thread; loaded() reports the outcome. The map keeps the previous
    // case until then.
    void openCaseAsync(const QString& casePath);
    void setData(std::shared_ptr<const OrgMapData> data);
    void closeCase();
    std::shared_ptr<const OrgMapData> data() const;

    // The window's shared selection (not owned). Without one the panel uses its own.
    void setSelection(AnalysisSelection* selection);
    AnalysisSelection* selection() const { return m_selection; }

    OrgMapView* map() const { return m_map; }
    UnitUsersModel* usersModel() const { return m_users; }
    QTableView* usersTable() const { return m_table; }
    PlaybackBar* playbackBar() const { return m_playback; }
    QLineEdit* searchEdit() const { return m_search; }
    OrgMapLegend* legend() const { return m_legend; }

signals:
    void loaded(bool ok, const QString& error);

private:
    void updateUsers();
    void updateStatus();

    AnalysisSelection* m_ownSelection;
    QPointer<AnalysisSelection> m_selection;
    OrgMapView* m_map;
    OrgMapLegend* m_legend;
    UnitUsersModel* m_users;
    QTableView* m_table;
    QLabel* m_unitLabel;
    QLabel* m_status;
    QLineEdit* m_search;
    PlaybackBar* m_playback;
    QFutureWatcher<std::shared_ptr<OrgMapData>>* m_watcher;
    QString m_loadError;
};

// Builds the panel offscreen for a case (an empty path: no case), selects the unit with the
// most flagged mail so its users show, and saves a PNG of size (at the screen's device pixel
// ratio). Needs a QApplication. False with *error when the case cannot be read or the file
// not written.
bool renderOrgMapScreenshot(const QString& casePath, const QString& outPng, QSize size, QString* error = nullptr);

} // namespace mt
