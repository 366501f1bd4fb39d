#pragma once
// The outbreak's timeline (issue 5): messages per minute (or a coarser step on long cases),
// all mail against the flagged, one series per campaign, each campaign's detection moment as
// a marked vertical line. It reads and writes the window's AnalysisSelection: dragging across
// the chart selects a time range (snapped to bucket boundaries; Esc or a double-click clears
// it), the selected range is shaded, the selected campaign is drawn stronger, and a playback
// cursor can be placed with setTimeCursor(). The wheel zooms the time axis around the mouse,
// Home (or 0) resets it.
//
// No SQL here: the data comes from model/timeline (loadTimeline), read on a worker thread by
// reload() or on the calling thread by loadNow().
#include "model/AnalysisSelection.h"
#include "model/timeline/TimelineData.h"

#include <QPointer>
#include <QtCharts/QChartView>

class QAreaSeries;
class QDateTimeAxis;
class QLabel;
class QLineSeries;
class QRubberBand;
class QValueAxis;

namespace mt {

class TimelineView : public QChartView {
    Q_OBJECT
public:
    // One detection marker (for tests and tooltips).
    struct Marker {
        qint64 campaignId = 0;
        qint64 time = 0;        // ms since epoch UTC
        QString label;          // "detected" (with the campaign id when there are several)
    };

    explicit TimelineView(AnalysisSelection* selection, QWidget* parent = nullptr);

    // The case to show ("" for none). Call reload() or loadNow() afterwards.
    void setCasePath(const QString& path) { m_casePath = path; }
    QString casePath() const { return m_casePath; }
    // Only this campaign's flagged mail (0: every campaign's), from the next reload()/loadNow().
    void setCampaignFilter(qint64 campaignId) { m_options.campaignId = campaignId; }
    qint64 campaignFilter() const { return m_options.campaignId; }
    // Reads the case on a worker thread; loaded() when the chart shows it. A reload while one
    // is running supersedes it (the older result is dropped).
    void reload();
    // Reads and shows the case on the calling thread (tests, screenshots).
    void loadNow();
    // Shows data read elsewhere.
    void setData(const TimelineData& data);
    const TimelineData& data() const { return m_data; }
    bool isLoading() const { return m_pendingLoads > 0; }

    // The playback cursor (ms since epoch UTC); 0 hides it.
    void setTimeCursor(qint64 ms);
    qint64 timeCursor() const { return m_cursor; }
    void resetZoom();
    // Paints the chart with its markers, range and cursor into target (a report page): the
    // scene as vectors, scaled from the view's current size.
    void renderTo(QPainter* painter, const QRectF& target);

    // What the view says instead of (or above) the chart: "" when it has nothing to say.
    QString note() const;
    QVector<Marker> markers() const { return m_markers; }
    // Viewport x of a time and back (-1 / 0 when nothing is drawn).
    qreal viewportXForTime(qint64 ms) const;
    qint64 timeAtViewportX(qreal x) const;
    // The plot area in viewport coordinates.
    QRectF plotRectInViewport() const;
    // The series, for tests: all mail, flagged, and per campaign (by campaign id; stacked:
    // a campaign's counts are its upper series less its lower one).
    QLineSeries* allSeries() const { return m_allUpper; }
    QLineSeries* flaggedSeries() const { return m_flaggedUpper; }
    QAreaSeries* campaignSeries(qint64 campaignId) const { return m_campaignSeries.value(campaignId); }
    AnalysisSelection* selection() const { return m_selection; }
    QDateTimeAxis* timeAxis() const { return m_axisX; }
    QValueAxis* countAxis() const { return m_axisY; }

    // Okabe-Ito, the colour-blind-safe palette the campaign series cycle through.
    static QColor campaignColor(int index);

signals:
    void loaded();

protected:
    void mousePressEvent(QMouseEvent* e) override;
    void mouseMoveEvent(QMouseEvent* e) override;
    void mouseReleaseEvent(QMouseEvent* e) override;
    void mouseDoubleClickEvent(QMouseEvent* e) override;
    void wheelEvent(QWheelEvent* e) override;
    void keyPressEvent(QKeyEvent* e) override;
    void resizeEvent(QResizeEvent* e) override;
    void drawForeground(QPainter* painter, const QRectF& rect) override;

private:
    void rebuild();
    enum class RangeSnap { Outward, Nearest };
    qint64 tickIntervalFor(qint64 span) const;
    void applyRange(qint64 from, qint64 to, RangeSnap snap);
    void updateAxisFormat();
    void updateEmphasis();
    void updateNote();
    void onSelectionChanged(AnalysisSelection::Facets facets);
    qreal sceneXForTime(qint64 ms) const;
    QString tooltipAt(qint64 ms) const;

    QPointer<AnalysisSelection> m_selection;   // the window's; a private one when none is given
    QString m_casePath;
    TimelineOptions m_options;
    TimelineData m_data;
    // Each read runs on the thread pool with a watcher of its own; a result whose serial is no
    // longer the latest is dropped.
    int m_loadSerial = 0;
    int m_pendingLoads = 0;

    QLineSeries* m_allUpper = nullptr;
    QAreaSeries* m_allArea = nullptr;
    QLineSeries* m_flaggedUpper = nullptr;
    QHash<qint64, QAreaSeries*> m_campaignSeries;
    QHash<qint64, QColor> m_campaignColors;
    QDateTimeAxis* m_axisX = nullptr;
    QValueAxis* m_axisY = nullptr;
    QVector<Marker> m_markers;
    QLabel* m_note = nullptr;

    qint64 m_viewFrom = 0, m_viewTo = 0;   // the visible time range (zoom)
    qint64 m_tickInterval = 60'000;        // between two ticks of the time axis
    qint64 m_cursor = 0;
    QRubberBand* m_band = nullptr;
    bool m_dragging = false;
    QPoint m_dragStart;
};

// Builds a timeline for the case offscreen at size (logical pixels), loads it synchronously
// and saves it as PNG. False with *error when the case cannot be read or the file written.
bool renderTimelineScreenshot(const QString& casePath, const QString& outPng, QSize size, QString* error);

} // namespace mt
