#include "TimelineView.h"

#include <QApplication>
#include <QDateTime>
#include <QFutureWatcher>
#include <QKeyEvent>
#include <QLabel>
#include <QLocale>
#include <QMouseEvent>
#include <QPainter>
#include <QPixmap>
#include <QRubberBand>
#include <QTimeZone>
#include <QToolTip>
#include <QWheelEvent>
#include <QtCharts/QAreaSeries>
#include <QtCharts/QChart>
#include <QtCharts/QDateTimeAxis>
#include <QtCharts/QLegend>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <cmath>

namespace mt {

namespace {

const QColor kAllLine(0x99, 0x99, 0x99);
const QColor kAllFill(0xd9, 0xd9, 0xd9);
const QColor kFlagged(0xD5, 0x5E, 0x00);     // Okabe-Ito vermillion: the strong series
const QColor kRange(0x3c, 0x3c, 0x50);       // neutral: the selected range (no campaign's colour)
const QColor kCursor(0x20, 0x20, 0x20);

// Step-shaped points for per-bucket counts: runs of equal values become one flat segment.
void fillSteps(QLineSeries* s, const QVector<int>& counts, qint64 start, qint64 step) {
    QList<QPointF> pts;
    pts.reserve(counts.size() / 2 + 4);
    int i = 0;
    const int n = counts.size();
    while (i < n) {
        int j = i;
        while (j + 1 < n && counts[j + 1] == counts[i]) ++j;
        pts << QPointF(double(start + qint64(i) * step), counts[i]) << QPointF(double(start + qint64(j + 1) * step), counts[i]);
        i = j + 1;
    }
    s->replace(pts);
}

// A whole-number tick step (1, 2, 5 x 10^k) giving about five intervals up to v: counts
// are integers, so the labels must be too.
qint64 niceTickStep(double v) {
    const double raw = std::max(1.0, v / 5);
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * mag >= raw) return std::max<qint64>(1, qint64(m * mag));
    return qint64(10 * mag);
}

QString elided(const QString& s, int max) { return s.size() <= max ? s : s.left(max - 1) + QChar(0x2026); }

QString utcOffsetText(qint64 ms) {
    const int secs = QDateTime::fromMSecsSinceEpoch(ms).offsetFromUtc();
    const int m = std::abs(secs) / 60;
    return QStringLiteral("UTC%1%2:%3").arg(secs < 0 ? '-' : '+').arg(m / 60, 2, 10, QChar('0')).arg(m % 60, 2, 10, QChar('0'));
}

} // namespace

QColor TimelineView::campaignColor(int index) {
    // Okabe-Ito without vermillion (taken by "flagged"); orange, the nearest to vermillion, comes
    // late, black last.
    static const QColor palette[] = {QColor(0x00, 0x72, 0xB2), QColor(0x00, 0x9E, 0x73), QColor(0xCC, 0x79, 0xA7),
                                     QColor(0x56, 0xB4, 0xE9), QColor(0xE6, 0x9F, 0x00), QColor(0xF0, 0xE4, 0x42),
                                     QColor(0x00, 0x00, 0x00)};
    return palette[std::max(0, index) % int(std::size(palette))];
}

TimelineView::TimelineView(AnalysisSelection* selection, QWidget* parent)
    : QChartView(new QChart, parent), m_selection(selection) {
    if (!m_selection) m_selection = new AnalysisSelection(this);   // standalone: a selection of its own
    setRenderHint(QPainter::Antialiasing);
    setRubberBand(QChartView::NoRubberBand);
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    viewport()->setMouseTracking(true);
    setMinimumSize(320, 200);
    QChart* c = chart();
    c->setMargins(QMargins(6, 6, 6, 6));
    c->legend()->setAlignment(Qt::AlignBottom);
    c->setAnimationOptions(QChart::NoAnimation);

    m_axisX = new QDateTimeAxis;
    m_axisY = new QValueAxis;
    m_axisY->setLabelFormat(QStringLiteral("%d"));
    m_axisY->setMin(0);
    c->addAxis(m_axisX, Qt::AlignBottom);
    c->addAxis(m_axisY, Qt::AlignLeft);

    m_note = new QLabel(this);
    m_note->setAlignment(Qt::AlignCenter);
    m_note->setWordWrap(true);
    m_note->setStyleSheet(QStringLiteral("QLabel { color: #555; font-size: 14pt; background: transparent; }"));
    m_note->setAttribute(Qt::WA_TransparentForMouseEvents);
    m_note->hide();

    m_band = new QRubberBand(QRubberBand::Rectangle, viewport());
    m_band->hide();

    connect(m_selection, &AnalysisSelection::changed, this, &TimelineView::onSelectionChanged);
    setData(TimelineData{});
}

