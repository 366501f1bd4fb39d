#include "ReportFigures.h"

#include "model/AnalysisSelection.h"
#include "views/orgmap/OrgMapPanel.h"
#include "views/orgmap/OrgMapView.h"
#include "views/timeline/TimelineView.h"

#include <QChart>
#include <QCoreApplication>
#include <QGraphicsScene>
#include <QPainter>

namespace mt {

namespace {

// The views are laid out at this width (in their own pixels) and scaled onto the page, so
// fonts keep the size they have on screen relative to the figure.
constexpr int kLayoutWidth = 900;

} // namespace

struct ReportFigureSource::Views {
    QString casePath;
    qint64 campaignId = 0;
    AnalysisSelection selection;
    std::unique_ptr<TimelineView> timeline;
    std::unique_ptr<OrgMapPanel> orgMap;
    bool orgMapOk = false;
};

ReportFigureSource::ReportFigureSource(const QString& casePath, qint64 campaignId) : m_views(std::make_unique<Views>()) {
    m_views->casePath = casePath;
    m_views->campaignId = campaignId;
    m_views->timeline = std::make_unique<TimelineView>(&m_views->selection);
    m_views->timeline->setAttribute(Qt::WA_DontShowOnScreen);
    m_views->timeline->setCasePath(casePath);
    m_views->timeline->setCampaignFilter(campaignId);
    m_views->timeline->loadNow();
    m_views->orgMap = std::make_unique<OrgMapPanel>();
    m_views->orgMap->setAttribute(Qt::WA_DontShowOnScreen);
    m_views->orgMap->setSelection(&m_views->selection);
    m_views->orgMapOk = m_views->orgMap->openCase(casePath);
    // A report on one campaign shows that campaign's mail on the map.
    if (campaignId > 0) m_views->selection.setCampaign(campaignId);
}

ReportFigureSource::~ReportFigureSource() = default;

report::ReportFigures ReportFigureSource::figures() const {
    report::ReportFigures f;
    TimelineView* timeline = m_views->timeline.get();
    f.timeline = [timeline](QPainter& p, const QRectF& rect) {
        // The scene at the figure's shape, drawn as vectors onto the page.
        const int h = std::max(200, int(kLayoutWidth * rect.height() / std::max(1.0, rect.width())));
        timeline->resize(kLayoutWidth, h);
        timeline->show(); // lays the chart out (WA_DontShowOnScreen: never on a screen)
        // The chart lays its axes and legend out in posted events.
        for (int i = 0; i < 3; ++i) QCoreApplication::processEvents();
        // The whole chart, markers included, scaled onto the page as vectors.
        timeline->renderTo(&p, rect);
    };
    if (m_views->orgMapOk) {
        OrgMapPanel* panel = m_views->orgMap.get();
        f.orgMap = [panel](QPainter& p, const QRectF& rect) {
            // Laid out at the figure's shape, fitted, then drawn through the view as vectors.
            // The panel at a desktop size lays the map out; the map's part is scaled onto the page.
            OrgMapView* map = panel->map();
            map->setFrameShape(QFrame::NoFrame);
            panel->resize(1400, 1000);
            panel->show();
            for (int i = 0; i < 3; ++i) QCoreApplication::processEvents();
            map->fitAll();
            for (int i = 0; i < 3; ++i) QCoreApplication::processEvents();
            map->render(&p, rect, map->viewport()->rect(), Qt::KeepAspectRatio);
        };
    }
    return f;
}

} // namespace mt
