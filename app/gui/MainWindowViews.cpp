// The main window's analyst views (issue 5): the campaign panel and the timeline as docks,
// the org map as a tab beside the message list, all on the window's one AnalysisSelection.
#include "MainWindow.h"

#include "model/AnalysisSelection.h"
#include "views/campaign/CampaignPanel.h"
#include "views/orgmap/OrgMapPanel.h"
#include "views/orgmap/OrgMapView.h"
#include "views/orgmap/PlaybackBar.h"
#include "views/timeline/TimelineView.h"

#include <QAction>
#include <QDockWidget>
#include <QMenu>
#include <QMenuBar>
#include <QTabWidget>

namespace mt::gui {

void MainWindow::buildViews() {
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks);
    m_orgMap = new OrgMapPanel(m_tabs);
    m_orgMap->setSelection(m_selection);
    m_tabs->addTab(m_orgMap, tr("&Organisation"));
    m_tabs->setTabToolTip(1, tr("The org map: a tile per unit with its flagged mail, links between units, playback (Ctrl+2)"));
    m_campaignPanel = new CampaignPanel(m_selection, this);
    m_campaignDock = new QDockWidget(tr("Campaigns"), this);
    m_campaignDock->setObjectName(QStringLiteral("campaignDock"));
    m_campaignDock->setWidget(m_campaignPanel);
    addDockWidget(Qt::LeftDockWidgetArea, m_campaignDock);

    m_timeline = new TimelineView(m_selection, this);
    m_timelineDock = new QDockWidget(tr("Timeline"), this);
    m_timelineDock->setObjectName(QStringLiteral("timelineDock"));
    m_timelineDock->setWidget(m_timeline);
    addDockWidget(Qt::BottomDockWidgetArea, m_timelineDock);
    resizeDocks({m_campaignDock}, {420}, Qt::Horizontal);
    // Playback on the map moves the timeline's cursor with it.
    connect(m_orgMap->playbackBar(), &PlaybackBar::cursorChanged, m_timeline, &TimelineView::setTimeCursor);
    resizeDocks({m_timelineDock}, {250}, Qt::Vertical);
    buildRecallPanel();
    // Small minimums: the window must fit a laptop screen (and --screenshot's --size) whatever
    // the panels would like; they scroll or elide instead.
    for (QWidget* w : {static_cast<QWidget*>(m_campaignPanel), static_cast<QWidget*>(m_timeline), m_recallDock->widget(),
                       static_cast<QWidget*>(m_orgMap)})
        w->setMinimumSize(160, 80);
}

void MainWindow::buildViewMenu() {
    QMenu* view = menuBar()->addMenu(tr("&View"));
    QAction* messages = view->addAction(tr("&Messages"), this, [this] { m_tabs->setCurrentIndex(0); });
    messages->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_1));
    QAction* map = view->addAction(tr("&Organisation map"), this, [this] { m_tabs->setCurrentIndex(1); });
    map->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_2));
    view->addSeparator();
    QAction* campaigns = m_campaignDock->toggleViewAction();
    campaigns->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
    view->addAction(campaigns);
    QAction* timeline = m_timelineDock->toggleViewAction();
    timeline->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_T));
    view->addAction(timeline);
    view->addSeparator();
    QAction* clear = view->addAction(tr("C&lear selection"), this, [this] { m_selection->clear(); });
    clear->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A));
    clear->setStatusTip(tr("Drop the unit, user, campaign, time range and message selected in the views"));
}

void MainWindow::reloadViews() {
    const QString path = m_reader ? m_reader->path() : QString();
    m_campaignPanel->setCasePath(path);
    m_campaignPanel->reload();
    m_timeline->setCasePath(path);
    m_timeline->reload();
    if (path.isEmpty()) m_orgMap->closeCase();
    else m_orgMap->openCaseAsync(path);
    refreshRecall();
}

} // namespace mt::gui