void TimelineView::reload() {
    const int serial = ++m_loadSerial;
    if (m_casePath.isEmpty()) {
        setData(TimelineData{});
        emit loaded();
        return;
    }
    const QString path = m_casePath;
    const TimelineOptions options = m_options;
    auto* watcher = new QFutureWatcher<TimelineData>(this);
    ++m_pendingLoads;
    connect(watcher, &QFutureWatcher<TimelineData>::finished, this, [this, watcher, serial] {
        watcher->deleteLater();
        --m_pendingLoads;
        if (serial != m_loadSerial) return;   // superseded by a later reload
        setData(watcher->result());
        emit loaded();
    });
    watcher->setFuture(QtConcurrent::run([path, options] { return loadTimeline(path, options); }));
}

void TimelineView::loadNow() {
    ++m_loadSerial;
    setData(m_casePath.isEmpty() ? TimelineData{} : loadTimeline(m_casePath, m_options));
    emit loaded();
}

void TimelineView::setData(const TimelineData& data) {
    m_data = data;
    rebuild();
}

void TimelineView::rebuild() {
    QChart* c = chart();
    c->removeAllSeries();
    m_allUpper = m_flaggedUpper = nullptr;
    m_allArea = nullptr;
    m_campaignSeries.clear();
    m_campaignColors.clear();
    m_markers.clear();

    const bool drawable = m_data.ok && !m_data.isEmpty();
    m_axisX->setVisible(drawable);
    m_axisY->setVisible(drawable);
    c->legend()->setVisible(drawable);
    if (!drawable) {
        c->setTitle(QString());
        updateNote();
        viewport()->update();
        return;
    }
    const QLocale loc;
    const qint64 step = m_data.bucketMs;

    m_allUpper = new QLineSeries;
    fillSteps(m_allUpper, m_data.all, m_data.start, step);
    m_allArea = new QAreaSeries(m_allUpper);
    m_allArea->setName(QStringLiteral("All mail (%1)").arg(loc.toString(m_data.totalMessages)));
    m_allArea->setPen(QPen(kAllLine, 1));
    m_allArea->setBrush(kAllFill);
    c->addSeries(m_allArea);

    if (m_data.hasDetection) {
        // Campaigns as stacked areas (their sum is the flagged count, as every flagged message
        // belongs to one), the flagged total as a strong line over them.
        QVector<int> below(m_data.bucketCount(), 0);
        QLineSeries* lower = nullptr;
        for (int i = 0; i < m_data.campaigns.size(); ++i) {
            const TimelineCampaign& tc = m_data.campaigns[i];
            QVector<int> top = below;
            for (int b = 0; b < top.size(); ++b) top[b] += tc.flagged[b];
            auto* upper = new QLineSeries;
            fillSteps(upper, top, m_data.start, step);
            QLineSeries* lowerCopy = nullptr;
            if (lower) {
                lowerCopy = new QLineSeries;
                lowerCopy->replace(lower->points());
            }
            auto* area = new QAreaSeries(upper, lowerCopy);
            area->setName(QStringLiteral("Campaign %1: %2 (%3)").arg(tc.id).arg(elided(tc.label, 36), loc.toString(tc.messages)));
            m_campaignColors.insert(tc.id, campaignColor(i));
            c->addSeries(area);
            m_campaignSeries.insert(tc.id, area);
            below = top;
            lower = upper;
            if (tc.detectedAt > 0)
                m_markers.push_back({tc.id, tc.detectedAt,
                                     (m_data.campaigns.size() > 1 ? QStringLiteral("campaign %1 detected %2").arg(tc.id)
                                                                  : QStringLiteral("detected %1"))
                                         .arg(QLocale().toString(QDateTime::fromMSecsSinceEpoch(tc.detectedAt), QStringLiteral("HH:mm:ss")))});
        }
        m_flaggedUpper = new QLineSeries;
        fillSteps(m_flaggedUpper, m_data.flagged, m_data.start, step);
        m_flaggedUpper->setName(QStringLiteral("Flagged (%1)").arg(loc.toString(m_data.totalFlagged)));
        m_flaggedUpper->setPen(QPen(kFlagged, 2));
        c->addSeries(m_flaggedUpper);
    }
    for (QAbstractSeries* s : c->series()) {
        s->attachAxis(m_axisX);
        s->attachAxis(m_axisY);
    }
    int peak = 0;
    for (int v : m_data.all) peak = std::max(peak, v);
    const double headroom = std::max(4.0, peak * 1.08);
    const qint64 tick = niceTickStep(headroom);
    const qint64 top = (qint64(std::ceil(headroom)) + tick - 1) / tick * tick;
    m_axisY->setRange(0, double(top));
    m_axisY->setTickCount(int(top / tick) + 1);
    m_axisY->setTitleText(QStringLiteral("Messages %1").arg(m_data.bucketLabel()));
    m_axisY->setMinorTickCount(0);
    updateEmphasis();
    applyRange(m_data.start, m_data.end(), RangeSnap::Outward);
    updateNote();
}

qint64 TimelineView::tickIntervalFor(qint64 span) const {
    static const qint64 kIntervals[] = {
        10'000, 30'000, 60'000, 2 * 60'000, 5 * 60'000, 10 * 60'000, 15 * 60'000, 30 * 60'000,
        3'600'000, 2 * 3'600'000, 3 * 3'600'000, 6 * 3'600'000, 12 * 3'600'000,
        86'400'000, 2 * 86'400'000LL, 7 * 86'400'000LL, 14 * 86'400'000LL, 28 * 86'400'000LL,
        56 * 86'400'000LL, 91 * 86'400'000LL, 182 * 86'400'000LL, 364 * 86'400'000LL};
    const qreal plotWidth = plotRectInViewport().width() > 50 ? plotRectInViewport().width() : viewport()->width() - 100;
    const int maxIntervals = std::clamp(int(plotWidth / 95), 1, 14);   // room for a "Tue 12:00" label each
    for (qint64 i : kIntervals)
        if (span / i <= maxIntervals) return i;
    return kIntervals[std::size(kIntervals) - 1] * (span / kIntervals[std::size(kIntervals) - 1] / maxIntervals + 1);
}

void TimelineView::applyRange(qint64 from, qint64 to, RangeSnap snap) {
    if (m_data.isEmpty()) return;
    const qint64 lo = m_data.start, hi = m_data.end();
    const qint64 minSpan = std::min(hi - lo, 5 * m_data.bucketMs);
    if (to - from < minSpan) {
        const qint64 mid = (from + to) / 2;
        from = mid - minSpan / 2;
        to = from + minSpan;
    }
    if (from < lo) { to += lo - from; from = lo; }
    if (to > hi) { from -= to - hi; to = hi; }
    from = std::max(from, lo);
    if (from == lo && to == hi) snap = RangeSnap::Outward;   // never cut the ends of the case off
    // QDateTimeAxis spaces its ticks evenly from min to max: ends on whole multiples of the
    // tick interval (in local time) put every tick on a round time.
    const qint64 interval = tickIntervalFor(to - from);
    const qint64 offset = qint64(QDateTime::fromMSecsSinceEpoch(from).offsetFromUtc()) * 1000;
    const auto down = [&](qint64 t) { return (t + offset) / interval * interval - offset; };
    if (snap == RangeSnap::Outward) {
        const qint64 f = down(from), t = down(to);
        from = f;
        to = t < to ? t + interval : t;
    } else {
        from = down(from + interval / 2);
        to = std::max(down(to + interval / 2), from + interval);
    }
    m_viewFrom = from;
    m_viewTo = to;
    m_tickInterval = interval;
    m_axisX->setTickCount(int((to - from) / interval) + 1);
    m_axisX->setRange(QDateTime::fromMSecsSinceEpoch(from), QDateTime::fromMSecsSinceEpoch(to));
    updateAxisFormat();
    viewport()->update();
}

void TimelineView::resetZoom() {
    if (!m_data.isEmpty()) applyRange(m_data.start, m_data.end(), RangeSnap::Outward);
}

void TimelineView::updateAxisFormat() {
    if (m_data.isEmpty()) return;
    const qint64 span = m_viewTo - m_viewFrom;
    const QDateTime a = QDateTime::fromMSecsSinceEpoch(m_viewFrom), b = QDateTime::fromMSecsSinceEpoch(m_viewTo - 1);
    const bool oneDay = a.date() == b.date();
    QString format;
    if (m_tickInterval < 60'000) format = QStringLiteral("HH:mm:ss");
    else if (m_tickInterval < 86'400'000 && oneDay) format = QStringLiteral("HH:mm");
    else if (m_tickInterval < 86'400'000) format = QStringLiteral("ddd HH:mm");
    else if (span <= 120 * 86'400'000LL) format = QStringLiteral("d MMM");
    else format = QStringLiteral("yyyy-MM-dd");
    m_axisX->setFormat(format);
    const QLocale loc;
    QString title = QStringLiteral("Local time (%1)").arg(utcOffsetText(m_viewFrom));
    if (oneDay) title += QStringLiteral(", ") + loc.toString(a.date(), QStringLiteral("ddd d MMMM yyyy"));
    else title += QStringLiteral(", ") + loc.toString(a.date(), QStringLiteral("ddd d MMM yyyy")) + QStringLiteral(" \u2013 ") +
                  loc.toString(b.date(), QStringLiteral("ddd d MMM yyyy"));
    m_axisX->setTitleText(title);
}

void TimelineView::updateEmphasis() {
    const qint64 selected = m_selection ? m_selection->campaignId() : 0;
    const bool any = selected && m_campaignSeries.contains(selected);
    for (auto it = m_campaignSeries.begin(); it != m_campaignSeries.end(); ++it) {
        QColor col = m_campaignColors.value(it.key());
        const bool strong = !any || it.key() == selected;
        col.setAlphaF(strong ? 0.85 : 0.3);
        it.value()->setBrush(col);
        it.value()->setPen(any && strong ? QPen(m_campaignColors.value(it.key()).darker(140), 1.5) : QPen(Qt::NoPen));
    }
    viewport()->update();
}

QString TimelineView::note() const {
    if (m_casePath.isEmpty() && !m_data.ok) return QStringLiteral("No case open");
    if (!m_data.ok) return m_data.error.isEmpty() ? QStringLiteral("No case open") : m_data.error;
    if (m_data.isEmpty()) return QStringLiteral("No messages in this case yet: import logs to see the timeline");
    if (!m_data.hasDetection) return QStringLiteral("Detection has not run on this case: all mail only");
    if (m_data.campaigns.isEmpty())
        return m_data.campaignFilter ? QStringLiteral("Campaign %1 is not in this case").arg(m_data.campaignFilter)
                                     : QStringLiteral("Detection found no campaign");
    return {};
}

void TimelineView::updateNote() {
    const QString text = note();
    const bool drawable = m_data.ok && !m_data.isEmpty();
    if (drawable) {
        // Over the chart: a title line, so it never covers the curves.
        m_note->hide();
        QFont f = chart()->titleFont();
        f.setBold(false);
        f.setItalic(true);
        chart()->setTitleFont(f);
        chart()->setTitleBrush(QColor(0x55, 0x55, 0x55));
        chart()->setTitle(text);
    } else {
        chart()->setTitle(QString());
        m_note->setText(text);
        m_note->setGeometry(rect().adjusted(24, 24, -24, -24));
        m_note->show();
    }
}

void TimelineView::setTimeCursor(qint64 ms) {
    if (ms == m_cursor) return;
    m_cursor = ms;
    viewport()->update();
}

void TimelineView::onSelectionChanged(AnalysisSelection::Facets facets) {
    if (facets & AnalysisSelection::Campaign) updateEmphasis();
    if (facets & AnalysisSelection::TimeRange) viewport()->update();
}

QRectF TimelineView::plotRectInViewport() const {
    if (!chart()) return {};
    const QRectF scene = chart()->mapToScene(chart()->plotArea()).boundingRect();
    return QRectF(mapFromScene(scene.topLeft()), mapFromScene(scene.bottomRight()));
}

qreal TimelineView::sceneXForTime(qint64 ms) const {
    if (!m_allArea) return -1;
    return chart()->mapToScene(chart()->mapToPosition(QPointF(double(ms), 0), m_allArea)).x();
}

qreal TimelineView::viewportXForTime(qint64 ms) const {
    if (!m_allArea) return -1;
    return mapFromScene(QPointF(sceneXForTime(ms), 0)).x();
}

qint64 TimelineView::timeAtViewportX(qreal x) const {
    if (!m_allArea) return 0;
    const QPointF chartPos = chart()->mapFromScene(mapToScene(QPoint(int(std::lround(x)), 0)));
    return qint64(std::llround(chart()->mapToValue(chartPos, m_allArea).x()));
}

QString TimelineView::tooltipAt(qint64 ms) const {
    const int b = m_data.bucketOf(ms);
    if (b < 0) return {};
    const QLocale loc;
    const QDateTime from = QDateTime::fromMSecsSinceEpoch(m_data.bucketStart(b));
    const QDateTime to = QDateTime::fromMSecsSinceEpoch(m_data.bucketStart(b + 1));
    const bool sameDay = from.date() == to.addMSecs(-1).date();
    QString text = QStringLiteral("<b>%1 \u2013 %2</b><br>All mail: %3")
                       .arg(loc.toString(from, QStringLiteral("ddd d MMM HH:mm")),
                            loc.toString(to, sameDay ? QStringLiteral("HH:mm") : QStringLiteral("ddd d MMM HH:mm")),
                            loc.toString(m_data.all[b]));
    if (m_data.hasDetection) {
        text += QStringLiteral("<br>Flagged: %1").arg(loc.toString(m_data.flagged[b]));
        for (const TimelineCampaign& c : m_data.campaigns)
            if (c.flagged[b]) text += QStringLiteral("<br>Campaign %1: %2").arg(c.id).arg(loc.toString(c.flagged[b]));
        for (const Marker& m : m_markers)
            if (m_data.bucketOf(m.time) == b)
                text += QStringLiteral("<br><i>Campaign %1 detected at %2</i>")
                            .arg(m.campaignId)
                            .arg(loc.toString(QDateTime::fromMSecsSinceEpoch(m.time), QStringLiteral("HH:mm:ss")));
    }
    return text;
}

void TimelineView::mousePressEvent(QMouseEvent* e) {
    const QPoint p = e->position().toPoint();
    if (e->button() == Qt::LeftButton && m_allArea && plotRectInViewport().contains(p)) {
        m_dragging = true;
        m_dragStart = p;
        const QRectF plot = plotRectInViewport();
        m_band->setGeometry(QRect(QPoint(p.x(), int(plot.top())), QPoint(p.x(), int(plot.bottom()))).normalized());
        m_band->show();
        QToolTip::hideText();
        e->accept();
        return;
    }
    QChartView::mousePressEvent(e);
}

void TimelineView::mouseMoveEvent(QMouseEvent* e) {
    const QPoint p = e->position().toPoint();
    const QRectF plot = plotRectInViewport();
    if (m_dragging) {
        const int x = std::clamp(p.x(), int(plot.left()), int(plot.right()));
        m_band->setGeometry(QRect(QPoint(std::min(x, m_dragStart.x()), int(plot.top())),
                                  QPoint(std::max(x, m_dragStart.x()), int(plot.bottom()))));
        e->accept();
        return;
    }
    if (m_allArea && plot.contains(p)) {
        const QString tip = tooltipAt(timeAtViewportX(p.x()));
        if (!tip.isEmpty()) QToolTip::showText(e->globalPosition().toPoint(), tip, this);
    } else {
        QToolTip::hideText();
    }
    QChartView::mouseMoveEvent(e);
}

void TimelineView::mouseReleaseEvent(QMouseEvent* e) {
    if (m_dragging && e->button() == Qt::LeftButton) {
        m_dragging = false;
        m_band->hide();
        const QRectF plot = plotRectInViewport();
        const int x0 = std::clamp(m_dragStart.x(), int(plot.left()), int(plot.right()));
        const int x1 = std::clamp(e->position().toPoint().x(), int(plot.left()), int(plot.right()));
        if (std::abs(x1 - x0) >= 3 && m_selection && !m_data.isEmpty()) {
            // Whole buckets: the range the analyst sees shaded is the range the counts are for.
            const qint64 t0 = timeAtViewportX(std::min(x0, x1)), t1 = timeAtViewportX(std::max(x0, x1));
            const qint64 step = m_data.bucketMs, start = m_data.start;
            qint64 from = start + std::max<qint64>(0, (t0 - start) / step) * step;
            qint64 to = start + ((t1 - start + step - 1) / step) * step;
            to = std::min(to, m_data.end());
            if (to <= from) to = from + step;
            m_selection->setTimeRange(from, to);
        }
        e->accept();
        return;
    }
    QChartView::mouseReleaseEvent(e);
}

void TimelineView::mouseDoubleClickEvent(QMouseEvent* e) {
    if (m_selection) m_selection->setTimeRange(0, 0);
    e->accept();
}

void TimelineView::wheelEvent(QWheelEvent* e) {
    if (m_data.isEmpty() || e->angleDelta().y() == 0) {
        QChartView::wheelEvent(e);
        return;
    }
    const qreal factor = e->angleDelta().y() > 0 ? 0.8 : 1.25;
    const QRectF plot = plotRectInViewport();
    const qreal x = std::clamp(e->position().x(), plot.left(), plot.right());
    const qint64 center = timeAtViewportX(x);
    const qreal share = plot.width() > 0 ? (x - plot.left()) / plot.width() : 0.5;
    const qint64 span = qint64((m_viewTo - m_viewFrom) * factor);
    const qint64 from = center - qint64(span * share);
    applyRange(from, from + span, RangeSnap::Nearest);
    e->accept();
}

void TimelineView::keyPressEvent(QKeyEvent* e) {
    if (e->key() == Qt::Key_Escape) {
        if (m_dragging) {
            m_dragging = false;
            m_band->hide();
        } else if (m_selection) {
            m_selection->setTimeRange(0, 0);
        }
        e->accept();
        return;
    }
    if (e->key() == Qt::Key_Home || e->key() == Qt::Key_0) {
        resetZoom();
        e->accept();
        return;
    }
    QChartView::keyPressEvent(e);
}

void TimelineView::resizeEvent(QResizeEvent* e) {
    QChartView::resizeEvent(e);
    // A short view (a dock at the window's foot) keeps its plot and tick labels: the axis
    // titles go and the legend moves to the side.
    const bool compact = height() < 300;
    m_axisX->setTitleVisible(!compact);
    m_axisY->setTitleVisible(!compact);
    chart()->legend()->setAlignment(compact ? Qt::AlignRight : Qt::AlignBottom);
    // The tick interval follows the plot's width.
    if (!m_data.isEmpty()) applyRange(m_viewFrom, m_viewTo, RangeSnap::Outward);
    if (m_note->isVisible()) m_note->setGeometry(rect().adjusted(24, 24, -24, -24));
}

void TimelineView::renderTo(QPainter* painter, const QRectF& target) {
    const QRectF source = mapToScene(viewport()->rect()).boundingRect();
    if (source.isEmpty()) return;
    scene()->render(painter, target, source, Qt::IgnoreAspectRatio);
    painter->save();
    painter->translate(target.topLeft());
    painter->scale(target.width() / source.width(), target.height() / source.height());
    painter->translate(-source.topLeft());
    painter->setClipRect(source);
    // The screen's pixel size: a point size would be taken at the page's resolution.
    QFont f = font();
    f.setPixelSize(QFontInfo(font()).pixelSize());
    painter->setFont(f);
    drawForeground(painter, source);
    painter->restore();
}

void TimelineView::drawForeground(QPainter* painter, const QRectF& rect) {
    QChartView::drawForeground(painter, rect);
    if (!m_allArea) return;
    const QRectF plot = chart()->mapToScene(chart()->plotArea()).boundingRect();
    painter->save();
    painter->setClipRect(plot.adjusted(0, -40, 0, 0));
    painter->setRenderHint(QPainter::Antialiasing);
    const QFontMetricsF fm(painter->font());

    if (m_selection && m_selection->hasTimeRange()) {
        const qreal x0 = std::max(sceneXForTime(m_selection->timeFrom()), plot.left());
        const qreal x1 = std::min(sceneXForTime(m_selection->timeTo()), plot.right());
        if (x1 > x0) {
            QColor fill = kRange;
            fill.setAlphaF(0.12);
            painter->fillRect(QRectF(x0, plot.top(), x1 - x0, plot.height()), fill);
            painter->setPen(QPen(kRange, 1.5, Qt::DotLine));
            painter->drawLine(QPointF(x0, plot.top()), QPointF(x0, plot.bottom()));
            painter->drawLine(QPointF(x1, plot.top()), QPointF(x1, plot.bottom()));
        }
    }

    const qint64 selected = m_selection ? m_selection->campaignId() : 0;
    int row = 0;
    for (const Marker& m : m_markers) {
        const qreal x = sceneXForTime(m.time);
        if (x < plot.left() - 0.5 || x > plot.right() + 0.5) { ++row; continue; }
        QColor col = m_campaignColors.value(m.campaignId, kFlagged);
        if (selected && m_campaignSeries.contains(selected) && selected != m.campaignId) col.setAlphaF(0.6);
        QPen pen(col, 2, Qt::DashLine);
        painter->setPen(pen);
        painter->drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
        // The label sits inside the plot's top edge, on the side with room, stacked per campaign.
        const QString text = m.label;
        const QSizeF size(fm.horizontalAdvance(text) + 8, fm.height() + 4);
        const qreal top = plot.top() + 4 + row * (size.height() + 3);
        const bool right = x + 4 + size.width() <= plot.right();
        const QRectF box(right ? x + 4 : x - 4 - size.width(), top, size.width(), size.height());
        painter->setPen(QPen(col, 1));
        painter->setBrush(QColor(255, 255, 255, 230));
        painter->drawRoundedRect(box, 3, 3);
        painter->setPen(col.alphaF() < 1 ? col : col.darker(130));
        painter->drawText(box, Qt::AlignCenter, text);
        ++row;
    }

    if (m_cursor > 0) {
        const qreal x = sceneXForTime(m_cursor);
        if (x >= plot.left() && x <= plot.right()) {
            painter->setPen(QPen(kCursor, 1.5));
            painter->drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
            const QString text = QLocale().toString(QDateTime::fromMSecsSinceEpoch(m_cursor), QStringLiteral("HH:mm:ss"));
            const QSizeF size(fm.horizontalAdvance(text) + 8, fm.height() + 4);
            const bool right = x + 4 + size.width() <= plot.right();
            const QRectF box(right ? x + 4 : x - 4 - size.width(), plot.bottom() - size.height() - 4, size.width(), size.height());
            painter->setBrush(kCursor);
            painter->drawRoundedRect(box, 3, 3);
            painter->setPen(Qt::white);
            painter->drawText(box, Qt::AlignCenter, text);
        }
    }
    painter->restore();
}

bool renderTimelineScreenshot(const QString& casePath, const QString& outPng, QSize size, QString* error) {
    AnalysisSelection selection;
    TimelineView view(&selection);
    view.setAttribute(Qt::WA_DontShowOnScreen);
    view.resize(size);
    view.setCasePath(casePath);
    view.loadNow();
    if (!casePath.isEmpty() && !view.data().ok) {
        if (error) *error = view.data().error;
        return false;
    }
    view.show();
    QApplication::processEvents();
    view.resetZoom();   // the axis tick count follows the laid-out plot width
    QApplication::processEvents();
    const QPixmap shot = view.grab();
    if (!shot.save(outPng, "PNG")) {
        if (error) *error = QStringLiteral("cannot write %1").arg(outPng);
        return false;
    }
    return true;
}

} // namespace mt
